"""New from model… on the library: the dialog runs the synthesis against the stub and opens the editor."""

from __future__ import annotations

import json

import pytest
from synthesis_support import FIRST_NAMES, SynthBot
from tui_harness import focus, replace_input, wait_for_library, wait_until

from compass_tui.persona import load_persona_file
from compass_tui.synthesis import STAGES
from tools.stub_llm import text

SIZE = (120, 36)


@pytest.fixture
def synth_bot() -> SynthBot:
    """conftest's `synth_stub` serves this bot: seed 5 instead of 0."""
    return SynthBot(seed=5)


async def open_dialog(pilot):
    from compass_tui.app.screens.synthesis_dialog import SynthesisDialog

    await wait_for_library(pilot, 10)
    await pilot.press("m")
    return await wait_until(
        pilot, lambda: isinstance(pilot.app.screen, SynthesisDialog) and pilot.app.screen, "the dialog"
    )


async def test_new_from_model_saves_the_personas_and_opens_the_first_in_the_editor(
    tui, synth_stub, synth_bot
):
    from textual.widgets import Input, Select

    from compass_tui.app.screens.editor import EditorScreen

    tui.configure({"synth": "openai/synth-a"}, synth_stub, concurrency=1)
    async with tui.app().run_test(size=SIZE) as pilot:
        dialog = await open_dialog(pilot)
        assert dialog.query_one("#model", Select).value == "synth"
        await replace_input(pilot, dialog.query_one("#count", Input), "2")
        await replace_input(pilot, dialog.query_one("#seed", Input), "5")
        await focus(pilot, dialog.query_one("#start"))
        await pilot.press("enter")
        editor = await wait_until(
            pilot, lambda: isinstance(pilot.app.screen, EditorScreen) and pilot.app.screen, "the editor", 60
        )
        await wait_until(pilot, lambda: editor._opened_state is not None, "the editor's form to be filled")
        persona_id = editor.query_one("#id", Input).value
        assert editor.query_one("#demographic-firstname", Input).value == FIRST_NAMES[0]
        assert editor.document["origin"]["source"] == "synthesised"
        await pilot.press("escape")
        option_list = await wait_for_library(pilot, 12)
        ids = [option_list.get_option_at_index(i).id for i in range(option_list.option_count)]
        assert persona_id in ids

    saved = sorted((tui.data_dir / "personas").glob("*.json"))
    assert len(saved) == 2 and saved[0].stem == persona_id
    personas = [load_persona_file(path) for path in saved]
    assert [p.demographic.firstname for p in personas] == list(FIRST_NAMES[:2])
    for persona in personas:
        assert persona.origin is not None
        assert (persona.origin.source, persona.origin.model, persona.origin.seed) == (
            "synthesised",
            "synth",
            5,
        )
        assert len(persona.situations) == 15
    assert synth_bot.requests_for(FIRST_NAMES[0]) == dict.fromkeys(STAGES, 1)
    assert synth_bot.requests_for(FIRST_NAMES[1]) == dict.fromkeys(STAGES, 1)


async def test_a_persona_that_cannot_be_written_is_shown_in_the_dialog(tui, synth_stub, synth_bot):
    from textual.widgets import Button, Input

    synth_bot.fail(FIRST_NAMES[0], "demographic", *[text(json.dumps({"age": "old"}))] * 3)
    tui.configure({"synth": "openai/synth-a"}, synth_stub)
    async with tui.app().run_test(size=SIZE) as pilot:
        dialog = await open_dialog(pilot)
        await replace_input(pilot, dialog.query_one("#seed", Input), "5")
        await pilot.press("enter")  # submits from the seed input
        progress = dialog.query_one("#synthesis-progress")
        await wait_until(pilot, lambda: "1 failed" in str(progress.content), "the failure in the dialog", 60)
        assert "#1 demographic: invalid after 3 answers: age" in str(progress.content)
        assert pilot.app.screen is dialog and not dialog.query_one("#start", Button).disabled
    assert not (tui.data_dir / "personas").exists()
