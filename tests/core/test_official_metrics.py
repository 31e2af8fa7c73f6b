"""Imported official result files against the official evaluation scripts, run on the same files.

The scripts' `ToolCallEvaluator` classes are loaded with `ast` from ../shared/compass-bench/code (never
copied) and run with a scripted judge; their Distinct values and counts are what they measure per
item. The official scripts compute no pass rate; the reference rates are the share of true values of
the official fields, a tool_call_failed item counting as a failure. Skipped when the release is absent.
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

import pytest
from official_support import official_evaluator, run_script, scripted_evaluator

from compass_tui.jsonio import load_json
from compass_tui.records import load_records
from compass_tui.store import Store
from compass_tui.tools.summary import main_item, result_summary

MUSIC = {
    "tool_folder_name": "music_recommendation",
    "function_name": "query_music",
    "param": {"keywords": ["calm"]},
}
SONGS = [{"title": "So What", "artist": "Miles Davis", "genre": "jazz", "year": 1959, "moods": ("calm",)}]
REPLIES = [
    "Try some Miles Davis tonight, it is calm and warm.",
    "I hear you. Music can help: here is a calm jazz track for the evening!",
    "That sounds hard, and you handled it well; a quiet song, maybe?",
]
LIKED = "I’m very satisfied with this tool for this scenario."
ANNOYED = "In this situation, I’m quite annoyed with this tool."


@pytest.fixture
def users(cli, data_dir, shared_test_set):
    code, _, err = cli("personas", "import", shared_test_set)
    assert code == 0, err
    return load_json(shared_test_set)


def _script(bench: Path, name: str) -> Path:
    script = bench / "code" / name
    if not script.is_file():
        pytest.skip(f"{script} is not present")
    return script


class ScriptedJudge:
    def llm_request(self, system_prompt, prompt, model_name=None):
        return True, '{"explanation": "ok", "score": [3, 3, 3, 3, 3, 3]}'


def user_info(users: dict, tmp_path: Path) -> Path:
    """test_set_restructured.json as the scripts read it: persona, scenarios and utterances per user."""
    info = {
        uid: {"persona": {"name": u["name"]}, "scenarios": u["scenarios"], "utterance": u["utterance"]}
        for uid, u in users.items()
    }
    path = tmp_path / "users.json"
    path.write_text(json.dumps(info), encoding="utf-8")
    return path


def run_evaluator(evaluator_class: type, script: Path, file: Path, users: dict, tmp_path: Path, folder: Path):
    """Run an official evaluator (a capturing subclass) over `file` alone, with the scripted judge."""
    folder.mkdir()
    (folder / file.name).write_text(file.read_text(encoding="utf-8"), encoding="utf-8")
    template = "{persona} {scenario} {utterance} {tool_call}"
    evaluator = scripted_evaluator(evaluator_class, folder, folder, template, template, ScriptedJudge)
    run_script(evaluator, script, user_info(users, tmp_path))


def official_distinct(script: Path, file: Path, users: dict, tmp_path: Path, name: str) -> list[tuple]:
    """The (D-1, D-2) the official script computes for each item it evaluates in `file`."""
    base = official_evaluator(script)
    measured: list[tuple] = []

    class Capturing(base):  # type: ignore[misc, valid-type]
        def eval_single_utterance(self, **item):
            result = super().eval_single_utterance(**item)
            measured.append((result["distinct_n"]["D_1"], result["distinct_n"]["D_2"]))
            return result

        def eval_utterance(self, *item):
            result = super().eval_utterance(*item)
            measured.append((result["distinct"]["d1"], result["distinct"]["d2"]))
            return result

    run_evaluator(Capturing, script, file, users, tmp_path, tmp_path / f"official-{name}")
    return measured


def write(tmp_path: Path, name: str, interactions: dict) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"user_interactions": interactions}, ensure_ascii=False), encoding="utf-8")
    return path


def step(reply: str, ran: bool = True, retried: bool | None = None, raw: bool = True) -> dict:
    """A "tool_call"."1" step; `retried` adds the history scripts' 3turn_execute_success."""
    entry = {
        "tool_call": MUSIC,
        "tool_raw_result": str(SONGS),  # str(result), as the scripts keep it
        "generated_feedback": json.dumps({"feedback": reply}, ensure_ascii=False) if raw else reply,
        "execute_success": ran,
    }
    if retried is not None:
        entry |= {"3turn_execute_success": retried, "feedback_success": True}
    return entry


