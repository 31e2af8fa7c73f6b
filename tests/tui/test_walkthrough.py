"""Defects found walking the TUI at 80x24 and 120x40: each test checks what is shown and what is saved."""

from __future__ import annotations

from tui_harness import baseline_run, generate, open_stepper, screen_text

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


LONG_PERSONA, LONG_SITUATION = "meenakshi-subramanian", 3  # five lines at 80 columns
LONG_ENDING = "I think I am going to say yes."


def assert_utterance_and_scores_in_view(app) -> None:
    from compass_tui.app.widgets.model_column import ScorePanel

    text = screen_text(app)
    assert LONG_ENDING in " ".join(line.strip() for line in text.splitlines())
    for panel in app.screen.query(ScorePanel):
        assert panel.region.height >= 6 and panel.region.bottom <= SMALL[1]
    for row in ("Emp", "Help", "Pref", "Info", "Flu", "Safe"):
        assert row in text


async def test_at_80x24_the_stepper_shows_a_five_line_utterance_whole(tui):
    async with tui.app().run_test(size=SMALL) as pilot:
        stepper = await open_stepper(pilot, LONG_PERSONA)
        await pilot.press(*["n"] * LONG_SITUATION)
        await generate(pilot, "g")
        assert stepper.situation.utterance.endswith(LONG_ENDING)
        assert_utterance_and_scores_in_view(pilot.app)
        response = stepper.query_one("#column-0 .column-response")
        assert response.region.height >= 3  # the response keeps lines of its own


async def test_at_80x24_the_annotator_shows_a_five_line_utterance_whole(tui, tmp_path):
    from tui_harness import baseline_run, wait_for_annotator

    from compass_tui.study import create_study, write_pack

    await baseline_run("long", persona_ids=[LONG_PERSONA], situations={LONG_SITUATION})
    create_study(tui.store, "long", ["long"], 1, ["a"], seed=1)
    pack = write_pack(tui.store, "long", "a", tmp_path)
    async with tui.app(pack=pack).run_test(size=SMALL) as pilot:
        screen = await wait_for_annotator(pilot, settle=0.2)
        assert screen.item.situation_index == LONG_SITUATION
        assert_utterance_and_scores_in_view(pilot.app)


async def test_at_80x24_the_study_triage_shows_its_whole_note_on_merging(tui, tmp_path):
    from tui_harness import baseline_run, wait_for_library, wait_until

    from compass_tui.study import create_study

    await baseline_run("one", situations={0, 1})
    create_study(tui.store, "unmerged", ["one"], 2, ["a", "b"], seed=1)
    async with tui.app().run_test(size=SMALL) as pilot:
        await wait_for_library(pilot, 10)
        await pilot.press("s")
        heading = await wait_until(
            pilot,
            lambda: (
                type(pilot.app.screen).__name__ == "StudyTriageScreen"
                and pilot.app.screen.query_one("#study-heading")
            ),
            "the triage",
        )
        await wait_until(pilot, lambda: "note:" in str(heading.content), "the study's notes")
        await pilot.pause()
        shown = " ".join(line.strip() for line in screen_text(pilot.app).splitlines())
        assert (
            "merge their journals with `compass-tui study merge unmerged FILE.pack.scores.jsonl ...`" in shown
        )


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


async def test_at_80x24_the_keyboard_scrolls_to_the_end_of_the_help(tui):
    from tui_harness import wait_for_library

    from compass_tui.app.screens.help import GENERAL_HELP

    async with tui.app().run_test(size=SMALL) as pilot:
        await wait_for_library(pilot, 10)
        await pilot.press("f1")
        await pilot.pause(0.3)
        body, dialog = pilot.app.screen.query_one("#help-body"), pilot.app.screen.query_one(".dialog")
        assert pilot.app.focused is body
        assert body.region.bottom <= dialog.region.bottom and dialog.max_scroll_y == 0  # one scrollbar
        await pilot.press("end")
        await pilot.pause(0.3)
        shown = " ".join(line.strip("▊▎█ ") for line in screen_text(pilot.app).splitlines())
        assert GENERAL_HELP.splitlines()[-1].split()[-1] in shown  # "...the moment you change them."
        assert "Scores are saved the moment" in shown


async def test_an_empty_export_path_asks_for_a_file_and_writes_nothing(tui, tmp_path, monkeypatch):
    from textual.widgets import Input
    from tui_harness import focus, save_session_scores, static_text, wait_for_library, wait_until

    from compass_tui.app.screens.export_dialog import ExportDialog

    cwd = tmp_path / "cwd"  # the dialog's default file goes here
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    await baseline_run_one()
    save_session_scores(tui.store, "one", {0: [4, 4, 4, 4, 4, 4]})
    async with tui.app().run_test(size=SMALL) as pilot:
        await wait_for_library(pilot, 10)
        await pilot.press("r")
        await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "ReportScreen", "the report")
        await pilot.press("e")
        dialog = await wait_until(
            pilot, lambda: isinstance(pilot.app.screen, ExportDialog) and pilot.app.screen, "the export"
        )
        await focus(pilot, dialog.query_one("#export-path", Input))
        await pilot.press("end", "ctrl+u", "enter")
        await pilot.pause()
        assert pilot.app.screen is dialog
        assert static_text(dialog.query_one("#export-result")).startswith("Type the file to write")
    assert list(cwd.iterdir()) == []


async def baseline_run_one() -> None:
    from tui_harness import baseline_run

    await baseline_run("one", situations={0})


async def test_settings_that_are_bad_input_close_the_app_with_their_error(tui):
    tui.config_path.write_text('concurrency = "lots"\n', encoding="utf-8")
    app = tui.app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
    assert app.return_code == 2
    assert app.bad_settings is not None and "concurrency" in str(app.bad_settings)


async def test_at_80_columns_the_library_footer_shows_its_keys_up_to_help(tui):
    async with tui.app().run_test(size=SMALL) as pilot:
        await pilot.pause()
        footer = footer_line(pilot.app)
        assert "Step through" in footer and "Studies" in footer and "f1 Help" in footer
        assert "palette" not in footer  # at 80 columns the screen's own keys have the room
    async with tui.app().run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert "palette" in footer_line(pilot.app)


async def test_scoring_a_second_unscored_column_starts_at_empathy(tui):
    for run_id in ("a", "b"):
        await baseline_run(run_id, situations={0})
    async with tui.app().run_test(size=(120, 40)) as pilot:
        stepper = await open_stepper(pilot, untick_baseline=True, runs=[0, 1])
        await pilot.press("4", "4", "4", "4", "4", "4", "right", "3", "2")
        await pilot.pause()
        columns = stepper.session.columns
    by_system = {a.system: a.scores for a in load_annotations(tui.store, SESSION_SCOPE)}
    assert set(by_system[columns[0].system].values()) == {4}
    second = by_system[columns[1].system]
    assert (second["empathy"], second["helpfulness"], second["safety"]) == (3, 2, None)
