"""TUI cold start: time to the first frame of compass-tui, with the 100 ComPASS test personas imported, vs a bare Textual app.

    .venv/bin/python -m benchmarks.tui_startup [--repeats 7] [--no-write]

Every start is a fresh process in a pseudo-terminal of 120×36; the variants take turns, after one
warm-up round (so all find the files in the OS cache). "First frame" is the moment the first complete
screen (up to the footer, which every variant has) reaches the terminal; then the process is stopped.
compass-tui runs with COMPASS_TUI_EXIT_AFTER_FIRST_FRAME=1 (compass_tui/app/app.py, `CompassApp._display`),
so it also exits by itself right after that frame. Besides `python -m compass_tui` and the bare app it
times two variants that locate the cost: the bare app after importing the core every start needs, and
compass-tui started without building the CLI parser. Target: compass-tui ≤ 1.2× the bare app.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import platform
import pty
import select
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

from benchmarks import results

REPO = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SECTION = "## TUI start"
SIZE = (120, 36)
TARGET_RATIO = 1.2
FRAME_MARKER = "palette"  # the footer's last word: the whole first screen has been written
BARE_APP = """
from textual.app import App
from textual.widgets import Footer, Header, Static


class Bare(App):
    def compose(self):
        yield Header()
        yield Static("bare app ready")
        yield Footer()


Bare().run()
"""


def first_frame_seconds(argv: list[str], env: dict[str, str], timeout: float = 60.0) -> float:
    """Start argv in a fresh pty; seconds until its first complete screen (FRAME_MARKER) has been written."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
    started = time.perf_counter()
    process = subprocess.Popen(
        argv,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=REPO,
        start_new_session=True,
        env={**os.environ, "TERM": "xterm-256color", **env},
    )
    os.close(slave)
    output = ""
    try:
        while FRAME_MARKER not in output:
            if time.perf_counter() - started > timeout:
                raise RuntimeError(f"{argv} drew no frame in {timeout} s; output so far: {output[-500:]!r}")
            if select.select([master], [], [], 0.005)[0]:
                try:
                    output += os.read(master, 65536).decode("utf-8", errors="replace")
                except OSError:  # the process ended without drawing
                    raise RuntimeError(
                        f"{argv} exited ({process.wait()}) before a frame: {output[-500:]!r}"
                    ) from None
        return time.perf_counter() - started
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=30)
        os.close(master)


def prepare_data_dir(root: Path) -> tuple[dict[str, str], int]:
    """A data dir with the 100 ComPASS test personas imported and an empty config; returns its env and count."""
    from compass_tui.library import PersonaLibrary
    from compass_tui.paths import shared_compass_bench

    bench = shared_compass_bench()
    test_set = bench / "test_set_correct_form.json" if bench else None
    if test_set is None or not test_set.is_file():
        raise FileNotFoundError("the shared ComPASS release (../shared/compass-bench) is not present")
    imported = PersonaLibrary(root / "data").import_compass(test_set)
    (root / "compass-tui.toml").write_text("", encoding="utf-8")
    env = {
        "COMPASS_TUI_HOME": str(root / "data"),
        "COMPASS_TUI_CONFIG": str(root / "compass-tui.toml"),
        "COMPASS_TUI_EXIT_AFTER_FIRST_FRAME": "1",
        "PYTHONPATH": str(REPO),
    }
    return env, len(imported.added)


DIRECT_APP = (
    "from compass_tui.workspace import Context\nfrom compass_tui.app.app import run_app\nrun_app(Context())"
)
VARIANTS = {  # name -> (label, argv tail)
    "bare": ("bare Textual app", ["-c", BARE_APP]),
    "floor": (
        "bare app after `import compass_tui.workspace` (settings, library)",
        ["-c", "import compass_tui.workspace\n" + BARE_APP],
    ),
    "compass": ("compass-tui (`python -m compass_tui`)", ["-m", "compass_tui"]),
    "direct": ("compass-tui without building the CLI parser", ["-c", DIRECT_APP]),
}


