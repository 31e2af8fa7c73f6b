"""`runs import FILE`: ComPASS result files in both shapes, for users of the imported shared test set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compass_tui.compass_format import load_compass_file
from compass_tui.jsonio import load_json
from compass_tui.records import load_records, load_run_meta
from compass_tui.store import Store

MUSIC = {
    "tool_folder_name": "music_recommendation",
    "function_name": "query_music",
    "param": {"keywords": ["calm", "focus"], "genre": "jazz"},
}
CARD = {"tool_folder_name": "strength_card", "function_name": "strengthcard", "param": {"situation": "exams"}}


@pytest.fixture
def imported(cli, data_dir, shared_test_set):
    """The shared test set imported into the data dir; returns its users by id, as ComPASS wrote them."""
    code, _, err = cli("personas", "import", shared_test_set)
    assert code == 0, err
    return load_json(shared_test_set)


def write(tmp_path: Path, name: str, document) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


def history_file(tmp_path: Path, users: dict) -> Path:
    """The history-based script's shape, interactions out of order so that only the utterance tells the situation."""
    utterances = users["3"]["utterance"]
    interactions = [
        {
            "user_utterance": utterances[14],
            "scenario": "Leisure",
            "tool_call": {
                "1": {
                    "tool_call": MUSIC,
                    "tool_raw_result": [{"title": "So What"}],
                    "generated_feedback": "Try some Miles Davis tonight.",
                    "execute_success": True,
                }
            },
            "user_feedback": "Like",
        },
        {
            "user_utterance": utterances[2],
            "scenario": "Work/Study",
            "tool_call": {
                "1": {
                    "tool_call": "strength_card.strengthcard(situation='a tough semester')",
                    "tool_raw_result": "error",
                    "generated_feedback": "You have grit.",
                    "execute_success": False,
                }
            },
            "user_feedback": "Dislike",
        },
        {
            "user_utterance": utterances[0],
            "scenario": "Social",
            "tool_call": {
                "1": {
                    "tool_call": {"tool_folder_name": "dance_party", "function_name": "boogie", "param": {}},
                    "tool_raw_result": None,
                    "generated_feedback": "Let's dance!",
                }
            },
            "user_feedback": "Dislike",
        },
    ]
    return write(tmp_path, "history_results.json", {"user_interactions": {"3": interactions}})


def profile_file(tmp_path: Path, users: dict) -> Path:
    """inference_respond.py's shape: the response in "tool_call"."1", the flags of first and best attempt."""
    first, second = users["7"]["utterance"], users["12"]["utterance"]
    return write(
        tmp_path,
        "profile_results.json",
        {
            "user_interactions": {
                "7": [
                    {
                        "user_utterance": first[5],
                        "scenario": "Work/Study",
                        "tool_call": {
                            "1": {
                                "tool_call": CARD,
                                "tool_raw_result": "[{'name': 'Perseverance'}]",
                                "generated_feedback": '{"feedback": "You kept going. That is perseverance."}',
                                "execute_success": True,
                            }
                        },
                        "execution_success": False,
                        "three_execution_success": True,
                    },
                    {
                        "user_utterance": first[1],
                        "tool_call": {
                            "1": {
                                "tool_call": {**MUSIC, "param": {"genre": "jazz"}},
                                "tool_raw_result": "None",
                                "generated_feedback": "Some jazz for you.",
                            }
                        },
                    },
                ],
                "12": [
                    {
                        "user_utterance": second[9],
                        "tool_call": {
                            "1": {"tool_call": CARD, "tool_raw_result": "[]", "execute_success": True}
                        },
                        "execution_success": True,
                        "three_execution_success": True,
                    },
                ],
            }
        },
    )


def by_index(records: list[dict], persona_id: str) -> dict[int, dict]:
    return {r["situation_index"]: r for r in records if r["persona_id"] == persona_id}


def test_a_history_based_result_file_becomes_a_run(cli, data_dir, tmp_path, imported):
    path = history_file(tmp_path, imported)
    code, out, err = cli("runs", "import", path, "--model", "gpt-4o", "--json")
    assert code == 0, err
    assert json.loads(out) == {
        "run_id": "import-history_results",
        "setting": "history",
        "history": True,
        "shape": "history",
        "records": 3,
        "users": 1,
        "scored": 1,
        "responses": 3,
        "tool_calls_only": 0,
        "errors": 0,
        "tool_call_failed": 0,
    }
    meta = load_run_meta(Store(data_dir), "import-history_results")
    assert (meta.setting, meta.models, meta.personas, meta.status, meta.source) == (
        "history",
        ["gpt-4o"],
        ["compass-3"],
        "finished",
        "import:history_results.json",
    )
    records = by_index(load_records(Store(data_dir), "import-history_results"), "compass-3")
    assert sorted(records) == [0, 2, 14]
    for index, record in records.items():
        assert record["utterance"] == imported["3"]["utterance"][index]
        assert (
            record["scored"] is (index >= 12) and record["model"] == "gpt-4o" and record["status"] == "done"
        )

    liked = records[14]
    assert liked["tool_call"] == MUSIC
    assert liked["tool_result"]["ok"] is True and liked["tool_result"]["result"] == [{"title": "So What"}]
    assert liked["tool_result"]["validation"]["valid"] is True
    assert liked["response"] == "Try some Miles Davis tonight."
    assert liked["feedback"] == {"label": "like", "by": "imported", "text": "Like"}
    assert liked["stage1"]["declared_scenario"] == "Leisure"

    failed = records[2]  # the text form of a call, reported as not executed
    assert failed["tool_call"] == {
        "tool_folder_name": "strength_card",
        "function_name": "strengthcard",
        "param": {"situation": "a tough semester"},
    }
    assert failed["tool_result"]["ok"] is False and failed["tool_result"]["form"] == "text"
    assert failed["response"] == "You have grit." and failed["feedback"]["label"] == "dislike"

    unknown = records[0]
    assert unknown["tool_result"]["ok"] is False and unknown["tool_result"]["error"]["code"] == "unknown_tool"
    assert unknown["response"] == "Let's dance!"


