"""Personas: reading liked/disliked tools out of ComPASS's prose, the bundled personas, the ComPASS mapping.

The expected sets for the shared test set were decided by reading each preference text as a
careful human reader would (tool by tool, ignoring asides about genres, singers and actors),
not by running the parser.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compass_tui import paths
from compass_tui.compass_format import compass_user_to_persona, load_compass_file, persona_to_compass_user
from compass_tui.errors import InputError
from compass_tui.library import PersonaLibrary
from compass_tui.persona import load_persona_file, persona_from_dict, persona_to_dict
from compass_tui.preferences import parse_preference_text
from compass_tui.vocab import EMOTIONS, SCENARIO_KEYS, TOOL_FOLDERS

WORK, HEALTH, FAMILY, SOCIAL, LEISURE = (
    "Work/Study_scenario",
    "Health_scenario",
    "Family_scenario",
    "Social_scenario",
    "Leisure_scenario",
)

# (user, scenario type) -> (liked, disliked), decided by reading the text in test_set_correct_form.json.
HUMAN_READINGS: dict[tuple[str, str], tuple[set[str], set[str]]] = {
    # "likes using the plan_assistant ..., enjoys story_recommender ..., and appreciates strength_card ...
    #  He dislikes schedule_manager, ...; medical_appointment, ...; and online_shopping, ..."
    ("0", WORK): (
        {"plan_assistant", "story_recommender", "strength_card"},
        {"schedule_manager", "medical_appointment", "online_shopping"},
    ),
    # "favors the medical_appointment tool ..., and the psyweb_recommender ... also likes strength_card ...
    #  dislikes online_shopping ..., and role_play, which he finds uncomfortable"
    ("1", HEALTH): (
        {"medical_appointment", "psyweb_recommender", "strength_card"},
        {"online_shopping", "role_play"},
    ),
    # list of three dislikes separated by semicolons after one "She dislikes"
    ("7", FAMILY): (
        {"schedule_manager", "plan_assistant", "sticker_respond"},
        {"film_recommendation", "joke_recommendation", "music_recommendation"},
    ),
    # "finds joke_recommendation useful" is a like; "group movie watching does not appeal" sits in a clause
    ("13", SOCIAL): (
        {"online_shopping", "joke_recommendation", "role_play"},
        {"music_recommendation", "sticker_respond", "film_recommendation"},
    ),
    # genre dislikes in the same sentence as a liked tool ("but dislikes country (e.g., Luke Bryan)")
    ("23", LEISURE): (
        {"music_recommendation", "film_recommendation", "story_recommender"},
        {"schedule_manager", "plan_assistant", "medical_appointment"},
    ),
    # a parenthetical "(... dislikes classical and country music, and avoids artists like Garth Brooks)"
    ("42", WORK): (
        {"music_recommendation", "plan_assistant", "story_recommender"},
        {"schedule_manager", "strength_card", "film_recommendation"},
    ),
    # passive "The 'online_shopping' tool is liked"; quoted tool names
    ("81", SOCIAL): ({"story_recommender", "sticker_respond", "online_shopping"}, {"psyweb_recommender"}),
    # "The film_recommendation tool is favored ..." and "The plan_assistant is also avoided here"
    ("99", LEISURE): (
        {"music_recommendation", "online_shopping", "film_recommendation"},
        {"role_play", "plan_assistant"},
    ),
    # "She finds the 'plan_assistant' less useful here"
    ("4", LEISURE): (
        {"film_recommendation", "story_recommender", "music_recommendation"},
        {"plan_assistant"},
    ),
    # "She is not inclined to use film_recommendation" (read as liked before the fix in preferences.py)
    ("11", HEALTH): (
        {"medical_appointment", "psyweb_recommender", "strength_card"},
        {"joke_recommendation", "film_recommendation"},
    ),
    # "'Joke_recommendation' is another favorite" (capitalised at the start of a sentence)
    ("22", FAMILY): (
        {"role_play", "sticker_respond", "joke_recommendation"},
        {"plan_assistant", "psyweb_recommender", "medical_appointment"},
    ),
    # "'Role_play' is also not appealing" and "'story_recommender' is not favored"
    ("86", FAMILY): (
        {"plan_assistant", "online_shopping", "schedule_manager"},
        {"sticker_respond", "role_play", "story_recommender"},
    ),
    # "The strength_card tool is not favored" and "The story_recommender is also avoided"
    ("80", SOCIAL): (
        {"joke_recommendation", "music_recommendation", "sticker_respond"},
        {"plan_assistant", "strength_card", "story_recommender"},
    ),
    # four likes: "... the story_recommender ..., and the strength_card tool for reflective leisure moments"
    ("61", LEISURE): (
        {"music_recommendation", "film_recommendation", "story_recommender", "strength_card"},
        {"plan_assistant", "medical_appointment"},
    ),
    # "She is not fond of the role_play tool" and "The music_recommendation tool is also not preferred at work"
    ("15", WORK): (
        {"plan_assistant", "strength_card", "story_recommender"},
        {"film_recommendation", "role_play", "music_recommendation"},
    ),
}


@pytest.fixture(scope="module")
def test_set() -> dict:
    bench = paths.shared_compass_bench()
    path = bench / "test_set_correct_form.json" if bench else None
    if path is None or not path.is_file():
        pytest.skip("the shared ComPASS test set is not present")
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("user_id", "scenario"), list(HUMAN_READINGS), ids=lambda v: str(v).replace("/", "-")
)
def test_parsed_sets_match_a_careful_reading(test_set, user_id, scenario):
    """Requirement 2: the parsed liked/disliked sets are right for real test-set users."""
    liked, disliked = HUMAN_READINGS[(user_id, scenario)]
    parsed = parse_preference_text(test_set[user_id]["tool_preferences"][scenario])
    assert (set(parsed.liked), set(parsed.disliked), parsed.ambiguous) == (liked, disliked, [])


def test_every_tool_named_in_the_test_set_is_read_one_way(test_set):
    """All 500 preference texts: each tool mentioned is read as liked or disliked, none left unclear or double."""
    for user_id, user in test_set.items():
        for scenario, text in user["tool_preferences"].items():
            parsed = parse_preference_text(text)
            mentioned = {tool for tool in TOOL_FOLDERS if tool in text.lower()}
            assert parsed.ambiguous == [], (user_id, scenario, parsed.notes)
            assert set(parsed.liked) | set(parsed.disliked) == mentioned, (user_id, scenario)
            assert not set(parsed.liked) & set(parsed.disliked)
            assert parsed.liked and parsed.disliked, (user_id, scenario)


@pytest.mark.parametrize(
    ("text", "liked", "disliked"),
    [
        (
            "She is not inclined to use film_recommendation, since movies do not help.",
            [],
            ["film_recommendation"],
        ),
        ("He doesn't really enjoy joke_recommendation at work.", [], ["joke_recommendation"]),
        ("She is not fond of the 'role_play' tool.", [], ["role_play"]),
        ("He prefers not to use the online_shopping tool here.", [], ["online_shopping"]),
        (
            "He finds strength_card intrusive and psyweb_recommender helpful.",
            ["psyweb_recommender"],
            ["strength_card"],
        ),
        ("The schedule_manager is valued for tracking shifts.", ["schedule_manager"], []),
        (
            "She loves music_recommendation (dislikes: heavy metal, Slipknot) and film_recommendation.",
            ["music_recommendation", "film_recommendation"],
            [],
        ),
        (
            "He likes plan_assistant, preferring folk while disliking EDM, and story_recommender.",
            ["plan_assistant", "story_recommender"],
            [],
        ),
        (
            "He dislikes medical_appointment, sticker_respond and role_play.",
            [],
            ["medical_appointment", "sticker_respond", "role_play"],
        ),
    ],
)
def test_cues_before_and_after_a_tool(text, liked, disliked):
    parsed = parse_preference_text(text)
    assert (parsed.liked, parsed.disliked, parsed.ambiguous) == (liked, disliked, [])


def test_a_tool_with_no_cue_is_ambiguous_with_a_note():
    """Never guess silently: a tool mentioned without a like/dislike cue is reported as unclear."""
    parsed = parse_preference_text("He likes plan_assistant. Sometimes role_play comes up in the evenings.")
    assert parsed.liked == ["plan_assistant"]
    assert parsed.disliked == []
    assert parsed.ambiguous == ["role_play"]
    assert parsed.notes == ["role_play: no like/dislike cue found"]


def test_a_tool_read_both_ways_is_ambiguous_with_a_note():
    parsed = parse_preference_text("She likes role_play with friends. She dislikes role_play at work.")
    assert (parsed.liked, parsed.disliked, parsed.ambiguous) == ([], [], ["role_play"])
    assert parsed.notes == ["role_play: read as both liked and disliked"]


def test_text_without_tools_gives_empty_sets():
    parsed = parse_preference_text("She dislikes country music and likes long walks.")
    assert (parsed.liked, parsed.disliked, parsed.ambiguous, parsed.notes) == ([], [], [], [])


def bundled_persona_files() -> list[Path]:
    return sorted(paths.bundled_personas_dir().glob("*.json"))


def test_bundled_personas_all_load(tmp_path):
    files = bundled_persona_files()
    assert len(files) >= 10
    entries = PersonaLibrary(tmp_path).entries()
    assert [entry.error for entry in entries if entry.error] == []
    assert {entry.kind for entry in entries} == {"bundled"}
    assert sorted(entry.id for entry in entries) == sorted(path.stem for path in files)


@pytest.mark.parametrize("path", bundled_persona_files(), ids=lambda p: p.stem)
def test_bundled_preference_lists_agree_with_the_parser(path):
    """Each bundled persona's explicit liked/disliked lists equal what the parser reads from its own text."""
    persona = load_persona_file(path)
    for key, preference in persona.tool_preferences.items():
        parsed = parse_preference_text(preference.text)
        assert (sorted(parsed.liked), sorted(parsed.disliked), sorted(parsed.ambiguous)) == (
            sorted(preference.liked),
            sorted(preference.disliked),
            sorted(preference.ambiguous),
        ), (path.stem, key)
        assert preference.liked, (path.stem, key)


