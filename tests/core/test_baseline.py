"""The offline baseline agent over every bundled persona: valid, preference-aware, deterministic, no network."""

from __future__ import annotations

import socket

import pytest

from compass_tui.library import PersonaLibrary
from compass_tui.records import load_records, load_run_meta
from compass_tui.store import Store
from compass_tui.tools.calls import validate_params
from compass_tui.tools.definitions import load_definitions
from compass_tui.vocab import SCENARIO_BY_KEY, TOOL_BY_FOLDER


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
    assert load_run_meta(Store(data_dir), "base")["status"] == "finished"


def test_the_baseline_is_deterministic(cli, data_dir, no_network):
    run_baseline(cli, "first")
    run_baseline(cli, "second")
    first, second = (load_records(Store(data_dir), name) for name in ("first", "second"))
    assert len(first) == len(second) > 0
    assert [(r["key"], r["tool_call"], r["response"]) for r in first] == [
        (r["key"], r["tool_call"], r["response"]) for r in second
    ]
    assert [r["tool_result"]["result"] for r in first] == [r["tool_result"]["result"] for r in second]


def test_the_baseline_in_the_history_setting_learns_from_likes_only(cli, data_dir, bundled, no_network):
    run_baseline(cli, "hist", "--setting", "history")
    records = load_records(Store(data_dir), "hist")
    by_persona: dict[str, list[dict]] = {}
    for record in records:
        by_persona.setdefault(record["persona_id"], []).append(record)
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
        # Once a tool earned a like in a scenario type, the baseline keeps to liked tools there.
        earned: dict[str, set[str]] = {}
        for record in persona_records:
            scenario_type = persona.situations[record["situation_index"]].scenario_type
            tool = record["tool_call"]["tool_folder_name"]
            if earned.get(scenario_type):
                assert tool in earned[scenario_type], (persona_id, record["situation_index"])
            if record["feedback"]["label"] == "like":
                earned.setdefault(scenario_type, set()).add(tool)


def test_the_empathetic_baseline_calls_no_tool(cli, data_dir, no_network):
    code, _, err = cli("run", "--personas", "adam-kerr", "--setting", "empathetic", "--name", "emp")
    assert code == 0, err
    records = load_records(Store(data_dir), "emp")
    assert len(records) == 15
    for record in records:
        assert record["status"] == "done" and record["tool_call"] is None and record["tool_result"] is None
        assert "tool" not in record["response"].lower() and record["response"].startswith("That")
