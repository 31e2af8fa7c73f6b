"""The study owner's triage in the TUI: the core's two rankings on screen, blinded until revealed, and
Enter opening an item read-only in the stepper, which writes nothing whatever is pressed."""

from __future__ import annotations

from pathlib import Path

import pytest
from triage_support import ANNOTATORS, MODELS, STUDY, build_study, rationale
from tui_harness import (
    column_view,
    panel_text,
    press_each,
    screen_text,
    static_text,
    wait_for_library,
    wait_until,
)

from compass_tui.study import load_study, study_disagreements

SIZE = (120, 40)
# Every key the stepper scores, commits, comments, flags, skips, generates, judges or edits with, and the
# stepper's other keys to the next and previous situation (n and p step through the triage here).
WRITING_KEYS = ["1", "2", "3", "4", "5", "0", "enter", "c", "f", "s", "g", "G", "x", "j", "w"]
WRITING_KEYS += ["pagedown", "pageup", "right_square_bracket", "left_square_bracket"]


def store_bytes(data_dir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(data_dir)): p.read_bytes() for p in sorted(data_dir.rglob("*")) if p.is_file()}


def table_rows(table) -> list[dict[str, str]]:
    labels = [str(column.label) for column in table.columns.values()]
    return [dict(zip(labels, map(str, table.get_row_at(i)), strict=True)) for i in range(table.row_count)]


async def open_triage(pilot):
    from textual.widgets import DataTable

    from compass_tui.app.screens.study_triage import StudyTriageScreen

    await wait_for_library(pilot, 10)
    await pilot.press("s")
    screen = await wait_until(
        pilot,
        lambda: isinstance(pilot.app.screen, StudyTriageScreen) and pilot.app.screen,
        "the study triage",
    )
    table = screen.query_one("#study-table-gap", DataTable)
    await wait_until(pilot, lambda: table.row_count > 0, "the ranked units")
    return screen


@pytest.fixture
def study_env(tui):
    build_study(tui.store, rationales=True)
    return tui


async def test_the_study_triage_shows_the_cores_rankings_blinded_until_revealed(study_env):
    from textual.widgets import DataTable

    expected = study_disagreements(study_env.store, STUDY)
    async with study_env.app().run_test(size=SIZE) as pilot:
        screen = await open_triage(pilot)
        gap = table_rows(screen.query_one("#study-table-gap", DataTable))
        assert [(row["item"], row["system"]) for row in gap] == [
            (e.item_id, e.system) for e in expected.by_gap
        ]
        assert [row["|h-j|"] for row in gap] == [f"{e.gap:.2f}" for e in expected.by_gap]
        count = static_text(screen.query_one("#study-count-gap"), 200)
        assert "shown 5 of 5 ranked; not ranked: 1 (1 no judge score)" in count
        assert not any(model in screen_text(pilot.app) for model in MODELS)
        await pilot.press("]")
        spread = table_rows(screen.query_one("#study-table-spread", DataTable))
        assert [(r["item"], r["system"]) for r in spread] == [
            (e.item_id, e.system) for e in expected.by_spread
        ]
        spread_count = static_text(screen.query_one("#study-count-spread"), 200)
        assert "shown 5 of 5 ranked; not ranked: 1 (1 fewer than 2 annotators)" in spread_count
        await pilot.press("d")  # the mean over six -> empathy
        empathy = study_disagreements(study_env.store, STUDY, "empathy")
        table = screen.query_one("#study-table-gap", DataTable)
        await wait_until(pilot, lambda: "human" in table_rows(table)[0], "the empathy columns")
        assert [(r["item"], r["system"]) for r in table_rows(table)] == [
            (e.item_id, e.system) for e in empathy.by_gap
        ]
        await pilot.press("f1")
        await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "HelpScreen", "the help")
        shown = pilot.app.screen.text
        for key, action in [("enter", "Open in stepper"), ("]", "Other ranking"), ("d", "Dimension")]:
            assert f"| `{key}` | {action} |" in shown or f"| `⏎` | {action} |" in shown, (key, shown)
        assert "| `v` | Reveal/blind |" in shown and "### Study triage" in shown
        await pilot.press("escape")
        await pilot.press("v")
        systems = load_study(study_env.store, STUDY).systems
        await wait_until(pilot, lambda: "(" in table_rows(table)[0]["system"], "the revealed systems")
        first = table_rows(table)[0]["system"]
        assert first == f"{empathy.by_gap[0].system} ({systems[empathy.by_gap[0].system]})"


