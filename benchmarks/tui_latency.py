"""TUI keypress latency: score key to repainted ScorePanel in the stepper, idle and with 50+ LLM calls in flight.

    .venv/bin/python -m benchmarks.tui_latency [--personas 3] [--keys 40] [--no-write]

The stepper runs headless through Textual's Pilot on a scratch data dir, with four stub models
(`openai/stub-1` … `stub-4`, one StubLLM answering every call after 2 s, concurrency 64). For each persona
the stepper opens with those four columns and `G` generates all 15 situations: 4 × 15 = 60 calls, at most 64
at a time (after each model's first call, which goes out alone). While at least 50 calls are in flight, score
keys (alternately 2 and 4 on the focused panel's last dimension) are posted to the app one at a time; the
latency of one key is the time from posting it to the first paint of the ScorePanel (its `render`, which
Textual calls while composing the frame) that shows the new score. Every key also saves the score durably,
as in real use. The same is measured with nothing in flight first, for the ratio. Target: p95 ≤ 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.tui_startup import machine, write_section

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SECTION = "## TUI latency"
MODELS = ("stub-1", "stub-2", "stub-3", "stub-4")
LATENCY_S = 2.0
IN_FLIGHT_WANTED = 50
TARGET_MS = 50.0
PERSONAS = ("adam-kerr", "haruko-okumura", "mark-hoffmeyer", "min-jun-kang", "zbigniew-kowalczyk")
KEY_TIMEOUT_S = 5.0


class Arrivals:
    """Wraps the stub's responder to count calls in flight (every call is answered LATENCY_S after it arrives)."""

    def __init__(self, responder):
        self.responder = responder
        self.times: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, body):
        with self._lock:
            self.times.append(time.perf_counter())
        return self.responder(body)

    def in_flight(self) -> int:
        now = time.perf_counter()
        with self._lock:
            return sum(1 for arrived in self.times if now - LATENCY_S < arrived <= now)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1)]


class PaintLog:
    """Records every ScorePanel render: when, and the score it shows at its cursor."""

    def __init__(self):
        from compass_tui.app.widgets.model_column import ScorePanel

        self.events: list[tuple[float, object, dict]] = []
        original = ScorePanel.render
        log = self.events

        def timed_render(panel):
            rendered = original(panel)
            log.append(
                (time.perf_counter(), panel, dict(panel.annotation.scores) if panel.annotation else {})
            )
            return rendered

        ScorePanel.render = timed_render


async def key_latencies(
    pilot, paints: PaintLog, count: int, keep_going=lambda: True
) -> tuple[list[float], list[int]]:
    """Post score keys to the focused panel's last dimension; seconds from posting to the repaint showing it."""
    from textual import events

    from compass_tui.vocab import DIMENSION_KEYS

    app = pilot.app
    panel = app.focused
    dimension = DIMENSION_KEYS[-1]
    latencies: list[float] = []
    loads: list[int] = []
    while len(latencies) < count and keep_going():
        value = 2 if panel.annotation.scores.get(dimension) != 2 else 4
        mark = len(paints.events)
        posted = time.perf_counter()
        app.post_message(events.Key(str(value), str(value)))
        while True:
            shown = [
                when
                for when, painted, scores in paints.events[mark:]
                if painted is panel and scores.get(dimension) == value
            ]
            if shown:
                latencies.append(shown[0] - posted)
                break
            if time.perf_counter() - posted > KEY_TIMEOUT_S:
                raise RuntimeError(f"key {value} was not painted within {KEY_TIMEOUT_S} s")
            await asyncio.sleep(0.0005)
        loads.append(keep_going.load() if hasattr(keep_going, "load") else 0)
        await asyncio.sleep(0.02)  # a fast typist: 50 keys a second at most
    return latencies, loads


class WhileLoaded:
    def __init__(self, arrivals: Arrivals):
        self.arrivals = arrivals

    def load(self) -> int:
        return self.arrivals.in_flight()

    def __call__(self) -> bool:
        return self.load() >= IN_FLIGHT_WANTED


