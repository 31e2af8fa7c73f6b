"""The TUI driven through Pilot: what each flow shows on screen and what it leaves in the store.

Every app runs on a tmp data dir and config (tests/tui_harness.py), with the offline baseline and, where a
second system or a judge is needed, stub models served over loopback HTTP by StubLLM through real litellm.
"""

from __future__ import annotations

import json
import re
import signal
import time
from pathlib import Path

import pytest
from tui_harness import (
    JUDGE_SCORES,
    PERSONA,
    STUB_REPLY,
    Companion,
    baseline_run,  # noqa: F401 (fixtures)
    choose_in_select,
    column_view,
    focus,
    generate,
    notices,
    open_stepper,
    panel_text,
    press_each,
    replace_input,
    save_session_scores,
    screen_text,
    static_text,
    toggle_in_list,
    type_text,
    wait_for_annotator,
    wait_for_library,
    wait_until,
)

from compass_tui.annotations import Annotation, load_annotation, load_annotations, save_annotation
from compass_tui.library import PersonaLibrary
from compass_tui.persona import load_persona_file, persona_to_dict
from compass_tui.records import JUDGEMENTS_TABLE, judgement_path, load_records, system_id
from compass_tui.report import SESSION_SCOPE
from compass_tui.vocab import DIMENSION_KEYS, DIMENSIONS, SCENARIO_BY_KEY, TOOL_BY_FOLDER
from tools.stub_llm import StubLLM

# RunThread closes its event loop with litellm's logging worker still pending (see the report on
# compass_tui/runner.py); the warning is about that loop, not about anything these tests check.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Exception ignored in. <coroutine object LoggingWorker._worker_loop:pytest.PytestUnraisableExceptionWarning"
)
SIZE = (120, 36)
BUNDLED = [
    "adam-kerr",
    "anais-marie-sainte",
    "angelica-villanueva",
    "haruko-okumura",
    "mahmoud-abdel-fattah",
    "mark-hoffmeyer",
    "meenakshi-subramanian",
    "min-jun-kang",
    "renata-morales-ibarra",
    "zbigniew-kowalczyk",
]
OWN_RUN = f"tui-profile-{PERSONA}"
BASELINE_SYSTEM = system_id(OWN_RUN, "baseline")
STUB_SYSTEM = system_id(OWN_RUN, "stub")


def list_ids(option_list) -> list[str]:
    return [option_list.get_option_at_index(i).id for i in range(option_list.option_count)]


def list_labels(option_list) -> list[str]:
    return [str(option_list.get_option_at_index(i).prompt) for i in range(option_list.option_count)]


def bundled_persona(persona_id: str = PERSONA):
    return PersonaLibrary(Path("/nonexistent")).get(persona_id)


def score_keys(situation: int, position: int) -> list[str]:
    """Distinct scores per item and column, so a score saved on the wrong item or system shows."""
    return [str((situation * 2 + position + dimension) % 5 + 1) for dimension in range(len(DIMENSION_KEYS))]


def scores_of(keys: list[str]) -> dict[str, int]:
    return dict(zip(DIMENSION_KEYS, (int(key) for key in keys)))


# ================================================================================================= library


async def test_library_lists_the_bundled_personas_filters_and_shows_preference_badges(tui):
    async with tui.app().run_test(size=SIZE) as pilot:
        option_list = await wait_for_library(pilot, 10)
        screen = pilot.app.screen
        assert list_ids(option_list) == BUNDLED
        assert static_text(screen.query_one("#library-status")).startswith(
            "10 personas · 10 bundled · 0 imported · 0 authored"
        )

        await pilot.press("slash", *"haru")
        assert pilot.app.focused.id == "persona-filter" and pilot.app.focused.cursor_blink is False
        await wait_until(pilot, lambda: option_list.option_count == 1, "the filter to narrow the list")
        assert list_ids(option_list) == ["haruko-okumura"]

        detail = static_text(screen.query_one("#persona-detail-body"), width=200)
        haruko = bundled_persona("haruko-okumura")
        assert detail.startswith("Haruko Okumura  ·  82")
        badges = detail[detail.index("\nTool preferences\n") :].splitlines()
        for key, preference in haruko.tool_preferences.items():
            line = next(line for line in badges if line.startswith(SCENARIO_BY_KEY[key].label))
            for tool in preference.liked:
                assert f"♥ {TOOL_BY_FOLDER[tool].label}" in line
            for tool in preference.disliked:
                assert f"✗ {TOOL_BY_FOLDER[tool].label}" in line
            assert line.count("♥") == len(preference.liked) and line.count("✗") == len(preference.disliked)

        await pilot.press("escape")  # clears the filter and goes back to the list
        await wait_until(pilot, lambda: option_list.option_count == 10, "the whole list again")
        assert pilot.app.focused is option_list
    assert not (tui.data_dir / "personas").exists()  # browsing writes nothing


async def test_control_characters_in_a_persona_are_shown_escaped_never_sent(tui):
    hostile = persona_to_dict(bundled_persona()) | {"id": "hostile", "name": "Adam\x1b[2J"}
    hostile["demographic"]["firstname"] = "Adam\x1b[2J\x1b]0;pwned\x07"
    hostile["personality_description"] = "Calm\x1b[31m, \x9bred"
    hostile["situations"][0]["utterance"] = "Help\x1b[8m hidden"
    (tui.data_dir / "personas").mkdir()
    (tui.data_dir / "personas" / "hostile.json").write_text(json.dumps(hostile), encoding="utf-8")
    async with tui.app().run_test(size=SIZE) as pilot:
        option_list = await wait_for_library(pilot, 11)
        await pilot.press("slash", *"pwned", "enter")
        await wait_until(pilot, lambda: list_ids(option_list) == ["hostile"], "the filter to find it")
        detail = static_text(pilot.app.screen.query_one("#persona-detail-body"), width=200)
        shown = screen_text(pilot.app) + detail
        assert "Adam\\x1b[2J\\x1b]0;pwned\\x07 Kerr" in screen_text(pilot.app)
        assert "Calm\\x1b[31m, \\x9bred" in shown and "Help\\x1b[8m hidden" in shown
        for raw in ("\x07", "\x9b", "\x1b[2J", "\x1b]0;", "\x1b[8m", "\x1b[31m"):
            assert raw not in shown, repr(raw)


async def test_library_loads_the_100_imported_compass_personas(tui, shared_test_set):
    result = PersonaLibrary(tui.data_dir).import_compass(shared_test_set)
    assert len(result.added) == 100
    async with tui.app().run_test(size=SIZE) as pilot:
        option_list = await wait_for_library(pilot, 110)
        screen = pilot.app.screen
        assert static_text(screen.query_one("#library-status")).startswith(
            "110 personas · 10 bundled · 100 imported · 0 authored"
        )
        assert list_ids(option_list)[:10] == BUNDLED
        assert sorted(list_ids(option_list)[10:]) == sorted(result.added)
        first_imported = result.added[0]
        await pilot.press("slash", *first_imported, "enter")
        await wait_until(pilot, lambda: screen.selected_id == first_imported, "the imported persona")
        assert "·cb" in list_labels(option_list)[0]
        persona = PersonaLibrary(tui.data_dir).get(first_imported)
        assert persona.display_name in static_text(screen.query_one("#persona-detail-body"), width=200)


