"""Training data from runs (compass_tui/training.py), on a real offline-baseline run judged by the
loopback stub through real litellm.

The run covers situations 0-5 of a bundled persona. Before judging, situation 3 is made an error,
situation 4's tool is made to have failed and situation 5 is left without a response, by hand. The
stub judge gives situation 0 all 4s (mean 4.0), situation 1 4,4,3,3,4,3 (mean 3.5, the boundary),
situation 2 3,4,3,3,4,3 (mean 3.33) and situation 4 all 5s; so `--min-score 3.5` keeps 0, 1 and 4.
Every exported line is checked against a JSON Schema of its format written here.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from run_support import write_baseline_run

from compass_tui.annotations import Annotation, save_annotation
from compass_tui.config import ModelConfig
from compass_tui.errors import InputError
from compass_tui.judge import judge_run, load_judge_prompt
from compass_tui.library import PersonaLibrary
from compass_tui.pipeline import System
from compass_tui.prompts import WITHHELD, as_json, our_prompts, persona_text
from compass_tui.records import (
    INTERACTIONS_TABLE,
    META_TABLE,
    interaction_key,
    load_records,
    run_meta_path,
    run_records_path,
    system_id,
)
from compass_tui.report import SESSION_SCOPE
from compass_tui.runner import RunPlan, execute_run
from compass_tui.store import Store
from compass_tui.tools.definitions import load_definitions, openai_tools
from compass_tui.tools.environment import ToolEnvironment
from compass_tui.training import (
    TrainingFilter,
    check_selection,
    collect,
    jsonl_line,
    manifest,
    openai_line,
    render_lines,
    sharegpt_line,
)
from compass_tui.user_simulator import history_line
from compass_tui.vocab import DIMENSION_KEYS
from tools.stub_llm import StubLLM, text

PERSONA = "adam-kerr"
RUN = "R"
SITUATIONS = (0, 1, 2, 3, 4, 5)
JUDGED = {0: [4] * 6, 1: [4, 4, 3, 3, 4, 3], 2: [3, 4, 3, 3, 4, 3], 4: [5] * 6}
TOOL_ERROR = "stub: the tool was down"

SCORES_SCHEMA = {
    "type": ["object", "null"],
    "required": list(DIMENSION_KEYS),
    "properties": {key: {"type": ["number", "null"]} for key in DIMENSION_KEYS},
}
TOOL_SCHEMA = {
    "type": "object",
    "required": ["type", "function"],
    "properties": {
        "type": {"const": "function"},
        "function": {
            "type": "object",
            "required": ["name", "description", "parameters"],
            "properties": {"name": {"type": "string"}, "parameters": {"type": "object"}},
        },
    },
}
OPENAI_MESSAGES = {
    "type": "array",
    "prefixItems": [
        {
            "type": "object",
            "required": ["role", "content"],
            "properties": {"role": {"const": "system"}, "content": {"type": "string", "minLength": 1}},
            "additionalProperties": False,
        },
        {
            "type": "object",
            "required": ["role", "content"],
            "properties": {"role": {"const": "user"}, "content": {"type": "string", "minLength": 1}},
            "additionalProperties": False,
        },
        {
            "type": "object",
            "required": ["role", "tool_calls"],
            "properties": {
                "role": {"const": "assistant"},
                "tool_calls": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["id", "type", "function"],
                        "properties": {
                            "id": {"type": "string", "minLength": 1},
                            "type": {"const": "function"},
                            "function": {
                                "type": "object",
                                "required": ["name", "arguments"],
                                "properties": {"name": {"type": "string"}, "arguments": {"type": "string"}},
                                "additionalProperties": False,
                            },
                        },
                        "additionalProperties": False,
                    },
                },
            },
            "additionalProperties": False,
        },
        {
            "type": "object",
            "required": ["role", "tool_call_id", "content"],
            "properties": {
                "role": {"const": "tool"},
                "tool_call_id": {"type": "string"},
                "content": {"type": "string"},
            },
            "additionalProperties": False,
        },
        {
            "type": "object",
            "required": ["role", "content"],
            "properties": {"role": {"const": "assistant"}, "content": {"type": "string", "minLength": 1}},
            "additionalProperties": False,
        },
    ],
    "items": False,
    "minItems": 5,
}
OPENAI_SCHEMA = {
    "type": "object",
    "required": ["messages", "tools"],
    "properties": {
        "messages": OPENAI_MESSAGES,
        "tools": {"type": "array", "minItems": 1, "items": TOOL_SCHEMA},
    },
    "additionalProperties": False,
}
SHAREGPT_SCHEMA = {
    "type": "object",
    "required": ["conversations", "system", "tools"],
    "properties": {
        "conversations": {
            "type": "array",
            "prefixItems": [
                {"properties": {"from": {"const": "human"}}},
                {"properties": {"from": {"const": "function_call"}}},
                {"properties": {"from": {"const": "observation"}}},
                {"properties": {"from": {"const": "gpt"}}},
            ],
            "items": {
                "type": "object",
                "required": ["from", "value"],
                "properties": {
                    "from": {"enum": ["system", "human", "function_call", "observation", "gpt"]},
                    "value": {"type": "string", "minLength": 1},
                },
                "additionalProperties": False,
            },
            "minItems": 4,
            "maxItems": 4,
        },
        "system": {"type": "string", "minLength": 1},
        "tools": {"type": "string"},
    },
    "additionalProperties": False,
}
JSONL_SCHEMA = {
    "type": "object",
    "required": [
        "format",
        "run_id",
        "model",
        "persona_id",
        "situation_index",
        "setting",
        "scenario_type",
        "emotion",
        "messages",
        "prompt_origin",
        "tool_call",
        "tool_ran",
        "scores",
        "score_mean",
        "source",
        "judge_model",
        "judge_prompt",
    ],
    "properties": {
        "format": {"const": "compass-tui/training@1"},
        "run_id": {"type": "string"},
        "model": {"type": "string"},
        "persona_id": {"type": "string"},
        "situation_index": {"type": "integer", "minimum": 0},
        "setting": {"enum": ["profile", "history", "hybrid"]},
        "scenario_type": {"type": ["string", "null"]},
        "emotion": {"type": ["string", "null"]},
        "messages": OPENAI_MESSAGES,
        "prompt_origin": {"enum": ["stored", "rebuilt"]},
        "tool_call": {
            "type": "object",
            "required": ["tool_folder_name", "function_name", "param"],
            "properties": {"param": {"type": "object"}},
        },
        "tool_ran": {"type": "boolean"},
        "scores": SCORES_SCHEMA,
        "score_mean": {"type": ["number", "null"], "minimum": 1, "maximum": 5},
        "source": {"enum": ["judge", "human", None]},
        "judge_model": {"type": ["string", "null"]},
        "judge_prompt": {"type": ["string", "null"]},
    },
    "additionalProperties": False,
}


def verdict(scores: list[int]) -> str:
    return json.dumps(
        {key: {"score": value, "rationale": f"{key} fits"} for key, value in zip(DIMENSION_KEYS, scores)}
    )


class ScoringJudge:
    """Answers a judge request with the scores written above for the situation it quotes."""

    def __init__(self, persona):
        self.utterances = [situation.utterance for situation in persona.situations]

    def __call__(self, body: dict):
        user = body["messages"][1]["content"]
        for index, utterance in enumerate(self.utterances):
            if index in JUDGED and (utterance in user or json.dumps(utterance)[1:-1] in user):
                return text(verdict(JUDGED[index]))
        return text(verdict([1] * 6))


@pytest.fixture(scope="module")
def persona():
    return PersonaLibrary(Path("/nonexistent")).get(PERSONA)


@pytest.fixture(scope="module")
def judged_run(tmp_path_factory, persona) -> Path:
    root = tmp_path_factory.mktemp("training-run")
    store = Store(root)
    write_baseline_run(root, RUN, persona.id, set(SITUATIONS))
    shard = run_records_path(RUN, PERSONA)
    edit = {
        3: {"status": "error", "error": {"stage": "response", "kind": "server", "message": "stub"}},
        5: {"status": "executed", "response": None},
    }
    for index, changes in edit.items():
        store.update(shard, INTERACTIONS_TABLE, interaction_key("baseline", PERSONA, index), changes)
    failed = store.get(shard, INTERACTIONS_TABLE, interaction_key("baseline", PERSONA, 4))
    assert failed is not None
    failed_result = {**failed["tool_result"], "ok": False, "result": None, "error": TOOL_ERROR}
    store.update(
        shard, INTERACTIONS_TABLE, interaction_key("baseline", PERSONA, 4), {"tool_result": failed_result}
    )
    with StubLLM(ScoringJudge(persona)) as stub:
        judge = ModelConfig(model="openai/judge-a", api_base=stub.base_url, timeout=5)
        asyncio.run(
            judge_run(store, {PERSONA: persona}, RUN, judge, "judge", load_judge_prompt(None), max_retries=0)
        )
    return root


@pytest.fixture
def store(tmp_path, judged_run) -> Store:
    shutil.copytree(judged_run, tmp_path / "data")
    return Store(tmp_path / "data")


@pytest.fixture(scope="module")
def definitions():
    return load_definitions(None)


def exported(store, persona, definitions, chosen=None, with_scores=False):
    chosen = chosen or TrainingFilter()
    return collect(store, [RUN], {PERSONA: persona}, definitions, chosen, with_scores=with_scores)


def indexes(examples) -> list[int]:
    return [example.record["situation_index"] for example in examples]


def refused(training) -> dict[int, str]:
    return {refusal.situation_index: refusal.reason for refusal in training.refusals}


def records_by_index(store) -> dict[int, dict]:
    return {record["situation_index"]: record for record in load_records(store, RUN)}


def test_openai_lines_follow_the_schema_and_carry_what_the_agent_had(store, persona, definitions):
    training = exported(store, persona, definitions)
    lines = [json.loads(line) for line in render_lines(training, "openai", definitions, "judge").splitlines()]
    assert indexes(training.examples) == [0, 1, 2, 4]
    assert refused(training) == {3: "errored", 5: "no_response"}
    records = records_by_index(store)
    for example, line in zip(training.examples, lines, strict=True):
        jsonschema.validate(line, OPENAI_SCHEMA)
        record = records[example.record["situation_index"]]
        system, user, call, result, reply = line["messages"]
        expected = our_prompts().tool_selection(persona_text(persona), record["utterance"], "None", "", True)
        assert [system, user] == expected
        assert record["utterance"] in user["content"] and persona.personality_description in user["content"]
        (tool_call,) = call["tool_calls"]
        assert json.loads(tool_call["function"]["arguments"]) == record["tool_call"]["param"]
        assert tool_call["function"]["name"] == record["tool_call"]["function_name"]
        assert result["tool_call_id"] == tool_call["id"]
        assert reply["content"] == record["response"]
        assert line["tools"] == openai_tools(definitions)
        shown = record["tool_result"]["result"] if record["tool_result"]["ok"] else {"error": TOOL_ERROR}
        assert result["content"] == as_json(shown)
    assert len({line["messages"][2]["tool_calls"][0]["id"] for line in lines}) == len(lines)
    assert json.loads(lines[-1]["messages"][3]["content"]) == {"error": TOOL_ERROR}


def test_sharegpt_lines_follow_llama_factorys_function_call_format(store, persona, definitions):
    training = exported(store, persona, definitions)
    lines = [
        json.loads(line) for line in render_lines(training, "sharegpt", definitions, "judge").splitlines()
    ]
    records = records_by_index(store)
    for example, line in zip(training.examples, lines, strict=True):
        jsonschema.validate(line, SHAREGPT_SCHEMA)
        record = records[example.record["situation_index"]]
        human, function_call, observation, gpt = line["conversations"]
        assert line["system"] == example.messages[0]["content"]
        assert human["value"] == example.messages[1]["content"]
        called = json.loads(function_call["value"])
        assert called == {
            "name": record["tool_call"]["function_name"],
            "arguments": record["tool_call"]["param"],
        }
        assert observation["value"] == example.messages[3]["content"]
        assert gpt["value"] == record["response"]
        tools = json.loads(line["tools"])
        assert tools == [tool["function"] for tool in openai_tools(definitions)]
        assert called["name"] in {tool["name"] for tool in tools}


def test_jsonl_lines_carry_the_item_its_call_and_its_judge_scores(store, persona, definitions):
    training = exported(store, persona, definitions, with_scores=True)
    lines = [json.loads(line) for line in render_lines(training, "jsonl", definitions, "judge").splitlines()]
    for line in lines:
        jsonschema.validate(line, JSONL_SCHEMA)
    by_index = {line["situation_index"]: line for line in lines}
    assert by_index[1]["scores"] == dict(zip(DIMENSION_KEYS, [4, 4, 3, 3, 4, 3], strict=True))
    assert by_index[1]["score_mean"] == 3.5 and by_index[1]["source"] == "judge"
    assert by_index[1]["judge_model"] == "judge" and by_index[1]["judge_prompt"].startswith("ours:")
    assert by_index[4]["tool_ran"] is False and by_index[0]["tool_ran"] is True
    assert {line["prompt_origin"] for line in lines} == {"rebuilt"}
    assert by_index[2]["messages"] == openai_line(training.examples[2], [])["messages"]


def test_min_score_keeps_the_items_whose_mean_reaches_it_and_require_pass_drops_failed_tools(
    store, persona, definitions
):
    chosen = TrainingFilter(min_score=3.5)
    training = exported(store, persona, definitions, chosen)
    assert indexes(training.examples) == [0, 1, 4]
    assert refused(training) == {2: "below_min_score", 3: "errored", 5: "no_response"}
    assert [example.score_mean for example in training.examples] == [4.0, 3.5, 5.0]
    assert "3.333 is below 3.5" in next(r.line() for r in training.refusals if r.situation_index == 2)
    strict = exported(store, persona, definitions, TrainingFilter(min_score=3.5, require_pass=True))
    assert indexes(strict.examples) == [0, 1]
    assert refused(strict)[4] == "tool_failed"
    assert TOOL_ERROR in next(r.line() for r in strict.refusals if r.situation_index == 4)
    assert indexes(exported(store, persona, definitions, TrainingFilter(min_score=3.6)).examples) == [0, 4]


def test_the_manifest_counts_what_was_considered_written_and_refused(store, persona, definitions):
    chosen = TrainingFilter(min_score=3.5, require_pass=True)
    training = exported(store, persona, definitions, chosen)
    document = manifest(training, "sharegpt", chosen, "/out/train.jsonl")
    assert document["counts"] == {
        "considered": 6,
        "written": 2,
        "refused": 4,
        "refused_by_reason": {"errored": 1, "no_response": 1, "tool_failed": 1, "below_min_score": 1},
    }
    assert document["filter"] == {
        "min_score": 3.5,
        "source": "judge",
        "judge_model": None,
        "judge_prompt": None,
        "require_pass": True,
    }
    assert document["judges"][RUN]["judge_model"] == "judge"
    assert document["runs"] == [RUN] and document["export_format"] == "sharegpt"
    assert document["prompt_origin"] == {"stored": 0, "rebuilt": 2}


def test_human_scores_filter_with_source_human(store, persona, definitions):
    for index, value in ((0, 5), (1, 2), (2, 4)):
        annotation = Annotation(SESSION_SCOPE, "ann", PERSONA, index, system_id(RUN, "baseline"))
        for key in DIMENSION_KEYS:
            annotation.set_score(key, value)
        annotation.committed = index != 2  # an uncommitted score is not final
        save_annotation(store, annotation)
    training = exported(store, persona, definitions, TrainingFilter(min_score=3.5, source="human"))
    assert indexes(training.examples) == [0]
    assert refused(training) == {
        1: "below_min_score",
        2: "no_score",
        3: "errored",
        4: "no_score",
        5: "no_response",
    }
    assert training.examples[0].scores == {key: 5 for key in DIMENSION_KEYS}


def test_an_empty_selection_names_the_filter(store, persona, definitions):
    chosen = TrainingFilter(
        min_score=5, require_pass=True
    )  # only situation 4 has all 5s, and its tool failed
    training = exported(store, persona, definitions, chosen)
    filter_text = r"nothing passes the filter \(--min-score 5 --source judge --require-pass\): 6 interactions"
    with pytest.raises(InputError, match=filter_text):
        check_selection(training, chosen)


def test_a_run_whose_prompts_are_not_ours_and_not_stored_is_refused(store, persona, definitions):
    store.update(run_meta_path(RUN), META_TABLE, "meta", {"prompt_hash": "0123456789abcdef"})
    training = exported(store, persona, definitions)
    assert not training.examples
    assert set(refused(training).values()) == {"prompt_unknown", "errored", "no_response"}


def test_a_run_without_responses_is_bad_input(store, persona, definitions):
    shard = run_records_path(RUN, PERSONA)
    for index in SITUATIONS:
        store.update(
            shard, INTERACTIONS_TABLE, interaction_key("baseline", PERSONA, index), {"response": None}
        )
    with pytest.raises(InputError, match="run 'R' has no responses"):
        exported(store, persona, definitions)


def test_the_format_helpers_agree_on_one_example(store, persona, definitions):
    example = exported(store, persona, definitions).examples[0]
    tools = openai_tools(definitions)
    assert openai_line(example, tools)["messages"] == jsonl_line(example, "judge")["messages"]
    assert sharegpt_line(example, tools)["system"] == example.messages[0]["content"]


def test_a_rebuilt_history_prompt_shows_the_earlier_turns_and_withholds_the_persona(
    tmp_path, persona, definitions
):
    store = Store(tmp_path / "history")
    plan = RunPlan(
        run_id="H", setting="history", systems=[System("baseline")], personas=[persona], prompts=our_prompts()
    )
    env = ToolEnvironment.create(store, search_mode="lexical", cache_dir=tmp_path / "cache")
    asyncio.run(execute_run(plan, store, env))
    training = collect(store, ["H"], {PERSONA: persona}, definitions, TrainingFilter())
    saved = {record["situation_index"]: record for record in load_records(store, "H")}
    third = next(example for example in training.examples if example.record["situation_index"] == 2)
    history = "\n".join(history_line(saved[index]) for index in (0, 1))
    expected = our_prompts().tool_selection(WITHHELD, saved[2]["utterance"], history, "", True)
    assert third.messages[:2] == expected
    assert persona.personality_description not in third.messages[1]["content"]
    assert saved[0]["utterance"] in third.messages[1]["content"]
