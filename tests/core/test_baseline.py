"""The offline baseline agent over every bundled persona: valid, preference-aware, deterministic, no network."""

from __future__ import annotations

import asyncio
import re
import socket
from datetime import date, datetime
from pathlib import Path

import pytest
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from compass_tui.baseline import keywords, stated_time
from compass_tui.library import PersonaLibrary
from compass_tui.persona import Situation
from compass_tui.pipeline import System
from compass_tui.prompts import our_prompts
from compass_tui.records import load_records, load_run_meta
from compass_tui.runner import RunPlan, execute_run
from compass_tui.store import Store
from compass_tui.tools.calls import validate_params
from compass_tui.tools.data import ToolData
from compass_tui.tools.definitions import load_definitions
from compass_tui.tools.environment import ToolEnvironment
from compass_tui.tools.summary import main_item
from compass_tui.vocab import POSITIVE_EMOTIONS, SCENARIO_BY_KEY, TOOL_BY_FOLDER

TODAY = date(2025, 3, 12)  # a Wednesday
# Openers that belong to bad news; none may open a reply to a happy, or a fondly nostalgic, user.
NEGATIVE_OPENER = re.compile(
    r"\b(hard|sorry|rough|tough|heavy|painful|frightening|difficult|unfair|infuriating|stings)\b", re.I
)
BITTERSWEET = {"nostalgic", "sentimental"}
DARK_FILM_MOODS = {"heartbreaking", "haunting", "melancholy", "tense", "eerie", "suspenseful", "tragic"}
DARK_FILM_GENRES = {"War", "Horror", "Thriller", "Crime"}
SAD_SONG_MOODS = {"melancholy", "grief", "lonely", "longing", "bittersweet", "sad"}