def profile_interactions(utterances: list[str], shift: int) -> list[dict]:
    """inference_respond.py's best-of-3 file: a step, or the raw choice in tool_call_all on failure."""
    interactions = []
    for index, utterance in enumerate(utterances):
        first, best = (index + shift) % 4 != 0, (index + shift) % 5 != 0
        if not best:
            interactions.append(
                {
                    "user_utterance": utterance,
                    "tool_call_all": '{"scenario": "Leisure", "1": {"tool_folder_name": "nowhere"}}',
                    "error": "No tool call '1' found",
                    "execution_success": False,
                    "three_execution_success": False,
                }
            )
            continue
        interactions.append(
            {
                "user_utterance": utterance,
                "scenario": "Leisure",
                "tool_call": {"1": step(REPLIES[(index + shift) % 3] + f" ({index})", ran=True)},
                "execution_success": first,
                "three_execution_success": True,
            }
        )
    return interactions


def history_interactions(utterances: list[str], failed: bool) -> list[dict]:
    """tool_invoc_with_his.py: 15 turns with the simulator's record; turn 13 may be tool_call_failed."""
    interactions = []
    for index, utterance in enumerate(utterances):
        if failed and index == 13:
            interactions.append({"user_utterance": utterance, "tool_call_failed": "not JSON at all"})
            continue
        reply = REPLIES[index % 3] + " " + " ".join(["again"] * (index % 4))
        liked = index % 2 == 0
        interactions.append(
            {
                "user_utterance": utterance,
                "scenario": "Leisure",
                "tool_call": {"1": step(reply, ran=index != 12, retried=True)},
                "user_feedback": {
                    "user_utterance": utterance,
                    "agent_reply": reply,
                    "user_feedback": LIKED if liked else ANNOYED,
                },
            }
        )
    return interactions


def report_rows(cli, *runs: str) -> dict[str, dict]:
    code, out, err = cli("report", *runs, "--source", "human", "--format", "json")
    assert code == 0, err
    document = json.loads(out)
    return {row["model"]: row for row in document["systems"]} | {"notes": document["notes"]}


def share(flags: list[bool]) -> float:
    return sum(flags) / len(flags)


def test_an_official_profile_file_for_two_models_matches_evaluation_py(
    cli, data_dir, shared_bench, users, tmp_path
):
    script = _script(shared_bench, "profile-based/evaluation.py")
    files = {}
    for model, shift in (("alpha", 0), ("beta", 1)):
        interactions = {uid: profile_interactions(users[uid]["utterance"], shift) for uid in ("0", "1")}
        files[model] = (write(tmp_path, f"tool_interactions_{model}.json", interactions), interactions)
        code, out, err = cli("runs", "import", files[model][0], "--name", "prof", "--model", model)
        assert code == 0, err
        assert out.startswith("Imported 30 interactions of 2 users as run prof: profile, detected")
    rows = report_rows(cli, "prof")
    for model, (path, interactions) in files.items():
        official = official_distinct(script, path, users, tmp_path, model)
        row = rows[model]
        assert row["distinct_n"] == len(official) == 30 and row["items"] == 30
        assert row["d1"] == pytest.approx(statistics.fmean(d1 for d1, _ in official), rel=1e-12)
        assert row["d2"] == pytest.approx(statistics.fmean(d2 for _, d2 in official), rel=1e-12)
        items = [i for user in interactions.values() for i in user]
        assert row["execute_succ_rate"] == pytest.approx(share([i["execution_success"] for i in items]))
        assert row["3turn_execute_succ_rate"] == pytest.approx(
            share([i["three_execution_success"] for i in items])
        )
        assert row["distinct_basis"] == "official"
    assert "D-1/D-2 (ComPASS's formula) are measured on the text the official script measures" in str(
        rows["notes"]
    )


