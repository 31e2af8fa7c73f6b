"""`compass-tui export-training` end to end: a run of a stub LLM (real litellm over loopback HTTP),
judged by a stub judge through `compass-tui judge`, exported in each format; and its bad input.

In the stub run, situation 2's tool call names a parameter the tool does not take (the tool fails)
and situation 3's reply fails with a server error (the item errors). The stub judge gives situation 0
all 5s, situation 1 4,4,3,3,4,3 (mean 3.5) and every other item all 3s.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from run_support import Companion, write_models

from compass_tui.library import PersonaLibrary
from compass_tui.records import INTERACTIONS_TABLE, interaction_key, load_records, run_records_path
from compass_tui.store import Store
from compass_tui.vocab import DIMENSION_KEYS
from tools.stub_llm import StubLLM, error, text, tool_call

PERSONA = "adam-kerr"
RUN = "R"
SITUATIONS = 15
JUDGED = {0: [5] * 6, 1: [4, 4, 3, 3, 4, 3]}


def utterances() -> list[str]:
    return [situation.utterance for situation in PersonaLibrary(Path("/nonexistent")).get(PERSONA).situations]


def verdict(scores: list[int]) -> str:
    return json.dumps(
        {key: {"score": value, "rationale": "fits"} for key, value in zip(DIMENSION_KEYS, scores)}
    )


def judge_bot(body: dict):
    user = body["messages"][1]["content"]
    for index, utterance in enumerate(utterances()):
        if utterance in user or json.dumps(utterance)[1:-1] in user:
            return text(verdict(JUDGED.get(index, [3] * 6)))
    return text(verdict([1] * 6))


@pytest.fixture
def judged_llm_run(data_dir, cli) -> Path:
    said = utterances()
    companion = Companion()
    companion.fault(said[2], "tool", tool_call("strengthcard", {"situation": said[2][:50], "colour": "red"}))
    companion.fault(said[3], "response", error(500, "stub is down"))
    with StubLLM(companion) as agent, StubLLM(judge_bot) as judge:
        write_models(
            agent,
            {
                "stub": {"model": "openai/stub-a", "tool_calling": "native"},
                "judge": {"model": "openai/judge-a", "api_base": judge.base_url},
            },
            max_retries=0,
        )
        code, _, err = cli(
            "run", "--personas", PERSONA, "--models", "stub", "--name", RUN, "--search", "lexical"
        )
        assert code == 1, err  # situation 3 errored
        code, _, err = cli("judge", RUN, "--judge-model", "judge")
        assert code == 0, err
    return data_dir


def lines_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def records(data_dir: Path) -> dict[int, dict]:
    return {record["situation_index"]: record for record in load_records(Store(data_dir), RUN)}


def test_an_llm_runs_export_carries_its_stored_prompts_and_names_each_refusal(judged_llm_run, cli, tmp_path):
    out = tmp_path / "train.jsonl"
    code, stdout, stderr = cli(
        "export-training", RUN, "--format", "openai", "--out", out, "--min-score", "3.5"
    )
    assert code == 0, stderr
    saved = records(judged_llm_run)
    assert saved[2]["tool_result"]["ok"] is False and saved[3]["status"] == "error"
    lines = lines_of(out)
    assert len(lines) == 2  # situations 0 (mean 5) and 1 (mean 3.5); the others' mean is 3
    for index, line in zip((0, 1), lines, strict=True):
        record = saved[index]
        assert line["messages"][:2] == record["stage1"]["messages"]
        call = line["messages"][2]["tool_calls"][0]
        assert json.loads(call["function"]["arguments"]) == record["tool_call"]["param"]
        assert line["messages"][3]["tool_call_id"] == call["id"]
        assert line["messages"][4] == {"role": "assistant", "content": record["response"]}
    refusals = stderr.splitlines()
    assert len(refusals) == SITUATIONS - 2
    assert f"refused {RUN}/stub/{PERSONA}/situation 4: ended in error (response: server)" in refusals
    assert f"refused {RUN}/stub/{PERSONA}/situation 3: mean score 3.000 is below 3.5" in refusals
    manifest = json.loads(Path(f"{out}.manifest.json").read_text(encoding="utf-8"))
    assert manifest["counts"] == {
        "considered": SITUATIONS,
        "written": 2,
        "refused": SITUATIONS - 2,
        "refused_by_reason": {"errored": 1, "below_min_score": SITUATIONS - 3},
    }
    assert manifest["judges"] == {
        RUN: {"judge_model": "judge", "judge_prompt": manifest["judges"][RUN]["judge_prompt"]}
    }
    assert manifest["judges"][RUN]["judge_prompt"].startswith("ours:")
    assert manifest["prompt_origin"] == {"stored": 2, "rebuilt": 0}
    assert (
        "Wrote 2 of 15 interactions (openai)" in stdout
        and "refused 13 (1 errored, 12 below_min_score)" in stdout
    )


def test_require_pass_refuses_the_failed_tool_call_in_sharegpt_and_jsonl(judged_llm_run, cli, tmp_path):
    out = tmp_path / "all.jsonl"
    code, _, stderr = cli("export-training", RUN, "--format", "sharegpt", "--out", out)
    assert code == 0, stderr
    assert len(lines_of(out)) == SITUATIONS - 1
    strict = tmp_path / "pass.jsonl"
    code, _, stderr = cli("export-training", RUN, "--format", "jsonl", "--out", strict, "--require-pass")
    assert code == 0, stderr
    kept = lines_of(strict)
    assert sorted(line["situation_index"] for line in kept) == [
        i for i in range(SITUATIONS) if i not in (2, 3)
    ]
    assert all(line["tool_ran"] and line["prompt_origin"] == "stored" for line in kept)
    assert {line["judge_model"] for line in kept} == {"judge"}
    assert next(line for line in kept if line["situation_index"] == 1)["score_mean"] == 3.5
    assert f"refused {RUN}/stub/{PERSONA}/situation 3: the tool call did not run" in stderr
    reasons = json.loads(Path(f"{strict}.manifest.json").read_text(encoding="utf-8"))["counts"][
        "refused_by_reason"
    ]
    assert reasons == {"errored": 1, "tool_failed": 1}


@pytest.fixture
def baseline_run(data_dir, cli) -> Path:
    code, _, err = cli(
        "run", "--personas", PERSONA, "--models", "baseline", "--name", RUN, "--search", "lexical"
    )
    assert code == 0, err
    return data_dir


def one_line_error(code: int, stdout: str, stderr: str, *parts: str) -> None:
    assert code == 2 and stdout == ""
    assert len(stderr.splitlines()) == 1 and "Traceback" not in stderr, stderr
    for part in parts:
        assert part in stderr


def test_bad_input_is_one_line_and_exit_2_and_writes_nothing(baseline_run, cli, tmp_path):
    out = tmp_path / "out.jsonl"
    export = ("export-training", RUN, "--format", "openai")
    code, _, stderr = cli("export-training", RUN, "--format", "alpaca", "--out", out)
    assert code == 2 and "invalid choice: 'alpaca'" in stderr
    one_line_error(*cli(*export, "--out", tmp_path), str(tmp_path), "--out", "is a folder")
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    one_line_error(*cli(*export, "--out", blocker / "out.jsonl"), "--out", "cannot write")
    one_line_error(*cli("export-training", "nope", "--format", "openai", "--out", out), "no run 'nope'")
    one_line_error(*cli(*export, "--out", out, "--min-score", "7"), "--min-score", "from 1 to 5")
    one_line_error(*cli(*export, "--out", out, "--source", "human", "--judge-model", "j"), "--judge-model")
    assert not out.exists() and not Path(f"{out}.manifest.json").exists()


def test_an_empty_selection_lists_the_refusals_then_names_the_filter(baseline_run, cli, tmp_path):
    out = tmp_path / "out.jsonl"
    code, stdout, stderr = cli(
        "export-training", RUN, "--format", "sharegpt", "--out", out, "--min-score", "4", "--source", "human"
    )
    assert code == 2 and stdout == ""
    *refusals, last = stderr.splitlines()
    assert len(refusals) == SITUATIONS and all(line.endswith(": no human score") for line in refusals)
    assert "nothing passes the filter (--min-score 4 --source human): 15 interactions considered" in last
    assert "15 no_score" in last
    assert not out.exists()


def test_a_run_without_responses_is_one_line_and_exit_2(baseline_run, cli, tmp_path):
    store = Store(baseline_run)
    for index in range(SITUATIONS):
        key = interaction_key("baseline", PERSONA, index)
        store.update(
            run_records_path(RUN, PERSONA), INTERACTIONS_TABLE, key, {"status": "executed", "response": None}
        )
    out = tmp_path / "out.jsonl"
    one_line_error(
        *cli("export-training", RUN, "--format", "jsonl", "--out", out), "run 'R' has no responses"
    )
    assert not out.exists()
