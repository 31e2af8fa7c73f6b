"""TUI cold start: time until the persona names are on screen in compass-tui, with the 100 ComPASS test
personas imported (110 in all), vs the first frame of a bare Textual app.

    .venv/bin/python -m benchmarks.tui_startup [--repeats 7] [--no-write]

Every start is a fresh process in a pseudo-terminal of 120×36; the variants take turns, after one
warm-up round (so all find the files in the OS cache). For the bare app the moment measured is its first
complete screen (up to the footer); for compass-tui it is the moment the library list's first persona
name reaches the terminal, which is what the user waits for. Then the process is stopped. compass-tui
starts with its library index (written by the previous start) in place, and once more without it (a
first start, or the start after a persona file changed). Besides `python -m compass_tui` and the bare
app it times the bare app after importing the core every start needs, and compass-tui started without
building the CLI parser. Target: names on screen ≤ 1.3× the bare app's first frame.
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
TARGET_RATIO = 1.3
FRAME_MARKER = "palette"  # the footer's last word: the whole first screen has been written
NAMES_MARKER = "Adam Kerr"  # the library list's first persona
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


def first_frame_seconds(
    argv: list[str], env: dict[str, str], marker: str = FRAME_MARKER, timeout: float = 60.0
) -> float:
    """Start argv in a fresh pty; seconds until `marker` has been written to the terminal."""
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
        while marker not in output:
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
        _drain_until_exit(process, master)
        os.close(master)


def _drain_until_exit(process: subprocess.Popen, master: int, timeout: float = 30.0) -> None:
    """Keep reading the terminal while the app shuts down: a full pty would block its last writes."""
    deadline = time.perf_counter() + timeout
    while process.poll() is None:
        if time.perf_counter() > deadline:
            process.kill()
            break
        if select.select([master], [], [], 0.05)[0]:
            try:
                os.read(master, 65536)
            except OSError:
                time.sleep(0.01)
    process.wait(timeout=timeout)


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
        "PYTHONPATH": str(REPO),
    }
    return env, len(imported.added)


DIRECT_APP = (
    "from compass_tui.workspace import Context\nfrom compass_tui.app.app import run_app\nrun_app(Context())"
)
VARIANTS = {  # name -> (label, argv tail, what is waited for)
    "bare": ("bare Textual app, first frame", ["-c", BARE_APP], FRAME_MARKER),
    "floor": (
        "bare app after `import compass_tui.workspace`, first frame",
        ["-c", "import compass_tui.workspace\n" + BARE_APP],
        FRAME_MARKER,
    ),
    "compass": (
        "compass-tui (`python -m compass_tui`), names on screen",
        ["-m", "compass_tui"],
        NAMES_MARKER,
    ),
    "cold": ("compass-tui without its library index, names on screen", ["-m", "compass_tui"], NAMES_MARKER),
    "direct": (
        "compass-tui without building the CLI parser, names on screen",
        ["-c", DIRECT_APP],
        NAMES_MARKER,
    ),
}


def measure(repeats: int, env: dict[str, str]) -> dict[str, list[float]]:
    """Seconds per variant; the variants take turns so that machine load falls on all alike."""
    from compass_tui.library_index import index_path

    os.environ.update(env)  # the index lives in the cache dir that COMPASS_TUI_HOME names
    index = index_path(Path(env["COMPASS_TUI_HOME"]))
    samples: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for round_index in range(repeats + 1):  # round 0 warms the OS file cache
        for name, (_, tail, marker) in VARIANTS.items():
            if name == "cold":
                index.unlink(missing_ok=True)
            elif name == "compass":
                wait_for_index(index, env)
            seconds = first_frame_seconds([sys.executable, *tail], env, marker)
            if round_index:
                samples[name].append(seconds)
    return samples


def wait_for_index(index: Path, env: dict[str, str]) -> None:
    """A start that stays up until the library is read writes the index; make sure one has."""
    if not index.is_file():
        first_frame_seconds([sys.executable, "-m", "compass_tui"], env, "personas ·")
        deadline = time.monotonic() + 10
        while not index.is_file() and time.monotonic() < deadline:
            time.sleep(0.05)


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
        f"- persona names on screen, compass-tui with {personas} imported personas (+10 bundled) / a bare "
        f"Textual app's first frame (Header, Static, Footer): **{ratio:.2f}×** ({median['compass'] * 1000:.0f} ms "
        f"vs {median['bare'] * 1000:.0f} ms, medians of {repeats}); target ≤ {TARGET_RATIO}× {verdict}",
        f"- without the library index (a first start, or the start after a persona file changed): "
        f"{median['cold'] / median['bare']:.2f}× ({median['cold'] * 1000:.0f} ms): the names wait for the "
        f"persona files and the persona model",
        f"- without building the CLI parser (`run_app(Context())` directly): "
        f"{median['direct'] / median['bare']:.2f}×; the bare app after importing the core that any start "
        f"needs (`compass_tui.workspace`): {median['floor'] / median['bare']:.2f}×",
        f"- a fresh interpreter importing `textual.app`: {imports['textual'] * 1000:.0f} ms; "
        f"`compass_tui.workspace`: {imports['context'] * 1000:.0f} ms; `compass_tui.cli` with "
        f"`build_parser()`: {imports['parser'] * 1000:.0f} ms; `compass_tui.app.app`: "
        f"{imports['compass'] * 1000:.0f} ms",
        "- each start is a new process in a 120×36 pseudo-terminal, the variants taking turns after one "
        "warm-up round; for compass-tui the moment measured is the first persona name of the library list "
        "reaching the terminal. The list comes from a small index (`compass_tui/library_index.py`, stamped "
        "with every persona file's size and mtime) before the persona model is imported; the files are "
        "read in a worker thread after the first paint. The library is the app's default screen, so the "
        "names are in the start's first frame (a screen pushed from `on_mount` is drawn a frame later: "
        "Textual mounts the app inside a batch update and throws that first frame away).",
        "",
        "| start | p50 ms | min ms | max ms | / bare |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, (label, _, _) in VARIANTS.items():
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
