"""One interaction through the ComPASS pipeline (paper §4.1), saving each step as it happens.

    situation → stage 1 (tool call) → tool environment (result) → stage 2 (response) → [feedback]

A System is what gets compared: the offline baseline, one LLM doing both stages, or a hybrid
where one model picks the tool and another writes the response. Every step's record is
handed to `save` as soon as it exists, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from compass_tui import fidelity
from compass_tui.baseline import baseline_tool_call, compose_response, empathetic_reply
from compass_tui.config import ModelConfig
from compass_tui.interaction_record import OfficialFields, RecordError, StageCall, StageError, as_record
from compass_tui.model_calls import FATAL_KINDS, FatalModelError, ModelCalls
from compass_tui.persona import Persona
from compass_tui.prompts import WITHHELD, PromptSet, as_json, empathetic_messages, extract_json, persona_text
from compass_tui.records import now_iso, official_step, record_step, stage_step
from compass_tui.tools.calls import parse_call
from compass_tui.tools.environment import ToolContext, ToolEnvironment

Save = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class System:
    name: str
    tool_model: ModelConfig | None = None  # None: the offline baseline
    response_model: ModelConfig | None = None

    @property
    def is_baseline(self) -> bool:
        return self.tool_model is None

    def llm(self, stage: str) -> ModelConfig:
        """The model of an LLM system's stage ("tool" or "response"); the baseline has none."""
        model = self.tool_model if stage == "tool" else self.response_model
        if model is None:
            raise ValueError(f"system {self.name!r} is the offline baseline and has no {stage} model")
        return model


@dataclass
class Interaction:
    system: System
    persona: Persona
    index: int
    setting: str
    run_id: str
    prompts: PromptSet
    env: ToolEnvironment
    today: date
    history_text: str = "None"
    liked_history: dict[str, list[str]] | None = None  # the history setting's earlier turns, by scenario type
    disliked_history: dict[str, list[str]] | None = None
    calls: ModelCalls = field(default_factory=ModelCalls)
    shown_persona: str = ""  # the persona as the agent sees it; worked out if not given
    history_records: list[dict[str, Any]] = field(default_factory=list)  # the earlier turns shown
    variant_id: str | None = None  # a what-if variant: its tools start from a state of its own

    @property
    def official(self) -> bool:
        """Filled as ComPASS's scripts fill their prompts (`--fidelity official`); never the baseline's."""
        return self.prompts.fidelity == fidelity.OFFICIAL and not self.system.is_baseline

    @property
    def situation(self):
        return self.persona.situations[self.index]

    @property
    def tool_scope(self) -> str:
        """Whose schedule and appointments the tools see. In the history setting the turns are one
        conversation and share them; otherwise each situation is an item of its own, starting from a
        fresh state, so that its result does not depend on which parallel item happened to run first."""
        if self.setting == "history":
            return self.run_id
        scope = f"{self.run_id}@situation-{self.index + 1}"
        return f"{scope}~{self.variant_id}" if self.variant_id else scope

    def __post_init__(self) -> None:
        if not self.shown_persona:
            self.shown_persona = persona_as_shown(self.persona, self.setting)


def persona_as_shown(persona: Persona, setting: str) -> str:
    """What the agent is told of the persona: withheld in the history setting."""
    return WITHHELD if setting == "history" else persona_text(persona)


async def run_interaction(item: Interaction, record: dict[str, Any], save: Save) -> dict[str, Any]:
    """Carry one record forward from wherever it stopped; returns it finished (done or error)."""
    record.setdefault("started_at", now_iso())
    record_step(record, error=None)
    if item.setting == "empathetic":
        return await _empathetic(item, record, save)
    if item.official:
        await _official_interaction(item, record, save)
        return record
    if as_record(record).status not in ("selected", "executed"):
        await _select_tool(item, record, save)
        if as_record(record).status == "error":
            return record
    current = as_record(record)
    if current.status == "selected":
        context = ToolContext(item.persona, scope=item.tool_scope)
        tool_call = current.tool_call_document or {"malformed": True}
        record_step(record, tool_result=await item.env.call(tool_call, context))
        record_step(record, status="executed")
        await save(record)
    await _respond(item, record, save)
    return record