def test_an_official_history_file_with_a_failed_call_matches_evaluation_with_his(
    cli, data_dir, shared_bench, users, tmp_path
):
    script = _script(shared_bench, "history-based/evaluation_with_his.py")
    for model, failed in (("compass", True), ("other", False)):
        interactions = {
            uid: history_interactions(users[uid]["utterance"], failed and uid == "2") for uid in "012"
        }
        (tmp_path / model).mkdir()
        path = write(tmp_path / model, "tool_interactions_compass.json", interactions)  # the name it reads
        code, out, err = cli("runs", "import", path, "--name", "his", "--model", model)
        assert code == 0, err
        assert "history (with history), detected" in out and "9 scored" in out
        assert ("1 tool_call_failed" in out) is failed
        row = report_rows(cli, "his")[model]
        official = official_distinct(script, path, users, tmp_path, model)
        assert row["items"] == row["distinct_n"] == len(official) == 9
        assert row["d1"] == pytest.approx(statistics.fmean(d1 for d1, _ in official), rel=1e-12)
        assert row["d2"] == pytest.approx(statistics.fmean(d2 for _, d2 in official), rel=1e-12)
        scored = [i for user in interactions.values() for i in user[12:]]
        ran = [("tool_call_failed" not in i) and i["tool_call"]["1"]["3turn_execute_success"] for i in scored]
        first = [("tool_call_failed" not in i) and i["tool_call"]["1"]["execute_success"] for i in scored]
        assert row["pass_rate"] == pytest.approx(share(ran)) == pytest.approx(8 / 9 if failed else 1)
        assert row["3turn_execute_succ_rate"] == pytest.approx(share(ran))
        assert row["execute_succ_rate"] == pytest.approx(share(first))
        assert row["errors"] == int(failed) and row["n"] == 9 - int(failed)


def test_official_files_without_history_match_evaluation_without_his(
    cli, data_dir, shared_bench, users, tmp_path
):
    """tool_invoc_without_his.py writes utterances 12-14 with their text; inference_toolinvoc_nohist.py
    writes them without it. evaluation_without_his.py maps item i to utterance 12 + i in both."""
    script = _script(shared_bench, "history-based/evaluation_without_his.py")
    for model, with_text in (("api", True), ("local", False)):
        interactions = {
            uid: [
                {
                    **({"user_utterance": users[uid]["utterance"][12 + i]} if with_text else {}),
                    "scenario": "Leisure",
                    "tool_call": {
                        "1": step(REPLIES[i] + uid, ran=i != 1, retried=True if with_text else None)
                    },
                }
                for i in range(3)
            ]
            for uid in "01"
        }
        (tmp_path / model).mkdir()
        path = write(tmp_path / model, "tool_interactions_without_his_gpt-5.1.json", interactions)
        code, out, err = cli("runs", "import", path, "--name", "nohis", "--model", model)
        assert code == 0, err
        assert "history (without history), detected" in out and "6 scored" in out
        row = report_rows(cli, "nohis")[model]
        official = official_distinct(script, path, users, tmp_path, model)
        assert row["items"] == row["distinct_n"] == len(official) == 6
        assert row["setting"] == "history" and row["history"] is False
        assert row["d1"] == pytest.approx(statistics.fmean(d1 for d1, _ in official), rel=1e-12)
        assert row["execute_succ_rate"] == pytest.approx(4 / 6)
        assert row["3turn_execute_succ_rate"] == (pytest.approx(1.0) if with_text else None)
    records = load_records(Store(data_dir), "nohis")
    assert sorted(r["situation_index"] for r in records if r["model"] == "local") == [12, 12, 13, 13, 14, 14]
    assert all(
        r["utterance"] == users[r["persona_id"].split("-")[1]]["utterance"][r["situation_index"]]
        for r in records
    )


