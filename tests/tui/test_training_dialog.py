"""The report screen's training-data export (`t`): the dialog runs the core export in a worker, writes the
file and its manifest, and shows the counts and the refusals."""

from __future__ import annotations

import json
import re

from tui_harness import (
    PERSONA,
    baseline_run,
    choose_in_select,
    notices,
    replace_input,
    screen_text,
    static_text,
    wait_until,
)

from compass_tui.annotations import Annotation, save_annotation
from compass_tui.records import system_id
from compass_tui.report import SESSION_SCOPE
from compass_tui.training import MANIFEST_SUFFIX
from compass_tui.vocab import DIMENSION_KEYS

SIZE = (120, 40)
RUN = "train-run"


async def open_dialog(pilot):
    """Library -> report (r) -> training dialog (t)."""
    from compass_tui.app.screens.report import ReportScreen
    from compass_tui.app.screens.training_dialog import TrainingExportDialog

    await pilot.press("r")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ReportScreen), "the report")
    await pilot.press("t")
    return await wait_until(
        pilot,
        lambda: isinstance(pilot.app.screen, TrainingExportDialog) and pilot.app.screen,
        "the training dialog",
    )


async def test_the_training_dialog_writes_the_chosen_interactions_and_shows_the_refusals(tui, tmp_path):
    from textual.widgets import Checkbox, Input

    from compass_tui.app.screens.report import ReportScreen
    from compass_tui.app.screens.training_dialog import TrainingExportDialog

    await baseline_run(RUN, situations={0, 1, 2})
    for situation, value in ((0, 5), (1, 2)):  # situation 3 has no human score
        scores = dict.fromkeys(DIMENSION_KEYS, value)
        annotation = Annotation(
            SESSION_SCOPE, "me", PERSONA, situation, system_id(RUN, "baseline"), scores=scores
        )
        annotation.committed = True
        save_annotation(tui.store, annotation)
    out = tmp_path / "training" / "chosen.jsonl"
    out.parent.mkdir()

    async with tui.app().run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("r")
        report = await wait_until(
            pilot, lambda: isinstance(pilot.app.screen, ReportScreen) and pilot.app.screen, "the report"
        )
        await pilot.press("t")
        dialog = await wait_until(
            pilot,
            lambda: isinstance(pilot.app.screen, TrainingExportDialog) and pilot.app.screen,
            "the training dialog",
        )
        assert dialog.runs == [RUN]
        await choose_in_select(pilot, dialog.query_one("#format"), "sharegpt")
        await choose_in_select(pilot, dialog.query_one("#source"), "human")
        await replace_input(pilot, dialog.query_one("#min-score", Input), "4")
        dialog.query_one("#require-pass", Checkbox).focus()
        await pilot.press("space")
        await replace_input(pilot, dialog.query_one("#training-path", Input), str(out))
        await pilot.press("enter")
        result = dialog.query_one("#training-result")
        await wait_until(pilot, lambda: "Wrote" in static_text(result), "the export to finish")
        shown = " ".join(static_text(result).split())
        assert f"Wrote 1 of 3 interactions to {out}; refused 2 (1 no_score, 1 below_min_score)" in shown
        assert any(notice.startswith("Wrote 1 of 3") for notice in notices(pilot.app))
        await pilot.press("escape")
        await wait_until(pilot, lambda: pilot.app.screen is report, "the dialog to close")

    [line] = out.read_text(encoding="utf-8").splitlines()
    record = json.loads(line)
    assert [turn["from"] for turn in record["conversations"]] == [
        "human",
        "function_call",
        "observation",
        "gpt",
    ]
    manifest = json.loads(out.with_name(out.name + MANIFEST_SUFFIX).read_text(encoding="utf-8"))
    assert manifest["export_format"] == "sharegpt" and manifest["runs"] == [RUN]
    assert manifest["filter"] == {
        "min_score": 4.0,
        "source": "human",
        "judge_model": None,
        "judge_prompt": None,
        "require_pass": True,
    }
    assert manifest["counts"] == {
        "considered": 3,
        "written": 1,
        "refused": 2,
        "refused_by_reason": {"no_score": 1, "below_min_score": 1},
    }


async def test_a_min_score_out_of_range_is_refused_in_the_dialog_and_nothing_is_written(tui, tmp_path):
    from textual.widgets import Input

    await baseline_run(RUN, situations={0})
    out = tmp_path / "none.jsonl"
    async with tui.app().run_test(size=SIZE) as pilot:
        dialog = await open_dialog(pilot)
        await replace_input(pilot, dialog.query_one("#min-score", Input), "7")
        await replace_input(pilot, dialog.query_one("#training-path", Input), str(out))
        await pilot.press("enter")
        await pilot.pause()
        assert "min score must be a number from 1 to 5" in static_text(dialog.query_one("#training-result"))
    assert not out.exists()


async def test_at_80x24_the_training_dialog_shows_its_title_fields_and_buttons(tui):

    for name in ("r1", "r2", "r3", "r4"):
        await baseline_run(name, situations={0})
    async with tui.app().run_test(size=(80, 24)) as pilot:
        await open_dialog(pilot)
        await pilot.pause()
        text = screen_text(pilot.app)
        assert "Export training data of 4 runs: r1, r2, r3, r4" in text
        for shown in ("format", "min score", "require pass", "write to"):
            assert shown in text, shown
        assert re.search(r"Cancel +Export", text)  # the buttons, not the footer's `esc Cancel`


async def test_at_80x24_a_result_keeps_the_title_and_buttons_in_view(tui, tmp_path):
    from textual.widgets import Input

    for name in ("r1", "r2", "r3", "r4"):
        await baseline_run(name, situations={0})
    async with tui.app().run_test(size=(80, 24)) as pilot:
        dialog = await open_dialog(pilot)
        await replace_input(pilot, dialog.query_one("#training-path", Input), str(tmp_path / "t.jsonl"))
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: "Wrote" in static_text(dialog.query_one("#training-result")), "the result"
        )
        await pilot.pause()
        text = screen_text(pilot.app)
        assert "Export training data of 4 runs" in text
        assert re.search(r"Cancel +Export", text)  # the buttons, not the footer's `esc Cancel`
        assert "Wrote" in text