async def _select_tool(item: Interaction, record: dict[str, Any], save: Save) -> None:
    situation = item.situation
    if item.system.is_baseline:
        persona = None if item.setting == "history" else item.persona
        baseline_call = baseline_tool_call(
            situation.utterance,
            situation.emotion_label,
            persona,
            item.today,
            item.liked_history,
            situation.scenario_type,
            item.disliked_history,
        )
        chosen = StageCall(by="baseline", parsed=baseline_call, declared_scenario=baseline_call["scenario"])
        record_step(record, stage1=chosen)
        record_step(
            record, tool_call={k: baseline_call[k] for k in ("tool_folder_name", "function_name", "param")}
        )
        record_step(record, status="selected")
        await save(record)
        return
    from compass_tui.llm import LLMError

    model = item.system.llm("tool")
    native = item.calls.native_tools(model) and not item.prompts.official
    tools = item.env.openai_tools()
    tool_defs = (
        "" if native else json.dumps([tool["function"] for tool in tools], ensure_ascii=False, indent=1)
    )
    messages = item.prompts.tool_selection(
        item.shown_persona, situation.utterance, item.history_text, tool_defs, native
    )
    stage = stage_step({}, by=model.model, messages=messages, native_tools=native)
    try:
        result = await item.calls.complete(
            model, messages, tools=tools if native else None, json_mode=not native
        )
        call, declared, raw, problem = _read_tool_choice(result)
        if problem and not native:
            stage_step(stage, retried_after=problem)
            retry = messages + [
                {"role": "assistant", "content": result.text or ""},
                {
                    "role": "user",
                    "content": f"That was not valid: {problem}. Answer with the JSON object only.",
                },
            ]
            first_usage = _usage(result)
            result = await item.calls.complete(model, retry, json_mode=True)
            stage_step(stage, first_attempt={**first_usage, "raw": raw})
            call, declared, raw, problem = _read_tool_choice(result)
    except LLMError as error:
        await _record_failure(record, "stage1", stage, "tool_selection", error, save)
        return
    stage_step(stage, **_usage(result), raw=raw, parsed=call, declared_scenario=declared, parse_error=problem)
    record_step(record, stage1=stage)
    record_step(record, tool_call=call)
    record_step(record, status="selected")
    await save(record)


def _read_tool_choice(result) -> tuple[dict | None, str | None, Any, str | None]:
    if result.tool_calls:
        first = result.tool_calls[0]
        parsed = parse_call({"name": first["name"], "arguments": first["arguments"]})
        call = parsed.as_dict()
        return call, None, result.tool_calls, parsed.problem.message if parsed.problem else None
    text = result.text or ""
    try:
        document = extract_json(text)
    except ValueError as error:
        return None, None, text, str(error)
    declared = document.get("scenario") if isinstance(document, dict) else None
    parsed = parse_call(document)
    if parsed.problem and parsed.problem.code == "malformed_call":
        return None, declared, text, parsed.problem.message
    return parsed.as_dict(), declared, text, None


async def _respond(item: Interaction, record: dict[str, Any], save: Save) -> None:
    situation = item.situation
    current = as_record(record)
    tool_result = current.tool_result or {}
    if item.system.is_baseline:
        record_step(record, stage2=stage_step({}, by="baseline"))
        record_step(
            record, response=compose_response(situation.emotion_label, situation.utterance, tool_result)
        )
        await _finish(record, save)
        return
    messages = item.prompts.response(
        item.shown_persona,
        situation.utterance,
        as_json(current.tool_call_document),
        as_json(shown_tool_result(tool_result)),
    )
    await _llm_reply(item, record, save, messages, item.prompts.official)


def shown_tool_result(tool_result: dict[str, Any]) -> Any:
    """What stage 2 is given of the tool's run: its result, or {"error": ...} when it did not run."""
    return tool_result.get("result") if tool_result.get("ok") else {"error": tool_result.get("error")}