def measure(repeats: int, env: dict[str, str]) -> dict[str, list[float]]:
    """First-frame seconds per variant; the variants take turns so that machine load falls on all alike."""
    samples: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for round_index in range(repeats + 1):  # round 0 warms the OS file cache
        for name, (_, tail) in VARIANTS.items():
            seconds = first_frame_seconds([sys.executable, *tail], env)
            if round_index:
                samples[name].append(seconds)
    return samples


def import_seconds(statement: str, env: dict[str, str], repeats: int = 5) -> float:
    """Median wall time of a fresh interpreter running `statement` (import cost plus interpreter start)."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", statement], cwd=REPO, env={**os.environ, **env}, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def machine() -> str:
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )


def section_text(
    samples: dict[str, list[float]], personas: int, imports: dict[str, float], repeats: int
) -> str:
    median = {name: statistics.median(values) for name, values in samples.items()}
    ratio = median["compass"] / median["bare"]
    verdict = "met" if ratio <= TARGET_RATIO else "missed"
    lines = [
        SECTION,
        "",
        f"`python -m benchmarks.tui_startup`, {time.strftime('%Y-%m-%d')}, {machine()}.",
        "",
        f"- first frame, compass-tui with {personas} imported personas (+10 bundled) / a bare Textual app "
        f"(Header, Static, Footer): **{ratio:.2f}×** ({median['compass'] * 1000:.0f} ms vs "
        f"{median['bare'] * 1000:.0f} ms, medians of {repeats}); target ≤ {TARGET_RATIO}× {verdict}",
        f"- without building the CLI parser (`run_app(Context())` directly): "
        f"{median['direct'] / median['bare']:.2f}×; the bare app after importing the core that any start "
        f"needs (`compass_tui.workspace`: settings via pydantic-settings, the persona model): "
        f"{median['floor'] / median['bare']:.2f}×",
        f"- where compass-tui's extra {(median['compass'] - median['bare']) * 1000:.0f} ms go: building the CLI "
        f"parser (it imports every command module) {(median['compass'] - median['direct']) * 1000:.0f} ms, the "
        f"core imports (pydantic, pydantic-settings, persona and library modules) "
        f"{(median['floor'] - median['bare']) * 1000:.0f} ms, the app's own screens and settings "
        f"{(median['direct'] - median['floor']) * 1000:.0f} ms",
        f"- a fresh interpreter importing `textual.app`: {imports['textual'] * 1000:.0f} ms; "
        f"`compass_tui.workspace`: {imports['context'] * 1000:.0f} ms; `compass_tui.cli` with "
        f"`build_parser()`: {imports['parser'] * 1000:.0f} ms; `compass_tui.app.app`: "
        f"{imports['compass'] * 1000:.0f} ms",
        "- each start is a new process in a 120×36 pseudo-terminal, the variants taking turns after one "
        "warm-up round; the first frame is the moment the whole first screen (up to the footer) has reached "
        "the terminal. compass-tui's first screen is the persona library; its list is read in a worker "
        "thread after that first paint.",
        "",
        "| start | first frame p50 ms | min ms | max ms | / bare |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, (label, _) in VARIANTS.items():
        values = [value * 1000 for value in samples[name]]
        lines.append(
            f"| {label} | {statistics.median(values):.0f} | {min(values):.0f} | {max(values):.0f} | "
            f"{median[name] / median['bare']:.2f}× |"
        )
    return "\n".join(lines) + "\n"


def write_section(text: str, section: str = SECTION, results_file: Path = RESULTS) -> None:
    results.write_section(text, section, results_file)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--no-write", action="store_true", help=f"do not update {RESULTS.name}")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        try:
            env, personas = prepare_data_dir(Path(scratch))
        except FileNotFoundError as missing:
            print(f"skipped: {missing}")
            return 0
        samples = measure(args.repeats, env)
        imports = {
            "textual": import_seconds("import textual.app", env),
            "context": import_seconds("import compass_tui.workspace", env),
            "parser": import_seconds("import compass_tui.cli\ncompass_tui.cli.build_parser()", env),
            "compass": import_seconds("import compass_tui.app.app", env),
        }
    text = section_text(samples, personas, imports, args.repeats)
    print(text)
    if not args.no_write:
        write_section(text)
        print(f"updated {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
