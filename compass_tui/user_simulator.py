"""The history setting's simulated user: its like or dislike of each turn's tool (by rule from the hidden
preferences, or by an LLM), and the line each finished turn adds to the history the agent is shown."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from compass_tui import fidelity
from compass_tui.config import ModelConfig
from compass_tui.interaction_record import InteractionRecord, ToolCall, as_record
from compass_tui.model_calls import FatalModelError
from compass_tui.prompts import as_json, extract_json
from compass_tui.vocab import SCENARIO_BY_KEY

if TYPE_CHECKING:
    from compass_tui.pipeline import Interaction


class SimulatorError(Exception):
    """The LLM user simulator failed for good on one turn (and no fallback was asked for)."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


async def simulate_feedback(
    item: Interaction,
    record: InteractionRecord,
    simulator: ModelConfig | None,
    simulator_name: str,
    fallback: bool = False,
) -> dict[str, Any]:
    """The history setting's like/dislike from the hidden preferences: by rule, or by an LLM. A failing
    LLM simulator raises SimulatorError, or, with `fallback`, gives the rule's label marked as such."""
    situation = item.situation
    scenario_type = situation.scenario_type or "leisure"
    preference = item.persona.tool_preferences.for_scenario(scenario_type)
    tool = record.tool_folder
    by_rule = {
        "label": "like" if tool in preference.liked else "dislike",
        "tool": tool,
        "scenario_type": scenario_type,
    }
    if simulator is None:
        return {**by_rule, "by": "rule"}
    from compass_tui.llm import LLMError

    messages = _simulator_messages(item, record, preference.text, scenario_type)
    try:
        result = await item.calls.complete(simulator, messages, json_mode=True)
        document = extract_json(result.text or "")
        output = str(document.get("output", "")).strip().lower() if isinstance(document, dict) else ""
        if output not in ("like", "dislike"):
            raise ValueError(f"unexpected simulator output {output!r}")
        return {**by_rule, "label": output, "by": simulator_name, "raw": result.text}
    except (LLMError, FatalModelError, ValueError) as error:
        kind = getattr(error, "kind", "fatal" if isinstance(error, FatalModelError) else "bad_output")
        if not fallback:
            raise SimulatorError(kind, f"simulator {simulator_name}: {error}") from None
        return {**by_rule, "by": "rule (simulator failed)", "simulator_error": str(error)}


def _simulator_messages(
    item: Interaction, record: InteractionRecord, preference: str, scenario_type: str
) -> list[dict[str, str]]:
    """Ours: the scenario's preferences and the tool. Official: the whole persona, the scenario the agent
    declared, and its reply as the "tool"."""
    if item.official:
        official = record.official
        user = fidelity.simulator_user(
            item.prompts.simulator_user,
            fidelity.persona_document(item.persona),
            official.scenario if official else fidelity.UNKNOWN_SCENARIO,
            item.situation.utterance,
            (official.reply if official else None) or "",
        )
        return item.prompts.messages(item.prompts.simulator_system, user)
    return item.prompts.simulator(
        preference,
        SCENARIO_BY_KEY[scenario_type].compass_key,
        item.situation.utterance,
        as_json(record.tool_call_document),
    )


def history_line(turn: Mapping[str, Any]) -> str:
    """One earlier turn as the history setting shows it: the words, the tool used and the feedback."""
    record = as_record(turn)
    call = record.tool_call or ToolCall(param={})
    feedback = (record.feedback.label if record.feedback else None) or "none"
    params = json.dumps(call.param, ensure_ascii=False)
    tool = f"{call.tool_folder_name}.{call.function_name}({params})"
    said = f"- The user said: {record.utterance}"
    return f"{said}\n  You used: {tool}\n  Their feedback: {feedback.capitalize()}"
