"""`--fidelity official` against the official scripts themselves.

The official scripts' prompt-filling classes and per-utterance pipelines are loaded from
`../shared/compass-bench/code/` with `ast` and run unchanged, with only their I/O stubbed: the
template files they open come from the official prompt folder, the model is the same scripted
companion our run talks to over HTTP (StubLLM), and their tool step runs our tool environment.
Every system and user message of stage 1, stage 2 and the simulator must then be byte-equal to
what our run sent. Skipped when the shared release is absent.
"""

from __future__ import annotations

import ast
import asyncio
import copy
import json
import logging
import os
import re
import threading
from collections import Counter
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from compass_tui.compass_format import load_compass_file, persona_to_compass_user
from compass_tui.config import ModelConfig
from compass_tui.errors import InputError
from compass_tui.fidelity import OFFICIAL, tool_defs_text
from compass_tui.library import PersonaLibrary
from compass_tui.persona import Persona
from compass_tui.pipeline import System
from compass_tui.prompts import PromptSet, load_prompt_dir
from compass_tui.records import load_records, load_run_meta
from compass_tui.runner import RunPlan, execute_run
from compass_tui.store import Store
from compass_tui.tools.environment import ToolContext, ToolEnvironment
from tools.stub_llm import Reply, StubLLM, text

PROFILE_SCRIPT = "code/profile-based/inference_respond.py"
HISTORY_SCRIPT = "code/history-based/inference_toolinvoc_his.py"
ITEM_RE = re.compile(r"«item (\d+)»")
Prompt = tuple[str, str]


# --- the scripted companion, shared by our run and the official scripts ----------------------------


class Companion:
    """Answers from the messages alone: the first stage-1 attempt of situation 0 names an unknown tool
    (so the official retry runs), every other one calls strength_card with the item marked in its
    parameter; stage 2 answers fenced JSON; the simulator likes even situations."""

    def __init__(self, prompts: PromptSet, utterances: list[str]):
        self.prompts, self.utterances = prompts, utterances
        self.attempts: Counter[int] = Counter()
        self.lock = threading.Lock()

    def reply(self, messages: list[dict[str, str]]) -> str:
        system, user = messages[0]["content"], messages[1]["content"]
        if system.startswith(self.prompts.tool_system):
            return self._tool_choice(self._current(user))
        index = int(ITEM_RE.search(user).group(1))
        if system.startswith(self.prompts.simulator_system):
            return json.dumps({"output": "Like" if index % 2 == 0 else "Dislike"})
        return f'Here you go.\n```json\n{{"feedback": "A card for you «item {index}»."}}\n```'

    def __call__(self, body: dict) -> Reply:
        return text(self.reply(body["messages"]))

    def _current(self, user: str) -> int:
        """The situation of a stage-1 prompt: the earliest quoted utterance (the history comes after it)."""
        found = {i: user.find(json.dumps(u, ensure_ascii=False)) for i, u in enumerate(self.utterances)}
        return min((at, i) for i, at in found.items() if at >= 0)[1]

    def _tool_choice(self, index: int) -> str:
        with self.lock:
            attempt = self.attempts[index]
            self.attempts[index] += 1
        folder = "no_such_tool" if index == 0 and attempt == 0 else "strength_card"
        call = {
            "call_type": "pos",
            "tool_folder_name": folder,
            "function_name": "strengthcard",
            "param": {"situation": f"«item {index}» {self.utterances[index][:40]}"},
        }
        return json.dumps({"scenario": "Work/Study_scenario", "1": call}, ensure_ascii=False)


# --- loading the official code -------------------------------------------------------------------


def official_namespace(script: Path, names: set[str], stubs: dict[str, Any]) -> dict[str, Any]:
    """The named top-level functions and classes of an official script, run in a namespace of stubs."""
    tree = ast.parse(script.read_text(encoding="utf-8"))
    nodes = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef) and n.name in names]
    assert {n.name for n in nodes} == names, f"{script} no longer defines {names}"
    namespace = {"json": json, "os": os, "re": re, "copy": copy, "Dict": dict, "List": list, **stubs}
    exec(compile(ast.Module(body=nodes, type_ignores=[]), str(script), "exec"), namespace)
    return namespace


