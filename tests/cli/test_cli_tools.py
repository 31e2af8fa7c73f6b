"""`compass-tui tools list|show|call|reset`, run in-process through conftest's `cli` runner.

Each test gets its own data dir (conftest's `data_dir`) and an empty config file, and calls
retrieval tools with `--search lexical` so that no embedding model is loaded here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compass_tui import paths
from compass_tui.tools.definitions import OUR_DEFINITIONS
from compass_tui.vocab import TOOLS

CALM = '{"keywords": ["calm", "piano"], "genre": "classical"}'
ADD_WALK = (
    '{"operation": "add", "time": "2026-03-02 10:00", "location": "Park", "event": "Walk", '
    '"duration": "1 hour"}'
)


@pytest.fixture(autouse=True)
def home(data_dir, tmp_path, monkeypatch) -> Path:
    """The isolated data dir of conftest's `data_dir`, with no tool settings from the environment."""
    for name in (
        "COMPASS_TUI_TOOL_DATA",
        "COMPASS_TUI_EMBEDDING_MODEL",
        "COMPASS_TUI_TOOL_MODEL",
        "COMPASS_TUI_DATA_DIR",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return data_dir


def unwrapped(text: str) -> str:
    """Rich wraps human output at the terminal width; join it back for matching."""
    return " ".join(text.split())


def test_list_shows_the_twelve_tools(cli):
    code, out, err = cli("tools", "list")
    assert (code, err) == (0, "")
    for tool in TOOLS:
        assert tool.folder in out


def test_list_json_gives_folders_functions_kinds_and_data(cli):
    code, out, _ = cli("tools", "list", "--json")
    rows = json.loads(out)
    assert code == 0
    assert [(row["folder"], row["function"]) for row in rows] == [(t.folder, t.function) for t in TOOLS]
    kinds = {row["folder"]: row["kind"] for row in rows}
    assert kinds["music_recommendation"] == "retrieval"
    assert kinds["schedule_manager"] == kinds["medical_appointment"] == "stateful"
    assert kinds["plan_assistant"] == kinds["online_shopping"] == kinds["role_play"] == "generation"
    music = json.loads((paths.bundled_tool_data_dir() / "music.json").read_text(encoding="utf-8"))
    data = {row["folder"]: row["data"] for row in rows}
    assert (
        data["music_recommendation"] == f"{len(music)} items · {paths.bundled_tool_data_dir() / 'music.json'}"
    )
    assert data["role_play"] == "offline template"


@pytest.mark.parametrize("name", ["search_jokes", "joke_recommendation"])
def test_show_takes_a_function_or_folder_name(cli, name):
    code, out, _ = cli("tools", "show", name, "--json")
    shown = json.loads(out)
    assert code == 0
    assert shown["tool_folder_name"] == "joke_recommendation"
    assert shown["definition"] == OUR_DEFINITIONS["joke_recommendation"]
    expected_examples = 3 if paths.shared_compass_bench() else 0
    assert len(shown["examples"]) == expected_examples


def test_show_prints_the_schema(cli):
    code, out, _ = cli("tools", "show", "strengthcard")
    assert code == 0
    assert out.startswith("strength_card.strengthcard  ")
    assert '"required": [\n    "situation"\n  ]' in out


def test_show_an_unknown_tool_is_a_one_line_error(cli):
    code, out, err = cli("tools", "show", "weather")
    assert (code, out) == (2, "")
    assert err == "compass-tui: NAME: unknown tool 'weather'; see `compass-tui tools list`\n"


def test_call_json_prints_the_record(cli):
    code, out, err = cli("tools", "call", "query_music", "--params", CALM, "--search", "lexical", "--json")
    record = json.loads(out)
    assert (code, err) == (0, "")
    assert record["ok"] is True
    assert (record["tool_folder_name"], record["function_name"], record["search"]) == (
        "music_recommendation",
        "query_music",
        "lexical",
    )
    assert [song["genre"] for song in record["result"]] == ["classical"] * 5
    assert record["result"][0]["title"] == "Nuvole Bianche"


def test_call_by_folder_prints_the_result_and_the_search_mode(cli):
    code, out, _ = cli("tools", "call", "music_recommendation", "--params", CALM, "--search", "lexical")
    assert code == 0
    assert '"title": "Nuvole Bianche"' in out
    assert out.rstrip().endswith("lexical search (TF-IDF): lexical search chosen")


def test_call_a_generation_tool_says_it_is_offline(cli):
    code, out, _ = cli("tools", "call", "generate_plan", "--params", '{"plan": "run my first 5k"}')
    assert code == 0
    assert "## Personal action plan: run my first 5k" in out
    assert out.rstrip().endswith("offline template (no tool model configured)")


@pytest.mark.parametrize("params", ['{"keywords": ["calm"', "not json", '{"keywords": NaN}'])
def test_bad_params_json_exits_2_with_one_line(cli, home, params):
    code, out, err = cli("tools", "call", "schedule_api", "--params", params, "--persona", "adam-kerr")
    assert (code, out) == (2, "")
    assert err.startswith("compass-tui: --params")
    assert err.count("\n") == 1
    assert not (home / "tool_state").exists()


@pytest.mark.parametrize(
    ("name", "params", "line"),
    [
        (
            "query_music",
            '{"keywords": ["calm"], "genre": "k-pop"}',
            "--params: genre: 'k-pop' is not allowed; choose one of: pop,",
        ),
        (
            "medical_appointment_operation",
            '{"operation": "book", "desired_date": "03/01/2026"}',
            "--params: desired_date: desired_date '03/01/2026' is not a date as YYYY-MM-DD",
        ),
        ("strengthcard", '["sad"]', "--params: parameters must be an object, not list"),
        ("query_music", '{"keywords": ["calm"], "tempo": 3}', "--params: tempo: unknown parameter 'tempo'"),
        (
            "medical_appointment_operation",
            '{"operation": "cancel", "desired_date": "2026-03-02"}',
            "--params: appointment_id: appointment_id is needed for this operation",
        ),
    ],
)
@pytest.mark.parametrize("as_json", [False, True])
def test_params_the_tool_cannot_take_exit_2_with_one_line(cli, home, name, params, line, as_json):
    code, out, err = cli(
        "tools", "call", name, "--params", params, "--search", "lexical", *(["--json"] if as_json else [])
    )
    assert (code, out) == (2, "")
    assert err.startswith(f"compass-tui: {line}")
    assert err.count("\n") == 1


def test_an_unknown_tool_exits_2_with_one_line(cli):
    code, out, err = cli("tools", "call", "weather", "--params", "{}")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and "NAME: unknown tool 'weather'" in err


def test_stateful_calls_keep_state_per_persona_until_reset(cli, cli_schedule, home):
    code, out, _ = cli("tools", "call", "schedule_api", "--params", ADD_WALK, "--persona", "adam-kerr")
    assert code == 0
    assert "changed: add sch_1" in out
    assert (home / "tool_state" / "cli" / "adam-kerr.json").is_file()

    assert [(e["id"], e["event"]) for e in cli_schedule("adam-kerr")] == [("sch_1", "Walk")]
    assert cli_schedule("haruko-okumura") == []
    assert cli_schedule("adam-kerr", "--scope", "run-7") == []

    code, out, _ = cli("tools", "reset", "--persona", "adam-kerr")
    assert code == 0 and "Reset the schedule and appointments of adam-kerr in scope 'cli'." in unwrapped(out)
    assert cli_schedule("adam-kerr") == []


def test_a_missing_schedule_id_exits_1_naming_it(cli):
    code, out, _ = cli(
        "tools",
        "call",
        "schedule_api",
        "--params",
        '{"operation": "delete", "schedule_id": "sch_42"}',
        "--persona",
        "adam-kerr",
    )
    assert code == 1
    assert unwrapped(out) == "error not_found (schedule_id): no schedule 'sch_42'"


def test_an_unknown_persona_is_a_one_line_error(cli):
    code, out, err = cli(
        "tools", "call", "schedule_api", "--params", '{"operation": "get_all"}', "--persona", "nobody-here"
    )
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and "no persona 'nobody-here'" in err


def test_the_appointment_uses_the_persona_details(cli):
    code, out, _ = cli(
        "tools",
        "call",
        "medical_appointment",
        "--persona",
        "haruko-okumura",
        "--json",
        "--params",
        '{"operation": "book", "desired_date": "2026-03-02", "illness_description": "I cannot sleep"}',
    )
    record = json.loads(out)
    assert code == 0
    after = record["changes"][0]["after"]
    assert (after["user_name"], after["department"]) == ("Haruko Okumura", "Sleep Medicine")
