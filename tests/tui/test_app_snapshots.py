"""SVG snapshots of the main screens (pytest-textual-snapshot); `--snapshot-update` rewrites them.

Everything that could differ between runs is pinned: the data dir is the relative path `data` (the library's
status line shows it), the baseline's "today" is fixed, the clock of the scoring screens is frozen (their
"saved ✓ HH:MM:SS" and seconds counters), tool searches are lexical, and cursor blink is off.
Snapshot tests are synchronous: snap_compare runs the app on its own event loop.
"""

from __future__ import annotations

import asyncio
import types
from datetime import datetime
from pathlib import Path

import pytest
from tui_harness import (
    PERSONA,
    TuiEnv,
    baseline_run,
    baseline_runs,
    generate,
    make_env,
    open_stepper,
    save_session_scores,
    wait_for_library,
    wait_until,
)

from compass_tui import paths
from compass_tui.annotations import Annotation, save_annotation
from compass_tui.records import system_id
from compass_tui.report import SESSION_SCOPE
from compass_tui.vocab import DIMENSION_KEYS

pytestmark = pytest.mark.slow
WIDE, SMALL = (120, 40), (80, 24)
FROZEN_NOW = datetime(2025, 3, 14, 9, 30, 0)


class _FrozenDatetime(datetime):
    @classmethod
    def now(cls, tz=None):
        return FROZEN_NOW if tz is None else FROZEN_NOW.replace(tzinfo=tz)


@pytest.fixture
def snap_env(tmp_path: Path, monkeypatch) -> TuiEnv:
    """A data dir shown as `data` (relative to a tmp cwd), a tmp config, and a frozen scoring clock."""
    from compass_tui.app.screens import scoring

    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    monkeypatch.setenv(paths.HOME_ENV, "data")
    monkeypatch.setenv(paths.CONFIG_ENV, str(tmp_path / "compass-tui.toml"))
    monkeypatch.setattr(scoring, "datetime", _FrozenDatetime)
    monkeypatch.setattr(scoring, "time", types.SimpleNamespace(monotonic=lambda: 1000.0))
    return make_env(tmp_path / "data")


async def _library_ready(pilot) -> None:
    await wait_for_library(pilot, 10)
    await pilot.pause()


def test_library(snap_compare, snap_env):
    assert snap_compare(snap_env.app(), terminal_size=WIDE, run_before=_library_ready)


def test_library_small(snap_compare, snap_env):
    assert snap_compare(snap_env.app(), terminal_size=SMALL, run_before=_library_ready)


def test_help(snap_compare, snap_env):
    async def open_help(pilot) -> None:
        await _library_ready(pilot)
        await pilot.press("f1")
        await pilot.pause(0.2)

    assert snap_compare(snap_env.app(), terminal_size=WIDE, run_before=open_help)


def test_session_setup(snap_compare, snap_env):
    asyncio.run(baseline_run("empathetic-pilot-run", "empathetic", situations={0, 1}))

    async def open_setup(pilot) -> None:
        await _library_ready(pilot)
        await pilot.press("enter")
        await pilot.pause(0.2)

    assert snap_compare(snap_env.app(), terminal_size=WIDE, run_before=open_setup)


def _stepper_scored(pilot_keys: list[str], runs: range = range(0)):
    """Open the stepper (beside the first `runs` baseline runs), generate, then press `pilot_keys`."""

    async def run(pilot) -> None:
        await open_stepper(pilot, PERSONA, runs=runs)
        await generate(pilot, "g")
        for key in pilot_keys:
            await pilot.press(key)
        await pilot.pause(0.2)

    return run


def test_stepper_after_generation_with_scores(snap_compare, snap_env):
    assert snap_compare(snap_env.app(), terminal_size=WIDE, run_before=_stepper_scored(["4", "4", "5", "3"]))


def test_stepper_small(snap_compare, snap_env):
    assert snap_compare(snap_env.app(), terminal_size=SMALL, run_before=_stepper_scored(["4", "5"]))


def _compared_runs(count: int) -> list[str]:
    return asyncio.run(baseline_runs(count, situations={0, 1, 2, 3}))


def test_stepper_two_systems_at_80x24(snap_compare, snap_env):
    _compared_runs(1)
    assert snap_compare(
        snap_env.app(), terminal_size=SMALL, run_before=_stepper_scored(["4", "5"], runs=range(1))
    )


def test_stepper_four_systems_at_120x40(snap_compare, snap_env):
    _compared_runs(3)
    assert snap_compare(
        snap_env.app(),
        terminal_size=WIDE,
        run_before=_stepper_scored(["4", "5", "right", "3"], runs=range(3)),
    )


def test_editor(snap_compare, snap_env):
    async def open_editor(pilot) -> None:
        from compass_tui.app.screens.editor import EditorScreen

        await _library_ready(pilot)
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, EditorScreen), "the editor")
        await pilot.pause(0.2)

    assert snap_compare(snap_env.app(), terminal_size=WIDE, run_before=open_editor)


