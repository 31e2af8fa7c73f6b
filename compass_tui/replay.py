"""Import ComPASS result files, so that outputs made elsewhere can be inspected and scored here.

The file is `{"user_interactions": {user_id: [interaction, ...]}}` in either setting's shape:
- history-based: {"user_utterance", "scenario", "tool_call": {"1": {"tool_call", "tool_raw_result",
  "generated_feedback", "execute_success"}}, "user_feedback"};
- profile-based: {"utterance", "tool_call": {tool_folder_name, function_name, param}, "tool_result",
  "success"}, with the response in "tool_call_all" or "1"."generated_feedback".
Users are matched to imported test-set personas by user id, and interactions to situations
by their utterance text (falling back to their position).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from compass_tui.errors import InputError
from compass_tui.jsonio import load_json
from compass_tui.library import PersonaLibrary
from compass_tui.persona import Persona
from compass_tui.records import (
    INTERACTIONS_TABLE,
    META_TABLE,
    interaction_key,
    merged_run_meta,
    now_iso,
    run_lock,
    run_meta_path,
    run_records_path,
)
from compass_tui.store import Store
from compass_tui.tools.calls import parse_call, validate_params
from compass_tui.tools.definitions import load_definitions


def import_results(
    store: Store, library: PersonaLibrary, path: Path, run_id: str, model: str, setting: str | None = None
) -> dict[str, Any]:
    document = load_json(path)
    users = document.get("user_interactions") if isinstance(document, dict) else None
    if users is None:
        raise InputError(path, "user_interactions", "missing field (expected a ComPASS result file)")
    if not isinstance(users, dict):
        raise InputError(
            path, "user_interactions", f"expected an object of users keyed by id, got {_kind(users)}"
        )
    personas = {p.origin.user_id: p for p in library.select("all") if p.origin and p.origin.user_id}
    definitions = load_definitions()
    detected = setting or _detect_setting(users)
    records: list[dict[str, Any]] = []
    for user_id, interactions in users.items():
        persona = personas.get(str(user_id))
        if persona is None:
            raise InputError(
                path,
                f"user_interactions.{user_id}",
                "no imported persona with this user id (run `compass-tui personas import` on the test set first)",
            )
        if not isinstance(interactions, list):
            raise InputError(path, f"user_interactions.{user_id}", "expected a list of interactions")
        for position, interaction in enumerate(interactions):
            where = f"user_interactions.{user_id}[{position}]"
            check_interaction(interaction, path, where)
            records.append(_record(interaction, persona, position, run_id, model, detected, definitions))
    meta = {
        "run_id": run_id,
        "name": run_id,
        "setting": detected,
        "models": [model],
        "personas": sorted({r["persona_id"] for r in records}),
        "history": True if detected == "history" else None,
        "prompt_source": "imported",
        "prompt_hash": None,
        "source": f"import:{Path(path).name}",
        "created_at": now_iso(),
        "updated_at": now_iso(),
        "status": "finished",
    }
    with run_lock(store, run_id):
        store.modify(
            run_meta_path(run_id), META_TABLE, "meta", lambda existing: _merged_meta(run_id, existing, meta)
        )
        for record in records:
            key = interaction_key(model, record["persona_id"], record["situation_index"])
            store.upsert(run_records_path(run_id, record["persona_id"]), INTERACTIONS_TABLE, key, record)
    return {"run_id": run_id, "setting": detected, "records": len(records), "users": len(users)}


# Each field's accepted JSON types; None stands for null. Tool results may be any JSON.
_TEXT, _OBJECT, _FLAG = (str, type(None)), (dict, type(None)), (bool, type(None))
_CALL = (dict, str, type(None))
_INTERACTION_FIELDS = {
    "user_utterance": _TEXT,
    "utterance": _TEXT,
    "scenario": _TEXT,
    "tool_call": _CALL,
    "success": _FLAG,
    "tool_call_all": _TEXT,
    "1": _OBJECT,
    "user_feedback": _TEXT,
}
_STEP_FIELDS = {"tool_call": _CALL, "generated_feedback": _TEXT, "execute_success": _FLAG}


def check_interaction(interaction: Any, path: Path, where: str) -> None:
    """Raise InputError naming the file, the interaction and the first field of a type no reader takes."""
    _check_fields(interaction, _INTERACTION_FIELDS, path, where)
    if isinstance(interaction.get("1"), dict):
        _check_fields(interaction["1"], _STEP_FIELDS, path, f"{where}.1")
    nested = _nested_step(interaction)
    if nested is not None:
        _check_fields(nested, _STEP_FIELDS, path, f"{where}.tool_call.1")


def _check_fields(value: Any, fields: dict[str, tuple[type, ...]], path: Path, where: str) -> None:
    if not isinstance(value, dict):
        raise InputError(path, where, f"expected an object, got {_kind(value)}")
    for name, accepted in fields.items():
        if name in value and not isinstance(value[name], accepted):
            wanted = " or ".join(_KIND_NAMES[kind] for kind in accepted)
            raise InputError(path, f"{where}.{name}", f"expected {wanted}, got {_kind(value[name])}")


_KIND_NAMES = {str: "text", dict: "an object", bool: "true/false", type(None): "null", list: "a list"}


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return f"a number ({value!r})"
    return _KIND_NAMES.get(type(value), type(value).__name__)


def _merged_meta(run_id: str, existing: dict[str, Any] | None, meta: dict[str, Any]) -> dict[str, Any]:
    """Importing into an existing run adds to it (another model's results, say), from the same setting."""
    merged = merged_run_meta(run_id, existing, meta, ("setting",))
    if existing is not None:
        sources = [part for part in (existing.get("source") or "").split("; ") if part]
        merged["source"] = "; ".join(dict.fromkeys([*sources, meta["source"]]))
    return merged


def _detect_setting(users: dict) -> str:
    for interactions in users.values():
        for interaction in interactions if isinstance(interactions, list) else []:
            if isinstance(interaction, dict) and (
                "user_feedback" in interaction or "user_utterance" in interaction
            ):
                return "history"
    return "profile"


def _situation_index(persona: Persona, utterance: str, position: int) -> int:
    wanted = " ".join(utterance.split())
    for index, situation in enumerate(persona.situations):
        if " ".join(situation.utterance.split()) == wanted:
            return index
    return min(position, len(persona.situations) - 1)


def _record(
    interaction: dict,
    persona: Persona,
    position: int,
    run_id: str,
    model: str,
    setting: str,
    definitions: dict,
) -> dict[str, Any]:
    nested = _nested_step(interaction)
    call_document = nested.get("tool_call") if nested else interaction.get("tool_call")
    raw_result = nested.get("tool_raw_result") if nested else interaction.get("tool_result")
    executed = nested.get("execute_success") if nested else interaction.get("success")
    response = _response(interaction)
    utterance = interaction.get("user_utterance") or interaction.get("utterance") or ""
    index = _situation_index(persona, utterance, position)
    situation = persona.situations[index]
    call = parse_call(call_document) if call_document else None
    tool_result = _tool_result(call, raw_result, executed, definitions)
    feedback = interaction.get("user_feedback")
    return {
        "run_id": run_id,
        "model": model,
        "persona_id": persona.id,
        "situation_index": index,
        "setting": setting,
        "status": "done" if response else "error",
        "scenario_type": situation.scenario_type,
        "emotion": situation.emotion_label,
        "utterance": situation.utterance,
        "scored": index >= len(persona.situations) - 3 if setting == "history" else True,
        "stage1": {"by": "imported", "declared_scenario": interaction.get("scenario")},
        "tool_call": call.as_dict() if call else None,
        "tool_result": tool_result,
        "stage2": {"by": "imported"},
        "response": response,
        "feedback": {"label": str(feedback).strip().lower(), "by": "imported"} if feedback else None,
        "error": None
        if response
        else {"stage": "response", "kind": "missing", "message": "no response in the file"},
    }


def _nested_step(interaction: dict) -> dict | None:
    tool_call = interaction.get("tool_call")
    if isinstance(tool_call, dict) and isinstance(tool_call.get("1"), dict):
        return tool_call["1"]
    return None


def _response(interaction: dict) -> str | None:
    """Where the official judge script finds the response, in its order."""
    if isinstance(interaction.get("tool_call_all"), str):
        return interaction["tool_call_all"]
    for holder in (
        interaction.get("1"),
        (interaction.get("tool_call") or {}).get("1")
        if isinstance(interaction.get("tool_call"), dict)
        else None,
    ):
        if isinstance(holder, dict) and isinstance(holder.get("generated_feedback"), str):
            return holder["generated_feedback"]
    return None


def _tool_result(call, raw_result: Any, executed: Any, definitions: dict) -> dict[str, Any] | None:
    if call is None:
        return None
    record: dict[str, Any] = {
        "tool_folder_name": call.folder,
        "function_name": call.function,
        "params": call.params,
        "form": call.form,
        "result": raw_result,
        "mode": "imported",
        "changes": [],
        "notes": [],
        "error": None,
        "validation": None,
    }
    if call.problem is not None:
        record["error"] = call.problem.as_dict()
    else:
        validation = validate_params(call.folder, call.params, definitions[call.folder])
        record["validation"] = validation.as_dict()
        if not validation.valid:
            record["error"] = validation.errors[0].as_dict()
    record["ok"] = bool(executed) if executed is not None else record["error"] is None
    return record