def write_invalid_persona(data_dir: Path) -> Path:
    """Adam Kerr saved as `broken-one` with an age of 200 and an empty utterance in situation 3."""
    document = persona_to_dict(bundled_persona())
    document["id"] = "broken-one"
    document["demographic"]["age"] = 200
    document["situations"][2]["utterance"] = "   "
    path = data_dir / "personas" / "broken-one.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


@pytest.mark.slow
async def test_an_invalid_persona_is_listed_with_its_error_and_opens_marked_in_the_editor(tui):
    from textual.widgets import Input, TextArea

    from compass_tui.app.screens.editor import EditorScreen

    path = write_invalid_persona(tui.data_dir)
    original = path.read_bytes()
    async with tui.app().run_test(size=SIZE) as pilot:
        option_list = await wait_for_library(pilot, 11)
        library = pilot.app.screen
        assert static_text(library.query_one("#library-status")).startswith(
            "11 personas · 10 bundled · 0 imported · 1 authored · 1 need fixing"
        )
        assert "⚠ broken-one  cannot load" in list_labels(option_list)
        await pilot.press("slash", *"broken", "enter")
        await wait_until(pilot, lambda: library.selected_id == "broken-one", "the broken persona")
        detail = static_text(library.query_one("#persona-detail-body"), width=200)
        assert "broken-one.json cannot be loaded" in detail
        assert "demographic.age" in detail  # the first problem, named by field
        assert not library.check_action("open_stepper", ())  # it cannot be stepped through

        await pilot.press("e")
        editor = await wait_until(
            pilot, lambda: isinstance(pilot.app.screen, EditorScreen) and pilot.app.screen, "the editor"
        )
        await pilot.pause()
        age = editor.query_one("#demographic-age", Input)
        utterance = editor.query_one("#situations-2-utterance", TextArea)
        assert age.has_class("-invalid") and utterance.has_class("-invalid")
        assert {w.id for w in editor.query(".-invalid")} == {"demographic-age", "situations-2-utterance"}
        errors = static_text(editor.query_one("#editor-errors"), width=200)
        assert "✗ demographic.age: Input should be less than or equal to 130" in errors
        assert "✗ situations[2].utterance: utterance is empty" in errors
        # situations are folded to one line each, but the first and the one with a problem are open
        folded = {index for index in range(15) if editor.query_one(f"#situation-{index}").collapsed}
        assert folded == set(range(15)) - {0, 2}
        heights = [editor.query_one(f"#situation-{index}").outer_size.height for index in range(15)]
        assert editor.query_one("#situations").outer_size.height == sum(heights) >= 3 * 15  # all on show
        assert editor.query_one("#situation-2").title.startswith("#3  ")
        assert editor.query_one("#situation-2").title.endswith("nothing said yet")

        await pilot.press("ctrl+s")  # still invalid: nothing is written
        assert pilot.app.screen is editor and path.read_bytes() == original

        await replace_input(pilot, age, "38")
        await focus(pilot, utterance)
        await pilot.press("ctrl+a")  # to the start of the (blank) line
        await type_text(pilot, "I can't manage the stairs.")
        await wait_until(
            pilot,
            lambda: editor.query_one("#situation-2").title.endswith("I can't manage the stairs."),
            "the summary to follow the utterance",
        )
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: pilot.app.screen is library, "the editor to close after saving")
        await wait_until(
            pilot, lambda: "⚠ broken-one  cannot load" not in list_labels(option_list), "the relisting"
        )
        assert pilot.app.is_running
    fixed = load_persona_file(path)
    assert (
        fixed.demographic.age == 38 and fixed.situations[2].utterance.strip() == "I can't manage the stairs."
    )
    assert [s.utterance for i, s in enumerate(fixed.situations) if i != 2] == [
        s.utterance for i, s in enumerate(bundled_persona().situations) if i != 2
    ]


async def test_a_persona_file_with_broken_json_opens_in_the_raw_editor(tui):
    from textual.widgets import TextArea

    from compass_tui.app.screens.editor import EditorScreen

    path = tui.data_dir / "personas" / "half-written.json"
    path.parent.mkdir(parents=True)
    broken = '{"format": "compass-tui/persona@1", "id": "half-written", "name": '
    path.write_text(broken, encoding="utf-8")
    async with tui.app().run_test(size=SIZE) as pilot:
        await wait_for_library(pilot, 11)
        await pilot.press("slash", *"half", "enter", "e")
        editor = await wait_until(
            pilot, lambda: isinstance(pilot.app.screen, EditorScreen) and pilot.app.screen, "the editor"
        )
        raw = editor.query_one("#raw-json", TextArea)
        assert raw.text == broken
        assert not editor.query("#demographic-age")  # no form for a file that is not JSON
        assert "is not valid JSON" in screen_text(pilot.app)
        await pilot.press("ctrl+s")
        assert pilot.app.screen is editor and path.read_text(encoding="utf-8") == broken
        assert "✗ raw-json: invalid JSON at line 1" in static_text(
            editor.query_one("#editor-errors"), width=200
        )
        assert raw.has_class("-invalid")

        document = persona_to_dict(bundled_persona())
        document["id"] = "half-written"
        raw.load_text(json.dumps(document))
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not isinstance(pilot.app.screen, EditorScreen), "the editor to close")
    assert load_persona_file(path).id == "half-written"


# ================================================================================================= editor


@pytest.mark.slow
async def test_a_folded_situation_gets_its_fields_when_opened_and_the_others_save_as_loaded(tui):
    from textual.widgets import TextArea
    from textual.widgets._collapsible import CollapsibleTitle

    from compass_tui.app.screens.editor import EditorScreen

    original = persona_to_dict(bundled_persona())
    original["id"] = "my-copy"
    for index, situation in enumerate(original["situations"]):
        situation["scenario_type_source"] = "inferred" if index % 2 else "author"
    path = tui.data_dir / "personas" / "my-copy.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(original), encoding="utf-8")
    async with tui.app().run_test(size=SIZE) as pilot:
        library = pilot.app.screen
        await wait_for_library(pilot, 11)
        await pilot.press("slash", *"my-copy", "enter")
        await wait_until(pilot, lambda: library.selected_id == "my-copy", "the copy")
        await pilot.press("e")
        editor = await wait_until(
            pilot, lambda: isinstance(pilot.app.screen, EditorScreen) and pilot.app.screen, "the editor"
        )
        await pilot.pause()
        assert editor.query("#situations-0-utterance") and not editor.query("#situations-5-utterance")
        await focus(pilot, editor.query_one("#situation-5").query_one(CollapsibleTitle))
        await pilot.press("enter")
        utterance = await wait_until(
            pilot, lambda: editor.query("#situations-5-utterance").results(TextArea), "situation 6's fields"
        )
        utterance = next(iter(utterance))
        assert utterance.text == original["situations"][5]["utterance"]
        await focus(pilot, utterance)
        await pilot.press("ctrl+a", *"Still. ")  # ctrl+a: to the start of the line
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: pilot.app.screen is library, "the editor to close after saving")
    saved = persona_to_dict(load_persona_file(path))
    expected = original["situations"]
    expected[5]["utterance"] = "Still. " + expected[5]["utterance"]
    assert saved["situations"] == expected


