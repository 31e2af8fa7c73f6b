"""Batch runs of LLM systems, end to end: CLI → runner → pipeline → real litellm → StubLLM over loopback HTTP.

The stub plays a companion model (`Companion`): it reads each request like a model would, answers a tool
call for stage 1, a reply for stage 2 and "Like" for the simulator, and lets a test queue faults for one
item (recognised by its utterance) and one stage. Nothing of ours and nothing of litellm's is mocked.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from run_support import (
    HISTORY_SECTION,
    Companion,
    all_text,
    reply_text,
    request_stage,
    request_utterance,
    requests_of,
    write_models,
)

from compass_tui.interaction_record import InteractionRecord
from compass_tui.library import PersonaLibrary
from compass_tui.metrics import pass_rate
from compass_tui.prompts import persona_text
from compass_tui.records import (
    INTERACTIONS_TABLE,
    interaction_key,
    load_records,
    load_run_meta,
    run_records_path,
)
from compass_tui.store import Store
from tools.stub_llm import Reply, StubLLM, empty, error, hang, malformed, text, tool_call

PERSONA = "adam-kerr"
OTHER_PERSONA = "haruko-okumura"
SITUATIONS = 15


@pytest.fixture
def companion() -> Companion:
    return Companion()


@pytest.fixture
def stub(companion):
    with StubLLM(companion) as server:
        yield server


@pytest.fixture
def configured(data_dir, stub):
    """Models: `stub` (stub-a), `other` (stub-b) and `sim` (stub-sim), all on the stub, no key needed."""
    write_models(
        stub,
        {
            "stub": {"model": "openai/stub-a"},
            "other": {"model": "openai/stub-b"},
            "sim": {"model": "openai/stub-sim"},
        },
    )
    return data_dir


@pytest.fixture
def persona():
    return PersonaLibrary(Path("/nonexistent")).get(PERSONA)


def run_cli(cli, *args: str) -> tuple[int, str, str]:
    return cli("run", "--search", "lexical", "--name", "r", *args)


def run_history_with_sim(cli, *args: str) -> tuple[int, str, str]:
    """A history run of PERSONA by `stub`, the `sim` model answering as the user."""
    return run_cli(
        cli, "--personas", PERSONA, "--models", "stub", "--setting", "history", "--simulator", "sim", *args
    )


def records_by_index(data_dir: Path, run_id: str = "r", model: str | None = None) -> dict[int, dict]:
    records = load_records(Store(data_dir), run_id)
    return {r["situation_index"]: r for r in records if model is None or r["model"] == model}


# --- the four settings -----------------------------------------------------------------------------


def test_profile_run_shows_the_persona_and_finishes_every_item(cli, configured, stub, persona):
    code, out, err = run_cli(cli, "--personas", PERSONA, "--models", "stub", "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert (summary["finished"], summary["errors"], summary["total"]) == (SITUATIONS, 0, SITUATIONS)
    records = records_by_index(configured)
    assert sorted(records) == list(range(SITUATIONS))
    for index, record in records.items():
        utterance = persona.situations[index].utterance
        assert record["status"] == "done" and record["model"] == "stub" and record["scored"] is True
        assert record["tool_call"] == {
            "tool_folder_name": "strength_card",
            "function_name": "strengthcard",
            "param": {"situation": utterance[:120]},
        }
        assert record["tool_result"]["ok"] is True and record["tool_result"]["result"]
        assert record["response"] == reply_text(utterance)
        assert record["stage1"]["attempts"] == 1 and record["stage1"]["native_tools"] is True
    tool_requests = requests_of(stub, "stub-a", "tool")
    assert len(tool_requests) == SITUATIONS and len(requests_of(stub, "stub-a", "response")) == SITUATIONS
    for body in tool_requests:
        assert persona.display_name in all_text(body) and persona.demographic.career in all_text(body)
        assert {tool["function"]["name"] for tool in body["tools"]} >= {"strengthcard", "query_music"}
    meta = load_run_meta(Store(configured), "r")
    assert (meta.status, meta.setting, meta.models, meta.personas) == (
        "finished",
        "profile",
        ["stub"],
        [PERSONA],
    )


def test_history_run_withholds_the_persona_and_feeds_back_earlier_turns(cli, configured, stub, persona):
    code, _, err = run_history_with_sim(cli, "--concurrency", "8")
    assert code == 0, err
    utterances = [situation.utterance for situation in persona.situations]
    tool_requests = requests_of(stub, "stub-a", "tool")
    assert [request_utterance(body) for body in tool_requests] == utterances  # one at a time, in order
    for index, body in enumerate(tool_requests):
        prompt = all_text(body)
        assert persona.display_name not in prompt and persona.demographic.career not in prompt
        assert persona_text(persona) not in prompt
        history = HISTORY_SECTION.search(body["messages"][1]["content"]).group(1)
        shown = [u for u in utterances if f"The user said: {u}" in history]
        assert shown == utterances[:index]
        assert history.count("Their feedback: Like") == index
        if index == 0:
            assert history == "None"
    for body in requests_of(stub, "stub-a", "response"):
        assert persona.display_name not in all_text(body)
    assert len(requests_of(stub, "stub-sim", "simulator")) == SITUATIONS
    records = records_by_index(configured)
    for index, record in records.items():
        assert record["status"] == "done"
        assert record["feedback"]["label"] == "like" and record["feedback"]["by"] == "sim"
        assert record["scored"] is (index >= SITUATIONS - 3)
    assert load_run_meta(Store(configured), "r").history is True


def test_history_run_without_history_shows_no_earlier_turns(cli, configured, stub, persona):
    code, _, err = run_cli(
        cli, "--personas", PERSONA, "--models", "stub", "--setting", "history", "--no-history"
    )
    assert code == 0, err
    tool_requests = requests_of(stub, "stub-a", "tool")
    assert len(tool_requests) == SITUATIONS
    for body in tool_requests:
        assert HISTORY_SECTION.search(body["messages"][1]["content"]).group(1) == "None"
        assert "The user said:" not in all_text(body)
    records = records_by_index(configured)
    assert {record["feedback"]["by"] for record in records.values()} == {"rule"}
    liked = {
        situation.scenario_type: persona.tool_preferences.for_scenario(situation.scenario_type).liked
        for situation in persona.situations
    }
    for index, record in records.items():
        expected = "like" if "strength_card" in liked[persona.situations[index].scenario_type] else "dislike"
        assert record["feedback"]["label"] == expected
    assert load_run_meta(Store(configured), "r").history is False


def test_empathetic_run_calls_no_tool_and_sends_one_request_per_item(cli, configured, stub, persona):
    code, _, err = run_cli(
        cli, "--personas", f"{PERSONA},{OTHER_PERSONA}", "--models", "stub", "--setting", "empathetic"
    )
    assert code == 0, err
    assert len(stub.requests) == 2 * SITUATIONS
    assert all(request_stage(body) == "empathetic" and "tools" not in body for body in stub.requests)
    assert Counter(request_utterance(body) for body in stub.requests).most_common(1)[0][1] == 1
    records = load_records(Store(configured), "r")
    assert len(records) == 2 * SITUATIONS
    for record in records:
        assert record["status"] == "done" and record["tool_call"] is None and record["tool_result"] is None
        assert record["response"] == reply_text(record["utterance"])


def test_hybrid_run_splits_the_stages_between_two_models(cli, configured, stub):
    code, _, err = run_cli(cli, "--personas", PERSONA, "--models", "stub,other", "--setting", "hybrid")
    assert code == 0, err
    assert {request_stage(body) for body in requests_of(stub, "stub-a")} == {"tool"}
    assert {request_stage(body) for body in requests_of(stub, "stub-b")} == {"response"}
    assert len(requests_of(stub, "stub-a")) == len(requests_of(stub, "stub-b")) == SITUATIONS
    records = load_records(Store(configured), "r")
    assert {record["model"] for record in records} == {"stub+other"}
    assert all(record["status"] == "done" and record["tool_result"]["ok"] for record in records)
    assert {record["stage1"]["by"] for record in records} == {"openai/stub-a"}
    assert {record["stage2"]["by"] for record in records} == {"openai/stub-b"}
    assert load_run_meta(Store(configured), "r").models == ["stub+other"]


# --- faults from the provider ----------------------------------------------------------------------


def test_each_provider_fault_is_recorded_on_its_item_and_the_run_goes_on(
    cli, data_dir, stub, companion, persona
):
    write_models(stub, {"stub": {"model": "openai/stub-a", "timeout": 1}})
    said = [situation.utterance for situation in persona.situations]
    always = {  # item: (stage, reply that fails every attempt, expected error kind)
        0: ("tool", hang(3), "timeout"),
        1: ("tool", error(429, "slow down"), "rate_limit"),
        2: ("tool", error(500, "boom"), "server"),
        3: ("tool", malformed(), "server"),
        4: ("response", empty(), "empty"),
    }
    once = {
        5: ("tool", hang(3)),
        6: ("tool", error(429, "slow down", retry_after=0.2)),
        7: ("tool", error(503)),
        8: ("tool", malformed()),
        9: ("response", empty()),
        10: ("response", error(500)),
    }
    for index, (stage, reply, _) in always.items():
        companion.fault(said[index], stage, reply, reply)
    for index, (stage, reply) in once.items():
        companion.fault(said[index], stage, reply)
    companion.fault(said[11], "tool", tool_call("dance_party", {"situation": "x"}))

    code, out, err = run_cli(cli, "--personas", PERSONA, "--models", "stub", "--json")
    assert code == 1, err  # the run goes on to its end, and its errors make the exit code
    summary = json.loads(out)
    assert (summary["finished"], summary["errors"]) == (SITUATIONS - len(always), len(always))
    assert summary["status"] == load_run_meta(Store(data_dir), "r").status == "finished_with_errors"
    kinds = Counter(kind for _, _, kind in always.values())
    assert summary["errors_by_model"] == {"stub": dict(kinds)}
    (line,) = [line for line in err.splitlines() if line.startswith("compass-tui: stub: ")]
    assert line.startswith(f"compass-tui: stub: {len(always)} errors (") and "; last: " in line
    assert all(f"{count} {kind}" in line for kind, count in kinds.items())
    records = records_by_index(data_dir)
    for index, (stage, _, kind) in always.items():
        record = records[index]
        step = "stage1" if stage == "tool" else "stage2"
        assert record["status"] == "error"
        assert record["error"]["kind"] == kind and record["error"]["stage"] == (
            "tool_selection" if stage == "tool" else "response"
        )
        assert record[step]["error"]["attempts"] == 2  # retried once (max_retries = 1), then recorded
        assert len(requests_of(stub, "stub-a", stage, said[index])) == 2
    assert "not valid JSON" in records[3]["error"]["message"]
    for index, (stage, _) in once.items():
        record = records[index]
        step = "stage1" if stage == "tool" else "stage2"
        assert record["status"] == "done" and record[step]["attempts"] == 2
        assert record["response"] == reply_text(said[index])
    unknown = records[11]
    assert unknown["status"] == "done" and unknown["response"] == reply_text(said[11])
    assert unknown["tool_result"]["ok"] is False and unknown["tool_result"]["error"]["code"] == "unknown_tool"
    assert "dance_party" in unknown["tool_result"]["error"]["message"]
    response_prompt = all_text(requests_of(stub, "stub-a", "response", said[11])[0])
    assert "unknown_tool" in response_prompt  # the model is told the tool failed
    done = [record for record in records.values() if record["status"] == "done"]
    assert pass_rate([InteractionRecord.read(record) for record in done]) == pytest.approx(
        (len(done) - 1) / len(done)
    )
    for index in (12, 13, 14):
        assert records[index]["status"] == "done" and records[index]["stage1"]["attempts"] == 1


def test_malformed_json_in_json_mode_is_retried_once_with_the_parse_error(
    cli, data_dir, stub, companion, persona
):
    write_models(stub, {"json": {"model": "openai/stub-json", "tool_calling": "json"}})
    said = [situation.utterance for situation in persona.situations]
    companion.fault(said[0], "tool", text('{"tool_folder_name": "strength_card", "param": {'))
    companion.fault(said[1], "tool", text("I would pick the strength card."), text("still not JSON"))
    code, _, err = run_cli(cli, "--personas", PERSONA, "--models", "json")
    assert code == 0, err
    first, retry = requests_of(stub, "stub-json", "tool", said[0])
    assert "tools" not in first and first["response_format"] == {"type": "json_object"}
    assert retry["messages"][:2] == first["messages"]
    assert retry["messages"][2] == {
        "role": "assistant",
        "content": '{"tool_folder_name": "strength_card", "param": {',
    }
    problem = retry["messages"][3]["content"]
    assert problem.startswith("That was not valid: no valid JSON in the reply (") and "Expecting" in problem
    records = records_by_index(data_dir)
    assert records[0]["status"] == "done" and records[0]["tool_result"]["ok"] is True
    assert records[0]["stage1"]["retried_after"] in problem
    assert records[0]["stage1"]["parse_error"] is None
    twice_bad = records[
        1
    ]  # still bad after the one retry: recorded as a malformed call, response still written
    assert len(requests_of(stub, "stub-json", "tool", said[1])) == 2
    assert twice_bad["status"] == "done" and twice_bad["tool_call"] is None
    assert (
        twice_bad["tool_result"]["ok"] is False
        and twice_bad["tool_result"]["error"]["code"] == "malformed_call"
    )
    assert "no valid JSON" in twice_bad["stage1"]["parse_error"]
    assert all(records[i]["stage1"].get("retried_after") is None for i in range(2, SITUATIONS))
    assert len(requests_of(stub, "stub-json", "tool")) == SITUATIONS + 2


def test_a_wrong_key_stops_that_model_after_one_request(cli, data_dir, stub, companion):
    write_models(stub, {"stub": {"model": "openai/stub-a"}, "bad": {"model": "openai/stub-bad"}})
    stub.script("stub-bad", [error(401, "Incorrect API key provided: sk-wrong-0123456789abcdef")] * 40)
    code, out, err = run_cli(
        cli,
        "--personas",
        f"{PERSONA},{OTHER_PERSONA}",
        "--models",
        "bad,stub",
        "--concurrency",
        "8",
        "--json",
    )
    assert code == 1
    assert 1 <= len(requests_of(stub, "stub-bad")) <= 2
    lines = [line for line in err.splitlines() if "stopped" in line]
    assert len(lines) == 1
    assert lines[0].startswith("compass-tui: bad: ")
    assert "not attempted; stopped: openai/stub-bad: auth (HTTP 401)" in lines[0]
    assert "sk-wrong-0123456789abcdef" not in err + out
    summary = json.loads(out)
    assert summary["fatal"].keys() == {"bad"} and summary["finished"] == 2 * SITUATIONS
    assert summary["errors"] + summary["stopped"] == 2 * SITUATIONS and summary["errors"] <= 2
    records = load_records(Store(data_dir), "r")
    assert (
        sum(record["model"] == "stub" and record["status"] == "done" for record in records) == 2 * SITUATIONS
    )
    bad = [record for record in records if record["model"] == "bad"]
    assert 1 <= len(bad) <= 2 and all(record["error"]["kind"] == "auth" for record in bad)


def test_a_run_with_every_item_failing_exits_1_with_a_summary_per_model(
    cli, configured, stub, companion, persona
):
    for situation in persona.situations:
        companion.fault(situation.utterance, "tool", error(500, "overloaded"), error(500, "overloaded"))
    code, out, err = run_cli(cli, "--personas", PERSONA, "--models", "stub", "--json")
    assert code == 1
    summary = json.loads(out)
    assert (summary["finished"], summary["errors"], summary["status"]) == (
        0,
        SITUATIONS,
        "finished_with_errors",
    )
    assert load_run_meta(Store(configured), "r").status == "finished_with_errors"
    (line,) = [line for line in err.splitlines() if line.startswith("compass-tui: stub: ")]
    assert line.startswith(f"compass-tui: stub: {SITUATIONS} errors ({SITUATIONS} server); last: ")
    assert "overloaded" in line


class CountingListener:
    """A loopback port that accepts each connection and closes it at once: an endpoint that is down."""

    def __init__(self):
        import socket
        import threading

        self.accepted = 0
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return
            self.accepted += 1
            connection.close()

    def close(self) -> None:
        self._socket.close()


def test_an_unreachable_endpoint_costs_one_items_retries(cli, data_dir, stub):
    listener = CountingListener()
    down = f"http://127.0.0.1:{listener.port}/v1"
    write_models(
        stub, {"down": {"model": "openai/stub-down", "api_base": down}, "stub": {"model": "openai/stub-a"}}
    )
    try:
        code, out, err = run_cli(
            cli, "--personas", PERSONA, "--models", "down,stub", "--concurrency", "8", "--json"
        )
    finally:
        listener.close()
    assert code == 1
    summary = json.loads(out)
    assert listener.accepted <= 2  # the first item's attempt and its one retry (max_retries = 1)
    assert (summary["errors"], summary["stopped"]) == (1, SITUATIONS - 1)
    assert summary["finished"] == SITUATIONS  # the other model is not held back
    assert summary["fatal"] == {"down": f"model openai/stub-down unreachable at {down}"}
    (line,) = [line for line in err.splitlines() if line.startswith("compass-tui: down: ")]
    assert (
        f"1 error (1 connection); {SITUATIONS - 1} not attempted; stopped: model openai/stub-down unreachable"
        in line
    )
    (record,) = [r for r in load_records(Store(data_dir), "r") if r["model"] == "down"]
    assert record["error"]["kind"] == "connection" and record["stage1"]["error"]["attempts"] == 2


def simulator_fails(companion: Companion) -> Callable[[dict], Reply]:
    def respond(body: dict) -> Reply:
        return error(500, "simulator down") if request_stage(body) == "simulator" else companion(body)

    return respond


def test_a_failing_simulator_is_an_error_and_a_rerun_asks_only_the_simulator(
    cli, configured, stub, companion
):
    stub.responder = simulator_fails(companion)
    code, out, err = run_history_with_sim(cli, "--json")
    assert code == 1
    summary = json.loads(out)
    assert (summary["errors"], summary["errors_by_model"]) == (SITUATIONS, {"stub": {"server": SITUATIONS}})
    records = records_by_index(configured)
    assert all(r["status"] == "error" and r["error"]["stage"] == "simulator" for r in records.values())
    assert all(
        r["response"] == reply_text(r["utterance"]) and r["feedback"] is None for r in records.values()
    )
    assert "simulator sim" in err
    meta = load_run_meta(Store(configured), "r")
    assert (meta.simulator, meta.simulator_fallback, meta.status) == (
        "sim",
        "none",
        "finished_with_errors",
    )

    stub.responder = companion
    before = len(stub.requests)
    code, out, err = run_history_with_sim(cli, "--json")
    assert code == 0, err
    again = stub.requests[before:]
    assert [request_stage(body) for body in again] == ["simulator"] * SITUATIONS
    records = records_by_index(configured)
    assert all(r["status"] == "done" and r["feedback"]["by"] == "sim" for r in records.values())


def test_simulator_fallback_rule_is_asked_for_and_recorded(cli, configured, stub, companion):
    stub.responder = simulator_fails(companion)
    code, out, err = run_history_with_sim(cli, "--simulator-fallback", "rule", "--json")
    assert code == 0, err
    assert json.loads(out)["errors"] == 0
    assert load_run_meta(Store(configured), "r").simulator_fallback == "rule"
    records = records_by_index(configured)
    assert all(r["feedback"]["by"] == "rule (simulator failed)" for r in records.values())
    assert all("simulator down" in r["feedback"]["simulator_error"] for r in records.values())


def test_a_missing_key_variable_is_rejected_before_any_request(cli, data_dir, stub, monkeypatch):
    monkeypatch.delenv("COMPASS_TUI_TEST_MISSING_KEY", raising=False)
    write_models(stub, {"keyed": {"model": "openai/stub-a", "api_key_env": "COMPASS_TUI_TEST_MISSING_KEY"}})
    code, out, err = run_cli(cli, "--personas", PERSONA, "--models", "keyed")
    assert code == 2
    assert err.strip().count("\n") == 0 and "COMPASS_TUI_TEST_MISSING_KEY is not set" in err
    assert stub.requests == [] and not (data_dir / "runs").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--personas", "nobody-here", "--models", "stub"), "no persona 'nobody-here'"),
        (("--personas", "zz*", "--models", "stub"), "'zz*' matches no persona"),
        (
            ("--personas", PERSONA, "--models", "gpt-9"),
            "models.gpt-9: no such model; configured: baseline, stub",
        ),
    ],
)
def test_an_unknown_persona_or_model_is_one_line_and_exit_2(cli, data_dir, stub, args, message):
    write_models(stub, {"stub": {"model": "openai/stub-a"}})
    code, _, err = run_cli(cli, *args)
    assert code == 2
    assert err.startswith("compass-tui: ") and err.strip().count("\n") == 0 and message in err
    assert stub.requests == [] and not (data_dir / "runs").exists()


# --- resuming ----------------------------------------------------------------------------------------


def test_rerunning_continues_and_never_repeats_a_finished_item(cli, configured, stub, companion, persona):
    said = [situation.utterance for situation in persona.situations]
    for index in (3, 9):
        companion.fault(said[index], "tool", error(500), error(500))
    code, out, _ = run_cli(cli, "--personas", PERSONA, "--models", "stub", "--json")
    assert code == 1 and json.loads(out)["errors"] == 2
    first_count = len(stub.requests)
    assert first_count == 2 * (SITUATIONS - 2) + 2 * 2

    code, out, _ = run_cli(cli, "--personas", PERSONA, "--models", "stub", "--json")
    assert code == 0
    summary = json.loads(out)
    assert (summary["skipped"], summary["finished"], summary["errors"]) == (SITUATIONS - 2, 2, 0)
    again = stub.requests[first_count:]
    assert sorted(request_utterance(body) for body in again) == sorted([said[3], said[3], said[9], said[9]])
    assert all(record["status"] == "done" for record in records_by_index(configured).values())

    code, out, _ = run_cli(cli, "--personas", PERSONA, "--models", "stub", "--json")
    assert json.loads(out)["skipped"] == SITUATIONS and len(stub.requests) == first_count + 4


def test_a_run_resumes_after_the_tool_step_without_asking_for_the_tool_again(
    cli, configured, stub, companion, persona
):
    said = [situation.utterance for situation in persona.situations]
    companion.fault(said[0], "response", error(500), error(500))
    run_cli(cli, "--personas", PERSONA, "--models", "stub")
    record = records_by_index(configured)[0]
    assert record["status"] == "error" and record["tool_result"]["ok"] is True
    # Saved mid-way, as a crash after the tool ran would leave it:
    record = {**record.to_document(), "status": "executed"}
    Store(configured).upsert(
        run_records_path("r", PERSONA), INTERACTIONS_TABLE, interaction_key("stub", PERSONA, 0), record
    )
    before = len(stub.requests)
    code, _, _ = run_cli(cli, "--personas", PERSONA, "--models", "stub")
    assert code == 0
    assert [request_stage(body) for body in stub.requests[before:]] == ["response"]
    assert records_by_index(configured)[0]["status"] == "done"


def test_a_run_with_another_setting_under_the_same_name_is_refused(cli, configured, stub):
    run_cli(cli, "--personas", PERSONA, "--models", "stub", "--setting", "empathetic")
    before = len(stub.requests)
    code, out, err = run_cli(cli, "--personas", PERSONA, "--models", "stub", "--setting", "profile")
    assert code == 2 and "run 'r' exists with setting 'empathetic'" in err
    assert out == "" and err.count("\n") == 1  # refused before the run's heading and progress bar
    assert len(stub.requests) == before


def test_stateful_tools_start_fresh_for_each_situation_outside_the_history_setting(
    cli, configured, companion, persona
):
    said = [situation.utterance for situation in persona.situations]
    booking = {
        "operation": "add",
        "time": "2026-03-02 09:00",
        "location": "Physio",
        "event": "knee check",
        "duration": "30 minutes",
    }
    for index in range(4):
        companion.fault(said[index], "tool", tool_call("schedule_api", booking))
    code, _, err = run_cli(cli, "--personas", PERSONA, "--models", "stub", "--concurrency", "4")
    assert code == 0, err
    records = records_by_index(configured)
    results = [records[index]["tool_result"]["result"] for index in range(4)]
    assert all(record["tool_result"]["ok"] for record in records.values())
    assert results[0][0] is True and results == [results[0]] * 4  # same id whatever order they ran in
    scopes = sorted(path.name for path in (configured / "tool_state").iterdir())
    assert scopes == [f"r@situation-{index + 1}" for index in range(4)]


def test_the_heap_is_frozen_while_a_run_executes_and_thawed_after(cli, configured, stub, companion):
    import gc

    frozen_during: list[int] = []
    answer = stub.responder

    def watching(body: dict) -> Reply:
        frozen_during.append(gc.get_freeze_count())
        return answer(body)

    stub.responder = watching
    code, _, err = run_cli(cli, "--personas", PERSONA, "--models", "stub", "--setting", "empathetic")
    assert code == 0, err
    assert len(frozen_during) == SITUATIONS and min(frozen_during) > 0
    assert gc.get_freeze_count() == 0