def template_opener(bench: Path, prompt_dir: Path | None = None):
    """`open` for the scripts: each template name they read, from `prompt_dir` where it has the file,
    else from the official prompt folder (the profile script's two user templates being read from
    their history-based counterparts, as our run reads them when the folder lacks them)."""
    folders = {
        "system_tool_selection.txt": "history-based",
        "user_tool_selection.txt": "history-based",
        "user_tool_selection_pos.txt": "history-based/user_tool_selection.txt",
        "system_feedback_generation.txt": "history-based",
        "user_feedback_ver1.0.txt": "history-based/user_feedback.txt",
        "system_prompt_perfer.txt": "user-simulator",
        "user_prompt_perfer.txt": "user-simulator",
    }

    def opener(path, mode="r", encoding=None):
        name = os.path.basename(path)
        if name not in folders:  # a tool's definition.json
            return open(path, mode, encoding=encoding)
        if prompt_dir is not None and (prompt_dir / name).exists():
            return open(prompt_dir / name, mode, encoding=encoding)
        where = folders[name]
        target = bench / "prompts" / (where if where.endswith(".txt") else f"{where}/{name}")
        return open(target, mode, encoding=encoding)

    return opener


def capture_prompts(namespace: dict[str, Any], classes: list[str], sink: list[Prompt]) -> None:
    for name in classes:
        cls = namespace[name]
        original = cls.get_prompt

        def recorded(self, sample_id, _original=original):
            prompt = _original(self, sample_id)
            sink.append(prompt)
            return prompt

        cls.get_prompt = recorded


class Engine:
    """The scripts' local inference engine, answered by the companion."""

    def __init__(self, companion: Companion):
        self.companion = companion
        self.model = SimpleNamespace(model_meta=SimpleNamespace(template="stub"))
        self.tokenizer = self.default_template = None

    def infer(self, requests, config):
        content = self.companion.reply(requests[0])
        return [SimpleNamespace(choices=[SimpleNamespace(message=SimpleNamespace(content=content))])]


def api_generation_base(companion: Companion):
    """The scripts' LLM_Individual_Generation (not public): get_prompt, then the companion's answer."""

    class LLMIndividualGeneration:
        def __init__(self, *args, **kwargs):
            pass

        def generate(self, sample_id):
            system, user = self.get_prompt(sample_id)
            return True, companion.reply([{"content": system}, {"content": user}])

    return LLMIndividualGeneration


def tool_runner(env: ToolEnvironment, persona: Persona, toolenv: Path):
    """The scripts' execute_tool_call: loading a folder's api.py fails for a folder that is not in the
    toolenv; our tool environment answers the rest."""

    def run(call: dict[str, Any]) -> tuple[bool, Any]:
        if not (toolenv / call["tool_folder_name"]).is_dir():
            return False, f"no api.py in {call['tool_folder_name']}"
        record = env.call_blocking(call, ToolContext(persona, scope="oracle"))
        return (True, record["result"]) if record["ok"] else (False, record["error"]["message"])

    return run


def common_stubs(bench: Path, companion: Companion, prompt_dir: Path | None = None) -> dict[str, Any]:
    return {
        "open": template_opener(bench, prompt_dir),
        "logger": logging.getLogger("official-oracle"),
        "InferRequest": lambda messages: messages,
        "RequestConfig": lambda **options: options,
        "get_template": lambda *args: None,
        "GEN_CONFIG": None,
        "TOOL_BASE_PATH": str(bench / "toolenv"),
        "DATA_ROOT": "/official-data-root",
        "GENERATION_CONFIG": {"max_tokens": 1, "temperature": 0, "top_p": 1},
        "LLM_Individual_Generation": api_generation_base(companion),
        "print": lambda *args, **kwargs: None,
    }