async def open_new_persona_form(pilot):
    from compass_tui.app.screens.editor import EditorScreen

    await wait_for_library(pilot, 10)
    await pilot.press("n")
    editor = await wait_until(
        pilot, lambda: isinstance(pilot.app.screen, EditorScreen) and pilot.app.screen, "the editor"
    )
    await pilot.pause()
    return editor


async def test_closing_the_editor_with_unsaved_changes_asks_first(tui):
    from textual.widgets import Input

    async with tui.app().run_test(size=SIZE, notifications=True) as pilot:
        library = pilot.app.screen
        editor = await open_new_persona_form(pilot)
        await pilot.press("escape")  # nothing changed: it closes at once
        await wait_until(pilot, lambda: pilot.app.screen is library, "the untouched editor to close")

        editor = await open_new_persona_form(pilot)
        await replace_input(pilot, editor.query_one("#demographic-firstname", Input), "Noor")
        await pilot.press("escape")
        await wait_until(
            pilot, lambda: "Unsaved changes" in screen_text(pilot.app), "the unsaved-changes warning"
        )
        assert pilot.app.screen is editor
        await replace_input(pilot, editor.query_one("#demographic-lastname", Input), "Haddad")
        await pilot.press("escape")  # changed again since the warning: it warns again
        await pilot.pause()
        assert pilot.app.screen is editor
        await pilot.press("escape")
        await wait_until(pilot, lambda: pilot.app.screen is library, "the second esc to close it")
    assert not (tui.data_dir / "personas").exists()


async def fill_situation(
    pilot, editor, index: int, scenario_label: str, emotion: str, scenario: str, utterance: str
) -> None:
    from textual.widgets import Select, TextArea

    await choose_in_select(
        pilot, editor.query_one(f"#situations-{index}-scenario_type", Select), scenario_label
    )
    await choose_in_select(pilot, editor.query_one(f"#situations-{index}-emotion", Select), emotion)
    await focus(pilot, editor.query_one(f"#situations-{index}-scenario", TextArea))
    await type_text(pilot, scenario)
    await focus(pilot, editor.query_one(f"#situations-{index}-utterance", TextArea))
    await type_text(pilot, utterance)


async def press_button(pilot, editor, button_id: str) -> None:
    await focus(pilot, editor.query_one(f"#{button_id}"))
    await pilot.press("enter")
    await pilot.pause()


@pytest.mark.slow
async def test_a_new_persona_is_written_through_the_form(tui):
    from textual.widgets import Input, SelectionList

    async with tui.app().run_test(size=SIZE) as pilot:
        editor = await open_new_persona_form(pilot)
        await replace_input(pilot, editor.query_one("#id", Input), "lena-park")
        for field, value in (
            ("age", "41"),
            ("gender", "female"),
            ("firstname", "Lena"),
            ("lastname", "Park"),
            ("career", "Night nurse"),
        ):
            await replace_input(pilot, editor.query_one(f"#demographic-{field}", Input), value)
        await fill_situation(pilot, editor, 0, "Health", "afraid", "Scan late.", "No call.")
        await pilot.press("ctrl+n")  # add a second situation
        await wait_until(pilot, lambda: editor.query("#situations-1-utterance"), "a second situation")
        await fill_situation(pilot, editor, 1, "Leisure", "hopeful", "Trip.", "Off!")
        await press_button(pilot, editor, "add-situation")
        await wait_until(pilot, lambda: editor.query("#situations-2-utterance"), "a third situation")
        await fill_situation(pilot, editor, 2, "Family", "grateful", "Sister.", "Soup.")
        await press_button(pilot, editor, "up-2")  # third becomes second
        await wait_until(
            pilot,
            lambda: editor.query_one("#situations-1-utterance").text == "Soup.",
            "the third situation to move up",
        )
        await press_button(pilot, editor, "remove-0")
        await wait_until(pilot, lambda: len(editor.query(".situation")) == 2, "the first situation to go")
        await toggle_in_list(
            pilot, editor.query_one("#tool_preferences-health-liked", SelectionList), "music_recommendation"
        )
        await toggle_in_list(
            pilot, editor.query_one("#tool_preferences-health-liked", SelectionList), "strength_card"
        )
        await toggle_in_list(
            pilot, editor.query_one("#tool_preferences-health-disliked", SelectionList), "role_play"
        )
        assert not editor.query(".-invalid")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: pilot.app.screen is not editor, "the editor to close")
        option_list = await wait_for_library(pilot, 11)
        assert "lena-park" in list_ids(option_list)
        assert any(label.startswith("  Lena Park 41 ·you") for label in list_labels(option_list))

    saved = load_persona_file(tui.data_dir / "personas" / "lena-park.json")
    assert (
        saved.name,
        saved.display_name,
        saved.demographic.age,
        saved.demographic.gender,
        saved.demographic.career,
    ) == ("Lena", "Lena Park", 41, "female", "Night nurse")
    assert [(s.scenario_type, s.emotion, s.scenario, s.utterance) for s in saved.situations] == [
        ("family", "grateful", "Sister.", "Soup."),
        ("leisure", "hopeful", "Trip.", "Off!"),
    ]
    health = saved.tool_preferences.health
    assert (health.liked, health.disliked, health.confirmed) == (
        ["music_recommendation", "strength_card"],
        ["role_play"],
        True,
    )
    assert saved.tool_preferences.family.liked == [] and saved.tool_preferences.family.confirmed is False


async def test_moving_and_removing_situations_survives_a_repaint_during_the_removal(tui, monkeypatch):
    """Textual 8.2 crashes painting a TextArea it has removed (KeyError 'text-area--gutter'). That
    happens when the screen's update timer fires while a removal is under way, which a loaded machine
    makes likely; here the timer's work runs at exactly that moment."""
    from textual.widgets import Collapsible, TextArea

    painted_after_removal = []
    render_lines = TextArea.render_lines

    def watched_render_lines(self, crop):
        if not self.is_attached:
            painted_after_removal.append(self.id)
        return render_lines(self, crop)

    def repaint_now(self) -> None:
        self.screen.refresh()
        self.screen._on_timer_update()

    async with tui.app().run_test(size=SIZE) as pilot:
        editor = await open_new_persona_form(pilot)
        await press_button(pilot, editor, "add-situation")
        await wait_until(pilot, lambda: len(editor.query(".situation TextArea")) == 4, "a second situation")
        monkeypatch.setattr(Collapsible, "on_unmount", repaint_now, raising=False)
        monkeypatch.setattr(TextArea, "render_lines", watched_render_lines)
        for button, text_areas in (("down-0", 4), ("remove-0", 2)):
            await press_button(pilot, editor, button)
            await wait_until(
                pilot, lambda: len(editor.query(".situation TextArea")) == text_areas, f"{button} to apply"
            )
        assert painted_after_removal == []


