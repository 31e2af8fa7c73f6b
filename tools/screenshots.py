"""`make screenshots`: SVG screenshots of every main screen, made from the bundled data in a scratch data dir.

It runs the offline baseline twice (with tools, and empathetic-only) so the stepper compares two
systems, builds a two-annotator study for the annotator screen and the study triage, and drives the
app with Pilot.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
from datetime import date
from pathlib import Path

from tools.stub_llm import StubLLM

SIZE = (120, 40)
SMALL = (80, 24)
PERSONAS = ("adam-kerr", "haruko-okumura")
TODAY = date(2026, 11, 23)
STUB_JUDGE = "stub-judge"


async def _prepare(ctx) -> Path:
    from compass_tui.prompts import our_prompts
    from compass_tui.runner import RunPlan, execute_run, resolve_systems
    from compass_tui.study import create_study, write_pack

    personas = [ctx.library.get(persona_id) for persona_id in PERSONAS]
    env = ctx.tool_environment(search_mode="lexical")
    for setting in ("profile", "empathetic"):
        plan = RunPlan(
            run_id=f"{setting}-baseline",
            setting=setting,
            systems=resolve_systems(["baseline"], setting, ctx.settings),
            personas=personas,
            prompts=our_prompts(),
            today=TODAY,
        )
        await execute_run(plan, ctx.store, env)
    _score_by_hand(ctx)
    await _judge(ctx)
    design = create_study(
        ctx.store, "pilot", ["profile-baseline", "empathetic-baseline"], 6, ["ana", "ben"], seed=7
    )
    _score_study(ctx, design)
    return write_pack(ctx.store, "pilot", "ana", ctx.data_dir)


def _score_study(ctx, design) -> None:
    """Both annotators' finished scores in the store, varied by item, system and annotator, for the triage."""
    from compass_tui.annotations import Annotation, save_annotation
    from compass_tui.study import study_scope
    from compass_tui.vocab import DIMENSION_KEYS

    for a, annotator in enumerate(design.annotators):
        for i, item in enumerate(design.items):
            for b, blinded in enumerate(design.blinded_ids):
                base = 1 + (i * 3 + b * 2 + a * (i % 3)) % 5
                scores = {key: min(5, max(1, base + d % 2 - a)) for d, key in enumerate(DIMENSION_KEYS)}
                annotation = Annotation(
                    study_scope(design.name),
                    annotator,
                    item.persona_id,
                    item.situation_index,
                    blinded,
                    scores=scores,
                    committed=True,
                )
                save_annotation(ctx.store, annotation)


