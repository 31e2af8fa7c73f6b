"""The 12 ComPASS tools: definitions, call forms, success and error paths, official examples, tool state.

Official example calls against their own official definitions
=============================================================

Many example calls in ComPASS's `toolenv/*/examples.json` do not validate against the
`definition.json` beside them. The validator normalises only what the definitions allow
(case-insensitive enums, a lone string where a list is wanted, null for an optional
parameter) and records each normalisation. Read by hand, the 39 examples come out as:

| tool | example | outcome | normalisations | offending parameters | why |
|---|---|---|---|---|---|
| film_recommendation | example_1 | valid after normalisation | keyword 'time travel' read as ['time travel'] | | keyword is an array; the example passes a string |
| film_recommendation | example_2 | invalid | | keyword, page | required keyword missing; page is not declared |
| film_recommendation | example_3 | invalid | | keyword | required keyword missing |
| joke_recommendation | example_1 | invalid | category 'animal' read as 'Animal' | description, limit | required description missing; limit is not declared |
| joke_recommendation | example_2 | invalid | | description, keyword, limit | required description missing; keyword and limit are not declared |
| joke_recommendation | example_3 | invalid | | description, keyword, limit | required description missing; keyword and limit are not declared |
| medical_appointment | example_1 | valid | | | |
| medical_appointment | example_2 | invalid | | desired_date | a query without the required desired_date |
| medical_appointment | example_3 | valid | | | |
| medical_appointment | example_4 | invalid | | desired_date | a cancellation without the required desired_date |
| music_recommendation | example_1 | invalid | | limit | limit is not declared |
| music_recommendation | example_2 | invalid | | keyword, keywords, limit | keyword (singular, not declared) instead of the required keywords; limit is not declared |
| music_recommendation | example_3 | invalid | | keywords, limit | required keywords missing; limit is not declared |
| online_shopping | example_1 | valid | | | |
| online_shopping | example_2 | valid | | | |
| online_shopping | example_3 | valid | | | |
| plan_assistant | example_1 | valid | | | |
| plan_assistant | example_2 | valid | | | |
| plan_assistant | example_3 | valid | | | |
| psyweb_recommender | example_1 | invalid | user_group 'teenager' read as 'Teenager' | problem_type, tags | required problem_type missing; tags is not declared |
| psyweb_recommender | example_2 | invalid | user_group 'adult' read as 'Adult' | problem_type, tags | required problem_type missing; tags is not declared |
| psyweb_recommender | example_3 | invalid | | problem_type, tags, user_group | required problem_type missing; tags is not declared; user_group is required, so null is not allowed |
| role_play | example_1 | valid | | | |
| role_play | example_2 | valid | | | |
| role_play | example_3 | valid | | | |
| schedule_manager | example_1 | valid | | | |
| schedule_manager | example_2 | valid | | | |
| schedule_manager | example_3 | valid | | | |
| schedule_manager | example_4 | valid | | | |
| schedule_manager | example_5 | valid | | | |
| sticker_respond | example_1 | valid after normalisation | alternative_descriptions null dropped | | null for an optional string |
| sticker_respond | example_2 | valid after normalisation | subject null dropped; alternative_descriptions null dropped | | null for optional strings |
| sticker_respond | example_3 | valid after normalisation | subject null dropped | | null for an optional string |
| story_recommender | example_1 | valid | | | |
| story_recommender | example_2 | valid | | | |
| story_recommender | example_3 | valid | | | |
| strength_card | example_1 | valid | | | |
| strength_card | example_2 | valid | | | |
| strength_card | example_3 | valid | | | |

22 examples are valid as written, 4 only after normalisation, and 13 are invalid. The same
outcomes hold against our own definitions, which match the official ones in everything but
descriptions.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from compass_tui import paths
from compass_tui.persona import load_persona_file
from compass_tui.store import Store
from compass_tui.tools.calls import MAX_STRING_CHARS, parse_call, validate_params
from compass_tui.tools.definitions import OUR_DEFINITIONS, load_definitions
from compass_tui.tools.environment import ToolContext, ToolEnvironment
from compass_tui.vocab import TOOL_FOLDERS, TOOLS

HUNDRED_KB = "x" * 100_000
MUSIC_CALL = {"keywords": ["calm"], "genre": "jazz"}

VALID, NORMALISED, INVALID = "valid", "valid after normalisation", "invalid"
EXAMPLE_OUTCOMES: dict[tuple[str, str], tuple[str, list[str], set[str]]] = {
    ("film_recommendation", "example_1"): (
        NORMALISED,
        ["keyword: 'time travel' read as ['time travel']"],
        set(),
    ),
    ("film_recommendation", "example_2"): (INVALID, [], {"keyword", "page"}),
    ("film_recommendation", "example_3"): (INVALID, [], {"keyword"}),
    ("joke_recommendation", "example_1"): (
        INVALID,
        ["category: 'animal' read as 'Animal'"],
        {"description", "limit"},
    ),
    ("joke_recommendation", "example_2"): (INVALID, [], {"description", "keyword", "limit"}),
    ("joke_recommendation", "example_3"): (INVALID, [], {"description", "keyword", "limit"}),
    ("medical_appointment", "example_1"): (VALID, [], set()),
    ("medical_appointment", "example_2"): (INVALID, [], {"desired_date"}),
    ("medical_appointment", "example_3"): (VALID, [], set()),
    ("medical_appointment", "example_4"): (INVALID, [], {"desired_date"}),
    ("music_recommendation", "example_1"): (INVALID, [], {"limit"}),
    ("music_recommendation", "example_2"): (INVALID, [], {"keyword", "keywords", "limit"}),
    ("music_recommendation", "example_3"): (INVALID, [], {"keywords", "limit"}),
    ("online_shopping", "example_1"): (VALID, [], set()),
    ("online_shopping", "example_2"): (VALID, [], set()),
    ("online_shopping", "example_3"): (VALID, [], set()),
    ("plan_assistant", "example_1"): (VALID, [], set()),
    ("plan_assistant", "example_2"): (VALID, [], set()),
    ("plan_assistant", "example_3"): (VALID, [], set()),
    ("psyweb_recommender", "example_1"): (
        INVALID,
        ["user_group: 'teenager' read as 'Teenager'"],
        {"problem_type", "tags"},
    ),
    ("psyweb_recommender", "example_2"): (
        INVALID,
        ["user_group: 'adult' read as 'Adult'"],
        {"problem_type", "tags"},
    ),
    ("psyweb_recommender", "example_3"): (INVALID, [], {"problem_type", "tags", "user_group"}),
    ("role_play", "example_1"): (VALID, [], set()),
    ("role_play", "example_2"): (VALID, [], set()),
    ("role_play", "example_3"): (VALID, [], set()),
    ("schedule_manager", "example_1"): (VALID, [], set()),
    ("schedule_manager", "example_2"): (VALID, [], set()),
    ("schedule_manager", "example_3"): (VALID, [], set()),
    ("schedule_manager", "example_4"): (VALID, [], set()),
    ("schedule_manager", "example_5"): (VALID, [], set()),
    ("sticker_respond", "example_1"): (NORMALISED, ["alternative_descriptions: null dropped"], set()),
    ("sticker_respond", "example_2"): (
        NORMALISED,
        ["subject: null dropped", "alternative_descriptions: null dropped"],
        set(),
    ),
    ("sticker_respond", "example_3"): (NORMALISED, ["subject: null dropped"], set()),
    ("story_recommender", "example_1"): (VALID, [], set()),
    ("story_recommender", "example_2"): (VALID, [], set()),
    ("story_recommender", "example_3"): (VALID, [], set()),
    ("strength_card", "example_1"): (VALID, [], set()),
    ("strength_card", "example_2"): (VALID, [], set()),
    ("strength_card", "example_3"): (VALID, [], set()),
}


def official_toolenv() -> Path | None:
    shared = paths.shared_compass_bench()
    return shared / "toolenv" if shared and (shared / "toolenv").is_dir() else None


def require_toolenv() -> Path:
    toolenv = official_toolenv()
    if toolenv is None:
        pytest.skip("the ComPASS reference release (../shared/compass-bench) is not present")
    return toolenv


def official_examples(toolenv: Path, folder: str) -> dict[str, dict]:
    examples = json.loads((toolenv / folder / "examples.json").read_text(encoding="utf-8"))
    examples = examples[0] if isinstance(examples, list) else examples
    return {name: example["input"] for name, example in examples.items()}


def persona(persona_id: str):
    return load_persona_file(paths.bundled_personas_dir() / f"{persona_id}.json")


def compass_call(folder: str, params) -> dict:
    return {"tool_folder_name": folder, "function_name": OUR_DEFINITIONS[folder]["name"], "param": params}


def run(env: ToolEnvironment, raw, context: ToolContext | None = None) -> dict:
    return asyncio.run(env.call(raw, context or ToolContext()))


def lexical_environment(root: Path) -> ToolEnvironment:
    return ToolEnvironment.create(Store(root / "data"), search_mode="lexical", cache_dir=root / "cache")


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> ToolEnvironment:
    """One lexical environment shared by the stateless tests of this module."""
    return lexical_environment(tmp_path_factory.mktemp("tools"))


@pytest.fixture
def fresh_env(tmp_path) -> ToolEnvironment:
    """An environment with an empty store, for tests of tool state."""
    return lexical_environment(tmp_path)


# --- definitions -----------------------------------------------------------------------------


def test_our_definitions_name_the_twelve_official_tools():
    assert tuple(OUR_DEFINITIONS) == TOOL_FOLDERS
    assert len(TOOLS) == 12
    assert {folder: d["name"] for folder, d in OUR_DEFINITIONS.items()} == {
        t.folder: t.function for t in TOOLS
    }


def _schema_shape(schema: dict) -> dict:
    """Everything of a parameters schema except descriptions and our enforcement of dependentRequired."""
    properties = {
        name: {key: value for key, value in spec.items() if key != "description"}
        for name, spec in schema["properties"].items()
    }
    return {
        "properties": properties,
        "required": sorted(schema["required"]),
        "type": schema["type"],
        "additionalProperties": schema.get("additionalProperties"),
    }


@pytest.mark.parametrize("folder", TOOL_FOLDERS)
def test_our_definition_equals_the_official_one_but_for_descriptions(folder):
    toolenv = require_toolenv()
    official = json.loads((toolenv / folder / "definition.json").read_text(encoding="utf-8"))
    ours = OUR_DEFINITIONS[folder]
    assert ours["name"] == official["name"]
    assert list(ours["parameters"]["properties"]) == list(official["parameters"]["properties"])
    assert _schema_shape(ours["parameters"]) == _schema_shape(official["parameters"])


def test_the_official_schedule_rules_are_enforced_as_they_mean():
    toolenv = require_toolenv()
    official = json.loads((toolenv / "schedule_manager" / "definition.json").read_text(encoding="utf-8"))
    assert official["parameters"]["dependentRequired"]["add"] == ["time", "location", "event", "duration"]
    definition = load_definitions(toolenv)["schedule_manager"]
    add_without_place = validate_params(
        "schedule_manager",
        {"operation": "add", "time": "2026-03-01 10:00", "event": "walk", "duration": "1 hour"},
        definition,
    )
    delete_without_id = validate_params("schedule_manager", {"operation": "delete"}, definition)
    assert [e.parameter for e in add_without_place.errors] == ["location"]
    assert [e.parameter for e in delete_without_id.errors] == ["schedule_id"]


def test_load_definitions_uses_the_official_files_when_given_a_toolenv():
    toolenv = require_toolenv()
    definitions = load_definitions(toolenv)
    official = json.loads((toolenv / "music_recommendation" / "definition.json").read_text(encoding="utf-8"))
    assert definitions["music_recommendation"]["description"] == official["description"]
    assert (
        load_definitions(None)["music_recommendation"]["description"]
        == OUR_DEFINITIONS["music_recommendation"]["description"]
    )


# --- call forms ------------------------------------------------------------------------------

CALL_FORMS = [
    (
        "compass",
        {"tool_folder_name": "music_recommendation", "function_name": "query_music", "param": MUSIC_CALL},
    ),
    (
        "compass",
        {
            "1": {
                "tool_folder_name": "music_recommendation",
                "function_name": "query_music",
                "param": MUSIC_CALL,
            }
        },
    ),
    ("compass", {"tool_folder_name": "query_music", "param": MUSIC_CALL}),
    ("openai", {"name": "query_music", "arguments": json.dumps(MUSIC_CALL)}),
    ("openai", {"name": "query_music", "arguments": MUSIC_CALL}),
    (
        "openai",
        {"type": "function", "function": {"name": "query_music", "arguments": json.dumps(MUSIC_CALL)}},
    ),
    ("text", "music_recommendation.query_music(keywords=['calm'], genre='jazz')"),
    ("text", '`music_recommendation.query_music(keywords=["calm"], genre="jazz")`'),
    (
        "compass",
        json.dumps(
            {"tool_folder_name": "music_recommendation", "function_name": "query_music", "param": MUSIC_CALL}
        ),
    ),
]


@pytest.mark.parametrize(("form", "raw"), CALL_FORMS)
def test_every_call_form_reads_as_the_same_call(form, raw):
    call = parse_call(raw)
    assert call.problem is None
    assert (call.folder, call.function, call.params, call.form) == (
        "music_recommendation",
        "query_music",
        MUSIC_CALL,
        form,
    )


def test_every_call_form_gives_the_same_result(env):
    records = [run(env, raw) for _, raw in CALL_FORMS]
    assert all(record["ok"] for record in records)
    first = records[0]["result"]
    assert [song["genre"] for song in first] == ["jazz"] * 5
    assert all(record["result"] == first for record in records)


BAD_CALLS = [
    (42, "malformed_call", None),
    (None, "malformed_call", None),
    ("please play some music", "malformed_call", None),
    ('{"tool_folder_name": ', "malformed_call", None),
    ("music_recommendation.query_music(keywords=[calm])", "malformed_call", None),
    ({"foo": 1}, "malformed_call", None),
    ({"name": "query_music", "arguments": '{"keywords": '}, "malformed_call", None),
    ({"name": "query_music", "arguments": '["calm"]'}, "invalid_params", None),
    (
        {"tool_folder_name": "weather_forecast", "function_name": "get_weather", "param": {}},
        "unknown_tool",
        None,
    ),
    ({"name": "get_weather", "arguments": "{}"}, "unknown_tool", None),
    (
        {"tool_folder_name": "music_recommendation", "function_name": "search_jokes", "param": MUSIC_CALL},
        "unknown_tool",
        None,
    ),
    ("weather.get_weather(city='Oslo')", "unknown_tool", None),
]


@pytest.mark.parametrize(("raw", "code", "parameter"), BAD_CALLS)
def test_bad_calls_come_back_as_structured_errors(env, raw, code, parameter):
    record = run(env, raw)
    assert record["ok"] is False
    assert record["result"] is None
    assert record["error"]["code"] == code
    assert record["error"]["parameter"] == parameter
    assert record["error"]["message"]
    assert record["latency_ms"] >= 0


def test_unknown_tool_and_function_are_named_in_the_message(env):
    unknown_tool = run(
        env, {"tool_folder_name": "weather_forecast", "function_name": "get_weather", "param": {}}
    )
    wrong_function = run(
        env, compass_call("music_recommendation", MUSIC_CALL) | {"function_name": "search_jokes"}
    )
    assert unknown_tool["error"]["message"] == "unknown tool 'weather_forecast'"
    assert wrong_function["error"]["message"] == (
        "tool 'music_recommendation' has no function 'search_jokes' (it has 'query_music')"
    )


# --- success paths ---------------------------------------------------------------------------


def _check_music(result):
    assert [song["genre"] for song in result] == ["classical"] * 5
    assert result[0]["title"] == "Nuvole Bianche"
    assert all(song["url"].startswith("https://") for song in result)


def _check_films(result):
    assert 1 <= len(result) <= 5
    assert all(7.0 <= film["vote_average"] for film in result)
    assert all("Animation" in film["genres"] for film in result)


def _check_jokes(result):
    assert [joke["category"] for joke in result] == ["Animal"] * 3
    assert result[0]["title"] == "The Breakfast Meeting"


def _check_stories(result):
    assert len(result) == 2
    assert result[0]["title"] == "The Tortoise and the Hare"


def _check_pages(result):
    assert len(result) == 2
    assert result[0]["problem_type"] == "Body image"
    assert {page["user_group"] for page in result} <= {"Children", "General"}
    assert result[0]["link"].startswith("https://")


def _check_cards(result):
    assert len(result) == 3
    assert all(card["name"] and card["description"] and card["encouragement"] for card in result)
    assert not any("{situation_hint}" in card["encouragement"] for card in result)


def _check_stickers(result):
    assert [sticker["name"] for sticker in result] == ["hug-bear", "hug-bear-big"]


def _check_schedule(result):
    assert result == [True, "Schedule added successfully, ID: sch_1"]


def _check_appointment(result):
    assert result["success"] is True
    booked = result["result"]
    assert (booked["appointment_id"], booked["department"], booked["appointment_date"]) == (
        "APT-0001",
        "Respiratory Medicine",
        "2026-03-02 09:00",
    )


def _check_shopping(result):
    product, order = result
    assert product.startswith("Product Name: Weighted Blanket\nType: Home Goods\n")
    assert "Features: washable, single bed size" in product
    assert order.startswith("Order Confirmation\nOrder ID: ORD")
    assert "Order Status: Confirmed" in order


def _check_plan(result):
    assert result.startswith("## Fitness plan: run my first 5k")
    assert "### 4. Your requirements\n- only 20 minutes a day" in result


def _check_roleplay(result):
    assert result.startswith(
        "[Samwise Gamgee from The Lord of the Rings, as your old friend, in a gentle voice] Ada, "
    )
    assert "\u201cI failed my exam.\u201d" in result


SUCCESS_CASES = [
    (
        "music_recommendation",
        {"keywords": ["calm", "piano"], "genre": "classical"},
        "retrieval",
        _check_music,
    ),
    (
        "film_recommendation",
        {"keyword": ["family", "adventure"], "genres": ["animated"], "min_rating": 7},
        "retrieval",
        _check_films,
    ),
    (
        "joke_recommendation",
        {"description": "cat breakfast morning", "category": "Animal"},
        "retrieval",
        _check_jokes,
    ),
    (
        "story_recommender",
        {"user_prompt": "I am slow but I keep going and never stop", "theme": "Adversity and Resilience"},
        "retrieval",
        _check_stories,
    ),
    (
        "psyweb_recommender",
        {
            "situation": "kids laughed at my tummy at the pool",
            "problem_type": "Body image",
            "user_group": "Children",
            "topk": 2,
        },
        "retrieval",
        _check_pages,
    ),
    ("strength_card", {"situation": "I failed my driving test again"}, "retrieval", _check_cards),
    ("sticker_respond", {"tag": "comforting", "subject": "bear", "topk": 2}, "retrieval", _check_stickers),
    (
        "schedule_manager",
        {
            "operation": "add",
            "time": "2026-03-02 10:00",
            "location": "Park",
            "event": "Walk",
            "duration": "1 hour",
        },
        "stateful",
        _check_schedule,
    ),
    (
        "medical_appointment",
        {"operation": "book", "desired_date": "2026-03-02", "illness_description": "a persistent cough"},
        "stateful",
        _check_appointment,
    ),
    (
        "online_shopping",
        {
            "item_type": "Home Goods",
            "item_name": "weighted blanket",
            "item_features": ["washable", "single bed size"],
        },
        "offline template",
        _check_shopping,
    ),
    (
        "plan_assistant",
        {
            "plan": "run my first 5k",
            "theme": "Fitness plan",
            "additional_requirements": "only 20 minutes a day",
        },
        "offline template",
        _check_plan,
    ),
    (
        "role_play",
        {
            "name": "Samwise Gamgee",
            "ip": "The Lord of the Rings",
            "relationship": "old friend",
            "style": "Gentle",
            "user_name": "Ada",
            "user_input": "I failed my exam.",
        },
        "offline template",
        _check_roleplay,
    ),
]


def test_success_cases_cover_all_twelve_tools():
    assert sorted(folder for folder, *_ in SUCCESS_CASES) == sorted(TOOL_FOLDERS)


@pytest.mark.parametrize(
    ("folder", "params", "mode", "check"), SUCCESS_CASES, ids=[c[0] for c in SUCCESS_CASES]
)
def test_each_tool_succeeds_offline(fresh_env, folder, params, mode, check):
    record = run(fresh_env, compass_call(folder, params))
    assert record["error"] is None
    assert record["ok"] is True
    assert record["mode"] == mode
    assert record["search"] == ("lexical" if mode == "retrieval" else None)
    assert record["validation"] == {"valid": True, "strict_valid": True, "normalisations": [], "errors": []}
    check(record["result"])


@pytest.mark.parametrize(
    ("folder", "params", "mode", "check"),
    [case for case in SUCCESS_CASES if case[2] != "stateful"],
    ids=[c[0] for c in SUCCESS_CASES if c[2] != "stateful"],
)
def test_stateless_tools_are_deterministic(env, tmp_path, folder, params, mode, check):
    again = lexical_environment(tmp_path)
    first, second, third = (
        run(env, compass_call(folder, params)),
        run(env, compass_call(folder, params)),
        run(again, compass_call(folder, params)),
    )
    assert first["ok"] and second["ok"] and third["ok"]
    assert first["result"] == second["result"] == third["result"]


def test_normalisations_are_applied_and_recorded(env):
    record = run(
        env, compass_call("music_recommendation", {"keywords": "calm", "genre": "JAZZ", "artist": None})
    )
    assert record["ok"] is True
    assert record["params"] == {"keywords": ["calm"], "genre": "jazz"}
    assert record["validation"]["strict_valid"] is False
    assert record["validation"]["normalisations"] == [
        "keywords: 'calm' read as ['calm']",
        "genre: 'JAZZ' read as 'jazz'",
        "artist: null dropped",
    ]
    assert [song["genre"] for song in record["result"]] == ["jazz"] * 5


def test_a_filter_that_matches_nothing_is_relaxed_with_a_note(env):
    record = run(
        env, compass_call("music_recommendation", {"keywords": ["calm"], "artist": "Nobody Atall Xyzzy"})
    )
    assert record["ok"] is True
    assert record["notes"] == ["no songs by 'Nobody Atall Xyzzy' here; showing the closest matches instead"]
    assert len(record["result"]) == 5


# --- error paths -----------------------------------------------------------------------------

ERROR_CASES = [
    ("music_recommendation", {"keywords": ["calm"], "genre": "k-pop"}, "invalid_params", "genre"),
    ("music_recommendation", {"genre": "jazz"}, "invalid_params", "keywords"),
    ("music_recommendation", {"keywords": 5}, "invalid_params", "keywords"),
    ("music_recommendation", {"keywords": ["calm", 7]}, "invalid_params", "keywords.1"),
    ("music_recommendation", {"keywords": ["calm"], "limit": 3}, "invalid_params", "limit"),
    ("film_recommendation", {"keyword": ["space"], "min_rating": "high"}, "invalid_params", "min_rating"),
    ("film_recommendation", {"keyword": ["space"], "max_rating": 11}, "invalid_params", "max_rating"),
    (
        "film_recommendation",
        {"keyword": ["space"], "min_vote_count": 2.5},
        "invalid_params",
        "min_vote_count",
    ),
    ("film_recommendation", {"keyword": ["space"], "include_adult": "no"}, "invalid_params", "include_adult"),
    ("joke_recommendation", {"description": "dads", "category": "Dad jokes"}, "invalid_params", "category"),
    ("joke_recommendation", {"description": HUNDRED_KB}, "invalid_params", "description"),
    ("story_recommender", {"user_prompt": "sad", "theme": "Horror"}, "invalid_params", "theme"),
    (
        "psyweb_recommender",
        {"situation": "lonely", "problem_type": "Loneliness"},
        "invalid_params",
        "user_group",
    ),
    (
        "psyweb_recommender",
        {"situation": "lonely", "problem_type": "Loneliness", "user_group": "Adult", "topk": "three"},
        "invalid_params",
        "topk",
    ),
    ("strength_card", {"situation": HUNDRED_KB}, "invalid_params", "situation"),
    ("strength_card", {"situation": 5}, "invalid_params", "situation"),
    ("sticker_respond", {"subject": "cat"}, "invalid_params", "tag"),
    ("schedule_manager", {"operation": "remove"}, "invalid_params", "operation"),
    (
        "schedule_manager",
        {"operation": "add", "time": "tomorrow", "location": "Park", "event": "Walk", "duration": "1 hour"},
        "invalid_params",
        "time",
    ),
    (
        "schedule_manager",
        {"operation": "add", "time": "2026-03-02 10:00", "location": "Park", "event": "Walk"},
        "invalid_params",
        "duration",
    ),
    ("schedule_manager", {"operation": "delete"}, "invalid_params", "schedule_id"),
    ("schedule_manager", {"operation": "delete", "schedule_id": "7"}, "invalid_params", "schedule_id"),
    (
        "schedule_manager",
        {"operation": "update", "schedule_id": "sch_99", "event": "Run"},
        "not_found",
        "schedule_id",
    ),
    (
        "schedule_manager",
        {
            "operation": "add",
            "time": "2026-03-02 10:00",
            "location": HUNDRED_KB,
            "event": "Walk",
            "duration": "1 hour",
        },
        "invalid_params",
        "location",
    ),
    (
        "medical_appointment",
        {"operation": "book", "desired_date": "03/01/2026"},
        "invalid_params",
        "desired_date",
    ),
    ("medical_appointment", {"operation": "book"}, "invalid_params", "desired_date"),
    (
        "medical_appointment",
        {"operation": "cancel", "desired_date": "2026-03-01", "appointment_id": "APT-9999"},
        "not_found",
        "appointment_id",
    ),
    (
        "medical_appointment",
        {"operation": "modify", "desired_date": "2026-03-01"},
        "invalid_params",
        "appointment_id",
    ),
    (
        "online_shopping",
        {"item_type": "Home Goods", "item_name": "blanket", "item_features": {"soft": True}},
        "invalid_params",
        "item_features",
    ),
    (
        "online_shopping",
        {"item_type": "Home Goods", "item_name": "blanket"},
        "invalid_params",
        "item_features",
    ),
    ("plan_assistant", {"plan": HUNDRED_KB}, "invalid_params", "plan"),
    ("plan_assistant", {"plan": "a trip", "budget": "low"}, "invalid_params", "budget"),
    ("role_play", {"name": "Sam"}, "invalid_params", "user_input"),
]


@pytest.mark.parametrize(
    ("folder", "params", "code", "parameter"),
    ERROR_CASES,
    ids=[f"{c[0]}-{c[3]}-{i}" for i, c in enumerate(ERROR_CASES)],
)
def test_each_error_names_the_parameter(fresh_env, folder, params, code, parameter):
    record = run(fresh_env, compass_call(folder, params))
    assert record["ok"] is False
    assert record["result"] is None
    assert (record["error"]["code"], record["error"]["parameter"]) == (code, parameter)


def test_error_messages_say_what_is_wrong(env):
    def message(folder, params):
        return run(env, compass_call(folder, params))["error"]["message"]

    assert message("music_recommendation", {"keywords": ["x"], "genre": "k-pop"}).startswith(
        "'k-pop' is not allowed; choose one of: pop, rock, classical"
    )
    assert message("medical_appointment", {"operation": "book", "desired_date": "03/01/2026"}) == (
        "desired_date '03/01/2026' is not a date as YYYY-MM-DD"
    )
    assert message("schedule_manager", {"operation": "query", "time": "tomorrow"}) == (
        "time 'tomorrow' is not a date as YYYY-MM-DD HH:MM"
    )
    assert message("strength_card", {"situation": HUNDRED_KB}) == (
        f"situation is 100,000 characters; the limit is {MAX_STRING_CHARS:,}"
    )
    assert message("role_play", {"name": "Sam"}) == "missing required parameter 'user_input'"
    assert message("plan_assistant", {"plan": "x", "budget": 1, "when": 2}) == "unknown parameter 'budget'"


def test_several_unknown_parameters_are_each_named():
    validation = validate_params(
        "plan_assistant", {"plan": "x", "budget": 1, "when": 2}, OUR_DEFINITIONS["plan_assistant"]
    )
    assert [(e.code, e.parameter) for e in validation.errors] == [
        ("invalid_params", "budget"),
        ("invalid_params", "when"),
    ]


def test_a_tool_that_breaks_is_recorded_not_raised(tmp_path):
    tool_data = tmp_path / "tool_data"
    tool_data.mkdir()
    (tool_data / "music.json").write_text("[]", encoding="utf-8")
    env = ToolEnvironment.create(Store(tmp_path / "data"), tool_data=tool_data, search_mode="lexical")
    record = run(env, compass_call("music_recommendation", {"keywords": ["calm"]}))
    assert record["ok"] is False
    assert record["error"] == {
        "code": "tool_failed",
        "parameter": None,
        "message": f"InputError: {tool_data / 'music.json'}: expected a non-empty JSON array of music",
    }


def test_an_error_leaves_no_tool_state_behind(fresh_env):
    record = run(
        fresh_env,
        compass_call(
            "schedule_manager",
            {
                "operation": "add",
                "time": "tomorrow",
                "location": "Park",
                "event": "Walk",
                "duration": "1 hour",
            },
        ),
    )
    assert record["ok"] is False
    assert not (fresh_env.stateful.store.root / "tool_state").exists()


# --- official examples -----------------------------------------------------------------------


def test_the_outcome_table_covers_every_official_example_and_is_documented():
    toolenv = require_toolenv()
    found = {(folder, name) for folder in TOOL_FOLDERS for name in official_examples(toolenv, folder)}
    assert found == set(EXAMPLE_OUTCOMES)
    for (folder, name), (outcome, _, _) in EXAMPLE_OUTCOMES.items():
        assert f"| {folder} | {name} | {outcome} |" in __doc__
    outcomes = [outcome for outcome, _, _ in EXAMPLE_OUTCOMES.values()]
    assert (outcomes.count(VALID), outcomes.count(NORMALISED), outcomes.count(INVALID)) == (22, 4, 13)


@pytest.mark.parametrize("definitions_of", ["official", "ours"])
@pytest.mark.parametrize(
    ("folder", "name"), sorted(EXAMPLE_OUTCOMES), ids=[f"{f}-{n}" for f, n in sorted(EXAMPLE_OUTCOMES)]
)
def test_official_example_validates_as_the_table_says(folder, name, definitions_of):
    toolenv = require_toolenv()
    definition = load_definitions(toolenv if definitions_of == "official" else None)[folder]
    outcome, normalisations, offending = EXAMPLE_OUTCOMES[(folder, name)]
    validation = validate_params(folder, official_examples(toolenv, folder)[name], definition)
    assert validation.valid is (outcome != INVALID)
    assert validation.strict_valid is (outcome == VALID)
    assert validation.normalisations == normalisations
    assert {error.parameter for error in validation.errors} == offending
    assert all(error.code == "invalid_params" for error in validation.errors)


def test_the_official_schedule_examples_run_in_order_with_the_official_outputs(fresh_env):
    toolenv = require_toolenv()
    examples = json.loads((toolenv / "schedule_manager" / "examples.json").read_text(encoding="utf-8"))
    context = ToolContext(persona("adam-kerr"), scope="examples")
    results = {
        name: run(fresh_env, compass_call("schedule_manager", example["input"]), context)
        for name, example in examples.items()
    }
    assert all(record["ok"] for record in results.values())
    for name in ("example_1", "example_3", "example_4"):
        assert results[name]["result"] == examples[name]["output"]
    assert [entry["id"] for entry in results["example_2"]["result"]] == ["sch_1"]
    assert results["example_5"]["result"] == []


# --- tool state ------------------------------------------------------------------------------


def _add(env, context, event, time="2026-03-02 10:00"):
    return run(
        env,
        compass_call(
            "schedule_manager",
            {"operation": "add", "time": time, "location": "Park", "event": event, "duration": "1 hour"},
        ),
        context,
    )


def _schedule(env, context) -> list[dict]:
    record = run(env, compass_call("schedule_manager", {"operation": "get_all"}), context)
    assert record["ok"] is True
    return record["result"]


def test_each_persona_has_its_own_schedule(fresh_env):
    adam, haruko = ToolContext(persona("adam-kerr"), "run-1"), ToolContext(persona("haruko-okumura"), "run-1")
    assert _add(fresh_env, adam, "Walk")["result"] == [True, "Schedule added successfully, ID: sch_1"]
    assert _add(fresh_env, adam, "Swim")["result"] == [True, "Schedule added successfully, ID: sch_2"]
    assert _add(fresh_env, haruko, "Tea")["result"] == [True, "Schedule added successfully, ID: sch_1"]
    assert [(e["id"], e["event"]) for e in _schedule(fresh_env, adam)] == [
        ("sch_1", "Walk"),
        ("sch_2", "Swim"),
    ]
    assert [(e["id"], e["event"]) for e in _schedule(fresh_env, haruko)] == [("sch_1", "Tea")]


def test_each_scope_has_its_own_state_and_reset_clears_only_one(fresh_env):
    adam = persona("adam-kerr")
    run_a, run_b, haruko_a = (
        ToolContext(adam, "run-a"),
        ToolContext(adam, "run-b"),
        ToolContext(persona("haruko-okumura"), "run-a"),
    )
    _add(fresh_env, run_a, "Walk")
    _add(fresh_env, run_b, "Chess")
    _add(fresh_env, haruko_a, "Tea")
    shard = fresh_env.stateful.store.path("tool_state", "run-a", "adam-kerr.json")
    assert shard.is_file()
    fresh_env.reset_state("run-a", "adam-kerr")
    assert not shard.exists()
    assert _schedule(fresh_env, run_a) == []
    assert [e["event"] for e in _schedule(fresh_env, run_b)] == ["Chess"]
    assert [e["event"] for e in _schedule(fresh_env, haruko_a)] == ["Tea"]
    assert _add(fresh_env, run_a, "Again")["result"] == [True, "Schedule added successfully, ID: sch_1"]


def test_tool_state_is_saved_in_the_store(fresh_env):
    context = ToolContext(persona("adam-kerr"), "run-1")
    _add(fresh_env, context, "Walk")
    reopened = ToolEnvironment.create(fresh_env.stateful.store, search_mode="lexical")
    assert [e["event"] for e in _schedule(reopened, context)] == ["Walk"]


def test_schedule_results_list_what_changed(fresh_env):
    context = ToolContext(persona("adam-kerr"), "run-1")
    added = _add(fresh_env, context, "Walk")
    [change] = added["changes"]
    assert (change["op"], change["id"], change["after"]["event"]) == ("add", "sch_1", "Walk")
    assert "before" not in change

    updated = run(
        fresh_env,
        compass_call(
            "schedule_manager", {"operation": "update", "schedule_id": "sch_1", "time": "2026-03-03 09:00"}
        ),
        context,
    )
    [change] = updated["changes"]
    assert (change["op"], change["id"]) == ("update", "sch_1")
    assert (change["before"]["time"], change["after"]["time"]) == ("2026-03-02 10:00", "2026-03-03 09:00")
    assert change["after"]["event"] == "Walk"

    queried = run(
        fresh_env, compass_call("schedule_manager", {"operation": "query", "event": "walk"}), context
    )
    assert queried["changes"] == []
    assert [e["time"] for e in queried["result"]] == ["2026-03-03 09:00"]

    deleted = run(
        fresh_env, compass_call("schedule_manager", {"operation": "delete", "schedule_id": "sch_1"}), context
    )
    [change] = deleted["changes"]
    assert (change["op"], change["id"], change["before"]["time"]) == ("delete", "sch_1", "2026-03-03 09:00")
    assert deleted["result"] == [True, "Schedule sch_1 has been deleted"]
    assert _schedule(fresh_env, context) == []


def test_appointments_list_what_changed_and_use_the_persona(fresh_env):
    context = ToolContext(persona("haruko-okumura"), "run-1")

    def appointment(params):
        return run(fresh_env, compass_call("medical_appointment", params), context)

    booked = appointment(
        {"operation": "book", "desired_date": "2026-03-02", "illness_description": "knee pain"}
    )
    [change] = booked["changes"]
    assert (change["op"], change["id"]) == ("book", "APT-0001")
    assert (change["after"]["user_name"], change["after"]["user_phone"]) == (
        "Haruko Okumura",
        "075-555-0148 (landline)",
    )
    assert change["after"]["department"] == "Orthopaedics"

    modified = appointment(
        {"operation": "modify", "appointment_id": "APT-0001", "desired_date": "2026-03-05"}
    )
    [change] = modified["changes"]
    assert (change["op"], change["before"]["desired_date"], change["after"]["desired_date"]) == (
        "modify",
        "2026-03-02",
        "2026-03-05",
    )
    assert modified["result"]["result"]["appointment_date"].startswith("2026-03-05 ")

    cancelled = appointment(
        {"operation": "cancel", "appointment_id": "APT-0001", "desired_date": "2026-03-05"}
    )
    [change] = cancelled["changes"]
    assert (change["op"], change["before"]["status"], change["after"]["status"]) == (
        "cancel",
        "confirmed",
        "cancelled",
    )
    queried = appointment({"operation": "query", "desired_date": "2026-03-05", "user_name": "haruko"})
    assert [(a["id"], a["status"]) for a in queried["result"]["result"]] == [("APT-0001", "cancelled")]
    assert queried["changes"] == []

    other = ToolContext(persona("adam-kerr"), "run-1")
    elsewhere = run(
        fresh_env,
        compass_call(
            "medical_appointment",
            {"operation": "cancel", "appointment_id": "APT-0001", "desired_date": "2026-03-05"},
        ),
        other,
    )
    assert (elsewhere["error"]["code"], elsewhere["error"]["parameter"]) == ("not_found", "appointment_id")
