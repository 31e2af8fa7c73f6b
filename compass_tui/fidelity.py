"""`--fidelity official`: the official templates filled exactly as ComPASS's scripts fill them.

`clean` (the default) fills the official templates with our own values (prose persona, bullet
history, our tool list). `official` follows the script of each setting, quirks included:

- profile (and hybrid): `profile-based/inference_respond.py`;
- history: `history-based/inference_toolinvoc_his.py`; with `--no-history` its history is `[]`
  as in `inference_toolinvoc_nohist.py`.

Every value goes in through `json.dumps(value, indent=4, ensure_ascii=False)` unless the script
inserts it raw. The README's "Known quirks of the official ComPASS files" lists what this
reproduces, with file and line.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from compass_tui.compass_format import persona_to_compass_user
from compass_tui.interaction_record import as_record
from compass_tui.persona import Persona
from compass_tui.tools.definitions import OUR_DEFINITIONS

CLEAN, OFFICIAL = "clean", "official"
FIDELITIES = (CLEAN, OFFICIAL)
OFFICIAL_ATTEMPTS = 3  # both scripts try a tool call up to three times
PERSONA_FIELDS = (
    "demographic",
    "Big_Five_personality_traits",
    "personality_description",
    "background",
    "tool_preferences",
)
# The order of the scripts' `collect_tool_definitions` list.
TOOL_FOLDER_ORDER = (
    "joke_recommendation",
    "medical_appointment",
    "music_recommendation",
    "online_shopping",
    "plan_assistant",
    "psyweb_recommender",
    "role_play",
    "schedule_manager",
    "sticker_respond",
    "story_recommender",
    "strength_card",
    "film_recommendation",
)
LIKED_FEEDBACK = "I’m very satisfied with this tool for this scenario."
DISLIKED_FEEDBACK = "In this situation, I’m quite annoyed with this tool."
UNKNOWN_SCENARIO = "unknown"
NO_REPLY = "failed to extract json"
_FENCED_OBJECT_RE = re.compile(r"```(?:json)?\s*(\{.*?\})\s*```", re.DOTALL)


def dumped(value: Any) -> str:
    return json.dumps(value, indent=4, ensure_ascii=False)


def persona_document(persona: Persona) -> dict[str, Any]:
    """The `persona` of a user in the scripts' input file: the ComPASS user without its situations."""
    user = persona_to_compass_user(persona)
    return {key: user[key] for key in PERSONA_FIELDS}


def demographic_document(persona: Persona) -> dict[str, Any]:
    return persona_to_compass_user(persona)["demographic"]


@cache
def tool_defs_text(toolenv: Path | None) -> str:
    """`<tool_defs>`: {folder: {"definition", "path"}} from a ComPASS toolenv's definition.json files,
    or from our definitions in the same shape (path `toolenv/<folder>`) when there is none."""
    if toolenv is None:
        defs = {
            folder: {"definition": OUR_DEFINITIONS[folder], "path": os.path.join("toolenv", folder)}
            for folder in TOOL_FOLDER_ORDER
        }
        return dumped(defs)
    defs = {}
    for folder in TOOL_FOLDER_ORDER:
        path = os.path.join(str(toolenv), folder)
        definition = Path(path) / "definition.json"
        if definition.is_file():
            defs[folder] = {"definition": json.loads(definition.read_text(encoding="utf-8")), "path": path}
    return dumped(defs)


def json_text(text: str) -> str:
    """The scripts' `extract_json_from_text`: a fenced object, else first `{` to last `}`, else the text."""
    text = text.strip()
    fenced = _FENCED_OBJECT_RE.search(text)
    if fenced:
        return fenced.group(1)
    start, end = text.find("{"), text.rfind("}")
    return text[start : end + 1] if start != -1 and end > start else text


def loaded(text: str) -> Any:
    """The JSON document in a reply as the scripts read it, or None."""
    try:
        return json.loads(json_text(text))
    except json.JSONDecodeError:
        return None


def tool_choice(text: str) -> tuple[Any, str, bool]:
    """(the call under "1", the declared scenario, whether the reply passes the profile script's check)."""
    document = loaded(text)
    if not isinstance(document, dict):
        return None, UNKNOWN_SCENARIO, False
    scenario = document.get("scenario", UNKNOWN_SCENARIO)
    return document.get("1"), scenario, "scenario" in document and "1" in document


