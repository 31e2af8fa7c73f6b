"""The report's figures as SVG and PDF for a paper, drawn with matplotlib (`pip install compass-tui[figures]`).

Output is byte-stable for fixed data: a fixed font (DejaVu Sans, shipped with matplotlib), a fixed
SVG hash salt, no dates in the files' metadata, and the series in the order `plot_data` gives them.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from compass_tui.errors import InputError
from compass_tui.plot_data import Figure

FORMATS = ("svg", "pdf")
INSTALL_ADVICE = "figures need matplotlib: pip install 'compass-tui[figures]'"
_STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "svg.hashsalt": "compass-tui",
    "svg.fonttype": "path",
    "pdf.fonttype": 42,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_METADATA = {"svg": {"Date": None, "Creator": None}, "pdf": {"CreationDate": None, "Creator": None}}


class FiguresUnavailable(InputError):
    def __init__(self) -> None:
        super().__init__(None, "--figures", INSTALL_ADVICE)


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError as missing:
        raise FiguresUnavailable() from missing
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def writable_dir(path: Path) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(path, "--figures", f"cannot create the directory: {error.strerror}") from error
    if not path.is_dir():
        raise InputError(path, "--figures", "not a writable directory")
    try:  # a probe, since os.access says yes to root on read-only file systems such as /proc
        tempfile.TemporaryFile(dir=path).close()
    except OSError as error:
        raise InputError(path, "--figures", f"not a writable directory: {error.strerror}") from None
    return path


def write_figures(figures: list[Figure], out_dir: Path) -> list[Path]:
    """Each non-empty figure as out_dir/NAME.svg and NAME.pdf; returns the files written."""
    plt = _pyplot()
    out_dir = writable_dir(out_dir)
    written = []
    with plt.rc_context(_STYLE):
        for figure in figures:
            if figure.empty:
                continue
            drawing = draw(plt, figure)
            for fmt in FORMATS:
                path = out_dir / f"{figure.name}.{fmt}"
                drawing.savefig(path, format=fmt, metadata=_METADATA[fmt], bbox_inches="tight")
                written.append(path)
            plt.close(drawing)
    return written


def draw(plt: Any, figure: Figure) -> Any:
    drawing, axes = plt.subplots(figsize=(7, 3.6))
    if figure.kind == "scatter":
        _scatter(axes, figure)
    else:
        _bars(axes, figure)
    axes.set_title(f"{figure.title}\n{figure.note}", fontsize=9)
    axes.set_xlabel(figure.x_label)
    axes.set_ylabel(figure.y_label)
    if len(figure.series) > 1 or figure.kind == "scatter":
        axes.legend(fontsize=7, frameon=False)
    return drawing


def _bars(axes: Any, figure: Figure) -> None:
    categories = figure.categories
    width = 0.8 / max(1, len(figure.series))
    for index, series in enumerate(figure.series):
        values = dict(zip(series.x, series.y))
        positions = [c + index * width - 0.4 + width / 2 for c in range(len(categories))]
        axes.bar(positions, [values.get(c, 0.0) for c in categories], width, label=series.label)
    axes.set_xticks(range(len(categories)), [str(c) for c in categories])
    if any(len(str(c)) > 3 for c in categories):
        for label in axes.get_xticklabels():
            label.set(rotation=35, horizontalalignment="right", fontsize=7)


def _scatter(axes: Any, figure: Figure) -> None:
    for series in figure.series:
        axes.scatter(series.x, series.y, s=14, alpha=0.6, label=series.label)
    axes.plot([1, 5], [1, 5], color="#999999", linewidth=0.8, linestyle="--")
    axes.set_xlim(0.5, 5.5)
    axes.set_ylim(0.5, 5.5)
