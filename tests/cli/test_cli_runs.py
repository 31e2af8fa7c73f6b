"""`compass-tui run` as a process (killed, interrupted, resumed), `runs list|show`, and `models list|check`.

LLM traffic is real HTTP through litellm to the StubLLM in this process; the run itself is a real
`python -m compass_tui` subprocess when a test needs to kill or interrupt it.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from run_support import Companion, request_stage, request_utterance, write_models

from compass_tui import paths
from compass_tui.library import PersonaLibrary
from compass_tui.records import load_records, load_run_meta, run_records_path
from compass_tui.store import Store
from tools.stub_llm import StubLLM, error

REPO_ROOT = Path(__file__).resolve().parents[2]
PERSONA = "adam-kerr"
SITUATIONS = 15
RUN = "R"


@pytest.fixture
def slow_stub():
    with StubLLM(Companion(), latency=0.3) as server:
        yield server


@pytest.fixture
def stub():
    with StubLLM(Companion()) as server:
        yield server


def run_command(*extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "compass_tui",
        "run",
        "--personas",
        PERSONA,
        "--models",
        "stub",
        "--name",
        RUN,
        "--search",
        "lexical",
        "--concurrency",
        "2",
        *extra,
    ]


def process_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO_ROOT)}


def saved_statuses(data_dir: Path) -> dict[int, str]:
    """Each item's status as it is on disk right now (a missing or half-written file reads as nothing)."""
    shard = data_dir / run_records_path(RUN, PERSONA)
    try:
        table = json.loads(shard.read_text(encoding="utf-8")).get("interactions", {})
    except (FileNotFoundError, ValueError):
        return {}
    return {document["situation_index"]: document["status"] for document in table.values()}


