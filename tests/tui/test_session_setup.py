"""Session setup: ticks shown as check marks, a hint when no LLM is ticked, and the last choice remembered."""

from __future__ import annotations

import re

from tui_harness import PERSONA, baseline_run, choose_persona, open_stepper, screen_text, wait_until


async def _open_setup(pilot):
    from compass_tui.app.screens.session_setup import SessionSetupScreen

    await choose_persona(pilot, PERSONA)
    await pilot.press("enter")
    return await wait_until(
        pilot, lambda: isinstance(pilot.app.screen, SessionSetupScreen) and pilot.app.screen, "the setup"
    )


async def test_ticks_are_check_marks_and_an_unticked_llm_gets_a_hint(tui, stub):
    tui.configure({"gpt": "openai/stub-a"}, stub)
    async with tui.app().run_test(size=(100, 32)) as pilot:
        setup = await _open_setup(pilot)
        text = screen_text(pilot.app)
        assert "▐✓▌ baseline" in text and "▐ ▌ gpt" in text and "▐ ▌ Blind mode" in text
        assert "No LLM ticked: only the offline baseline runs. Configured: gpt." in text
        await pilot.press("tab", "down", "space")
        await pilot.pause()
        text = screen_text(pilot.app)
        assert "▐✓▌ gpt" in text and "No LLM ticked" not in text
        assert set(setup.query_one("#models").selected) == {"baseline", "gpt"}


async def test_the_last_setup_of_a_persona_is_offered_again(tui):
    await baseline_run("earlier", "empathetic", situations={0})
    async with tui.app().run_test(size=(100, 32)) as pilot:
        stepper = await open_stepper(pilot, PERSONA, runs=[0], blind=True, seed=42)
        assert [column.run_id for column in stepper.session.columns][1:] == ["earlier"]
        await pilot.press("escape")
        await wait_until(pilot, lambda: pilot.app.screen is not stepper, "the library")
        await pilot.press("escape")
        setup = await _open_setup(pilot)
        assert list(setup.query_one("#runs").selected) == ["earlier"]
        assert list(setup.query_one("#models").selected) == ["baseline"]
        assert setup.query_one("#blind").value is True and setup.query_one("#seed").value == "42"


async def test_at_80x24_with_runs_to_compare_the_title_and_buttons_stay_in_view(tui):
    for name in ("r1", "r2", "r3"):
        await baseline_run(name, "empathetic", situations={0})
    async with tui.app().run_test(size=(80, 24)) as pilot:
        setup = await _open_setup(pilot)
        await pilot.pause()
        text = screen_text(pilot.app)
        assert "Step through" in text and re.search(r"Cancel +Start", text)  # the buttons, not the footer
        assert "^s Start" in text and "Filter" not in text  # the dialog's keys, not the library's
        for _ in range(4):  # tab down to the seed, the last field: the body scrolls, the frame does not
            await pilot.press("tab")
        await pilot.pause()
        assert pilot.app.focused is setup.query_one("#seed")
        text = screen_text(pilot.app)
        assert "Step through" in text and re.search(r"Cancel +Start", text) and "seed" in text


async def test_a_run_of_another_setting_is_named_with_its_setting(tui):
    await baseline_run("h1", "history", situations={0})
    await baseline_run("p1", "profile", situations={0})
    async with tui.app().run_test(size=(120, 40)) as pilot:
        stepper = await open_stepper(pilot, PERSONA, runs=[0, 1])
        assert [column.setting for column in stepper.session.columns] == ["", "history", "profile"]
        await pilot.pause()
        text = screen_text(pilot.app)
        assert "baseline · h1 · history" in text  # the session is profile: the other setting is said
        assert "baseline · p1 ·" not in text  # the same setting needs no word