async def test_an_empty_utterance_is_marked_inline_and_nothing_is_written(tui):
    from textual.widgets import Input

    async with tui.app().run_test(size=SIZE, notifications=True) as pilot:
        editor = await open_new_persona_form(pilot)
        await replace_input(pilot, editor.query_one("#id", Input), "no-words")
        await replace_input(pilot, editor.query_one("#demographic-firstname", Input), "Noor")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert pilot.app.screen is editor
        assert [w.id for w in editor.query(".-invalid")] == ["situations-0-utterance"]
        errors = static_text(editor.query_one("#editor-errors"), width=200).strip().splitlines()
        assert len(errors) == 1 and errors[0].startswith("✗ situations[0].utterance: ")
        await wait_until(
            pilot,
            lambda: "Not saved: fix the fields marked in red." in screen_text(pilot.app),
            "the not-saved notification",
        )
    assert not (tui.data_dir / "personas").exists()


# ================================================================================================= stepper


@pytest.fixture
def with_stub_model(tui, stub):
    """The tmp config gains `stub` (openai/stub-a on the StubLLM), also the judge."""
    tui.configure({"stub": "openai/stub-a"}, stub, judge="stub")
    return tui


async def score_column(pilot, keys: list[str]) -> None:
    """Six scores into the focused ScorePanel (it must be at the first dimension), then commit."""
    panel = pilot.app.focused
    assert panel.cursor == 0, "scoring starts at the first dimension"
    await press_each(pilot, keys)
    assert panel.annotation.complete and not panel.annotation.committed
    await pilot.press("enter")
    assert panel.annotation.committed


@pytest.mark.slow
async def test_keyboard_only_scoring_of_three_situations_and_two_systems(with_stub_model):
    from compass_tui.app.widgets.model_column import ScorePanel

    persona = bundled_persona()
    async with with_stub_model.app().run_test(size=SIZE) as pilot:
        stepper = await open_stepper(pilot, models=["stub"])
        assert [column.system for column in stepper.session.columns] == [BASELINE_SYSTEM, STUB_SYSTEM]
        panels = list(stepper.query(ScorePanel))
        for situation in range(3):
            header = static_text(stepper.query_one("#stepper-header"), width=200)
            assert (
                f"situation {situation + 1}/15" in header
                and persona.situations[situation].utterance[:60] in header
            )
            await generate(pilot, "g")
            baseline, model = column_view(stepper, 0), column_view(stepper, 1)
            assert (baseline["title"], model["title"]) == ("baseline", "stub")
            if situation == 0:  # health: Adam likes medical appointments; strength cards are neutral there
                assert "medical_appointment" in baseline["call"] and "appointment" in baseline["result"]
                assert "♥ liked" in baseline["status"] and "done" in baseline["status"]
                assert "strength_card.strengthcard" in model["call"] and "· neutral" in model["status"]
            assert baseline["response"].strip().splitlines()[1:] and "✗" not in baseline["response"]
            assert " ".join(STUB_REPLY.split()[:6]) in " ".join(model["response"].split())

            assert pilot.app.focused is panels[0]  # at the first dimension, as every unscored item starts
            await score_column(pilot, score_keys(situation, 0))
            await pilot.press("right")  # an unscored column: the cursor starts at the first dimension
            assert pilot.app.focused is panels[1]
            await score_column(pilot, score_keys(situation, 1))
            for panel in panels:
                assert "committed" in panel_text(panel) and "saved ✓" in panel_text(panel)
            if situation < 2:
                await pilot.press("n")
                await pilot.press("left")
        assert stepper.index == 2

    annotations = load_annotations(with_stub_model.store, SESSION_SCOPE)
    assert sorted((a.situation_index, a.system) for a in annotations) == [
        (situation, system) for situation in range(3) for system in (BASELINE_SYSTEM, STUB_SYSTEM)
    ]
    assert sum(value is not None for a in annotations for value in a.scores.values()) == 36
    for annotation in annotations:
        position = 0 if annotation.system == BASELINE_SYSTEM else 1
        assert annotation.scores == scores_of(score_keys(annotation.situation_index, position))
        assert (annotation.position, annotation.committed, annotation.annotator) == (position, True, "me")
        assert (annotation.persona_id, annotation.blinded_id, annotation.seed) == (PERSONA, None, None)
    records = load_records(with_stub_model.store, OWN_RUN)
    assert sorted((r["model"], r["situation_index"], r["status"]) for r in records) == [
        (model, situation, "done") for model in ("baseline", "stub") for situation in range(3)
    ]


async def test_the_judge_scores_are_shown_only_after_commit_with_their_judge_and_flags(
    with_stub_model, companion
):
    from compass_tui.app.widgets.model_column import ScorePanel
    from compass_tui.judge import load_judge_prompt

    companion.judge_scores["informativeness"] = 0  # out of range every time: flagged, never stored as valid

    async with with_stub_model.app().run_test(size=SIZE) as pilot:
        stepper = await open_stepper(pilot)
        await generate(pilot, "g")
        await pilot.press("j")
        await wait_until(pilot, lambda: (OWN_RUN, "baseline", 0) in stepper.judgements, "the judgement", 30)
        await pilot.pause()
        told = f"Judged 1 response of {OWN_RUN}: 1 with a flagged dimension"
        await wait_until(pilot, lambda: told in notices(pilot.app), "the judge's summary", 10)
        assert "without one valid score" not in notices(pilot.app)  # five dimensions were scored
        panel = stepper.query_one(ScorePanel)
        expected = {key: float(value) for key, value in JUDGE_SCORES.items()} | {"informativeness": None}
        assert panel.judge.scores == expected
        assert "judge" not in panel_text(panel) and "judge" not in screen_text(pilot.app)
        await press_each(pilot, ["3"] * 6)
        assert panel.annotation.complete and "judge" not in panel_text(panel)  # complete but not committed
        await pilot.press("enter")
        rows = panel_text(panel).splitlines()
        for dimension in DIMENSIONS:
            row = [line for line in rows if dimension.short in line.split()[:2]]
            shown = (
                "judge ⚑ flagged"
                if expected[dimension.key] is None
                else f"judge {expected[dimension.key]:.1f}"
            )
            assert len(row) == 1 and shown in row[0], (dimension, rows)
        assert f"judge: stub · ours:{load_judge_prompt(None).hash[:8]}" in panel_text(panel)
    (judged,) = with_stub_model.store.all(judgement_path(OWN_RUN, PERSONA), JUDGEMENTS_TABLE)
    assert (judged["model"], judged["situation_index"], judged["judge_model"]) == ("baseline", 0, "stub")
    assert judged["scores"]["informativeness"] is None and judged["flagged_counts"]["informativeness"] == 1
    saved = load_annotation(with_stub_model.store, SESSION_SCOPE, "me", PERSONA, 0, BASELINE_SYSTEM)
    assert saved.committed and saved.scores == {key: 3 for key in DIMENSION_KEYS}


