"""What the user scores is on screen: in every column of the stepper and the annotator, at 80x24 with two
systems and at 120x40 with four, the response's first lines and all six score rows are visible without
scrolling; the tool call and result are summed up above the response and shown in full with `d`."""

from __future__ import annotations

import pytest
from tui_harness import (
    PERSONA,
    baseline_runs,
    generate,
    open_stepper,
    screen_text,
    wait_for_annotator,
    wait_until,
)

from compass_tui.vocab import DIMENSIONS

LAYOUTS = [((80, 24), 2), ((120, 40), 4)]
RESPONSE_LINES = 4


def assert_scored_parts_visible(screen, columns: int) -> None:
    from compass_tui.app.widgets.model_column import ModelColumn, ScorePanel

    shown = [column for column in screen.query(ModelColumn) if column.display]
    assert len(shown) == columns
    visible = screen.region
    text = screen_text(screen.app)
    for column in shown:
        response_area = column.query_one(".column-response")
        panel = column.query_one(ScorePanel)
        assert response_area.region.height >= RESPONSE_LINES, (column.id, response_area.region)
        assert response_area.scroll_y == 0
        assert visible.contains_region(response_area.region) and column.region.contains_region(panel.region)
        assert panel.region.height >= len(DIMENSIONS)
        first_words = " ".join((column.record or {}).get("response", "").split()[:2])
        assert first_words and first_words in text, (column.id, first_words)
    for dimension in DIMENSIONS:
        assert text.count(f" {dimension.short} ") >= columns, dimension.short


async def runs_for(count: int) -> list[str]:
    """`count` finished baseline runs over the first two situations."""
    return await baseline_runs(count, situations={0, 1})


@pytest.mark.parametrize(("size", "columns"), LAYOUTS)
async def test_the_stepper_shows_every_response_and_all_six_scores(tui, size, columns):
    await runs_for(columns - 1)
    async with tui.app().run_test(size=size) as pilot:
        stepper = await open_stepper(pilot, PERSONA, runs=range(columns - 1))
        await generate(pilot, "g")
        await pilot.pause(0.2)
        assert stepper.has_class("-compact") == (size[1] < 32)
        assert_scored_parts_visible(stepper, columns)


@pytest.mark.parametrize(("size", "columns"), LAYOUTS)
async def test_the_annotator_shows_every_response_and_all_six_scores(tui, tmp_path, size, columns):
    from compass_tui.study import create_study, write_pack

    runs = await runs_for(columns)
    create_study(tui.store, "layout", runs, 2, ["a", "b"], seed=3)
    pack = write_pack(tui.store, "layout", "a", tmp_path)
    async with tui.app(pack=pack).run_test(size=size) as pilot:
        screen = await wait_for_annotator(pilot, "the annotator", settle=0.2)
        assert_scored_parts_visible(screen, columns)


async def test_the_summary_names_the_tool_and_its_result_and_d_shows_them_in_full(tui):
    from compass_tui.app.screens.tool_detail import ToolDetailScreen

    async with tui.app().run_test(size=(80, 24)) as pilot:
        stepper = await open_stepper(pilot, PERSONA)
        await generate(pilot, "g")
        record = stepper.query("ModelColumn").first().record
        assert record is not None and record["tool_result"]["ok"]
        summary = screen_text(pilot.app)
        assert f"🔧 {record['tool_call']['tool_folder_name']} → ✓" in summary
        await pilot.press("d")
        detail = await wait_until(
            pilot, lambda: isinstance(pilot.app.screen, ToolDetailScreen) and pilot.app.screen, "the detail"
        )
        assert detail.record is record
        text = screen_text(pilot.app)
        assert "tool call" in text and "tool result" in text and record["tool_call"]["function_name"] in text
        await pilot.press("d")
        await wait_until(pilot, lambda: pilot.app.screen is stepper, "the stepper again")


@pytest.mark.slow
async def test_the_stepper_says_while_the_embedding_model_loads(tui):
    lines = [
        line
        for line in tui.config_path.read_text(encoding="utf-8").splitlines()
        if "embedding_model" not in line
    ]
    tui.config_path.write_text("\n".join(lines) + "\n", encoding="utf-8")  # the bundled model, for real
    async with tui.app().run_test(size=(120, 40)) as pilot:
        stepper = await open_stepper(pilot, PERSONA)
        await wait_until(pilot, lambda: stepper.tools_shown[-1:] == [""], "the model to load", 60)
        assert stepper.tools_shown[0] == "loading embeddings…"  # said in the header while it loaded
        assert not any("building" in status for status in stepper.tools_shown)  # the indexes were shipped
        assert "loading embeddings" not in screen_text(pilot.app)
        assert pilot.app.ctx.tool_environment().engine.embedder.loaded