def _stub_judge(body: dict):
    """A loopback judge for the pictures only: scores vary with the prompt's text; its rationale says so."""
    from compass_tui.vocab import DIMENSION_KEYS
    from tools.stub_llm import text

    seed = sum(map(ord, body["messages"][-1]["content"]))
    verdict = {
        key: {"score": 1 + (seed // (index + 1)) % 5, "rationale": "a stub judge for the screenshots"}
        for index, key in enumerate(DIMENSION_KEYS)
    }
    return text(json.dumps(verdict))


async def _judge(ctx) -> None:
    from compass_tui.judge import judge_run, load_judge_prompt

    model = ctx.settings.model(STUB_JUDGE)
    await judge_run(
        ctx.store, ctx.personas_by_id(), "profile-baseline", model, STUB_JUDGE, load_judge_prompt(None)
    )


def _score_by_hand(ctx) -> None:
    """Committed human scores for every item of both runs, varied by item, so the report has numbers."""
    from compass_tui.annotations import Annotation, save_annotation
    from compass_tui.records import load_records, system_id
    from compass_tui.report import SESSION_SCOPE
    from compass_tui.vocab import DIMENSION_KEYS

    for run in ("profile-baseline", "empathetic-baseline"):
        for record in load_records(ctx.store, run):
            base = 2 + (record.situation_index * 7 + len(record.persona_id)) % 3 + (run[0] == "p")
            scores = {key: min(5, max(1, base + i % 3 - 1)) for i, key in enumerate(DIMENSION_KEYS)}
            system = system_id(run, record.model)
            situation = record.situation_index
            annotation = Annotation(
                SESSION_SCOPE, "me", record.persona_id, situation, system, scores=scores, committed=True
            )
            save_annotation(ctx.store, annotation)


def _figure(ctx, out: Path) -> Path:
    """The per-tool means (the paper's Figure 8) as `report --figures` writes it."""
    from compass_tui.figures import write_figures
    from compass_tui.judgements import ScoreSource
    from compass_tui.plot_data import tool_means

    runs = ["profile-baseline", "empathetic-baseline"]
    figure = tool_means(ctx.store, runs, ctx.personas_by_id(), ScoreSource("human"))
    [svg, _] = write_figures([figure], out / "figures")
    target = out / "figure-tool-means.svg"
    svg.replace(target)
    for leftover in (out / "figures").iterdir():
        leftover.unlink()
    (out / "figures").rmdir()
    return target


async def _shoot(out: Path, only: set[str] | None = None) -> list[Path]:
    from compass_tui.app.app import CompassApp
    from compass_tui.workspace import Context

    ctx = Context()
    pack = await _prepare(ctx)
    written: list[Path] = []

    async def save(app, pilot, name: str) -> None:
        await pilot.pause(0.3)
        app.save_screenshot(filename=f"{name}.svg", path=str(out))
        written.append(out / f"{name}.svg")

    for name, shoot in DIALOG_SHOTS.items():
        if only is None or name in only:
            await shoot(CompassApp(ctx), save, ctx)
    if only is not None:
        return written
    app = CompassApp(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.5)
        await save(app, pilot, "01-library")
        await pilot.press("f1")
        await save(app, pilot, "02-help")
        await pilot.press("escape", "enter")
        await pilot.pause(0.3)
        app.screen.query_one("#runs").select("empathetic-baseline")
        await save(app, pilot, "03-session-setup")
        await pilot.press("ctrl+s")
        await pilot.pause(0.3)
        await pilot.press("g")
        for _ in range(100):
            await pilot.pause(0.2)
            if getattr(app.screen, "run_thread", None) is None:
                break
        await pilot.press("4", "4", "5", "3", "4", "5", "enter", "right", "3", "2")
        await save(app, pilot, "04-stepper-scoring")
        await pilot.press("escape", "e")
        await pilot.pause(0.3)
        await save(app, pilot, "05-editor")
        await pilot.press("escape", "r")
        await pilot.pause(1.0)
        await save(app, pilot, "06-report")
        await pilot.press("]")
        await pilot.pause(1.0)
        await save(app, pilot, "11-report-by-tool")
        await pilot.press("[", "[", "[", "[")  # back past Systems, What-if and Triage
        await pilot.pause(1.5)
        await save(app, pilot, "12-report-plots")
        await pilot.press("]")
        await pilot.pause(1.5)
        await save(app, pilot, "13-report-triage")
        await pilot.press("escape", "s")
        await pilot.pause(1.5)
        await save(app, pilot, "14-study-triage")
    written.append(_figure(ctx, out))

    annotator = CompassApp(ctx, pack=pack)
    async with annotator.run_test(size=SIZE) as pilot:
        await pilot.pause(0.5)
        await pilot.press("4", "5", "4", "4", "5", "5")
        await save(annotator, pilot, "07-annotator")

    small = CompassApp(ctx)
    async with small.run_test(size=SMALL) as pilot:
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause(0.3)
        small.screen.query_one("#runs").select("empathetic-baseline")
        await pilot.press("ctrl+s")
        await pilot.pause(0.5)
        await pilot.press("3", "4")
        await save(small, pilot, "08-stepper-80x24")
    small_annotator = CompassApp(ctx, pack=pack)
    async with small_annotator.run_test(size=SMALL) as pilot:
        await pilot.pause(0.5)
        await save(small_annotator, pilot, "09-annotator-80x24")
    await _what_if(CompassApp(ctx), save)  # last, so the screens above never show its variant
    return written


WHAT_IF = "My neighbour says she will take the weans to school all week, so I can rest the leg."


async def _what_if(app, save) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause(0.3)
        await pilot.press("ctrl+s")
        await pilot.pause(0.3)
        await pilot.press("w", "f7", *WHAT_IF, "ctrl+s")
        for _ in range(100):
            await pilot.pause(0.2)
            if getattr(app.screen, "run_thread", None) is None:
                break
        await pilot.press("5", "4", "5", "5", "5", "5", "enter")
        await save(app, pilot, "10-stepper-what-if")
        await pilot.press("escape", "r")
        await pilot.pause(1.0)
        await pilot.press("[")  # the last tab
        await pilot.pause(1.5)
        await save(app, pilot, "17-report-what-if")


async def _synthesis_dialog(app, save, ctx) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.5)
        await pilot.press("m")
        await pilot.pause(0.3)
        app.screen.query_one("#count").value = "20"
        app.screen.query_one("#seed").value = "7"
        await save(app, pilot, "15-synthesis-dialog")


async def _training_export(app, save, ctx) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.5)
        await pilot.press("r")
        await pilot.pause(1.0)
        await pilot.press("t")
        await pilot.pause(0.3)
        dialog = app.screen
        dialog.query_one("#min-score").value = "3"
        dialog.query_one("#require-pass").value = True
        dialog.query_one("#training-path").value = "compass-training.jsonl"
        cwd = Path.cwd()
        os.chdir(ctx.data_dir)  # the scratch dir, which the picture does not name
        try:
            dialog.query_one("#export").press()
            for _ in range(50):
                await pilot.pause(0.2)
                if "Wrote" in str(dialog.query_one("#training-result").render()):
                    break
        finally:
            os.chdir(cwd)
        await save(app, pilot, "16-report-training-export")


DIALOG_SHOTS = {"15-synthesis-dialog": _synthesis_dialog, "16-report-training-export": _training_export}


def main(argv: list[str]) -> int:
    """`python -m tools.screenshots [DIR] [--only NAME,NAME]`: every shot, or only the dialogs named."""
    only = None
    if "--only" in argv:
        at = argv.index("--only")
        only = set(argv[at + 1].split(","))
        argv = argv[:at] + argv[at + 2 :]
        unknown = only - set(DIALOG_SHOTS)
        if unknown:
            print(
                f"--only takes {', '.join(DIALOG_SHOTS)}; not {', '.join(sorted(unknown))}", file=sys.stderr
            )
            return 2
    out = Path(argv[0] if argv else "screenshots").resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as home:
        os.environ["COMPASS_TUI_HOME"] = home
        config = Path(home) / "compass-tui.toml"
        os.environ["COMPASS_TUI_CONFIG"] = str(config)
        with StubLLM(_stub_judge) as judge:
            config.write_text(
                f'[models.{STUB_JUDGE}]\nmodel = "openai/{STUB_JUDGE}"\napi_base = "{judge.base_url}"\n',
                encoding="utf-8",
            )
            written = asyncio.run(_shoot(out, only))
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