def displayed_systems(stepper, situations) -> list[list[str]]:
    return [[stepper.session.order(s)[p].system for p in range(2)] for s in situations]


@pytest.mark.slow
async def test_blind_mode_hides_names_and_keeps_the_seeded_order(with_stub_model):
    situations = range(15)
    async with with_stub_model.app().run_test(size=SIZE) as pilot:
        stepper = await open_stepper(pilot, models=["stub"], blind=True, seed=7)
        assert (stepper.session.blind, stepper.session.seed) == (True, 7)
        first_order = displayed_systems(stepper, situations)
        assert any(order != [BASELINE_SYSTEM, STUB_SYSTEM] for order in first_order)  # it does shuffle
        assert any(order == [BASELINE_SYSTEM, STUB_SYSTEM] for order in first_order)
        await generate(pilot, "g")
        views = [column_view(stepper, position) for position in range(2)]
        assert [view["title"] for view in views] == ["System A", "System B"]
        shows_baseline = ["medical_appointment" in view["call"] for view in views]
        assert shows_baseline == [system == BASELINE_SYSTEM for system in first_order[0]]
        text = screen_text(pilot.app)
        for secret in ("baseline", "stub", OWN_RUN):
            assert secret not in text
        await press_each(pilot, ["4", "5"])  # two scores in System A
        await pilot.press("escape")
        await wait_until(pilot, lambda: pilot.app.screen is not stepper, "the stepper to close")
        await pilot.press("escape")  # clear the library filter

        reopened = await open_stepper(pilot, models=["stub"], blind=True, seed=7)
        assert displayed_systems(reopened, situations) == first_order
        assert [column_view(reopened, p)["title"] for p in range(2)] == ["System A", "System B"]
        assert reopened.annotation_at(0).scores["helpfulness"] == 5
        await pilot.press("escape")
        await wait_until(pilot, lambda: pilot.app.screen is not reopened, "the stepper to close")
        await pilot.press("escape")

        other_seed = await open_stepper(pilot, models=["stub"], blind=True, seed=8)
        assert displayed_systems(other_seed, situations) != first_order

    saved = load_annotation(with_stub_model.store, SESSION_SCOPE, "me", PERSONA, 0, first_order[0][0])
    assert (saved.blinded_id, saved.position, saved.seed) == ("System A", 0, 7)
    assert (saved.scores["empathy"], saved.scores["helpfulness"], saved.committed) == (4, 5, False)
    assert len(load_annotations(with_stub_model.store, SESSION_SCOPE)) == 1


async def test_a_failing_model_shows_its_error_while_the_baseline_goes_on(tui):
    failing = Companion(failures={"stub-down": 500, "stub-nokey": 401})
    with StubLLM(failing) as server:
        tui.configure({"down": "openai/stub-down", "nokey": "openai/stub-nokey"}, server)
        async with tui.app().run_test(size=SIZE, notifications=True) as pilot:
            stepper = await open_stepper(pilot, models=["down", "nokey"])
            assert [c.model for c in stepper.session.columns] == ["baseline", "down", "nokey"]
            await generate(pilot, "g")
            baseline, down, nokey = (column_view(stepper, p) for p in range(3))
            assert "medical_appointment" in baseline["call"] and "done" in baseline["status"]
            assert "✗" not in baseline["response"]
            assert "✗" in down["response"] and "crashed" in down["response"] and "error" in down["status"]
            assert "✗" in nokey["response"] and "invalid api key" in nokey["response"]
            await wait_until(
                pilot, lambda: "nokey stopped" in screen_text(pilot.app), "the stopped-model notice"
            )
            await press_each(pilot, ["5"] * 6)  # scoring goes on
    records = {r["model"]: r for r in load_records(tui.store, OWN_RUN)}
    assert {model: r["status"] for model, r in records.items()} == {
        "baseline": "done",
        "down": "error",
        "nokey": "error",
    }
    assert records["baseline"]["response"]
    saved = load_annotation(tui.store, SESSION_SCOPE, "me", PERSONA, 0, BASELINE_SYSTEM)
    assert saved.scores == {key: 5 for key in DIMENSION_KEYS}


# ================================================================================================= report and export

HUMAN_SCORES = {0: [4, 3, 5, 2, 5, 4], 1: [5, 4, 4, 3, 5, 5], 2: [3, 2, 4, 1, 4, 3]}


@pytest.mark.slow
async def test_the_report_shows_human_table_2_numbers_and_exports_them(tui, tmp_path):
    from textual.widgets import DataTable, Input

    from compass_tui.app.screens.export_dialog import ExportDialog
    from compass_tui.app.screens.report import ReportScreen

    await baseline_run("study-run", situations={0, 1, 2})
    system = system_id("study-run", "baseline")
    save_session_scores(tui.store, "study-run", HUMAN_SCORES)
    save_annotation(
        tui.store,
        Annotation(SESSION_SCOPE, "me", PERSONA, 3, system, scores=dict.fromkeys(DIMENSION_KEYS, 1)),
    )  # not committed: not counted
    out = tmp_path / "exported" / "scores.csv"
    out.parent.mkdir()
    async with tui.app().run_test(size=SIZE, notifications=True) as pilot:
        await wait_for_library(pilot, 10)
        await pilot.press("r")
        report = await wait_until(
            pilot, lambda: isinstance(pilot.app.screen, ReportScreen) and pilot.app.screen, "the report"
        )
        table = report.query_one(DataTable)
        await wait_until(pilot, lambda: table.row_count == 1, "the report rows")
        row = dict(
            zip([str(column.label) for column in table.columns.values()], map(str, table.get_row_at(0)))
        )
        expected_means = {
            d.short: f"{sum(s[i] for s in HUMAN_SCORES.values()) / 3:.2f}" for i, d in enumerate(DIMENSIONS)
        }
        assert {key: row[key] for key in ("model", "setting", "run", "n", "Pass")} == {
            "model": "baseline",
            "setting": "profile",
            "run": "study-run",
            "n": "3",
            "Pass": "100.0%",
        }
        assert {d.short: row[d.short] for d in DIMENSIONS} == expected_means
        assert static_text(report.query_one("#report-status")).strip() == "1 system"

        await pilot.press("e")
        dialog = await wait_until(
            pilot,
            lambda: isinstance(pilot.app.screen, ExportDialog) and pilot.app.screen,
            "the export dialog",
        )
        await replace_input(pilot, dialog.query_one("#export-path", Input), str(out))
        await pilot.press("enter")
        await wait_until(pilot, lambda: pilot.app.screen is report, "the dialog to close")
        assert f"Wrote 4 rows to {out}" in notices(pilot.app)
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    header = lines[0].split(",")
    rows = [dict(zip(header, line.split(","))) for line in lines[1:]]
    assert [(r["run"], r["model"], r["situation_index"], r["committed"]) for r in rows] == [
        ("study-run", "baseline", str(i), "true" if i < 3 else "false") for i in range(4)
    ]
    for situation, scores in HUMAN_SCORES.items():
        assert [rows[situation][key] for key in DIMENSION_KEYS] == [str(value) for value in scores]