async def _empathetic(item: Interaction, record: dict[str, Any], save: Save) -> dict[str, Any]:
    record_step(record, tool_call=None)
    record_step(record, tool_result=None)
    if item.system.is_baseline:
        record_step(record, stage2=stage_step({}, by="baseline"))
        record_step(record, response=empathetic_reply(item.situation.emotion_label))
        await _finish(record, save)
    else:
        messages = empathetic_messages(item.shown_persona, item.situation.utterance)
        await _llm_reply(item, record, save, messages, official=False)
    return record


async def _llm_reply(
    item: Interaction, record: dict[str, Any], save: Save, messages: list[dict[str, str]], official: bool
) -> None:
    """Stage 2 by the response model; ComPASS's official template answers in JSON ({"feedback": ...})."""
    from compass_tui.llm import LLMError

    model = item.system.llm("response")
    stage = stage_step({}, by=model.model, messages=messages)
    try:
        result = await item.calls.complete(model, messages, json_mode=official)
    except LLMError as error:
        await _record_failure(record, "stage2", stage, "response", error, save)
        return
    stage_step(stage, **_usage(result), raw=result.text)
    record_step(record, stage2=stage)
    record_step(record, response=_response_text(result.text or "", official))
    await _finish(record, save)


async def _finish(record: dict[str, Any], save: Save) -> None:
    record_step(record, status="done")
    record_step(record, finished_at=now_iso())
    await save(record)


async def _record_failure(
    record: dict[str, Any], stage_name: str, stage: dict[str, Any], step: str, error, save: Save
) -> None:
    """Save the failed step; an error that will hit every call of this model stops its other items."""
    _fail(record, stage, step, error)
    record_step(record, **{stage_name: stage})
    await save(record)
    if error.kind in FATAL_KINDS:
        raise FatalModelError(str(error)) from error


def _response_text(text: str, official: bool) -> str:
    if official:
        try:
            document = extract_json(text)
            if isinstance(document, dict) and isinstance(document.get("feedback"), str):
                return document["feedback"].strip()
        except ValueError:
            pass
    return text.strip()


def _usage(result) -> dict[str, Any]:
    return {
        "latency_s": round(result.latency_s, 4),
        "prompt_tokens": result.prompt_tokens,
        "completion_tokens": result.completion_tokens,
        "cost_usd": result.cost_usd,
        "attempts": result.attempts,
    }


def _fail(record: dict[str, Any], stage: dict[str, Any], step: str, error) -> None:
    stage_step(
        stage,
        error=StageError(kind=error.kind, message=str(error), attempts=getattr(error, "attempts", None)),
    )
    record_step(record, error=RecordError(stage=step, kind=error.kind, message=str(error)))
    record_step(record, status="error")
    record_step(record, finished_at=now_iso())


# --- --fidelity official: the official scripts' flow ----------------------------------------------


async def _official_interaction(item: Interaction, record: dict[str, Any], save: Save) -> None:
    """Up to three tool-call attempts, stopping at the first that runs, as the official scripts do.
    The profile script writes a reply on every attempt that produced a call, the history script
    once after the last attempt. The record keeps the last attempt, and whether the first and
    the last ran (`first_attempt_success`, `final_success`)."""
    from compass_tui.llm import LLMError

    log: list[dict[str, Any]] = []
    try:
        for attempt in range(fidelity.OFFICIAL_ATTEMPTS):
            ran = await _official_attempt(item, record)
            stage1 = as_record(record).stage1
            log.append({"raw": stage1.raw if stage1 else None, "tool_ran": ran})
            if attempt == 0:
                record_step(record, first_attempt_success=ran)
            if ran:
                break
        if item.setting == "history":
            await _official_reply(item, record)
    except LLMError as error:
        replying = as_record(record).stage2
        stage_name, step = ("stage2", "response") if replying else ("stage1", "tool_selection")
        await _record_failure(record, stage_name, record[stage_name], step, error, save)
        return
    record_step(record, final_success=log[-1]["tool_ran"], tool_attempts=len(log))
    stage_step(record["stage1"], attempt_log=log)
    current = as_record(record)
    if current.response is None:  # no call in the end: the official judge reads the raw choice
        reply = fidelity.json_text((current.stage1.raw if current.stage1 else None) or "")
        official_step(record, reply=reply)
        record_step(record, response=reply)
    await _finish(record, save)