@pytest.mark.parametrize("path", bundled_persona_files(), ids=lambda p: p.stem)
def test_bundled_personas_are_well_formed(path):
    persona = load_persona_file(path)
    assert persona.id == path.stem
    assert len(persona.situations) >= 5
    assert all(s.emotion in EMOTIONS for s in persona.situations)
    assert {s.scenario_type for s in persona.situations} == set(SCENARIO_KEYS)


def test_bundled_persona_survives_the_compass_mapping():
    """A persona of ours written as a ComPASS user and read back keeps every field the format carries."""
    persona = load_persona_file(bundled_persona_files()[0])
    user = persona_to_compass_user(persona)
    assert list(user) == [
        "demographic",
        "Big_Five_personality_traits",
        "personality_description",
        "background",
        "tool_preferences",
        "scenarios",
        "name",
        "utterance",
    ]
    back = compass_user_to_persona("7", json.loads(json.dumps(user)), source="t.json")
    assert back.id == "compass-7"
    assert back.demographic == persona.demographic
    assert back.big_five == persona.big_five
    assert back.background == persona.background
    assert [(s.scenario, s.utterance, s.emotion) for s in back.situations] == [
        (s.scenario, s.utterance, s.emotion) for s in persona.situations
    ]
    for key, preference in persona.tool_preferences.items():
        read_back = back.tool_preferences.for_scenario(key)
        assert (read_back.text, read_back.liked, read_back.disliked) == (
            preference.text,
            preference.liked,
            preference.disliked,
        )
    assert all(s.scenario_type_source == "inferred" for s in back.situations)
    assert persona_to_compass_user(back) == user