# ================================================================================================= annotator mode

STUDY_RUNS = ("profile-pilot-run", "empathetic-pilot-run")


async def make_pack(tmp_path: Path) -> Path:
    """Two baseline runs (profile and empathetic) on 4 situations, a 4-item study, annotator a's pack."""
    from compass_tui.study import create_study, write_pack
    from compass_tui.workspace import Context

    for run_id, setting in zip(STUDY_RUNS, ("profile", "empathetic")):
        await baseline_run(run_id, setting, situations={0, 1, 2, 3})
    store = Context().store
    create_study(store, "pilot", list(STUDY_RUNS), 4, ["a", "b"], seed=3)
    return write_pack(store, "pilot", "a", tmp_path)


def assert_no_names(app) -> None:
    import html

    shown = screen_text(app) + html.unescape(app.export_screenshot()).replace("\xa0", " ")
    for secret in (*STUDY_RUNS, "baseline", "profile-", "empathetic-", "judge"):
        assert secret not in shown, secret


@pytest.mark.slow
async def test_annotator_mode_scores_resume_and_never_show_names(tui, tmp_path):
    from compass_tui.study import journal_path, load_pack, read_pack_scores

    pack_path = await make_pack(tmp_path)
    items = load_pack(pack_path).items
    assert len(items) == 4 and all(len(item.responses) == 2 for item in items)
    async with tui.app(pack=pack_path).run_test(size=SIZE) as pilot:
        screen = await wait_for_annotator(pilot)
        assert screen.index == 0
        assert static_text(screen.query_one("#annotator-progress")).startswith("item 1/4 · 0 done")
        assert [column_view(screen, p)["title"] for p in range(2)] == [
            f"System {response.blinded_id}" for response in items[0].responses
        ]
        assert sorted(response.blinded_id for response in items[0].responses) == ["S1", "S2"]
        for position, response in enumerate(items[0].responses):
            view = column_view(screen, position)
            if response.tool_call:
                assert response.tool_call["tool_folder_name"] in view["call"] and view["summary"].startswith(
                    "🔧"
                )
            else:
                assert "empathetic reply, no tool" in view["summary"]
            assert (response.response or "")[:40] in " ".join(
                column_view(screen, position)["response"].split()
            )
        assert_no_names(pilot.app)
        await score_column(pilot, score_keys(0, 0))
        await pilot.press("right")
        await score_column(pilot, score_keys(0, 1))
        await pilot.press("n", "left")
        assert screen.index == 1
        assert static_text(screen.query_one("#annotator-progress")).startswith("item 2/4 · 1 done")
        assert_no_names(pilot.app)
        await press_each(pilot, ["2", "3", "4"])  # item 2, first column: half done, then stop
        await pilot.press("ctrl+q")
    saved = {(a.persona_id, a.situation_index, a.blinded_id): a for a in read_pack_scores(pack_path)}
    assert len(saved) == 3 and journal_path(pack_path).exists()
    for position, response in enumerate(items[0].responses):
        annotation = saved[(items[0].persona_id, items[0].situation_index, response.blinded_id)]
        assert annotation.committed and annotation.scores == scores_of(score_keys(0, position))
        assert (annotation.annotator, annotation.position) == ("a", response.position)
    partial = saved[(items[1].persona_id, items[1].situation_index, items[1].responses[0].blinded_id)]
    assert not partial.committed
    assert [partial.scores[key] for key in DIMENSION_KEYS] == [2, 3, 4, None, None, None]

    async with tui.app(pack=pack_path).run_test(size=SIZE) as pilot:
        screen = await wait_for_annotator(pilot, "the annotator screen again")
        assert screen.index == 1  # the first unfinished item
        assert static_text(screen.query_one("#annotator-progress")).startswith("item 2/4 · 1 done")
        assert "●●○○○ 2" in column_view(screen, 0)["scores"]
        assert_no_names(pilot.app)
    assert not list(
        tui.data_dir.glob("annotations/**/*.json")
    )  # the pack's journal holds them, not the store


@pytest.mark.slow
async def test_a_corrupt_journal_line_is_named_skipped_and_the_pack_still_opens(tui, tmp_path):
    from compass_tui.study import append_pack_score, journal_path, load_pack, study_scope

    pack_path = await make_pack(tmp_path)
    pack = load_pack(pack_path)
    for item in pack.items[:2]:
        response = item.responses[0]
        annotation = Annotation(
            study_scope(pack.study),
            "a",
            item.persona_id,
            item.situation_index,
            response.blinded_id,
            scores=dict.fromkeys(DIMENSION_KEYS, 3),
            committed=True,
        )
        append_pack_score(pack_path, annotation)
        if item is pack.items[0]:
            with journal_path(pack_path).open("ab") as handle:
                handle.write(b"\x00garbage from a bad disk\n")  # line 2 of 3
    async with tui.app(pack=pack_path).run_test(size=SIZE) as pilot:
        screen = await wait_for_annotator(pilot)
        assert sum(a.committed for a in screen.scores.values()) == 2
        assert notices(pilot.app) == [
            f"{journal_path(pack_path)}:2: not a JSON line (invalid JSON: Expecting value (column 1))"
            " (skipped 1 corrupt journal line)"
        ]


# ================================================================================================= help and palette


async def help_text(pilot, key: str) -> str:
    from textual.widgets import Markdown

    from compass_tui.app.screens.help import HelpScreen

    under = pilot.app.screen
    await pilot.press(key)
    help_screen = await wait_until(
        pilot, lambda: isinstance(pilot.app.screen, HelpScreen) and pilot.app.screen, f"help after {key}"
    )
    text = help_screen.query_one(Markdown).source
    await pilot.press("escape")
    await wait_until(pilot, lambda: pilot.app.screen is under, "help to close")
    return text


async def palette_entries(pilot, query: str) -> list[str]:
    from textual.command import CommandList, CommandPalette

    await pilot.press("ctrl+p")
    palette = await wait_until(
        pilot,
        lambda: isinstance(pilot.app.screen, CommandPalette) and pilot.app.screen,
        "the command palette",
    )
    await type_text(pilot, query)
    results = palette.query_one(CommandList)
    await wait_until(pilot, lambda: results.option_count > 0, f"palette results for {query!r}")
    await pilot.pause(0.3)
    entries = [str(results.get_option_at_index(i).prompt) for i in range(results.option_count)]
    await pilot.press("escape")
    return entries


