"""The stub companion that the run tests of the core and the CLI talk to, and how they read its requests."""

from __future__ import annotations

import functools
import json
import re
import threading
from collections import deque
from pathlib import Path

from compass_tui import paths
from compass_tui.prompts import SIMULATOR_SYSTEM
from tools.stub_llm import Reply, StubLLM, text, tool_call

SAID_SECTION = re.compile(r"## What they said\n(.*?)(?:\n\n## |\Z)", re.DOTALL)
HISTORY_SECTION = re.compile(r"## Earlier in this conversation\n(.*?)\n\n", re.DOTALL)


# --- the stub model --------------------------------------------------------------------------------


def request_stage(body: dict) -> str:
    """Which step sent this request: tool, response, empathetic, simulator, or other (such as `models check`)."""
    messages = body["messages"]
    if len(messages) < 2:
        return "other"
    user = messages[1]["content"]
    if "tools" in body or "\n## Tools\n" in user:
        return "tool"
    if messages[0]["content"] == SIMULATOR_SYSTEM:
        return "simulator"
    if "You have no tools" in user:
        return "empathetic"
    return "response"


def request_utterance(body: dict) -> str | None:
    """The item marker: the utterance quoted in the request's prompt."""
    messages = body["messages"]
    found = SAID_SECTION.search(messages[1]["content"]) if len(messages) > 1 else None
    return found.group(1) if found else None


def reply_text(utterance: str) -> str:
    return f"I hear you. ({utterance[:40]})"


class Companion:
    """A stub responder that behaves like a capable model, with faults queued per (utterance, stage)."""

    def __init__(self, tool_name: str = "strengthcard"):
        self.tool_name = tool_name
        self._faults: dict[tuple[str, str], deque[Reply]] = {}
        self._lock = threading.Lock()

    def fault(self, utterance: str, stage: str, *replies: Reply) -> None:
        with self._lock:
            self._faults.setdefault((utterance, stage), deque()).extend(replies)

    def __call__(self, body: dict) -> Reply:
        stage, utterance = request_stage(body), request_utterance(body)
        if stage == "other":
            return text("ready")
        with self._lock:
            queued = self._faults.get((utterance, stage))
            if queued:
                return queued.popleft()
        if stage == "tool":
            arguments = {"situation": utterance[:120]}
            if "tools" in body:
                return tool_call(self.tool_name, arguments)
            return text(
                json.dumps(
                    {
                        "scenario": "Health",
                        "tool_folder_name": "strength_card",
                        "function_name": "strengthcard",
                        "param": arguments,
                    }
                )
            )
        if stage == "simulator":
            return text('{"output": "Like"}')
        return text(reply_text(utterance))


def requests_of(
    stub: StubLLM, model: str | None = None, stage: str | None = None, utterance: str | None = None
) -> list[dict]:
    return [
        body
        for body in list(stub.requests)
        if (model is None or body["model"] == model)
        and (stage is None or request_stage(body) == stage)
        and (utterance is None or request_utterance(body) == utterance)
    ]


def all_text(body: dict) -> str:
    return "\n".join(message["content"] for message in body["messages"])


# --- fixtures --------------------------------------------------------------------------------------


def write_models(server: StubLLM, models: dict[str, dict], *, max_retries: int = 1) -> None:
    """Write the COMPASS_TUI_CONFIG file that the data_dir fixture made: one [models.NAME] table per entry."""
    lines = [f"max_retries = {max_retries}", "concurrency = 4"]
    for name, fields in models.items():
        lines.append(f"[models.{name}]")
        fields = {"api_base": server.base_url, "timeout": 2, **fields}
        lines += [f"{key} = {json.dumps(value)}" for key, value in fields.items()]
    Path(paths.config_file()).write_text("\n".join(lines) + "\n", encoding="utf-8")


# --- an offline-baseline run written straight into a store -----------------------------------------


def write_baseline_run(root: Path, run_id: str, persona_id: str, situations: set[int]) -> None:
    """Run the offline baseline (compass_tui.runner, lexical tool search) over some situations of one
    bundled persona into the store at `root`; every item finishes."""
    import asyncio

    from compass_tui.library import PersonaLibrary
    from compass_tui.pipeline import System
    from compass_tui.prompts import our_prompts
    from compass_tui.runner import RunPlan, execute_run
    from compass_tui.store import Store
    from compass_tui.tools.environment import ToolEnvironment

    store = Store(root)
    plan = RunPlan(
        run_id=run_id,
        setting="profile",
        systems=[System("baseline")],
        personas=[PersonaLibrary(Path("/nonexistent")).get(persona_id)],
        prompts=our_prompts(),
        only_situations=set(situations),
    )
    env = ToolEnvironment.create(store, search_mode="lexical", cache_dir=root / "cache")
    progress = asyncio.run(execute_run(plan, store, env))
    assert (progress.finished, progress.errors) == (len(situations), 0)


# --- hand-written records in the shapes of compass_tui.records -------------------------------------


@functools.cache
def bundled_persona(persona_id: str):
    from compass_tui.library import PersonaLibrary

    return PersonaLibrary(Path("/nonexistent")).get(persona_id)


def situation_record(
    run_id: str,
    model: str,
    persona_id: str,
    index: int,
    *,
    setting: str = "profile",
    status: str = "done",
    scored: bool = True,
    **fields,
) -> dict:
    """An interaction record of a bundled persona's situation; `fields` (tool_call, response, ...) follow."""
    from compass_tui.records import interaction_key

    situation = bundled_persona(persona_id).situations[index]
    return {
        "key": interaction_key(model, persona_id, index),
        "run_id": run_id,
        "model": model,
        "persona_id": persona_id,
        "situation_index": index,
        "setting": setting,
        "status": status,
        "scenario_type": situation.scenario_type,
        "emotion": situation.emotion_label,
        "utterance": situation.utterance,
        "scored": scored,
        **fields,
    }


def insert_records(store, run_id: str, persona_id: str, records: list[dict]) -> None:
    from compass_tui.records import INTERACTIONS_TABLE, run_records_path

    with store.transaction(run_records_path(run_id, persona_id)) as database:
        database.table(INTERACTIONS_TABLE).insert_multiple(records)


def insert_judgements(store, run_id: str, persona_id: str, judgements: list[dict]) -> None:
    from compass_tui.records import JUDGEMENTS_TABLE, judgement_path

    with store.transaction(judgement_path(run_id, persona_id)) as database:
        database.table(JUDGEMENTS_TABLE).insert_multiple(judgements)
