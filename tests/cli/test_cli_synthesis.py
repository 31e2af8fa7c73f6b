"""`compass-tui personas synthesise`: summary and exit codes in-process, and a real process killed between
stages and resumed. LLM traffic is real HTTP through litellm to the StubLLM in this process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from synthesis_support import FIRST_NAMES

from compass_tui import paths
from compass_tui.store import Store
from compass_tui.synthesis import STAGES, STAGES_TABLE, persona_path
from tools.stub_llm import StubLLM, text

REPO_ROOT = Path(__file__).resolve().parents[2]
JOB = "synth-s0-n2"


@pytest.fixture
def configured(data_dir: Path, synth_stub: StubLLM) -> Path:
    config = Path(os.environ[paths.CONFIG_ENV])
    config.write_text(
        'embedding_model = "/nonexistent-embedding-model"\nmax_retries = 0\nconcurrency = 1\n'
        f'[models.synth]\nmodel = "openai/synth-a"\napi_base = "{synth_stub.base_url}"\ntimeout = 10\n',
        encoding="utf-8",
    )
    return data_dir


def test_synthesise_writes_personas_and_prints_a_summary(cli, configured, synth_bot):
    code, out, err = cli("personas", "synthesise", "--model", "synth", "--count", "2", "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["job"] == JOB and summary["failed"] == [] and summary["requests"] == 14
    assert len(summary["written"]) == 2
    assert summary["duplicates"]["pairs"] == [] and summary["duplicates"]["mode"] == "lexical"
    assert "persona 2/2 utterances: stage_done (attempt 1)" in err
    for persona_id in summary["written"]:
        document = json.loads((configured / "personas" / f"{persona_id}.json").read_text())
        origin = {"source": "synthesised", "model": "synth", "seed": 0, "job": JOB, "sampling_seed": 0}
        assert document["origin"] == origin

    code, out, _ = cli("personas", "synthesise", "--model", "synth", "--count", "2")
    assert code == 0
    assert f"Job {JOB}: 0 written, 2 finished earlier, 0 failed · 0 LLM calls" in out
    code, out, _ = cli("personas", "list", "--json")
    kinds = {row["id"]: row["kind"] for row in json.loads(out)}
    assert all(kinds[persona_id] == "authored" for persona_id in summary["written"])


def test_a_persona_that_fails_exits_1_naming_the_stage_and_reason(cli, configured, synth_bot):
    synth_bot.fail(FIRST_NAMES[1], "background", *[text('{"hobbies": ""}')] * 3)
    code, out, err = cli("personas", "synthesise", "--model", "synth", "--count", "2")
    assert code == 1
    assert "1 written, 0 finished earlier, 1 failed" in out
    assert "background" in out and "hobbies: must not be empty" in out
    assert "persona 2/2 background: retry (attempt 3)" in err


def test_near_duplicates_are_listed_with_their_similarity(cli, configured, synth_stub, synth_bot):
    synth_bot.same_background = True
    code, out, _ = cli("personas", "synthesise", "--model", "synth", "--count", "2")
    assert code == 0
    flat = " ".join(out.split())
    assert "Near-duplicates: 1 pair(s) at similarity >= 0.8 among 12 backgrounds (TF-IDF cosine" in flat, out
    assert "1.000" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--model", "nope", "--count", "1"], "models.nope: no such model"),
        (["--model", "baseline", "--count", "1"], "--model: the offline baseline writes no personas"),
        (["--model", "synth", "--count", "0"], "--count: must be between 1 and 1000"),
        (["--model", "synth", "--count", "1", "--scenario-mix", "5,5,5"], "--scenario-mix: give five counts"),
        (["--count", "1"], "--model: required"),
        (["--resume", "nothing-here"], "--resume: no synthesis job 'nothing-here'"),
        (["--resume", JOB, "--model", "synth"], "--model: not with --resume"),
    ],
)
def test_bad_input_exits_2_in_one_line_and_asks_nothing(cli, configured, synth_stub, argv, message):
    code, out, err = cli("personas", "synthesise", *argv)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert synth_stub.requests == []
    assert not (configured / "personas").exists()


@pytest.mark.slow
def test_a_synthesis_killed_between_stages_resumes_where_it_stopped(cli, configured, synth_bot, synth_stub):
    synth_stub.latency = 0.3
    process = subprocess.Popen(
        [sys.executable, "-m", "compass_tui", "personas", "synthesise", "--model", "synth", "--count", "2"],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ},
    )
    store = Store(configured)
    shard = persona_path(JOB, 2)
    try:
        deadline = time.monotonic() + 60
        while not (store.path(shard).is_file() and store.all(shard, STAGES_TABLE)):
            assert process.poll() is None and time.monotonic() < deadline, "no stage of persona 2 appeared"
            time.sleep(0.05)
    finally:
        process.kill()
        process.wait(timeout=10)
    done_before = {doc["key"] for doc in store.all(shard, STAGES_TABLE)}
    assert done_before and done_before != set(STAGES)
    synth_bot.asked.clear()
    synth_stub.latency = 0.0

    code, out, err = cli("personas", "synthesise", "--resume", JOB, "--json")

    assert code == 0, err
    summary = json.loads(out)
    assert len(summary["already"]) == 1 and len(summary["written"]) == 1
    asked = synth_bot.requests_for(FIRST_NAMES[1])
    assert set(asked) == set(STAGES) - done_before, (asked, done_before)
    assert all(count == 1 for count in asked.values()) and synth_bot.requests_for(FIRST_NAMES[0]) == {}


HOLD_LOCK = """
import sys, time
from compass_tui.records import writer_lock
from compass_tui.store import Store
from compass_tui.synthesis.plan import job_lock_path
with writer_lock(Store(sys.argv[1]), job_lock_path(sys.argv[2]), "synthesis job"):
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_second_synthesis_of_the_same_job_fails_at_once_in_one_line_and_exit_1(cli, configured, synth_stub):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(configured), JOB],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        code, out, err = cli("personas", "synthesise", "--model", "synth", "--count", "2")
        assert time.monotonic() - started < 5
    finally:
        holder.kill()
        holder.wait()
    assert code == 1 and out == ""
    [line] = err.strip().splitlines()
    assert line.startswith(f"compass-tui: synthesis job {JOB!r} is being written by pid {holder.pid} since ")
    assert synth_stub.requests == []
    code, out, err = cli("personas", "synthesise", "--model", "synth", "--count", "2")
    assert code == 0, err  # the holder is gone: the lock is free again