@pytest.mark.slow
async def test_help_follows_the_focus_and_the_palette_lists_actions(with_stub_model):
    async with with_stub_model.app().run_test(size=SIZE) as pilot:
        await wait_for_library(pilot, 10)
        library_help = await help_text(pilot, "f1")
        assert library_help.startswith("### Persona list") and "| `e` | Edit |" in library_help
        assert library_help.index("| Edit |") < library_help.index("| Help |")  # the screen's keys first
        assert "| Scroll Left |" not in library_help  # not Textual's generic scroll keys
        assert await help_text(pilot, "question_mark") == library_help
        assert any("Edit  (e)" in entry for entry in await palette_entries(pilot, "edit"))
        assert not any("Select line end" in entry for entry in await palette_entries(pilot, "line"))

        stepper = await open_stepper(pilot)
        assert type(pilot.app.focused).__name__ == "ScorePanel"
        panel_help = await help_text(pilot, "question_mark")
        assert panel_help.startswith("### Scoring") and "| `g` | Generate |" in panel_help
        assert panel_help != library_help and await help_text(pilot, "f1") == panel_help
        entries = await palette_entries(pilot, "gen")
        assert any("Generate  (g)" in entry for entry in entries)
        assert any("Generate all  (G)" in entry for entry in entries)
        assert pilot.app.screen is stepper

        await pilot.press("ctrl+p", *"generate all")  # running an action from the palette
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_until(
            pilot,
            lambda: pilot.app.screen is stepper and stepper.generation == 1,
            "Generate all to start from the palette",
        )
        await wait_until(pilot, lambda: stepper.run_thread is None, "the generation to finish", 60)
    assert len(load_records(with_stub_model.store, OWN_RUN)) == 15


# ================================================================================================= small terminals


@pytest.mark.slow
@pytest.mark.parametrize("size", [(80, 24), (60, 20)])
async def test_the_stepper_scores_and_saves_on_small_terminals(tui, size):
    from compass_tui.app.widgets.model_column import ScorePanel

    async with tui.app().run_test(size=size) as pilot:
        stepper = await open_stepper(pilot)
        await generate(pilot, "g")
        panel = stepper.query_one(ScorePanel)
        assert panel.region.height > 0 and panel.region.bottom <= size[1]  # on screen
        await score_column(pilot, score_keys(0, 0))
        await pilot.press("n")
        assert stepper.index == 1 and pilot.app.focused is panel
        await generate(pilot, "g")  # a situation without a response takes no score
        assert panel.cursor == 0  # a situation not yet scored starts at the first dimension
        await press_each(pilot, ["2"])
        assert "situation 2/15" in static_text(stepper.query_one("#stepper-header"), width=200)
    saved = {a.situation_index: a for a in load_annotations(tui.store, SESSION_SCOPE)}
    assert saved[0].committed and saved[0].scores == scores_of(score_keys(0, 0))
    assert saved[1].scores == {**dict.fromkeys(DIMENSION_KEYS), "empathy": 2}


# ========================================================================================= quitting mid-generation


@pytest.fixture
def slow_stub_model(tui):
    """`stub` answers after 3 s, so a generation is still in flight while we score and quit."""
    with StubLLM(Companion(), latency=3.0) as server:
        tui.configure({"stub": "openai/stub-a"}, server, concurrency=32)
        yield tui


def acknowledged(stepper, position: int = 0) -> bool:
    return stepper.save_status(position).startswith("saved ✓")


@pytest.mark.slow
async def test_quitting_during_a_generation_keeps_every_acknowledged_save(slow_stub_model):
    from compass_tui.app.widgets.model_column import ScorePanel

    async with slow_stub_model.app().run_test(size=SIZE) as pilot:
        stepper = await open_stepper(pilot, models=["stub"])
        await pilot.press("G")
        panel = stepper.query_one(ScorePanel)
        shown: list[dict] = []
        for key in ["4", "2", "5", "3", "1", "4"]:
            await pilot.press(key)
            assert acknowledged(stepper) and "saved ✓" in panel_text(panel)
            shown.append(dict(panel.annotation.scores))
        await pilot.press("enter")
        assert acknowledged(stepper) and "committed" in panel_text(panel)
        run_thread = stepper.run_thread
        assert run_thread is not None and run_thread.is_alive()  # still generating
        started = time.monotonic()
        await pilot.press("ctrl+q")
    assert time.monotonic() - started < 3.0  # less than one round trip of the model: quitting does not wait
    run_thread.join(timeout=2.5)  # a model round trip takes 3 s
    assert not run_thread.is_alive()  # and the generation stopped with the app
    saved = load_annotation(slow_stub_model.store, SESSION_SCOPE, "me", PERSONA, 0, BASELINE_SYSTEM)
    assert saved.committed and saved.scores == shown[-1] == scores_of(["4", "2", "5", "3", "1", "4"])


@pytest.mark.slow
def test_sigterm_during_a_generation_keeps_every_acknowledged_save(slow_stub_model):
    from tui_harness import PtyApp

    app = PtyApp(
        {
            "COMPASS_TUI_HOME": str(slow_stub_model.data_dir),
            "COMPASS_TUI_CONFIG": str(slow_stub_model.config_path),
        }
    )
    try:
        app.wait_for("10 personas ·")
        app.wait_for("Step through", after=app.send("\r"))
        app.wait_for("Press g to generate", after=app.send("\x13"))  # ctrl+s starts the session
        app.wait_for("generating", after=app.send("G"))
        app.wait_for("🔧")  # the baseline's response: only a column with one takes a score
        app.wait_for("saved ✓", after=app.send("4"))
        app.wait_for("●●●●●", after=app.send("5"))
        app.process.send_signal(signal.SIGTERM)
        code = app.wait_exit(timeout=15)
    finally:
        app.close()
    assert code == 0
    saved = load_annotation(slow_stub_model.store, SESSION_SCOPE, "me", PERSONA, 0, BASELINE_SYSTEM)
    assert (saved.scores["empathy"], saved.scores["helpfulness"], saved.committed) == (4, 5, False)
    records = load_records(slow_stub_model.store, OWN_RUN)  # readable: no torn shard
    assert {r["model"] for r in records} <= {"baseline", "stub"}
    assert all(r["status"] != "done" for r in records if r["model"] == "stub")  # the models were still busy


def test_a_real_terminal_start_draws_the_library_then_its_names_and_quits_cleanly(tui):
    from tui_harness import PtyApp

    app = PtyApp({"COMPASS_TUI_HOME": str(tui.data_dir), "COMPASS_TUI_CONFIG": str(tui.config_path)})
    try:
        app.wait_for("palette")  # the footer,
        app.wait_for("Adam Kerr")  # and the names, once the persona files are read
        app.send("\x11")  # ctrl+q
        code = app.wait_exit(timeout=30)
    finally:
        app.close()
    assert code == 0
    drawn = re.sub(r"\x1b\[[0-9;?<>=$]*[A-Za-z~]|\x1b\][^\x07]*\x07", "", app.output)  # without escapes
    assert "compass-tui — ComPASS evaluation workbench" in drawn and "/ filter by id or name" in drawn