async def run(args) -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from tui_harness import Companion, make_env, open_stepper, press_each, wait_until

    from tools.stub_llm import StubLLM

    paints = PaintLog()
    arrivals = Arrivals(Companion())
    idle: list[float] = []
    loaded: list[float] = []
    loads: list[int] = []
    with tempfile.TemporaryDirectory() as scratch, StubLLM(arrivals, latency=LATENCY_S) as stub:
        home = Path(scratch) / "data"
        home.mkdir()
        os.environ["COMPASS_TUI_HOME"] = str(home)
        os.environ["COMPASS_TUI_CONFIG"] = str(Path(scratch) / "compass-tui.toml")
        env = make_env(home)
        env.configure({name: f"openai/{name}" for name in MODELS}, stub, concurrency=64)
        app = env.app()
        async with app.run_test(size=(120, 36)) as pilot:
            for round_index, persona in enumerate(PERSONAS[: args.personas]):
                stepper = await open_stepper(pilot, persona, models=MODELS, untick_baseline=True)
                assert [column.model for column in stepper.session.columns] == list(MODELS)
                await press_each(pilot, ["up"])  # the last dimension: later keys keep the cursor there
                if round_index == 0:
                    found, _ = await key_latencies(pilot, paints, args.keys)
                    idle += found
                started = stepper.generation
                await pilot.press("G")
                assert stepper.generation == started + 1
                condition = WhileLoaded(arrivals)
                await wait_until(pilot, condition, f"{IN_FLIGHT_WANTED} calls in flight", 30)
                found, load = await key_latencies(pilot, paints, 10_000, condition)
                loaded += found
                loads += load
                await wait_until(pilot, lambda: stepper.run_thread is None, "the generation to finish", 60)
                await pilot.press("escape")
                await wait_until(pilot, lambda: pilot.app.screen is not stepper, "the stepper to close")
                await pilot.press("escape")  # clear the library filter
        requests = len(arrivals.times)
    return {"idle": idle, "loaded": loaded, "loads": loads, "requests": requests}


def section_text(result: dict, personas: int) -> str:
    idle_ms = [value * 1000 for value in result["idle"]]
    loaded_ms = [value * 1000 for value in result["loaded"]]
    p95_loaded, p95_idle = percentile(loaded_ms, 95), percentile(idle_ms, 95)
    p50_loaded, p50_idle = percentile(loaded_ms, 50), percentile(idle_ms, 50)
    verdict = "met" if p95_loaded <= TARGET_MS else "missed"
    loads = result["loads"]
    lines = [
        SECTION,
        "",
        f"`python -m benchmarks.tui_latency`, {time.strftime('%Y-%m-%d')}, {machine()}.",
        "",
        f"- score key to repainted ScorePanel with ≥ {IN_FLIGHT_WANTED} LLM calls in flight, p95: "
        f"**{p95_loaded:.1f} ms** (target ≤ {TARGET_MS:.0f} ms {verdict}); p50 {p50_loaded:.1f} ms; "
        f"max {max(loaded_ms):.1f} ms; {len(loaded_ms)} keys over {personas} personas",
        f"- loaded / idle: p95 **{p95_loaded / p95_idle:.2f}×**, p50 {p50_loaded / p50_idle:.2f}× "
        f"(idle: p95 {p95_idle:.1f} ms, p50 {p50_idle:.1f} ms, {len(idle_ms)} keys)",
        f"- calls in flight while measuring: min {min(loads)}, median {statistics.median(loads):.0f}, max "
        f"{max(loads)}; {result['requests']} requests to the stub in all (4 stub models × 15 situations × "
        f"2 steps per persona, each answered after {LATENCY_S:g} s, concurrency 64)",
        "- headless Pilot app (120×36); each key is posted to the app and timed until Textual paints the "
        "ScorePanel showing the new score; the save behind each key (fsynced TinyDB shard) is included",
        "",
        "| load | keys | p50 ms | p95 ms | max ms |",
        "|---|---:|---:|---:|---:|",
        f"| idle | {len(idle_ms)} | {p50_idle:.1f} | {p95_idle:.1f} | {max(idle_ms):.1f} |",
        f"| ≥ {IN_FLIGHT_WANTED} calls in flight | {len(loaded_ms)} | {p50_loaded:.1f} | {p95_loaded:.1f} | "
        f"{max(loaded_ms):.1f} |",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--personas", type=int, default=3, choices=range(1, len(PERSONAS) + 1))
    parser.add_argument("--keys", type=int, default=40, help="keys measured with nothing in flight")
    parser.add_argument("--no-write", action="store_true", help=f"do not update {RESULTS.name}")
    args = parser.parse_args(argv)
    result = asyncio.run(run(args))
    text = section_text(result, args.personas)
    print(text)
    if not args.no_write:
        write_section(text, SECTION, RESULTS)
        print(f"updated {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
