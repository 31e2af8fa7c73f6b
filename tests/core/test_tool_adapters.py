"""The tools on ComPASS's own data: `--tool-data ../shared/compass-bench/toolenv`.

The original files are read through adapters (music, stories, psychology pages, jokes, the
schedule seed); the catalogues the release lacks (films, stickers, strengths, hospitals)
come from ours, and `ToolData.sources()` says which is which. Every test skips cleanly when
the reference release is not beside the checkout.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

import pytest

from compass_tui import paths
from compass_tui.errors import InputError
from compass_tui.persona import load_persona_file
from compass_tui.store import Store
from compass_tui.tools.data import ToolData
from compass_tui.tools.definitions import OUR_DEFINITIONS
from compass_tui.tools.environment import ToolContext, ToolEnvironment
from compass_tui.vocab import TOOL_FOLDERS

REPO_ROOT = Path(__file__).resolve().parents[2]
OURS_ONLY = ("movies", "strengths", "stickers", "hospitals")
FROM_COMPASS = {
    "music": "music_recommendation/music_data.json",
    "stories": "story_recommender/stories.json",
    "psychology_pages": "psyweb_recommender/psy_webDataset.json",
    "jokes": "joke_recommendation/stupidstuff.json",
}


@pytest.fixture(scope="module")
def toolenv() -> Path:
    shared = paths.shared_compass_bench()
    if shared is None or not (shared / "toolenv" / "music_recommendation" / "music_data.json").is_file():
        pytest.skip("the ComPASS reference release (../shared/compass-bench) is not present")
    return shared / "toolenv"


@pytest.fixture(scope="module")
def data(toolenv) -> ToolData:
    return ToolData(toolenv)


@pytest.fixture
def env(toolenv, tmp_path) -> ToolEnvironment:
    return ToolEnvironment.create(
        Store(tmp_path / "data"), tool_data=toolenv, search_mode="lexical", cache_dir=tmp_path / "cache"
    )


def raw(toolenv: Path, relative: str):
    return json.loads((toolenv / relative).read_text(encoding="utf-8"))


def persona(persona_id: str):
    return load_persona_file(paths.bundled_personas_dir() / f"{persona_id}.json")


def call(env: ToolEnvironment, folder: str, params: dict, context: ToolContext | None = None) -> dict:
    raw_call = {"tool_folder_name": folder, "function_name": OUR_DEFINITIONS[folder]["name"], "param": params}
    return asyncio.run(env.call(raw_call, context or ToolContext()))


def test_the_toolenv_is_recognised_and_its_catalogues_are_adapted(data, toolenv):
    assert data.toolenv == toolenv
    assert len(data.music.items) == 760
    assert len(data.stories.items) == 1002
    assert len(data.psychology_pages.items) == 1000
    with_body = [joke for joke in raw(toolenv, FROM_COMPASS["jokes"]) if str(joke.get("body") or "").strip()]
    assert len(data.jokes.items) == len(with_body) == 3200


def test_sources_say_which_catalogue_comes_from_where(data, toolenv):
    sources = data.sources()
    for name, relative in FROM_COMPASS.items():
        assert sources[name] == f"ComPASS {toolenv / relative}"
    for name in OURS_ONLY:
        assert sources[name] == str(paths.bundled_tool_data_dir() / f"{name}.json")


def test_music_fields_are_adapted(data, toolenv):
    original = raw(toolenv, FROM_COMPASS["music"])
    song = next(
        item
        for item in data.music.items
        if (item["title"], item["artist"]) == ("Feeling Good", "Nina Simone")
    )
    source = next(
        item for item in original if (item["title"], item["artist"]) == ("Feeling Good", "Nina Simone")
    )
    assert (song["id"], song["artist"], song["genre"], song["duration"], song["url"]) == (
        source["id"],
        "Nina Simone",
        "jazz",
        source["duration"],
        source["url"],
    )
    assert song["description"] == source["description"]
    assert {item["genre"] for item in data.music.items} <= set(
        OUR_DEFINITIONS["music_recommendation"]["parameters"]["properties"]["genre"]["enum"]
    )


def test_psychology_user_groups_are_mapped_onto_the_enum(data, toolenv):
    original = Counter(
        str(item.get("user_group")).strip() for item in raw(toolenv, FROM_COMPASS["psychology_pages"])
    )
    adapted = Counter(page["user_group"] for page in data.psychology_pages.items)
    assert adapted == {
        "Elder": original["Elderly"],
        "Children": original["Child"],
        "Adult": original["Adult"],
        "Teenager": original["Teenager"],
        "General": original["General"],
    }
    assert adapted["General"] == 220
    hearing = [p for p in data.psychology_pages.items if p["tags"] and p["tags"][0] == "Hearing voices"]
    assert hearing and {p["problem_type"] for p in hearing} == {"Hearing voices (auditory hallucinations)"}


def test_joke_categories_are_mapped_onto_the_enum(data):
    categories = Counter(joke["category"] for joke in data.jokes.items)
    assert categories["Animal"] == 74 and "Animals" not in categories
    assert categories["Lightbulb"] == 120 and categories["Men / Women"] == 190 + 144
    joke = next(j for j in data.jokes.items if j["category"] == "Lightbulb")
    assert joke["source_category"] == "Light Bulbs"


def test_story_themes_are_mapped_onto_the_enum_where_unambiguous(data, toolenv):
    original = Counter(story.get("theme") for story in raw(toolenv, FROM_COMPASS["stories"]))
    themes = Counter(story["theme"] for story in data.stories.items)
    enum = set(OUR_DEFINITIONS["story_recommender"]["parameters"]["properties"]["theme"]["enum"])
    assert set(themes) == enum | {"Interpersonal and Self"}
    assert (
        themes["Career and Development"] == original["Career and Development"] + original["Career and Growth"]
    )
    assert themes["Interpersonal and Self"] == original["Interpersonal and Self"]
    renamed = next(story for story in data.stories.items if story.get("source_theme") == "Daily Mood")
    assert renamed["theme"] == "Daily Emotions and Mood"


def test_the_schedule_seed_is_the_official_database(data, toolenv):
    assert data.schedule_seed == raw(toolenv, "schedule_manager/schedule_db.json")
    assert len(data.schedule_seed) == 628


def test_every_persona_starts_from_the_seeded_schedule(env):
    adam, haruko = ToolContext(persona("adam-kerr"), "run-1"), ToolContext(persona("haruko-okumura"), "run-1")
    everything = call(env, "schedule_manager", {"operation": "get_all"}, adam)
    assert everything["ok"] is True
    assert len(everything["result"]) == 628
    assert {entry["id"] for entry in everything["result"]} == {f"sch_{n}" for n in range(1, 629)}
    times = [entry["time"] for entry in everything["result"]]
    assert times == sorted(times)

    added = call(
        env,
        "schedule_manager",
        {
            "operation": "add",
            "time": "2026-04-01 10:00",
            "location": "Library",
            "event": "Book club",
            "duration": "1 hour",
        },
        adam,
    )
    assert added["result"] == [True, "Schedule added successfully, ID: sch_629"]
    deleted = call(env, "schedule_manager", {"operation": "delete", "schedule_id": "sch_1"}, adam)
    assert deleted["result"] == [True, "Schedule sch_1 has been deleted"]
    assert deleted["changes"][0]["before"]["event"].startswith("Family study time together")

    assert len(call(env, "schedule_manager", {"operation": "get_all"}, adam)["result"]) == 628
    untouched = call(env, "schedule_manager", {"operation": "get_all"}, haruko)["result"]
    assert len(untouched) == 628 and "sch_1" in {entry["id"] for entry in untouched}


def test_reset_restores_the_seeded_schedule(env):
    adam = ToolContext(persona("adam-kerr"), "run-1")
    call(env, "schedule_manager", {"operation": "delete", "schedule_id": "sch_5"}, adam)
    assert len(call(env, "schedule_manager", {"operation": "get_all"}, adam)["result"]) == 627
    env.reset_state("run-1", "adam-kerr")
    assert len(call(env, "schedule_manager", {"operation": "get_all"}, adam)["result"]) == 628


def test_retrieval_on_compass_data_returns_compass_items(env, toolenv):
    music = call(
        env,
        "music_recommendation",
        {"keywords": ["freedom", "feeling good"], "artist": "nina simone", "genre": "jazz"},
    )
    assert music["ok"] is True and music["search"] == "lexical"
    assert music["result"] and {song["artist"] for song in music["result"]} == {"Nina Simone"}
    assert "Feeling Good" in [song["title"] for song in music["result"]]

    jokes = call(env, "joke_recommendation", {"description": "a lawyer in court", "category": "lawyer"})
    assert jokes["ok"] is True and jokes["notes"] == []
    assert [joke["category"] for joke in jokes["result"]] == ["Lawyer"] * 3

    stories = call(
        env, "story_recommender", {"user_prompt": "an old man who dreams of chivalry and fights windmills"}
    )
    titles = {story["title"] for story in raw(toolenv, FROM_COMPASS["stories"])}
    assert stories["ok"] is True and len(stories["result"]) == 2
    assert {story["title"] for story in stories["result"]} <= titles

    pages = call(
        env,
        "psyweb_recommender",
        {
            "situation": "I am old and feel lonely since my wife died",
            "problem_type": "Loneliness",
            "user_group": "Elder",
            "topk": 3,
        },
    )
    assert pages["ok"] is True and len(pages["result"]) == 3
    assert {page["user_group"] for page in pages["result"]} <= {"Elder", "General"}
    assert pages["result"][0]["problem_type"] == "Loneliness"
    links = {page["link"] for page in raw(toolenv, FROM_COMPASS["psychology_pages"])}
    assert {page["link"] for page in pages["result"]} <= links


def test_the_official_definitions_are_used(env, toolenv):
    official = raw(toolenv, "strength_card/definition.json")
    assert env.definitions["strength_card"]["description"] == official["description"]


def _official_examples(toolenv: Path, folder: str) -> dict:
    examples = raw(toolenv, f"{folder}/examples.json")
    return examples[0] if isinstance(examples, list) else examples


def test_the_valid_official_examples_run_on_compass_data(env, toolenv):
    context = ToolContext(persona("adam-kerr"), "examples")
    outcomes = {}
    for folder in TOOL_FOLDERS:
        for name, example in _official_examples(toolenv, folder).items():
            record = call(env, folder, example["input"], context)
            if record["validation"]["valid"]:
                outcomes[(folder, name)] = (record["ok"], record["error"] and record["error"]["code"])
    failures = {key: outcome for key, outcome in outcomes.items() if outcome != (True, None)}
    assert len(outcomes) == 26
    # The example modifies appointment "a1b2c3d4-...", which was never booked in this store.
    assert failures == {("medical_appointment", "example_3"): (False, "not_found")}


def test_the_cli_reads_the_toolenv_given_as_a_relative_path(
    toolenv, data_dir, cli, cli_schedule, monkeypatch
):
    monkeypatch.chdir(REPO_ROOT)
    code, out, _ = cli("--tool-data", "../shared/compass-bench/toolenv", "tools", "list", "--json")
    rows = {row["folder"]: row for row in json.loads(out)}
    assert code == 0
    assert rows["music_recommendation"]["data"] == (
        "760 items · ComPASS ../shared/compass-bench/toolenv/music_recommendation/music_data.json"
    )
    assert rows["joke_recommendation"]["data"].startswith("3200 items · ComPASS ")
    assert rows["sticker_respond"]["data"].endswith(str(paths.bundled_tool_data_dir() / "stickers.json"))

    toolenv_option = ("--tool-data", "../shared/compass-bench/toolenv")
    assert len(cli_schedule("adam-kerr", "--search", "lexical", global_options=toolenv_option)) == 628


def test_a_broken_compass_file_is_one_input_error(tmp_path):
    toolenv = tmp_path / "toolenv"
    (toolenv / "music_recommendation").mkdir(parents=True)
    (toolenv / "music_recommendation" / "music_data.json").write_text('{"not": "a list"}')
    data = ToolData(toolenv)
    with pytest.raises(InputError) as caught:
        _ = data.music
    assert (
        str(caught.value) == f"{toolenv / 'music_recommendation' / 'music_data.json'}: expected a JSON array"
    )
    assert len(data.stories.items) == len(
        json.loads((paths.bundled_tool_data_dir() / "stories.json").read_text())
    )