class NetworkAttempted(AssertionError):
    pass


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection fails the test."""

    def refuse(self, address, *args):
        raise NetworkAttempted(f"the baseline tried to connect to {address!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


@pytest.fixture
def bundled(data_dir):
    personas = PersonaLibrary(data_dir).select("bundled")
    assert len(personas) >= 10
    return {persona.id: persona for persona in personas}


def run_baseline(cli, name: str, *extra: str) -> None:
    code, out, err = cli(
        "run", "--personas", "bundled", "--models", "baseline", "--name", name, "--search", "lexical", *extra
    )
    assert code == 0, err


def test_no_socket_is_opened_while_the_guard_is_on(no_network):
    with pytest.raises(NetworkAttempted):
        socket.create_connection(("127.0.0.1", 9), timeout=1)


def test_every_bundled_situation_gets_a_valid_tool_call_it_likes_with_no_network(
    cli, data_dir, bundled, no_network
):
    run_baseline(cli, "base")
    records = load_records(Store(data_dir), "base")
    assert len(records) == sum(len(persona.situations) for persona in bundled.values())
    definitions = load_definitions()
    liked_there = 0
    for record in records:
        persona = bundled[record["persona_id"]]
        situation = persona.situations[record["situation_index"]]
        call = record["tool_call"]
        assert record["status"] == "done" and record["response"]
        assert record["stage1"]["by"] == "baseline" and record["stage2"]["by"] == "baseline"
        assert call["function_name"] == TOOL_BY_FOLDER[call["tool_folder_name"]].function
        validation = validate_params(
            call["tool_folder_name"], call["param"], definitions[call["tool_folder_name"]]
        )
        assert validation.valid, (record["key"], validation.errors)
        assert record["tool_result"]["ok"] is True, (record["key"], record["tool_result"]["error"])
        assert record["stage1"]["declared_scenario"] == SCENARIO_BY_KEY[situation.scenario_type].compass_key
        liked = persona.tool_preferences.for_scenario(situation.scenario_type).liked
        if liked:
            liked_there += 1
            assert call["tool_folder_name"] in liked, (record["key"], situation.scenario_type, liked)
    assert liked_there >= 100  # the check above is not vacuous
    assert load_run_meta(Store(data_dir), "base").status == "finished"


def test_the_baseline_is_deterministic(cli, data_dir, no_network):
    run_baseline(cli, "first")
    run_baseline(cli, "second")
    first, second = (load_records(Store(data_dir), name) for name in ("first", "second"))
    assert len(first) == len(second) > 0
    assert [(r["key"], r["tool_call"], r["response"]) for r in first] == [
        (r["key"], r["tool_call"], r["response"]) for r in second
    ]
    assert [r["tool_result"]["result"] for r in first] == [r["tool_result"]["result"] for r in second]


def test_the_baseline_in_the_history_setting_learns_from_likes_and_dislikes(
    cli, data_dir, bundled, no_network
):
    run_baseline(cli, "hist", "--setting", "history")
    records = load_records(Store(data_dir), "hist")
    by_persona: dict[str, list[dict]] = {}
    for record in records:
        by_persona.setdefault(record["persona_id"], []).append(record)
    refused_somewhere = booked = 0
    for persona_id, persona_records in by_persona.items():
        persona = bundled[persona_id]
        assert [r["situation_index"] for r in persona_records] == list(range(len(persona.situations)))
        assert [r["scored"] for r in persona_records] == [
            i >= len(persona.situations) - 3 for i in range(len(persona.situations))
        ]
        for record in persona_records:
            situation = persona.situations[record["situation_index"]]
            liked = persona.tool_preferences.for_scenario(situation.scenario_type).liked
            expected = "like" if record["tool_call"]["tool_folder_name"] in liked else "dislike"
            assert record["status"] == "done"
            assert record["feedback"] == {
                "label": expected,
                "by": "rule",
                "tool": record["tool_call"]["tool_folder_name"],
                "scenario_type": situation.scenario_type,
            }
        # Once a tool earned a like in a scenario type, the baseline keeps to liked tools there; a tool
        # that earned a dislike there is not offered there again.
        earned: dict[str, set[str]] = {}
        refused: dict[str, set[str]] = {}
        for record in persona_records:
            scenario_type = persona.situations[record["situation_index"]].scenario_type
            tool = record["tool_call"]["tool_folder_name"]
            where = (persona_id, record["situation_index"])
            if earned.get(scenario_type):
                assert tool in earned[scenario_type], where
            assert tool not in refused.get(scenario_type, set()), where
            learned = earned if record["feedback"]["label"] == "like" else refused
            learned.setdefault(scenario_type, set()).add(tool)
            refused_somewhere += record["feedback"]["label"] == "dislike"
            booked += tool == "medical_appointment"
    assert refused_somewhere > 10  # the dislike rule above is not vacuous
    assert booked <= 3  # without a persona, an appointment is booked only where the words ask for one


def test_the_empathetic_baseline_calls_no_tool(cli, data_dir, no_network):
    code, _, err = cli("run", "--personas", "adam-kerr", "--setting", "empathetic", "--name", "emp")
    assert code == 0, err
    records = load_records(Store(data_dir), "emp")
    assert len(records) == 15
    for record in records:
        assert record["status"] == "done" and record["tool_call"] is None and record["tool_result"] is None
        assert "tool" not in record["response"].lower() and record["response"].endswith(
            "I'm here and listening."
        )


@pytest.fixture(scope="module")
def every_reply(tmp_path_factory) -> list[tuple[Situation, dict]]:
    """The baseline over all 150 bundled situations (profile setting, lexical search): (situation, record)."""
    root = tmp_path_factory.mktemp("baseline-all")
    store = Store(root)
    personas = PersonaLibrary(Path("/nonexistent")).select("bundled")
    plan = RunPlan("all", "profile", [System("baseline")], personas, our_prompts(), today=TODAY)
    env = ToolEnvironment.create(store, search_mode="lexical", cache_dir=root / "cache")
    asyncio.run(execute_run(plan, store, env))
    by_id = {persona.id: persona for persona in personas}
    pairs = [(by_id[r["persona_id"]].situations[r["situation_index"]], r) for r in load_records(store, "all")]
    assert len(pairs) == 150
    return pairs


def _item(record: dict) -> str | None:
    result = record["tool_result"]
    return main_item(result["tool_folder_name"], result["result"], result["params"])


def _paragraphs(record: dict) -> list[str]:
    return record["response"].split("\n\n")


def _of_tool(every_reply, folder: str) -> list[tuple[Situation, dict]]:
    chosen = [(s, r) for s, r in every_reply if r["tool_call"]["tool_folder_name"] == folder]
    assert chosen, f"no bundled situation used {folder}"
    return chosen


def test_nine_in_ten_replies_name_the_tool_results_main_item(every_reply):
    named = [r["key"] for _, r in every_reply if (item := _item(r)) and item.rstrip("…") in r["response"]]
    assert len(named) >= 0.9 * len(every_reply), len(named)


def test_closings_vary_with_the_situation(every_reply):
    closings = {_paragraphs(r)[-1] for _, r in every_reply}
    assert len(closings) >= 20, closings


def test_no_negative_opener_for_a_happy_or_fondly_nostalgic_user(every_reply):
    glad = [(s, r) for s, r in every_reply if s.emotion_label in POSITIVE_EMOTIONS | BITTERSWEET]
    assert len(glad) >= 60
    negative = [
        (s.emotion_label, _paragraphs(r)[0]) for s, r in glad if NEGATIVE_OPENER.search(_paragraphs(r)[0])
    ]
    assert negative == []


def test_every_schedule_reply_states_the_time_it_booked(every_reply):
    for situation, record in _of_tool(every_reply, "schedule_manager"):
        booked = record["tool_call"]["param"]["time"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", booked)
        assert booked in record["response"], record["response"]
        if not stated_time(situation.utterance, TODAY).stated:
            assert "You didn't say when" in record["response"]


def test_role_play_answers_in_character_instead_of_echoing(every_reply):
    for situation, record in _of_tool(every_reply, "role_play"):
        character = record["tool_call"]["param"]["name"]
        spoken = [p for p in _paragraphs(record) if p.startswith("> ")]
        assert f"**{character}**" in record["response"] and spoken
        assert situation.utterance[:40] not in record["response"]


def test_search_keywords_are_topical_phrases(every_reply):
    for _, record in _of_tool(every_reply, "music_recommendation") + _of_tool(
        every_reply, "film_recommendation"
    ):
        param = record["tool_call"]["param"]
        for phrase in param.get("keywords") or param["keyword"]:
            assert "'" not in phrase and phrase not in ENGLISH_STOP_WORDS, (record["key"], phrase)


def test_keywords_name_topics_not_words():
    utterance = (
        "Would've been Mum's birthday today. Made her karahi, and it smelled exactly like her kitchen."
    )
    assert keywords(utterance) == ["grief", "mother", "birthday"]
    assert keywords("Nothing much.", scenario_type="leisure") == ["free time"]


def test_films_and_songs_fit_the_users_mood(every_reply):
    films = {film["title"]: film for film in ToolData().movies.items}
    songs = {(song["title"], song["artist"]): song for song in ToolData().music.items}
    for situation, record in _of_tool(every_reply, "film_recommendation"):
        film = films[record["tool_result"]["result"][0]["title"]]
        dark = DARK_FILM_MOODS & set(film["moods"]) | DARK_FILM_GENRES & set(film["genres"])
        assert not dark, (record["key"], situation.emotion_label, film["title"], dark)
    for situation, record in _of_tool(every_reply, "music_recommendation"):
        top = record["tool_result"]["result"][0]
        song = songs[(top["title"], top["artist"])]
        if situation.emotion_label in POSITIVE_EMOTIONS:
            assert not SAD_SONG_MOODS & set(song["moods"]), (record["key"], song["title"], song["moods"])


@pytest.mark.parametrize(
    ("utterance", "expected", "stated"),
    [
        ("Can we talk at 3pm?", "2025-03-13 15:00", True),
        ("Tomorrow morning works.", "2025-03-13 09:00", True),
        ("I present my case on Friday.", "2025-03-14 10:00", True),
        ("The van comes Tuesday and Friday at nine.", "2025-03-18 09:00", True),
        ("Maybe next week.", "2025-03-17 10:00", True),
        ("Alarm's on for quarter to five.", "2025-03-13 04:45", True),
        ("Half past six tonight, then.", "2025-03-12 18:30", True),
        ("The review is in three weeks.", "2025-04-02 10:00", True),
        ("I'm not going back there for a month.", "2025-03-13 18:00", False),
        ("Nothing planned at all.", "2025-03-13 18:00", False),
    ],
)
def test_the_schedule_time_comes_from_the_utterance_or_the_stated_default(utterance, expected, stated):
    found = stated_time(utterance, TODAY)
    assert (found.when, found.stated) == (datetime.fromisoformat(expected), stated)
