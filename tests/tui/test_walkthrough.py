"""Defects found walking the TUI at 80x24 and 120x40: each test checks what is shown and what is saved."""

from __future__ import annotations

from tui_harness import generate, open_stepper, screen_text

from compass_tui.annotations import load_annotations
from compass_tui.report import SESSION_SCOPE

SMALL = (80, 24)


def footer_line(app) -> str:
    return screen_text(app).rstrip().splitlines()[-1]


async def test_no_score_comment_flag_or_details_before_there_is_a_response(tui):
    async with tui.app().run_test(size=SMALL) as pilot:
        stepper = await open_stepper(pilot)
        footer = footer_line(pilot.app)
        assert "No response yet" in screen_text(pilot.app)
        for key in ("Score", "Flag", "Comment", "Skip", "Details"):
            assert key not in footer
        assert "g Generate" in footer  # the keys that do apply now fit at 80 columns
        await pilot.press("4", "f", "s", "c", "d")
        await pilot.pause()
        assert pilot.app.screen is stepper  # neither the comment dialog nor the tool detail opened
        assert load_annotations(tui.store, SESSION_SCOPE) == []  # nothing saved for a missing response

        await generate(pilot, "g")
        assert "1-5 Score" in footer_line(pilot.app)
        await pilot.press("4", "f")
        await pilot.pause()
    [saved] = load_annotations(tui.store, SESSION_SCOPE)
    assert saved.scores["empathy"] == 4 and saved.flag


async def test_a_what_if_variant_never_shows_the_originals_saved_mark(tui):
    from test_what_if import what_if
    from tui_harness import panel_text

    from compass_tui.app.widgets.model_column import ScorePanel

    async with tui.app().run_test(size=SMALL) as pilot:
        stepper = await open_stepper(pilot)
        await generate(pilot, "g")
        await pilot.press("4")
        panel = stepper.query_one(ScorePanel)
        assert "saved ✓" in panel_text(panel)
        await what_if(pilot, stepper, "I won a prize today")
        assert stepper.variant is not None
        assert "saved ✓" not in panel_text(panel)  # nothing of the variant is saved yet
        await pilot.press("3")
        assert "saved ✓" in panel_text(panel)
        await pilot.press("v")  # back to the original: its own mark again
        assert stepper.variant is None and "saved ✓" in panel_text(panel)
    saved = {a.variant: a.scores for a in load_annotations(tui.store, SESSION_SCOPE)}
    assert saved.pop(None)["empathy"] == 4
    [variant_scores] = saved.values()  # the cursor stayed on the second dimension
    assert variant_scores["helpfulness"] == 3 and variant_scores["empathy"] is None
