"""The report screen's What-if tab: `report RUN --variants`'s variant rows as table cells, never pooled.

Called from a worker; returns plain data (no textual). The cells are report_format.variant_cells (a dimension's n
shown where it differs from the row's, as the CLI does), the variant's first words last, and the columns the
CLI's table also hides left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from compass_tui.safe_text import printable

HIDDEN_COLUMNS = ("scored by", "setting", "D-1", "D-2", "Accept", "Optimal")
WORDS_SHOWN = 32  # characters of the variant's words in the table; the line under it has them all
NO_VARIANTS = (
    "No what-if variants in the chosen runs. In the stepper, `w` edits a situation's words and every model "
    "of the session answers them as a variant (or `compass-tui variants add RUN --persona P --situation N "
    "--text T`); score them there, or judge them with `compass-tui judge RUN --variants`."
)


@dataclass
class WhatIfTable:
    rows: list[dict[str, str]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)  # per row, the variant's whole words
    status: str = ""


def what_if_table(store, run_ids: list[str], personas: dict[str, Any], source: str) -> WhatIfTable:
    """The variant rows of the runs scored by `source`; InputError as `report --variants` raises it."""
    from compass_tui.judgements import ScoreSource
    from compass_tui.report_format import variant_cells, variant_rows
    from compass_tui.variant_report import report_with_variants

    report = report_with_variants(store, run_ids, personas, ScoreSource(source))
    rows_of_variants = variant_rows(report)
    if not rows_of_variants:
        return WhatIfTable(status=NO_VARIANTS)
    several_runs = len({row.run_id for row in rows_of_variants}) > 1
    rows = []
    for row, cells in zip(
        rows_of_variants, variant_cells(report, intervals=False, compact=True), strict=True
    ):
        shown = {k: v or "—" for k, v in cells.items() if k not in HIDDEN_COLUMNS}
        if not several_runs:
            shown.pop("run", None)
        shown["words"] = _shortened(row.variant_text)
        rows.append({k: printable(v) for k, v in shown.items()})
    scored_by = "; ".join(dict.fromkeys(row.provenance for row in rows_of_variants))
    parts = [
        f"{len(rows)} what-if rows, each its own n, never pooled into Systems",
        f"scores from {scored_by}",
        "a mean's n is the row's n unless shown (nN)",
    ]
    parts += [note for note in report.notes if "what-if" in note]
    if any(0 < score.n < 2 for row in rows_of_variants for score in row.scores.values()):
        parts.append("† a mean over one item")
    return WhatIfTable(rows, [row.variant_text for row in rows_of_variants], " · ".join(parts))


def _shortened(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= WORDS_SHOWN else flat[: WORDS_SHOWN - 1] + "…"