async def test_enter_opens_the_item_read_only_and_no_key_writes(study_env):
    from compass_tui.app.screens.study_item import StudyItemScreen
    from compass_tui.app.widgets.study_scores import StudyScorePanel

    top = study_disagreements(study_env.store, STUDY).by_gap[0]  # adam-kerr#0, S2: |h-j| 3
    systems = load_study(study_env.store, STUDY).systems
    async with study_env.app().run_test(size=SIZE) as pilot:
        await open_triage(pilot)
        await pilot.press("enter")
        item = await wait_until(
            pilot, lambda: isinstance(pilot.app.screen, StudyItemScreen) and pilot.app.screen, "the item"
        )
        await pilot.pause()
        assert item.index == top.situation_index
        for position, blinded in enumerate(("S1", "S2")):
            model = systems[blinded].split("::")[1]
            view = column_view(item, position)
            assert view["title"] == blinded
            assert f"{model} answers situation {top.situation_index}." in view["response"]
            assert "neutral" in view["status"]  # the persona's preference badge for the tool
        focused = pilot.app.focused
        assert isinstance(focused, StudyScorePanel) and focused.system.blinded_id == top.system
        text = panel_text(focused)
        model = systems[top.system].split("::")[1]
        assert "Emp   4.00 n3  5 3 4" in text and "judge 1.0" in text  # alice 5, bob 3, chen 4
        assert f"why (Emp): {rationale('empathy', model, 0)}" in text
        header = static_text(item.query_one("#stepper-header"))
        assert f"annotators: {', '.join(ANNOTATORS)}" in header and "read-only" in header
        enabled = {a.binding.action for a in item.active_bindings.values() if a.enabled}
        assert not enabled & {"score(1)", "commit", "flag", "skip", "comment", "generate(False)", "judge"}
        before = store_bytes(study_env.data_dir)
        await press_each(pilot, WRITING_KEYS)
        await pilot.pause(0.2)
        assert pilot.app.screen is item and not item.query("CommentDialog")
        assert store_bytes(study_env.data_dir) == before
        assert item.run_thread is None and panel_text(focused) == text
        await pilot.press("down")
        assert f"why (Help): {rationale('helpfulness', model, 0)}" in panel_text(focused)
        await pilot.press("v")
        assert column_view(item, 1)["title"] == f"S2 · {systems['S2']}"
        last = await step_through_the_ranking(pilot, item, systems)
        await pilot.press("escape")
        triage = await wait_until(
            pilot,
            lambda: type(pilot.app.screen).__name__ == "StudyTriageScreen" and pilot.app.screen,
            "triage",
        )
        assert triage.query_one("#study-table-gap").cursor_row == last  # the row the item screen showed last
    assert store_bytes(study_env.data_dir) == before


async def step_through_the_ranking(pilot, first, systems: dict[str, str]) -> int:
    """n to the last row of the |h-j| ranking and p back one, each row read-only and revealed as `v` left
    it; n and p are hidden at the ends and do nothing there. Returns the row shown last."""
    from compass_tui.app.screens.study_item import StudyItemScreen

    ranking = study_disagreements(first.app.ctx.store, STUDY).by_gap
    assert first.check_action("triage_step", (-1,)) is False and first.check_action("triage_step", (1,))
    await pilot.press("p")  # the top row: nothing before it
    await pilot.pause(0.1)
    assert pilot.app.screen is first
    screen = first
    for row in [*range(1, len(ranking)), len(ranking) - 2]:
        before = screen
        await pilot.press("n" if row > before.cursor.position else "p")
        screen = await wait_until(
            pilot,
            lambda: (
                isinstance(pilot.app.screen, StudyItemScreen)
                and pilot.app.screen is not before
                and pilot.app.screen
            ),
            f"triage row {row + 1}",
        )
        await pilot.pause()
        entry = ranking[row]
        assert (screen.item.item_id, screen.index) == (entry.item_id, entry.situation_index)
        assert pilot.app.focused.system.blinded_id == entry.system
        header = static_text(screen.query_one("#stepper-header"))
        assert f"triage row {row + 1}/{len(ranking)}" in header and "read-only" in header
        assert column_view(screen, 0)["title"] == f"S1 · {systems['S1']}"
        await press_each(pilot, WRITING_KEYS)
        if row == len(ranking) - 1:
            assert screen.check_action("triage_step", (1,)) is False
            await pilot.press("n")
            await pilot.pause(0.1)
            assert pilot.app.screen is screen
    await pilot.press("f1")
    await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "HelpScreen", "the help")
    shown = pilot.app.screen.text
    assert "| `n` | Next row |" in shown and "| `p` | Previous row |" in shown
    await pilot.press("escape")
    return len(ranking) - 2


async def test_the_study_option_opens_the_app_on_that_study(study_env):
    from textual.widgets import Select

    from compass_tui.app.app import CompassApp
    from compass_tui.app.screens.study_triage import StudyTriageScreen
    from compass_tui.workspace import Context

    app = CompassApp(Context(), study=STUDY)
    app.CURSOR_BLINK = False
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_until(
            pilot, lambda: isinstance(pilot.app.screen, StudyTriageScreen) and pilot.app.screen, "the triage"
        )
        assert screen.query_one("#study-name", Select).value == STUDY
        await pilot.press("escape")
        await wait_for_library(pilot)


async def test_without_studies_the_triage_says_how_to_make_one(tui):
    async with tui.app().run_test(size=SIZE) as pilot:
        await wait_for_library(pilot, 10)
        await pilot.press("s")
        await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "StudyTriageScreen", "the triage")
        await pilot.pause()
        assert "no studies in" in static_text(pilot.app.screen.query_one("#study-heading"))
        enabled = {a.binding.action for a in pilot.app.screen.active_bindings.values() if a.enabled}
        assert not enabled & {"open_item", "reveal", "dimension"}


def test_every_key_of_the_two_screens_is_described_and_has_an_id():
    from compass_tui.app.screens.study_item import StudyItemScreen
    from compass_tui.app.screens.study_triage import StudyTriageScreen

    for screen in (StudyTriageScreen, StudyItemScreen):
        for binding in screen.BINDINGS:
            assert binding.description and binding.id and binding.id.startswith("study_"), binding