def start_and_wait_for(data_dir: Path, done_at_least: int) -> subprocess.Popen:
    process = subprocess.Popen(
        run_command(),
        cwd=REPO_ROOT,
        env=process_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while sum(status == "done" for status in saved_statuses(data_dir).values()) < done_at_least:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(
                f"the run ended or stalled before {done_at_least} items were done: {process.stderr.read()}"
            )
        time.sleep(0.05)
    return process


@pytest.mark.slow
def test_a_run_killed_with_sigkill_resumes_without_repeating_finished_items(data_dir, slow_stub):
    write_models(slow_stub, {"stub": {"model": "openai/stub-a"}})
    utterances = [s.utterance for s in PersonaLibrary(data_dir).get(PERSONA).situations]
    assert len(set(utterances)) == SITUATIONS  # the utterance is the item marker in the request log

    process = start_and_wait_for(data_dir, done_at_least=4)
    process.kill()
    process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL
    at_kill = saved_statuses(data_dir)
    done_at_kill = {index for index, status in at_kill.items() if status == "done"}
    assert 4 <= len(done_at_kill) < SITUATIONS
    requests_at_kill = len(slow_stub.requests)

    resumed = subprocess.run(
        run_command("--json"), cwd=REPO_ROOT, env=process_env(), capture_output=True, text=True, timeout=120
    )
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    assert summary["skipped"] == len(done_at_kill) and summary["errors"] == 0
    asked_again = {
        utterances.index(request_utterance(body)) for body in slow_stub.requests[requests_at_kill:]
    }
    assert asked_again and not asked_again & done_at_kill
    assert asked_again == set(range(SITUATIONS)) - done_at_kill
    # Items that had passed the tool step before the kill resume from it, without a new stage-1 request.
    past_tool_step = {index for index, status in at_kill.items() if status in ("selected", "executed")}
    for body in slow_stub.requests[requests_at_kill:]:
        if request_stage(body) == "tool":
            assert utterances.index(request_utterance(body)) not in past_tool_step

    shard = json.loads((data_dir / run_records_path(RUN, PERSONA)).read_text(encoding="utf-8"))
    keys = [document["key"] for document in shard["interactions"].values()]
    assert sorted(keys) == sorted(f"stub|{PERSONA}|{index}" for index in range(SITUATIONS))
    records = load_records(Store(data_dir), RUN)
    assert [r["situation_index"] for r in records] == list(range(SITUATIONS))
    assert all(r["status"] == "done" and r["response"] for r in records)
    assert load_run_meta(Store(data_dir), RUN).status == "finished"


@pytest.mark.slow
def test_ctrl_c_leaves_a_consistent_interrupted_run(data_dir, slow_stub, cli):
    write_models(slow_stub, {"stub": {"model": "openai/stub-a"}})
    process = start_and_wait_for(data_dir, done_at_least=2)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130
    assert "interrupted; everything saved so far is kept" in stderr and "Traceback" not in stderr

    code, out, err = cli("runs", "show", RUN, "--json")
    assert code == 0, err
    shown = json.loads(out)
    assert shown["meta"]["status"] == "interrupted"
    statuses = [record["status"] for record in shown["records"]]
    assert statuses.count("done") >= 2 and set(statuses) <= {"pending", "selected", "executed", "done"}
    for record in shown["records"]:
        if record["status"] == "done":
            assert record["response"] and record["tool_result"]["ok"]

    resumed = subprocess.run(
        run_command(), cwd=REPO_ROOT, env=process_env(), capture_output=True, text=True, timeout=120
    )
    assert resumed.returncode == 0, resumed.stderr
    assert load_run_meta(Store(data_dir), RUN).status == "finished"
    assert all(r["status"] == "done" for r in load_records(Store(data_dir), RUN))


def test_a_second_writer_of_a_run_is_refused_and_the_stub_sees_one_runs_requests(data_dir, slow_stub, cli):
    write_models(slow_stub, {"stub": {"model": "openai/stub-a"}})
    first = start_and_wait_for(data_dir, done_at_least=1)
    code, _, err = cli("run", "--personas", PERSONA, "--models", "stub", "--name", RUN, "--search", "lexical")
    assert code == 1
    (line,) = err.strip().splitlines()
    assert line.startswith(f"compass-tui: run {RUN!r} is being written by pid {first.pid} since ")
    _, stderr = first.communicate(timeout=120)
    assert first.returncode == 0, stderr
    assert len(slow_stub.requests) == 2 * SITUATIONS  # one tool call and one reply per item, once


def test_a_dead_writers_lock_is_taken_over_with_a_note(data_dir, stub, cli):
    write_models(stub, {"stub": {"model": "openai/stub-a"}})
    lock = data_dir / "runs" / "^r" / "writer.lock"
    lock.parent.mkdir(parents=True)
    lock.write_text(
        json.dumps({"pid": 999_999_999, "since": "2026-12-01T00:00:00.000+00:00"}), encoding="utf-8"
    )
    code, _, err = cli("run", "--personas", PERSONA, "--models", "stub", "--name", RUN, "--search", "lexical")
    assert code == 0, err
    assert f"note: took over the lock of run {RUN!r} from pid 999999999, which is no longer running" in err


def test_runs_whose_names_shared_a_folder_before_are_kept_apart(data_dir, cli):
    for name in ("pilot/a", "pilot a", "Pilot a"):
        code, out, err = cli("run", "--personas", PERSONA, "--name", name, "--search", "lexical", "--json")
        assert code == 0, err
        assert (json.loads(out)["finished"], json.loads(out)["skipped"]) == (SITUATIONS, 0)
    code, out, _ = cli("runs", "list", "--json")
    assert sorted(row["run_id"] for row in json.loads(out)) == ["Pilot a", "pilot a", "pilot/a"]


# --- runs list / show -------------------------------------------------------------------------------


def test_runs_list_and_show(cli, data_dir, stub):
    write_models(stub, {"stub": {"model": "openai/stub-a"}})
    assert cli("run", "--personas", PERSONA, "--name", "base", "--search", "lexical")[0] == 0
    assert (
        cli("run", "--personas", PERSONA, "--models", "stub", "--setting", "empathetic", "--name", "emp")[0]
        == 0
    )

    code, out, _ = cli("runs", "list", "--json")
    assert code == 0
    rows = {row["run_id"]: row for row in json.loads(out)}
    assert rows.keys() == {"base", "emp"}
    assert (
        rows["base"]["setting"],
        rows["base"]["models"],
        rows["base"]["personas"],
        rows["base"]["status"],
    ) == ("profile", ["baseline"], 1, "finished")
    assert (rows["emp"]["setting"], rows["emp"]["models"], rows["emp"]["source"]) == (
        "empathetic",
        ["stub"],
        "compass-tui",
    )

    code, out, _ = cli("runs", "list")
    assert code == 0 and "2 runs" in out and "base" in out and "empathetic" in out

    code, out, _ = cli("runs", "show", "emp", "--json")
    shown = json.loads(out)
    assert shown["meta"]["run_id"] == "emp" and len(shown["records"]) == SITUATIONS
    assert [r["situation_index"] for r in shown["records"]] == list(range(SITUATIONS))
    assert all(r["response"].startswith("I hear you.") for r in shown["records"])

    code, out, _ = cli("runs", "show", "base")
    assert code == 0
    assert out.splitlines()[0] == "base · profile · baseline · finished"
    rows = re.findall(rf"^\s*baseline\s+{PERSONA}\s+(\d+)\s+done\s", out, re.MULTILINE)
    assert rows == [str(number) for number in range(1, SITUATIONS + 1)]


def test_runs_show_of_an_unknown_run_is_one_line_and_exit_2(cli, data_dir):
    code, out, err = cli("runs", "show", "nope")
    assert code == 2 and out == ""
    assert err.strip() == "compass-tui: no run 'nope' (runs: none yet)"


# --- models list / check -----------------------------------------------------------------------------


def test_models_list_shows_the_baseline_and_key_state(cli, data_dir, stub, monkeypatch):
    monkeypatch.setenv("COMPASS_TUI_TEST_SET_KEY", "sk-test-0123456789")
    monkeypatch.delenv("COMPASS_TUI_TEST_UNSET_KEY", raising=False)
    write_models(
        stub,
        {
            "stub": {"model": "openai/stub-a", "temperature": 0.3},
            "keyed": {"model": "openai/stub-b", "api_key_env": "COMPASS_TUI_TEST_SET_KEY"},
            "unkeyed": {"model": "openai/stub-c", "api_key_env": "COMPASS_TUI_TEST_UNSET_KEY"},
        },
    )
    code, out, _ = cli("models", "list", "--json")
    assert code == 0
    rows = {row["name"]: row for row in json.loads(out)}
    assert list(rows) == ["baseline", "stub", "keyed", "unkeyed"]
    assert rows["baseline"]["key"] == "not needed" and rows["baseline"]["api_base"] is None
    assert (rows["stub"]["model"], rows["stub"]["api_base"], rows["stub"]["temperature"]) == (
        "openai/stub-a",
        stub.base_url,
        0.3,
    )
    assert rows["keyed"]["key"] == "COMPASS_TUI_TEST_SET_KEY set"
    assert rows["unkeyed"]["key"] == "COMPASS_TUI_TEST_UNSET_KEY NOT SET"
    assert "sk-test-0123456789" not in out
    code, out, _ = cli("models", "list")
    assert code == 0 and str(paths.config_file()) in out.replace("\n", "")


def test_models_check_against_the_stub(cli, data_dir, stub):
    write_models(stub, {"stub": {"model": "openai/stub-a"}, "bad": {"model": "openai/stub-bad"}})
    code, out, _ = cli("models", "check", "stub", "--json")
    assert code == 0
    data = json.loads(out)
    assert (data["name"], data["ok"], data["native_tools"]) == ("stub", True, True)
    assert data["reply"] == "ready" and data["latency_s"] >= 0
    assert stub.requests[-1]["messages"] == [{"role": "user", "content": "Reply with the single word: ready"}]

    stub.script("stub-bad", [error(401, "Incorrect API key provided")] * 3)
    before = len(stub.requests)
    code, out, _ = cli("models", "check", "bad", "--json")
    assert code == 1
    data = json.loads(out)
    assert (data["ok"], data["kind"]) == (False, "auth")
    assert data["error"].startswith("openai/stub-bad: auth (HTTP 401)")
    assert len(stub.requests) == before + 1  # a bad key is not retried

    code, out, err = cli("models", "check", "bad")
    assert code == 1 and "auth (HTTP 401)" in out

    code, out, err = cli("models", "check", "baseline")
    assert code == 0 and "baseline: ok (offline)" in out

    code, _, err = cli("models", "check", "nope")
    assert code == 2 and "models.nope: no such model" in err and err.strip().count("\n") == 0


def test_runs_show_previews_a_response_on_one_line():
    from compass_tui.cli.runs import _preview

    role_play = (
        "That stings, I know.\n\nI asked **Auntie Rose**, your wise old aunt, to answer you:\n\n> Love…"
    )
    assert _preview(role_play) == "That stings, I know. I asked **Auntie Rose**, your wise old…"
    assert len(_preview(role_play)) == 60 and _preview("Short.\n") == "Short."