def test_a_tool_call_only_file_gives_pass_rates_and_tool_usage_and_no_response_metrics(
    cli, data_dir, users, tmp_path
):
    """generate_social_support_respond.py: the call, str(result) and success; {"error"} where it failed."""
    card = {
        "tool_folder_name": "strength_card",
        "function_name": "strengthcard",
        "param": {"situation": "exams"},
    }
    interactions = {
        uid: [
            {
                "utterance": u,
                "tool_call": MUSIC if i % 2 else card,
                "tool_result": str(SONGS),
                "success": i % 3 != 0,
            }
            for i, u in enumerate(users[uid]["utterance"][:5])
        ]
        + [{"error": "Invalid tool"}]
        for uid in "01"
    }
    path = write(tmp_path, "tool_calls.json", interactions)
    code, out, err = cli("runs", "import", path, "--name", "calls")
    assert code == 0, err
    assert "profile, detected (file shape tool_calls)" in out
    assert "0 with a response, 10 tool calls without a response" in out and "2 errors" in out
    row = report_rows(cli, "calls")
    notes, row = row["notes"], row["tool_calls"]
    assert (row["n"], row["distinct_n"], row["d1"], row["d2"], row["distinct_basis"]) == (
        0,
        0,
        None,
        None,
        None,
    )
    assert (row["items"], row["errors"], row["not_attempted"], row["tool_calls_only"]) == (12, 2, 0, 10)
    successes = [i["success"] for user in interactions.values() for i in user if "success" in i]
    assert row["execute_succ_rate"] == pytest.approx(sum(successes) / 12)  # an {"error"} is a failure
    assert row["pass_rate"] == pytest.approx(sum(successes) / 12)
    assert row["3turn_execute_succ_rate"] is None  # one attempt only: no best-of-3 field
    assert row["tools"] == {"music_recommendation": 4, "strength_card": 6}
    assert "calls/tool_calls: tool calls only, no responses: pass rates and tool usage only" in notes
    statuses = {r["status"] for r in load_records(Store(data_dir), "calls")}
    assert statuses == {"executed", "error"}  # never "done": the judge has no response to read


def test_feedback_results_and_responses_are_read_for_display(cli, data_dir, users, tmp_path):
    utterances = users["3"]["utterance"]
    schedule = {
        "tool_folder_name": "schedule_manager",
        "function_name": "manage_schedule",
        "param": {"operation": "view"},
    }
    interactions = history_interactions(utterances, failed=True)
    interactions[14]["tool_call"]["1"] |= {
        "tool_call": schedule,
        "tool_raw_result": "(True, 'Added: tea at 5')",
    }
    interactions[12]["tool_call"]["1"]["tool_raw_result"] = "[{'title': datetime.date(2024, 1, 1)}]"
    interactions[11]["tool_call"]["1"]["tool_raw_result"] = (
        '[{"title": "Blue in Green", "artist": "Bill Evans"}]'
    )
    interactions[10]["user_feedback"]["user_feedback"] = "User feedback generation failed"
    code, _, err = cli("runs", "import", write(tmp_path, "h.json", {"3": interactions}), "--name", "h")
    assert code == 0, err
    records = {r["situation_index"]: r for r in load_records(Store(data_dir), "h")}
    liked, annoyed = records[0], records[1]
    assert liked["feedback"] == {"label": "like", "by": "imported", "text": LIKED}
    assert annoyed["feedback"] == {"label": "dislike", "by": "imported", "text": ANNOYED}
    assert records[10]["feedback"] == {
        "label": None,
        "by": "imported",
        "text": "User feedback generation failed",
    }
    assert liked["response"] == REPLIES[0] + " "  # unwrapped for display
    assert liked["response_raw"] == json.dumps({"feedback": REPLIES[0] + " "})  # what ComPASS measures
    songs = liked["tool_result"]
    assert songs["result"] == [{**SONGS[0], "moods": ["calm"]}] and songs["notes"] == []  # a Python repr
    assert main_item("music_recommendation", songs["result"]) == "So What by Miles Davis"
    assert records[11]["tool_result"]["result"][0]["title"] == "Blue in Green"  # JSON
    assert result_summary(records[14]["tool_result"]) == "✓ Added: tea at 5"
    unreadable = records[12]["tool_result"]
    assert unreadable["result"] == "[{'title': datetime.date(2024, 1, 1)}]" and unreadable["ok"] is True
    assert unreadable["notes"] == [
        "the tool result is kept as text: it reads as neither JSON nor a Python literal"
    ]
    failed = records[13]
    assert (failed["status"], failed["error"]["kind"], failed["response"]) == (
        "error",
        "tool_call_failed",
        None,
    )
    assert failed["response_raw"] == "Tool call failed" and failed["final_success"] is False