# --- our side ------------------------------------------------------------------------------------


def our_run(
    data_dir: Path,
    bench: Path,
    persona: Persona,
    setting: str,
    situations: set[int] | None = None,
    prompt_dir: Path | None = None,
) -> tuple[list[Prompt], list[dict[str, Any]]]:
    prompts = load_prompt_dir(prompt_dir or bench / "prompts" / "history-based", OFFICIAL, setting)
    companion = Companion(prompts, [s.utterance for s in persona.situations])
    store = Store(data_dir)
    env = ToolEnvironment.create(store, tool_data=bench / "toolenv", search_mode="lexical")
    with StubLLM(companion) as stub:
        model = ModelConfig(model="openai/stub-a", api_base=stub.base_url, timeout=5)
        plan = RunPlan(
            run_id="r",
            setting=setting,
            systems=[System("stub", model, model)],
            personas=[persona],
            prompts=prompts,
            simulator=model if setting == "history" else None,
            simulator_name="stub",
            only_situations=situations,
            max_retries=1,
            fidelity=OFFICIAL,
            today=date(2025, 1, 6),
        )
        progress = asyncio.run(execute_run(plan, store, env))
    assert not progress.failed, progress.summary_lines()
    sent = [(b["messages"][0]["content"], b["messages"][1]["content"]) for b in stub.requests]
    return sent, load_records(store, "r")


# --- the profile setting: inference_respond.py ---------------------------------------------------


@pytest.fixture(params=["bundled", "compass-user-0"])
def persona(request, shared_test_set) -> Persona:
    """A bundled persona, or user "0" of the official test set converted through compass_format."""
    if request.param == "bundled":
        return PersonaLibrary(Path("/nonexistent")).get("adam-kerr")
    return load_compass_file(shared_test_set)[0]


def official_user(persona: Persona, test_set: Path) -> dict[str, Any]:
    """The scripts' `persona` of a user: its test-set entry without the situations (the scripts read a
    restructured file that is not public). User "0" comes from the test set itself."""
    if persona.origin and persona.origin.user_id:
        user = json.loads(test_set.read_text(encoding="utf-8"))[persona.origin.user_id]
    else:
        user = persona_to_compass_user(persona)
    return {key: value for key, value in user.items() if key not in ("scenarios", "utterance", "name")}


def official_profile(
    bench: Path,
    persona: Persona,
    situations: list[int],
    env: ToolEnvironment,
    prompt_dir: Path | None = None,
):
    prompts = load_prompt_dir(prompt_dir or bench / "prompts" / "history-based", setting="profile")
    companion = Companion(prompts, [s.utterance for s in persona.situations])
    run_tool = tool_runner(env, persona, bench / "toolenv")
    namespace = official_namespace(
        bench / PROFILE_SCRIPT,
        {
            "LocalSwiftGenerator",
            "ToolSelectionGeneration",
            "FeedbackGenerationGeneration",
            "collect_tool_definitions",
            "load_json_file",
            "parse_tool_call",
            "_execute_single_pass",
            "process_utterance_with_retry",
        },
        {
            **common_stubs(bench, companion, prompt_dir),
            "execute_tool_call": lambda folder, function, params: run_tool(
                {"tool_folder_name": folder, "function_name": function, "param": params}
            ),
        },
    )
    sent: list[Prompt] = []
    capture_prompts(namespace, ["ToolSelectionGeneration", "FeedbackGenerationGeneration"], sent)
    tool_defs = namespace["collect_tool_definitions"](str(bench / "toolenv"))
    user = official_user(persona, bench / "test_set_correct_form.json")
    results = {}
    for index in situations:
        utterance = persona.situations[index].utterance
        first, best = namespace["process_utterance_with_retry"](
            user, utterance, tool_defs, index + 1, Engine(companion)
        )
        results[index] = best
    return sent, results, tool_defs