async def _official_attempt(item: Interaction, record: dict[str, Any]) -> bool:
    """One attempt: the tool choice, its run and, in the profile setting, the reply. True if the tool ran."""
    situation = item.situation
    model = item.system.llm("tool")
    tool_defs = fidelity.tool_defs_text(item.env.data.toolenv)
    if item.setting == "history":
        user = fidelity.history_tool_user(
            item.prompts.tool_user,
            fidelity.demographic_document(item.persona),
            situation.utterance,
            tool_defs,
            fidelity.history_entries(item.history_records),
        )
    else:
        user = fidelity.profile_tool_user(
            item.prompts.tool_user, fidelity.persona_document(item.persona), situation.utterance, tool_defs
        )
    messages = item.prompts.messages(item.prompts.tool_system, user)
    record_step(record, tool_call=None, tool_result=None, response=None, stage2=None)
    stage = stage_step({}, by=model.model, messages=messages, native_tools=False)
    record_step(record, stage1=stage)
    result = await item.calls.complete(model, messages)
    raw = result.text or ""
    official_call, scenario, checked = fidelity.tool_choice(raw)
    parsed = parse_call(official_call) if official_call is not None else None
    stage_step(stage, **_usage(result), raw=raw, parsed=official_call, declared_scenario=scenario)
    record_step(record, official=OfficialFields(tool_call=official_call, scenario=scenario))
    malformed = parsed is None or (parsed.problem is not None and parsed.problem.code == "malformed_call")
    record_step(record, tool_call=None if malformed or parsed is None else parsed.as_dict())
    if item.setting != "history" and not checked:
        return False
    folder = official_call.get("tool_folder_name") if isinstance(official_call, dict) else None
    if folder in fidelity.TOOL_FOLDER_ORDER:
        context = ToolContext(item.persona, scope=item.tool_scope)
        record_step(record, tool_result=await item.env.call(official_call, context))
    else:  # the scripts run only a folder they know, by its exact name
        record_step(record, tool_result=fidelity.unknown_folder_result(official_call, folder))
    if item.setting != "history":
        await _official_reply(item, record)
    return as_record(record).tool_ran


async def _official_reply(item: Interaction, record: dict[str, Any]) -> None:
    """Stage 2: once in the profile setting; in the history one, asked again (up to 3) until it parses."""
    current = as_record(record)
    official_call = current.official.tool_call if current.official else None
    model = item.system.llm("response")
    if item.setting == "history":
        user = fidelity.history_response_user(
            item.prompts.response_user,
            fidelity.demographic_document(item.persona),
            item.situation.utterance,
            fidelity.tool_results_text(current.tool_result),
            official_call,
        )
    else:
        user = fidelity.profile_response_user(item.prompts.response_user, official_call)
    messages = item.prompts.messages(item.prompts.response_system, user)
    stage = stage_step({}, by=model.model, messages=messages)
    record_step(record, stage2=stage)
    reply: str | None = None
    for _ in range(fidelity.OFFICIAL_ATTEMPTS if item.setting == "history" else 1):
        result = await item.calls.complete(model, messages)
        text = result.text or ""
        stage_step(stage, **_usage(result), raw=text)
        reply = fidelity.history_reply(text) if item.setting == "history" else fidelity.profile_reply(text)
        if reply is not None:
            break
    kept = fidelity.NO_REPLY if reply is None else reply
    official_step(record, reply=kept)
    shown = _response_text(kept, official=True) if item.setting != "history" else None
    record_step(record, response=shown if shown is not None else kept.strip())