@pytest.mark.parametrize(
    ("interactions", "message"),
    [
        ({"3": [{"foo": 1}]}, "user_interactions.3[0]: unknown interaction shape (keys: foo)"),
        (
            {"3": [{"error": "x"}, 7]},
            "user_interactions.3[1]: expected an object, got a number (7)",
        ),
        (
            {
                "3": [{"user_utterance": "a", "tool_call_all": "x", "execution_success": False}],
                "7": [{"error": "x"}, {"user_utterance": "b", "tool_call_failed": "y"}],
            },
            "user_interactions.7[1]: mixed shapes: this is history or history_without_history, "
            "but user_interactions.3[0] is profile",
        ),
        (
            {
                "3": [
                    {"utterance": "a", "tool_call": MUSIC, "success": True},
                    {"user_utterance": "b", "tool_call": {"1": step("x")}},
                ]
            },
            "user_interactions.3[1]: mixed shapes: this is profile or history or history_without_history, "
            "but user_interactions.3[0] is tool_calls",
        ),
        (
            {"3": [{"user_utterance": 7, "tool_call": {"1": step("x")}}]},
            "user_interactions.3[0].user_utterance: expected text or null, got a number (7)",
        ),
        (
            {
                "3": [
                    {
                        "user_utterance": "a",
                        "tool_call": {"1": step("x")},
                        "user_feedback": {"user_feedback": 1},
                    }
                ]
            },
            "user_interactions.3[0].user_feedback.user_feedback: expected text or null, got a number (1)",
        ),
    ],
)
def test_a_file_of_unknown_mixed_or_mistyped_shape_is_one_line(
    cli, data_dir, users, tmp_path, interactions, message
):
    path = write(tmp_path, "bad.json", interactions)
    code, out, err = cli("runs", "import", path)
    assert code == 2 and out == ""
    assert err == f"compass-tui: {path}: {message}\n"
    assert not (data_dir / "runs").exists()


def test_setting_overrides_the_detected_one(cli, data_dir, users, tmp_path):
    interactions = {"3": profile_interactions(users["3"]["utterance"], 0)}
    path = write(tmp_path, "p.json", interactions)
    code, out, err = cli("runs", "import", path, "--setting", "history", "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert (summary["setting"], summary["shape"], summary["scored"], summary["records"]) == (
        "history",
        "profile",
        3,
        15,
    )
    code, out, _ = cli("runs", "import", path, "--name", "p2")
    assert "profile, detected (file shape profile); 15 scored" in out


def test_the_tool_call_failed_text_is_what_the_official_distinct_measures(shared_bench):
    script = _script(shared_bench, "history-based/evaluation_with_his.py")
    evaluator = official_evaluator(script).__new__(official_evaluator(script))
    from compass_tui.metrics import distinct_compass
    from compass_tui.replay import TOOL_CALL_FAILED_TEXT

    assert 'tool_call_pos = {"1": "Tool call failed"}' in script.read_text(encoding="utf-8")
    assert (
        distinct_compass(TOOL_CALL_FAILED_TEXT)
        == evaluator.distinct_n("Tool call failed")
        == (
            3 / math.sqrt(6),
            3 / math.sqrt(3),
        )
    )


