"""What-if variants: a situation asked again with edited words, stored beside the original, never over it."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest

from compass_tui.annotations import Annotation, load_annotation, save_annotation
from compass_tui.errors import InputError
from compass_tui.export import SESSION_COLUMNS, session_rows
from compass_tui.judgements import ScoreSource
from compass_tui.library import PersonaLibrary
from compass_tui.pipeline import System
from compass_tui.prompts import our_prompts
from compass_tui.records import (
    load_records,
    load_variant_records,
    run_records_path,
    run_variants_path,
    system_id,
    variant_id_for,
)
from compass_tui.report import SESSION_SCOPE, build_report
from compass_tui.runner import RunPlan, execute_run
from compass_tui.store import Store
from compass_tui.tools.environment import ToolEnvironment
from compass_tui.variants import make_variant, read_utterance_file, variants_of
from compass_tui.vocab import DIMENSION_KEYS

PERSONA = "adam-kerr"
TODAY = date(2025, 3, 14)
WHAT_IF = "Actually I just got promoted at work and I want to celebrate with some music tonight!"


@pytest.fixture
def persona():
    return PersonaLibrary(Path("/nonexistent")).get(PERSONA)


@pytest.fixture
def store(data_dir) -> Store:
    return Store(data_dir)


@pytest.fixture
def env(store, tmp_path) -> ToolEnvironment:
    return ToolEnvironment.create(store, search_mode="lexical", cache_dir=tmp_path / "cache")


def run(store, env, persona, variant=None, only=None):
    plan = RunPlan(
        "r",
        "profile",
        [System("baseline")],
        [persona],
        our_prompts(),
        today=TODAY,
        only_situations=only,
        variant=variant,
    )
    return asyncio.run(execute_run(plan, store, env))


def test_a_what_if_is_stored_as_a_variant_and_the_original_stays_byte_identical(store, env, persona):
    run(store, env, persona, only={2})
    original_file = store.path(run_records_path("r", PERSONA))
    before = original_file.read_bytes()
    [original] = load_records(store, "r")

    variant = make_variant(persona, 2, WHAT_IF)
    progress = run(store, env, persona, variant)

    assert progress.finished == 1 and not progress.failed
    assert original_file.read_bytes() == before
    assert load_records(store, "r") == [original]
    [stored] = load_variant_records(store, "r")
    assert stored["variant"] == {
        "id": variant_id_for(WHAT_IF),
        "text": WHAT_IF,
        "original_utterance": persona.situations[2].utterance,
    }
    assert stored["utterance"] == WHAT_IF and stored["situation_index"] == 2
    assert stored["status"] == "done" and stored["response"]
    assert stored["response"] != original["response"]  # the baseline answered the new words
    assert stored["key"] == f"baseline|{PERSONA}|2~{variant.id}"
    assert store.path(run_variants_path("r", PERSONA)).is_file()
    assert variants_of(store, "r", PERSONA) == {2: [variant]}


def test_the_same_text_resumes_its_variant_and_another_text_adds_one(store, env, persona):
    first = make_variant(persona, 0, WHAT_IF)
    run(store, env, persona, first)
    again = run(store, env, persona, make_variant(persona, 0, f"  {WHAT_IF}\n"))
    assert again.skipped == 1 and again.finished == 0
    second = make_variant(persona, 0, "I feel lonely tonight.")
    run(store, env, persona, second)
    assert [v.id for v in variants_of(store, "r", PERSONA)[0]] == [first.id, second.id]
    assert load_records(store, "r") == []


@pytest.mark.parametrize(
    ("index", "text", "field", "message"),
    [
        (15, WHAT_IF, "situation", "has situations 1-15, not 16"),
        (-1, WHAT_IF, "situation", "not 0"),
        (0, "   \n", "text", "is empty"),
    ],
)
def test_bad_variants_are_one_line_input_errors(persona, index, text, field, message):
    with pytest.raises(InputError) as caught:
        make_variant(persona, index, text)
    assert caught.value.field == field and message in caught.value.message


def test_the_original_words_are_no_variant(persona):
    with pytest.raises(InputError, match="is the original utterance"):
        make_variant(persona, 4, persona.situations[4].utterance + " ")


def test_the_history_setting_refuses_variants(persona):
    with pytest.raises(InputError, match="history setting"):
        RunPlan(
            "r",
            "history",
            [System("baseline")],
            [persona],
            our_prompts(),
            variant=make_variant(persona, 0, "x"),
        )


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("w.json", '{"3": "I got promoted!", "5": "I miss my sister."}'),
        ("w.toml", '3 = "I got promoted!"\n5 = "I miss my sister."\n'),
        ("w.txt", "# what if\n3: I got promoted!\n\n5: I miss my sister.\n"),
    ],
)
def test_utterance_files_map_situation_numbers_to_texts(tmp_path, persona, name, content):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    variants = read_utterance_file(path, persona)
    assert [(v.situation_index, v.text) for v in variants] == [
        (2, "I got promoted!"),
        (4, "I miss my sister."),
    ]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"16": "hello"}', "situation: persona 'adam-kerr' has situations 1-15, not 16"),
        ('{"2": ""}', "2: the what-if text of situation 2 is empty"),
        ('{"two": "hello"}', "two: keys are situation numbers (1-15)"),
        ('{"2": 5}', "2: the what-if text must be a string, not int"),
        ("{}", "no what-if texts in the file"),
        ("[1]", "expected an object of situation number -> text"),
    ],
)
def test_bad_utterance_files_name_the_file_and_entry(tmp_path, persona, content, expected):
    path = tmp_path / "w.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_utterance_file(path, persona)
    assert str(caught.value) == f"{path}: {expected}"


def _score(store, persona, index, variant=None, value=4):
    annotation = Annotation(
        SESSION_SCOPE, "me", persona.id, index, system_id("r", "baseline"), variant=variant
    )
    for key in DIMENSION_KEYS:
        annotation.set_score(key, value)
    annotation.committed = True
    save_annotation(store, annotation)


def test_variant_scores_have_their_own_key_and_stay_out_of_the_report_rows(store, env, persona):
    run(store, env, persona, only={2})
    variant = make_variant(persona, 2, WHAT_IF)
    run(store, env, persona, variant)
    _score(store, persona, 2, value=2)
    _score(store, persona, 2, variant.id, value=5)

    system = system_id("r", "baseline")
    original = load_annotation(store, SESSION_SCOPE, "me", PERSONA, 2, system)
    scored = load_annotation(store, SESSION_SCOPE, "me", PERSONA, 2, system, variant.id)
    assert original is not None and scored is not None
    assert original.scores["empathy"] == 2 and scored.scores["empathy"] == 5
    assert scored.key == f"{PERSONA}#2~{variant.id}|{system}"

    report = build_report(store, ["r"], {PERSONA: persona}, ScoreSource("human"))
    [row] = report.rows
    assert row.items == 1 and row.scores["empathy"].mean == 2 and row.scores["empathy"].n == 1
    assert report.variants_excluded == {"r": (1, 1)}
    assert "run r: 1 what-if variant items (1 scored by hand) are not counted" in " ".join(report.notes)


def test_the_export_marks_variant_rows(store, env, persona):
    run(store, env, persona, only={2})
    variant = make_variant(persona, 2, WHAT_IF)
    run(store, env, persona, variant)
    _score(store, persona, 2)
    _score(store, persona, 2, variant.id)
    from compass_tui.annotations import load_annotations

    rows = [
        dict(zip(SESSION_COLUMNS, row, strict=True))
        for row in session_rows(store, load_annotations(store, SESSION_SCOPE))
    ]
    assert [(row["variant"], row["utterance"]) for row in rows] == [
        ("", persona.situations[2].utterance),
        (variant.id, WHAT_IF),
    ]
    assert rows[1]["emotion"] == rows[0]["emotion"] and rows[1]["scenario_type"] == rows[0]["scenario_type"]