def test_report(snap_compare, snap_env):
    from textual.widgets import DataTable

    asyncio.run(baseline_run("profile-pilot-run", situations={0, 1, 2}))
    save_session_scores(
        snap_env.store, "profile-pilot-run", {s: [v] * len(DIMENSION_KEYS) for s, v in enumerate((4, 3, 5))}
    )

    async def open_report(pilot) -> None:
        await _library_ready(pilot)
        await pilot.press("r")
        await wait_until(
            pilot,
            lambda: (
                pilot.app.screen.query(DataTable) and pilot.app.screen.query_one(DataTable).row_count == 1
            ),
            "the report row",
        )
        await pilot.app.workers.wait_for_complete()
        await wait_until(
            pilot,
            lambda: str(pilot.app.screen.query_one("#report-status").render()).startswith("1 system"),
            "the report's status line",
        )
        await pilot.pause(0.2)

    assert snap_compare(snap_env.app(), terminal_size=WIDE, run_before=open_report)


@pytest.mark.parametrize(("size", "tab", "status"), [(SMALL, 1, "3 rows"), (WIDE, 5, "8 figures")])
def test_report_tabs(snap_compare, snap_env, size, tab, status):
    """The By tool tab at 80x24 and the Plots tab at 120x40."""
    asyncio.run(baseline_run("profile-pilot-run", situations={0, 1, 2}))
    system = system_id("profile-pilot-run", "baseline")
    for situation, score in enumerate((4, 3, 5)):
        scores = dict.fromkeys(DIMENSION_KEYS, score)
        annotation = Annotation(
            SESSION_SCOPE, "me", PERSONA, situation, system, scores=scores, committed=True
        )
        save_annotation(snap_env.store, annotation)

    async def open_tab(pilot) -> None:
        await _library_ready(pilot)
        await pilot.press("r")
        await wait_until(pilot, lambda: pilot.app.screen.query("#report-status"), "the report")
        await pilot.app.workers.wait_for_complete()
        await pilot.press(*["]"] * tab)
        await wait_until(
            pilot,
            lambda: str(pilot.app.screen.query_one("#report-status").render()).startswith(status),
            "the tab's status line",
        )
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.3)

    assert snap_compare(snap_env.app(), terminal_size=size, run_before=open_tab)


@pytest.mark.parametrize(("size", "systems"), [(SMALL, 2), (WIDE, 4)])
def test_annotator_sizes(snap_compare, snap_env, tmp_path, size, systems):
    from compass_tui.study import create_study, write_pack

    runs = _compared_runs(systems)
    create_study(snap_env.store, "sizes", runs, 2, ["a", "b"], seed=3)
    pack = write_pack(snap_env.store, "sizes", "a", tmp_path)

    async def score_some(pilot) -> None:
        await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "AnnotatorScreen", "the annotator")
        await pilot.press("4", "5")
        await pilot.pause(0.2)

    assert snap_compare(snap_env.app(pack=pack), terminal_size=size, run_before=score_some)


def test_annotator(snap_compare, snap_env, tmp_path):
    from compass_tui.study import create_study, write_pack

    for run_id, setting in (("profile-pilot-run", "profile"), ("empathetic-pilot-run", "empathetic")):
        asyncio.run(baseline_run(run_id, setting, situations={0, 1, 2, 3}))
    create_study(
        snap_env.store, "pilot", ["profile-pilot-run", "empathetic-pilot-run"], 4, ["a", "b"], seed=3
    )
    pack = write_pack(snap_env.store, "pilot", "a", tmp_path)

    async def score_some(pilot) -> None:
        await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "AnnotatorScreen", "the annotator")
        await pilot.press("4", "5", "4")
        await pilot.pause(0.2)

    assert snap_compare(snap_env.app(pack=pack), terminal_size=WIDE, run_before=score_some)


async def _study_triage_ready(pilot) -> None:
    from textual.widgets import DataTable

    await _library_ready(pilot)
    await pilot.press("s")
    await wait_until(pilot, lambda: pilot.app.screen.query("#study-table-gap"), "the study triage")
    table = pilot.app.screen.query_one("#study-table-gap", DataTable)
    await wait_until(pilot, lambda: table.row_count == 5, "the ranked units")
    await pilot.pause(0.2)


async def _study_item_open(pilot) -> None:
    await _study_triage_ready(pilot)
    await pilot.press("enter")
    await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "StudyItemScreen", "the study item")
    await pilot.pause(0.2)


@pytest.mark.parametrize("size", [SMALL, WIDE], ids=["80x24", "120x40"])
@pytest.mark.parametrize("screen", ["triage", "item"])
def test_study_triage(snap_compare, snap_env, screen, size):
    """The study owner's triage (blinded) and its top unit's item in the read-only stepper."""
    from triage_support import build_study

    build_study(snap_env.store, rationales=True)
    ready = _study_triage_ready if screen == "triage" else _study_item_open
    assert snap_compare(snap_env.app(), terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", [SMALL, WIDE], ids=["80x24", "120x40"])
def test_report_what_if(snap_compare, snap_env, size):
    """The report's What-if tab: a hand-scored variant and an unscored one, each its own row."""
    from test_report_what_if import build_run

    asyncio.run(build_run(snap_env.store))

    async def open_what_if(pilot) -> None:
        await _library_ready(pilot)
        await pilot.press("r")
        await wait_until(pilot, lambda: pilot.app.screen.query("#report-status"), "the report")
        await pilot.app.workers.wait_for_complete()
        await pilot.press("[")
        await wait_until(
            pilot,
            lambda: str(pilot.app.screen.query_one("#report-status").render()).startswith("2 what-if rows"),
            "the what-if rows",
        )
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.3)

    assert snap_compare(snap_env.app(), terminal_size=size, run_before=open_what_if)