def test_a_report_mixing_distinct_bases_says_so_in_one_note(cli, data_dir, users, tmp_path):
    path = write(tmp_path, "p.json", {"3": profile_interactions(users["3"]["utterance"], 0)})
    assert cli("runs", "import", path, "--name", "imported")[0] == 0
    code, _, err = cli(
        "run", "--personas", "compass-3", "--models", "baseline", "--setting", "profile", "--name", "ours"
    )
    assert code == 0, err
    rows = report_rows(cli, "imported")
    assert rows["p"]["distinct_basis"] == "official"
    notes = report_rows(cli, "imported", "ours")["notes"]
    assert [n for n in notes if n.startswith("D-1/D-2")] == [
        "D-1/D-2 are measured on different texts across rows: imported/p official; ours/baseline reply"
    ]
    code, out, _ = cli("report", "imported", "ours")
    assert code == 0 and "Note: D-1/D-2 are measured on different texts across rows" in out
    assert "execute_succ_rate" in out and "official" in out


def official_judged_inputs(script: Path, file: Path, users: dict, tmp_path: Path, name: str) -> list[str]:
    """The `tool_call` JSON each official evaluation script fills into its judge prompt, in its order."""
    base = official_evaluator(script)
    filled: list[str] = []

    class Capturing(base):  # type: ignore[misc, valid-type]
        def eval_single_utterance(self, **item):
            filled.append(json.dumps(item["tool_call"], ensure_ascii=False, indent=2))
            return super().eval_single_utterance(**item)

        def eval_utterance(self, *item):
            filled.append(json.dumps(item[3], ensure_ascii=False, indent=2))
            return super().eval_utterance(*item)

    run_evaluator(Capturing, script, file, users, tmp_path, tmp_path / f"judged-{name}")
    return filled


@pytest.mark.parametrize("setting", ["profile", "history"])
def test_the_official_judge_prompt_reads_what_the_official_scripts_judge(
    cli, data_dir, shared_bench, users, tmp_path, setting
):
    from compass_tui.judge import records_to_judge
    from compass_tui.judge_prompt import official_judged_text
    from compass_tui.library import PersonaLibrary

    if setting == "profile":
        script = _script(shared_bench, "profile-based/evaluation.py")
        interactions = {uid: profile_interactions(users[uid]["utterance"], 0) for uid in ("0", "1")}
        path = write(tmp_path, "tool_interactions_alpha.json", interactions)
    else:
        script = _script(shared_bench, "history-based/evaluation_with_his.py")
        interactions = {uid: history_interactions(users[uid]["utterance"], uid == "2") for uid in "012"}
        (tmp_path / "his").mkdir()
        path = write(tmp_path / "his", "tool_interactions_compass.json", interactions)
    assert cli("runs", "import", path, "--name", "judged", "--model", "m")[0] == 0
    library = PersonaLibrary(data_dir)
    personas = {entry.id: entry.persona for entry in library.entries() if entry.persona}
    ours = records_to_judge(Store(data_dir), personas, "judged", official=True)
    ours.sort(key=lambda r: (int(r["persona_id"].rsplit("-", 1)[1]), r["situation_index"]))
    filled = [json.dumps({"1": official_judged_text(r)}, ensure_ascii=False, indent=2) for r in ours]
    assert filled == official_judged_inputs(script, path, users, tmp_path, setting)
    assert len(filled) == (30 if setting == "profile" else 9)
    if setting == "history":
        assert json.dumps({"1": "Tool call failed"}, indent=2) in filled
        assert (
            len(records_to_judge(Store(data_dir), personas, "judged")) == 8
        )  # ours: the failed item is an error