async def test_a_remapped_key_moves_the_stepper_and_an_unknown_binding_id_is_named(tui):
    tui.config_path.write_text(
        "\n".join([*tui.lines, "[keymap]", '"scoring.next" = "ctrl+n"', '"scoring.nosuch" = "x"']) + "\n",
        encoding="utf-8",
    )
    async with tui.app().run_test(size=SIZE) as pilot:
        await wait_for_library(pilot)
        await wait_until(
            pilot, lambda: any(n.startswith("keymap:") for n in notices(pilot.app)), "the keymap warning"
        )
        warnings = [message for message in notices(pilot.app) if message.startswith("keymap:")]
        assert warnings == ["keymap: no binding has the id 'scoring.nosuch' (F1 lists the ids)"]
        stepper = await open_stepper(pilot)
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: stepper.index == 1, "ctrl+n to move to situation 2")
        await pilot.press("n")  # the default key of scoring.next is replaced, not kept beside the new one
        await pilot.pause()
        assert stepper.index == 1


async def test_the_report_breaks_systems_down_by_tool_and_plots_the_scores(tui):
    from textual.widgets import DataTable

    from compass_tui.app.screens.report import ReportScreen
    from compass_tui.app.widgets.figure_plot import FigurePlot

    await baseline_run("tabs-run", situations={0, 1, 2})
    save_session_scores(tui.store, "tabs-run", HUMAN_SCORES)
    tools = {
        r["situation_index"]: r["tool_call"]["tool_folder_name"] for r in load_records(tui.store, "tabs-run")
    }
    async with tui.app().run_test(size=SIZE) as pilot:
        await wait_for_library(pilot, 10)
        await pilot.press("r")
        report = await wait_until(
            pilot, lambda: isinstance(pilot.app.screen, ReportScreen) and pilot.app.screen, "the report"
        )
        await wait_until(
            pilot, lambda: report.query_one("#report-table-systems", DataTable).row_count == 1, "rows"
        )
        await pilot.press("]")
        by_tool = report.query_one("#report-table-tool", DataTable)
        await wait_until(pilot, lambda: by_tool.row_count == len(set(tools.values())), "one row per tool")
        labels = [str(column.label) for column in by_tool.columns.values()]
        rows = [dict(zip(labels, map(str, by_tool.get_row_at(i)))) for i in range(by_tool.row_count)]
        for row in rows:
            mine = [HUMAN_SCORES[s] for s, tool in tools.items() if tool == row["tool"]]
            mean = sum(scores[0] for scores in mine) / len(mine)
            assert row["Emp"] == f"{mean:.2f}" + ("†" if len(mine) == 1 else "")
            assert row["n"] == str(len(mine))
        await pilot.press("[", "[", "[", "[")  # back past Systems, What-if and Triage to Plots
        plot = report.query_one(FigurePlot)
        await wait_until(pilot, lambda: getattr(plot, "figure", None) is not None, "the first figure")
        assert plot.figure.name == "scores-empathy"
        empathy = [scores[0] for scores in HUMAN_SCORES.values()]
        assert plot.figure.series[0].y == [float(empathy.count(level)) for level in range(1, 6)]


async def test_a_simulated_users_feedback_shows_its_label_and_words(tui):
    from compass_tui.records import INTERACTIONS_TABLE, run_records_path

    await baseline_run("with-feedback", situations={0})
    [record] = load_records(tui.store, "with-feedback")
    feedback = {"label": None, "by": "imported", "text": "Hm, that was not what I needed."}
    path = run_records_path("with-feedback", PERSONA)
    tui.store.upsert(path, INTERACTIONS_TABLE, record.key, record.to_document() | {"feedback": feedback})
    async with tui.app().run_test(size=(120, 40)) as pilot:
        stepper = await open_stepper(pilot, PERSONA, runs=[0], untick_baseline=True)
        column = stepper.query("ModelColumn").first()
        text = static_text(column.query_one("#response"))
        assert "user feedback: no label (imported)" in text
        assert "“Hm, that was not what I needed.”" in text


async def test_the_triage_tab_ranks_disagreements_and_opens_one_in_the_stepper(with_stub_model):
    from textual.widgets import DataTable

    from compass_tui.app.screens.report import ReportScreen
    from compass_tui.app.screens.stepper import StepperScreen
    from compass_tui.app.widgets.model_column import ScorePanel
    from compass_tui.judge import judge_run, load_judge_prompt
    from compass_tui.workspace import Context

    await baseline_run("triaged", situations={0, 1, 2})
    ctx = Context()
    model = ctx.settings.model("stub")
    await judge_run(ctx.store, ctx.personas_by_id(), "triaged", model, "stub", load_judge_prompt(None))
    human = {0: 4, 1: 1, 2: 3}  # the judge gave JUDGE_SCORES (mean 3.83) to every item
    system = system_id("triaged", "baseline")
    for situation, score in human.items():
        scores = dict.fromkeys(DIMENSION_KEYS, score)
        save_annotation(
            with_stub_model.store,
            Annotation(SESSION_SCOPE, "me", PERSONA, situation, system, scores=scores, committed=True),
        )
    judge_mean = sum(JUDGE_SCORES.values()) / 6
    expected = sorted(human, key=lambda s: (-abs(human[s] - judge_mean), s))
    async with with_stub_model.app().run_test(size=SIZE) as pilot:
        await wait_for_library(pilot, 10)
        await pilot.press("r")
        report = await wait_until(
            pilot, lambda: isinstance(pilot.app.screen, ReportScreen) and pilot.app.screen, "the report"
        )
        await pilot.press("[", "[")  # from Systems back past What-if to Triage
        table = report.query_one("#report-table-triage", DataTable)
        await wait_until(pilot, lambda: table.row_count == 3, "three ranked responses")
        labels = [str(column.label) for column in table.columns.values()]
        rows = [dict(zip(labels, map(str, table.get_row_at(i)))) for i in range(3)]
        assert [int(row["situation"]) - 1 for row in rows] == expected
        assert rows[0]["|human − judge|"] == f"{abs(human[expected[0]] - judge_mean):.2f}"
        table.focus()
        await pilot.press("enter")  # the top disagreement
        stepper = await wait_until(
            pilot, lambda: isinstance(pilot.app.screen, StepperScreen) and pilot.app.screen, "the stepper"
        )
        await pilot.pause()
        assert stepper.index == expected[0] and [c.run_id for c in stepper.session.columns] == ["triaged"]
        panel = stepper.query_one(ScorePanel)
        await wait_until(pilot, lambda: panel.judge is not None, "the judge's scores")
        text = panel_text(panel)
        assert "judge 4.0" in text and "why (Emp): empathy seen" in text
        assert panel.annotation.scores == dict.fromkeys(DIMENSION_KEYS, human[expected[0]])
