"""The stepper's what-if: edit the utterance, every session system answers it, scored as a variant."""

from __future__ import annotations

import pytest
from test_app_flows import BASELINE_SYSTEM, OWN_RUN, STUB_SYSTEM, score_column, score_keys, scores_of
from tui_harness import (
    PERSONA,
    STUB_REPLY,
    column_view,
    generate,
    notices,
    open_stepper,
    press_each,
    static_text,
    type_text,
    wait_until,
)

from compass_tui.annotations import load_annotations
from compass_tui.records import load_records, load_variant_records, run_records_path, variant_id_for
from compass_tui.report import SESSION_SCOPE

pytestmark = pytest.mark.filterwarnings(
    "ignore:Exception ignored in. <coroutine object LoggingWorker._worker_loop:pytest.PytestUnraisableExceptionWarning"
)
WHAT_IF = "What if I said I just got promoted and want music to celebrate"


async def open_what_if(pilot, stepper):
    from compass_tui.app.screens.what_if import WhatIfDialog

    await pilot.press("w")
    return await wait_until(
        pilot, lambda: isinstance(pilot.app.screen, WhatIfDialog) and pilot.app.screen, "the what-if dialog"
    )


async def what_if(pilot, stepper, text: str) -> None:
    """w, replace the utterance with `text` from the keyboard, ctrl+s, and wait for the generation."""
    from textual.widgets import TextArea

    dialog = await open_what_if(pilot, stepper)
    area = dialog.query_one(TextArea)
    assert area.text == stepper.situation.utterance and pilot.app.focused is area
    await pilot.press("f7")  # select all; typing replaces it
    await type_text(pilot, text)
    assert area.text == text
    started = stepper.generation
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: pilot.app.screen is stepper, "the stepper again")
    assert stepper.generation == started + 1, "the what-if did not start a generation"
    await wait_until(pilot, lambda: stepper.run_thread is None, "the what-if generation to finish", 60)
    await pilot.pause()


@pytest.fixture
def with_stub(tui, stub):
    tui.configure({"stub": "openai/stub-a"}, stub)
    return tui


async def test_what_if_generates_every_system_on_the_edited_words_and_scores_the_variant(with_stub, stub):
    async with with_stub.app().run_test(size=(120, 36)) as pilot:
        stepper = await open_stepper(pilot, models=["stub"])
        from compass_tui.app.screens.help import keys_here

        assert "| `w` | What if… |" in keys_here(stepper)
        assert "Original/what-if" not in keys_here(stepper)  # no variant yet: no `v`
        await generate(pilot, "g")
        original = [column_view(stepper, position) for position in (0, 1)]
        shard = with_stub.store.path(run_records_path(OWN_RUN, PERSONA))
        before = shard.read_bytes()
        original_utterance = stepper.situation.utterance

        await what_if(pilot, stepper, WHAT_IF)

        header = static_text(stepper.query_one("#stepper-header"), width=200)
        assert f"what-if: {WHAT_IF}" in header and f"original: {original_utterance[:50]}" in header
        assert "what-if 1/1 (v: next)" in header
        assert "| `v` | Original/what-if |" in keys_here(stepper)
        baseline, model = column_view(stepper, 0), column_view(stepper, 1)
        assert baseline["title"] == "baseline · what-if: What if I said…"
        assert model["title"] == "stub · what-if: What if I said…"
        assert "done" in baseline["status"] and "done" in model["status"]
        assert baseline["response"] != original[0]["response"]  # the baseline read the new words
        assert " ".join(STUB_REPLY.split()[:6]) in " ".join(model["response"].split())
        asked = [body for body in stub.requests if WHAT_IF in str(body["messages"])]
        assert len(asked) == 2  # the stub's tool choice and its reply were on the edited words
        assert "not scored" not in baseline["scores"] and "●" not in baseline["scores"]

        await score_column(pilot, score_keys(0, 0))
        assert "committed" in column_view(stepper, 0)["scores"]

        await pilot.press("v")  # back to the original: its columns, its (empty) scores
        header = static_text(stepper.query_one("#stepper-header"), width=200)
        assert "original (1 what-if: v)" in header and "what-if:" not in header.split("\n", 1)[1]
        assert [column_view(stepper, p)["title"] for p in (0, 1)] == ["baseline", "stub"]
        assert column_view(stepper, 0)["response"] == original[0]["response"]
        assert "committed" not in column_view(stepper, 0)["scores"]
        await pilot.press("v")
        assert "committed" in column_view(stepper, 0)["scores"]

    assert shard.read_bytes() == before
    vid = variant_id_for(WHAT_IF)
    records = load_variant_records(with_stub.store, OWN_RUN)
    assert [(r["model"], r["situation_index"], r["status"], r["variant"]["id"]) for r in records] == [
        ("baseline", 0, "done", vid),
        ("stub", 0, "done", vid),
    ]
    assert records[0]["variant"] == {"id": vid, "text": WHAT_IF, "original_utterance": original_utterance}
    assert {r["model"] for r in load_records(with_stub.store, OWN_RUN)} == {"baseline", "stub"}
    [annotation] = load_annotations(with_stub.store, SESSION_SCOPE)
    assert annotation.key == f"{PERSONA}#0~{vid}|{BASELINE_SYSTEM}"
    assert (annotation.variant, annotation.system, annotation.situation_index) == (vid, BASELINE_SYSTEM, 0)
    assert annotation.committed and annotation.scores == scores_of(score_keys(0, 0))
    assert STUB_SYSTEM not in {a.system for a in load_annotations(with_stub.store, SESSION_SCOPE)}


async def test_an_empty_what_if_is_refused_and_escape_changes_nothing(tui):
    async with tui.app().run_test(size=(80, 24)) as pilot:
        stepper = await open_stepper(pilot)
        assert stepper.check_action("what_if", ()) is True
        await open_what_if(pilot, stepper)
        await pilot.press("escape")
        await wait_until(pilot, lambda: pilot.app.screen is stepper, "the stepper again")
        await open_what_if(pilot, stepper)
        await press_each(pilot, ["f7", "backspace", "ctrl+s"])
        await wait_until(pilot, lambda: pilot.app.screen is stepper, "the stepper again")
        assert stepper.run_thread is None and not stepper.variants
        assert any("the what-if text of situation 1 is empty" in line for line in notices(pilot.app))
    assert not tui.store.path(f"runs/{OWN_RUN}/variants").exists()


async def test_what_if_at_80x24_keeps_the_scores_on_screen(tui):
    from compass_tui.app.widgets.model_column import ScorePanel

    async with tui.app().run_test(size=(80, 24)) as pilot:
        stepper = await open_stepper(pilot)
        await what_if(pilot, stepper, "I won a prize today")
        header = static_text(stepper.query_one("#stepper-header"), width=78)
        assert "what-if: I won a prize today" in header
        panel = stepper.query_one(ScorePanel)
        assert panel.region.height > 0 and panel.region.bottom <= 24
        assert column_view(stepper, 0)["title"] == "baseline · what-if: I won a prize…"