def profile_reply(text: str) -> str:
    """What `inference_respond.py` keeps of a stage-2 reply: the JSON text, or its failure note."""
    cleaned = json_text(text)
    document = loaded(text)
    valid = (
        isinstance(document, dict)
        and list(document) == ["feedback"]
        and isinstance(document["feedback"], str)
        and document["feedback"].strip() not in ("", "...")
    )
    return cleaned if valid else f"Feedback generation failed: {cleaned}"


def history_reply(text: str) -> str | None:
    """What `inference_toolinvoc_his.py` keeps of a stage-2 reply: its "feedback", or None to ask again."""
    document = loaded(text)
    if not isinstance(document, dict):
        return None
    return document.get("feedback", "")


def tool_results_text(tool_result: dict[str, Any] | None) -> str:
    """`str(result)` as the scripts keep a tool's answer; an error's message when it failed."""
    tool_result = tool_result or {}
    if tool_result.get("ok"):
        return str(tool_result.get("result"))
    error = tool_result.get("error")
    return str(error.get("message") if isinstance(error, dict) else error)


def unknown_folder_result(call: Any, folder: Any) -> dict[str, Any]:
    """A tool-environment record for a call whose folder the scripts would not find."""
    message = f"Tool folder not exist: {folder}"
    return {
        "tool_folder_name": folder,
        "function_name": call.get("function_name") if isinstance(call, dict) else None,
        "params": call.get("param") if isinstance(call, dict) else None,
        "form": "compass",
        "ok": False,
        "result": None,
        "error": {"code": "unknown_tool", "message": message, "parameter": "tool_folder_name"},
        "validation": {"valid": False, "strict_valid": False, "normalisations": [], "errors": []},
        "notes": [],
    }


def history_entries(turns: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """`<history>`: the earlier turns as `inference_toolinvoc_his.py` records them."""
    entries = []
    for turn in turns:
        record = as_record(turn)
        official = record.official
        label = record.feedback.label if record.feedback else None
        tool_call, reply = (official.tool_call, official.reply) if official else (None, None)
        entries.append(
            {
                "user_utterance": record.utterance or "",
                "agent_reply": str(tool_call) + str(reply or ""),
                "user_feedback": LIKED_FEEDBACK if label == "like" else DISLIKED_FEEDBACK,
            }
        )
    return entries


# --- the fills, in each script's order of replacement ---------------------------------------------


def profile_tool_user(template: str, persona: dict, utterance: str, tool_defs: str) -> str:
    """inference_respond.py, ToolSelectionGeneration.get_prompt; `<history>` is not one of its placeholders."""
    user = template.replace("<persona>", dumped(persona))
    user = user.replace("<utterance>", dumped(utterance))
    user = user.replace("<tool_defs>", tool_defs)
    return user.replace("<suggestion>", dumped([]))


def profile_response_user(template: str, tool_call: Any) -> str:
    """inference_respond.py, FeedbackGenerationGeneration.get_prompt: each of its three replacements
    starts again from the template, so only the last one, `<tool_call>`, survives."""
    return template.replace("<tool_call>", dumped(tool_call))


def history_tool_user(template: str, demographic: dict, utterance: str, tool_defs: str, history: list) -> str:
    """inference_toolinvoc_his.py, ToolSelectionGeneration.get_prompt."""
    user = template.replace("<persona>", dumped(demographic))
    user = user.replace("<utterance>", dumped(utterance))
    user = user.replace("<tool_defs>", tool_defs)
    return user.replace("<history>", dumped(history))


def history_response_user(
    template: str, demographic: dict, utterance: str, tool_results: str, tool_call: Any
) -> str:
    """inference_toolinvoc_his.py, FeedbackGeneration.get_prompt."""
    user = template.replace("<persona>", dumped(demographic))
    user = user.replace("<user_utterance>", dumped(utterance))
    user = user.replace("<tool_results>", dumped(tool_results))
    return user.replace("<tool_call>", dumped(tool_call))


def simulator_user(template: str, persona: dict, scenario: Any, utterance: str, reply: str) -> str:
    """inference_toolinvoc_his.py, PreferGeneration.get_prompt: the utterance goes in raw, and the
    "tool" it judges is the agent's reply."""
    user = template.replace("<perfer>", dumped(persona))
    user = user.replace("<scenario>", dumped(scenario))
    user = user.replace("<utterance>", utterance)
    return user.replace("<tool_result>", dumped(reply))