def test_a_profile_based_result_file_becomes_a_run(cli, data_dir, tmp_path, imported):
    path = profile_file(tmp_path, imported)
    code, out, err = cli("runs", "import", path, "--name", "prof", "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert (summary["run_id"], summary["setting"], summary["shape"], summary["history"]) == (
        "prof",
        "profile",
        "profile",
        None,
    )
    assert (summary["records"], summary["users"], summary["scored"], summary["errors"]) == (3, 2, 3, 1)
    meta = load_run_meta(Store(data_dir), "prof")
    assert (meta.setting, meta.models, sorted(meta.personas)) == (
        "profile",
        ["profile_results"],
        ["compass-12", "compass-7"],
    )
    records = load_records(Store(data_dir), "prof")
    seven, twelve = by_index(records, "compass-7"), by_index(records, "compass-12")
    assert sorted(seven) == [1, 5] and sorted(twelve) == [9]
    assert all(r["scored"] is True and r["feedback"] is None for r in records)

    card = seven[5]
    assert card["utterance"] == imported["7"]["utterance"][5]
    assert card["tool_call"] == CARD and card["tool_result"]["ok"] is True
    assert card["tool_result"]["result"] == [{"name": "Perseverance"}]
    assert card["response"] == "You kept going. That is perseverance." and card["status"] == "done"
    assert card["response_raw"] == '{"feedback": "You kept going. That is perseverance."}'
    assert (card["first_attempt_success"], card["final_success"]) == (False, True)

    music = seven[1]  # no success field: judged by validation, which misses the required keywords
    assert music["response"] == "Some jazz for you."
    assert music["tool_result"]["ok"] is False
    assert music["tool_result"]["error"]["code"] == "invalid_params"
    assert music["tool_result"]["error"]["parameter"] == "keywords"

    no_response = twelve[9]
    assert no_response["status"] == "error" and no_response["response"] is None
    assert no_response["error"]["kind"] == "missing"

    code, out, _ = cli("runs", "show", "prof", "--json")
    assert code == 0 and len(json.loads(out)["records"]) == 3


def test_imported_personas_match_the_test_set(imported, shared_test_set, data_dir):
    personas = {p.id: p for p in load_compass_file(shared_test_set)}
    assert personas["compass-3"].situations[14].utterance == imported["3"]["utterance"][14]
    assert (data_dir / "personas" / "compass-3.json").is_file()


def test_a_file_without_user_interactions_is_refused(cli, data_dir, tmp_path):
    path = write(tmp_path, "not_results.json", {"0": {"utterance": []}})
    code, out, err = cli("runs", "import", path)
    assert code == 2 and out == ""
    assert (
        err.strip()
        == f"compass-tui: {path}: user_interactions: missing field (expected a ComPASS result file)"
    )
    assert not (data_dir / "runs").exists()


def test_a_user_with_no_imported_persona_is_refused_and_nothing_is_written(cli, data_dir, tmp_path, imported):
    path = write(
        tmp_path,
        "stranger.json",
        {
            "user_interactions": {
                "3": [{"utterance": imported["3"]["utterance"][0], "tool_call": CARD, "tool_call_all": "hi"}],
                "4711": [{"utterance": "hello", "tool_call": CARD, "tool_call_all": "hi"}],
            }
        },
    )
    code, _, err = cli("runs", "import", path)
    assert code == 2 and err.count("\n") == 1
    assert "user_interactions.4711: no imported persona with this user id" in err
    assert not (data_dir / "runs").exists()


def test_a_second_models_results_join_the_same_run(cli, data_dir, tmp_path, imported):
    path = profile_file(tmp_path, imported)
    assert cli("runs", "import", path, "--name", "both", "--model", "gpt")[0] == 0
    assert cli("runs", "import", path, "--name", "both", "--model", "claude")[0] == 0
    meta = load_run_meta(Store(data_dir), "both")
    assert meta.models == ["gpt", "claude"] and meta.source == "import:profile_results.json"
    assert sorted(meta.personas) == ["compass-12", "compass-7"]
    records = load_records(Store(data_dir), "both")
    assert sorted((r["model"], r["persona_id"], r["situation_index"]) for r in records) == sorted(
        (model, persona, index)
        for model in ("gpt", "claude")
        for persona, index in (("compass-7", 1), ("compass-7", 5), ("compass-12", 9))
    )


def test_importing_into_a_run_of_another_setting_is_refused(cli, data_dir, tmp_path, imported):
    assert cli("runs", "import", profile_file(tmp_path, imported), "--name", "mixed")[0] == 0
    code, _, err = cli("runs", "import", history_file(tmp_path, imported), "--name", "mixed")
    assert code != 0 and len(err.strip().splitlines()) == 1
    assert "run 'mixed' exists with setting 'profile', not 'history'" in err
    assert load_run_meta(Store(data_dir), "mixed").models == ["profile_results"]
    assert {r["model"] for r in load_records(Store(data_dir), "mixed")} == {"profile_results"}