def test_profile_prompts_are_the_official_scripts_bytes(data_dir, shared_bench, persona):
    situations = [0, 1, 2]
    ours, records = our_run(data_dir, shared_bench, persona, "profile", set(situations))
    env = ToolEnvironment.create(Store(data_dir), tool_data=shared_bench / "toolenv", search_mode="lexical")
    theirs, results, _ = official_profile(shared_bench, persona, situations, env)
    assert len(ours) == len(theirs) == 2 * (len(situations) + 1)  # situation 0 retried once
    assert Counter(ours) == Counter(theirs)
    by_index = {r["situation_index"]: r for r in records}
    for index, best in results.items():
        record = by_index[index]
        assert (record["first_attempt_success"], record["final_success"]) == (
            best["execution_success"],
            best["three_execution_success"],
        )
        assert record["official"]["reply"] == best["tool_call"]["1"]["generated_feedback"]
    assert by_index[0]["tool_attempts"] == 2 and by_index[0]["first_attempt_success"] is False


STAND_IN = "Profile stand-in.\n"


@pytest.fixture
def profile_prompt_dir(tmp_path, shared_bench) -> Path:
    """A folder laid out as inference_respond.py reads its templates. The release lacks the script's two
    user templates, so they are stand-ins here (the history-based texts under a marker line), written
    in the test's temporary folder, never in the project."""
    history = shared_bench / "prompts" / "history-based"
    folder = tmp_path / "tool_invocation"
    folder.mkdir()
    for name in ("system_tool_selection.txt", "system_feedback_generation.txt"):
        (folder / name).write_bytes((history / name).read_bytes())
    for own, counterpart in (
        ("user_tool_selection_pos.txt", "user_tool_selection.txt"),
        ("user_feedback_ver1.0.txt", "user_feedback.txt"),
    ):
        (folder / own).write_text(
            STAND_IN + (history / counterpart).read_text(encoding="utf-8"), encoding="utf-8"
        )
    return folder


def test_profile_templates_are_read_where_the_folder_has_them(
    data_dir, shared_bench, persona, profile_prompt_dir
):
    situations = [0, 1]
    ours, _ = our_run(data_dir, shared_bench, persona, "profile", set(situations), profile_prompt_dir)
    env = ToolEnvironment.create(Store(data_dir), tool_data=shared_bench / "toolenv", search_mode="lexical")
    theirs, _, _ = official_profile(shared_bench, persona, situations, env, profile_prompt_dir)
    assert Counter(ours) == Counter(theirs)
    assert all(user.startswith(STAND_IN) for _, user in ours)


def test_a_profile_folder_missing_one_template_names_it(profile_prompt_dir):
    (profile_prompt_dir / "user_feedback_ver1.0.txt").unlink()
    with pytest.raises(InputError, match="user_feedback_ver1.0.txt"):
        load_prompt_dir(profile_prompt_dir, OFFICIAL, "profile")


def test_official_tool_definitions_are_the_scripts_dict(shared_bench):
    prompts = load_prompt_dir(shared_bench / "prompts" / "history-based")
    namespace = official_namespace(
        shared_bench / PROFILE_SCRIPT,
        {"collect_tool_definitions", "load_json_file"},
        common_stubs(shared_bench, Companion(prompts, [])),
    )
    toolenv = shared_bench / "toolenv"
    expected = namespace["collect_tool_definitions"](str(toolenv))
    assert tool_defs_text(toolenv) == json.dumps(expected, indent=4, ensure_ascii=False)
    ours = json.loads(tool_defs_text(None))
    assert list(ours) == list(expected)
    assert all(set(entry) == {"definition", "path"} for entry in ours.values())


# --- the history setting: inference_toolinvoc_his.py ---------------------------------------------