def test_an_unclear_compass_preference_becomes_a_persona_warning():
    persona = load_persona_file(bundled_persona_files()[0])
    user = persona_to_compass_user(persona)
    user["tool_preferences"]["Social_scenario"] = (
        "She likes joke_recommendation. Role_play comes up now and then."
    )
    imported = compass_user_to_persona("3", user, source="t.json")
    social = imported.tool_preferences.social
    assert (social.liked, social.disliked, social.ambiguous) == (["joke_recommendation"], [], ["role_play"])
    assert "Social: preference unclear for role_play" in imported.warnings()


def test_shared_test_set_maps_to_100_personas_of_15_situations(shared_test_set):
    personas = load_compass_file(shared_test_set)
    assert len(personas) == 100
    assert [p.id for p in personas] == [f"compass-{i}" for i in range(100)]
    assert {len(p.situations) for p in personas} == {15}
    first = personas[0]
    assert first.display_name == "James Lopez" and first.demographic.age == 52
    assert first.big_five.openness == "high" and first.big_five.conscientiousness == "low"
    assert first.origin.user_id == "0" and first.origin.file == "test_set_correct_form.json"
    assert first.situations[1].emotion == "ashamed"
    assert first.situations[1].scenario_type == "work_study"


def test_our_format_rejects_an_unknown_tool_naming_the_field():
    document = persona_to_dict(load_persona_file(bundled_persona_files()[0]))
    document["tool_preferences"]["health"]["disliked"].append("telepathy")
    with pytest.raises(InputError) as caught:
        persona_from_dict(document, source="p.json")
    assert caught.value.field == "tool_preferences.health.disliked"
    assert "unknown tool 'telepathy'" in str(caught.value)
    assert str(caught.value).startswith("p.json: tool_preferences.health.disliked: ")


def test_our_format_rejects_a_tool_both_liked_and_disliked():
    document = persona_to_dict(load_persona_file(bundled_persona_files()[0]))
    preference = document["tool_preferences"]["family"]
    preference["disliked"].append(preference["liked"][0])
    with pytest.raises(InputError, match="both liked and disliked"):
        persona_from_dict(document, source="p.json")


def test_a_persona_id_differing_only_in_case_is_refused(tmp_path):
    """Persona files are named by id: "Adam-Kerr" beside "adam-kerr" would share a file on macOS."""
    library = PersonaLibrary(tmp_path)
    persona = persona_from_dict({**persona_to_dict(library.get("adam-kerr")), "id": "Adam-Kerr"})
    with pytest.raises(InputError) as refused:
        library.save(persona)
    message = "persona id 'Adam-Kerr' differs from the existing 'adam-kerr' only in case"
    assert str(refused.value) == f"id: {message}"
    assert not (tmp_path / "personas").exists()