def official_history(bench: Path, persona: Persona, env: ToolEnvironment) -> tuple[list[Prompt], list]:
    prompts = load_prompt_dir(bench / "prompts" / "history-based")
    companion = Companion(prompts, [s.utterance for s in persona.situations])
    namespace = official_namespace(
        bench / HISTORY_SCRIPT,
        {
            "LocalLlamaGenerator",
            "ToolSelectionGeneration",
            "FeedbackGeneration",
            "PreferGeneration",
            "process_utterance_pipeline",
            "collect_tool_definitions",
            "load_json_file",
        },
        {**common_stubs(bench, companion), "execute_tool_call": tool_runner(env, persona, bench / "toolenv")},
    )
    sent: list[Prompt] = []
    capture_prompts(namespace, ["ToolSelectionGeneration", "FeedbackGeneration", "PreferGeneration"], sent)
    tool_defs = namespace["collect_tool_definitions"](str(bench / "toolenv"))
    history: list = []
    results = []
    for index, situation in enumerate(persona.situations):
        history, result = namespace["process_utterance_pipeline"](
            Engine(companion),
            official_user(persona, bench / "test_set_correct_form.json"),
            situation.utterance,
            tool_defs,
            history,
            index + 1,
        )
        results.append(result)
    return sent, results


def test_history_prompts_are_the_official_scripts_bytes(data_dir, shared_bench, persona):
    short = persona.model_copy(update={"situations": persona.situations[:4]})
    ours, records = our_run(data_dir, shared_bench, short, "history")
    env = ToolEnvironment.create(Store(data_dir), tool_data=shared_bench / "toolenv", search_mode="lexical")
    theirs, results = official_history(shared_bench, short, env)
    assert len(ours) == len(theirs) == 3 * 4 + 1  # stage 1, stage 2, simulator; situation 0 retried
    for turn, (mine, official) in enumerate(zip(ours, theirs)):
        assert mine == official, f"request {turn} differs"
    by_index = {r["situation_index"]: r for r in records}
    for index, result in enumerate(results):
        call = result["tool_call"]["1"]
        record = by_index[index]
        assert (record["first_attempt_success"], record["final_success"]) == (
            call["execute_success"],
            call["3turn_execute_success"],
        )
        assert record["official"]["reply"] == call["generated_feedback"]
    liked = [r["feedback"]["label"] for r in sorted(records, key=lambda r: r["situation_index"])]
    assert liked == ["like", "dislike", "like", "dislike"]


# --- the command line ----------------------------------------------------------------------------


def test_official_fidelity_without_a_prompt_dir_is_one_line_and_exit_2(cli, data_dir):
    code, _, err = cli("run", "--fidelity", "official", "--models", "baseline")
    assert code == 2
    assert err.strip().count("\n") == 0 and "--prompt-dir" in err and "Traceback" not in err


def test_a_profile_run_on_the_history_templates_says_so(cli, data_dir, shared_bench, profile_prompt_dir):
    args = ["run", "--personas", "adam-kerr", "--search", "lexical", "--fidelity", "official"]
    history = shared_bench / "prompts" / "history-based"
    code, _, err = cli(*args, "--name", "h", "--setting", "profile", "--prompt-dir", history)
    assert code == 0, err
    assert "user_tool_selection_pos.txt, user_feedback_ver1.0.txt" in err and "not the paper's profile" in err
    code, _, err = cli(*args, "--name", "p", "--setting", "profile", "--prompt-dir", profile_prompt_dir)
    assert code == 0, err
    assert "stand in" not in err
    store = Store(data_dir)
    assert load_run_meta(store, "h").prompt_hash != load_run_meta(store, "p").prompt_hash


def test_the_run_records_its_fidelity(cli, data_dir, shared_bench):
    prompt_dir = shared_bench / "prompts" / "history-based"
    code, _, err = cli(
        "run", "--personas", "adam-kerr", "--name", "r", "--search", "lexical", "--fidelity", "official",
        "--prompt-dir", prompt_dir,
    )  # fmt: skip
    assert code == 0, err
    meta = load_run_meta(Store(data_dir), "r")
    assert meta.fidelity == "official"
    clean = load_prompt_dir(prompt_dir)
    assert meta.prompt_hash != clean.hash
