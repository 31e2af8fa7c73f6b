"""Import ComPASS result files, so that outputs made elsewhere can be inspected and scored here.

The file is `{"user_interactions": {user_id: [interaction, ...]}}`; its shape says which official
script wrote it, and so how the official evaluation scripts read it:
- `profile`: `profile-based/inference_respond.py`: {"user_utterance", "scenario", "tool_call": {"1":
  {"tool_call", "tool_raw_result", "generated_feedback", "execute_success"}}, "execution_success",
  "three_execution_success"}, or the raw tool choice in "tool_call_all" (`evaluation.py` reads
  "tool_call_all", then "1", then "tool_call"."1"."generated_feedback");
- `tool_calls`: `profile-based/generate_social_support_respond.py`: {"utterance", "tool_call":
  {tool_folder_name, function_name, param}, "tool_result", "success"}, no response;
- `history`: `history-based/tool_invoc_with_his.py` and `inference_toolinvoc_his.py`: the profile
  step plus "3turn_execute_success" and "user_feedback": {"user_utterance", "agent_reply",
  "user_feedback"}, or {"user_utterance", "tool_call_failed"}, which `evaluation_with_his.py`
  scores as the text "Tool call failed"; only interactions 12-14 are scored;
- `history_without_history`: `tool_invoc_without_his.py` and `inference_toolinvoc_nohist.py`: the
  steps of utterances 12-14 only, no feedback (`evaluation_without_his.py` maps item i to 12 + i).
Any interaction may be {"error": ...}. Users are matched to imported test-set personas by user id,
and interactions to situations by their utterance text (falling back to their position).
"""

from __future__ import annotations

import ast
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from compass_tui.errors import InputError
from compass_tui.fidelity import DISLIKED_FEEDBACK, LIKED_FEEDBACK
from compass_tui.interaction_record import (
    Feedback,
    InteractionRecord,
    RecordError,
    StageCall,
    ToolCall,
    as_record,
)
from compass_tui.jsonio import load_json
from compass_tui.library import PersonaLibrary
from compass_tui.persona import Persona
from compass_tui.records import (
    INTERACTIONS_TABLE,
    META_TABLE,
    interaction_key,
    now_iso,
    record_step,
    run_lock,
    run_meta_path,
    run_records_path,
)
from compass_tui.replay_shapes import (
    HISTORY,
    HISTORY_WITHOUT,
    PROFILE,
    SCORED_TAIL,
    TOOL_CALLS,
    check_interaction,
    detect_shape,
    kind_of,
    nested_step,
)
from compass_tui.run_meta import RunMeta
from compass_tui.store import Store
from compass_tui.tools.calls import parse_call, validate_params
from compass_tui.tools.definitions import load_definitions

SETTING_OF_SHAPE = {PROFILE: "profile", TOOL_CALLS: "profile", HISTORY: "history", HISTORY_WITHOUT: "history"}
HISTORY_OF_SHAPE = {HISTORY: True, HISTORY_WITHOUT: False}
TOOL_CALL_FAILED_TEXT = "Tool call failed"  # evaluation_with_his.py's text for a tool_call_failed item
_MAX_MESSAGE_CHARS = 300
_LABELS = {LIKED_FEEDBACK: "like", DISLIKED_FEEDBACK: "dislike", "like": "like", "dislike": "dislike"}


def import_results(
    store: Store, library: PersonaLibrary, path: Path, run_id: str, model: str, setting: str | None = None
) -> dict[str, Any]:
    users = _users(path)
    personas = {p.origin.user_id: p for p in library.select("all") if p.origin and p.origin.user_id}
    shape = detect_shape(users, path)
    chosen = setting or SETTING_OF_SHAPE[shape]
    history = HISTORY_OF_SHAPE.get(shape) if chosen == "history" else None
    definitions = load_definitions()
    records: list[dict[str, Any]] = []
    for user_id, interactions in users.items():
        persona = _persona(personas, user_id, path)
        offset = len(persona.situations) - SCORED_TAIL if shape == HISTORY_WITHOUT else 0
        indices: set[int] = set()
        for position, interaction in enumerate(interactions):
            context = (persona, offset + position, run_id, model, chosen, shape)
            records.append(_record(interaction, context, definitions))
            _check_new_situation(
                records[-1], persona, indices, path, f"user_interactions.{user_id}[{position}]"
            )
    if not records:
        raise InputError(path, "user_interactions", "no interactions to import")
    _keep_known_flags(records)
    meta = _meta(run_id, path, model, chosen, history, shape, records)
    _save(store, run_id, model, meta, records)
    return _summary(run_id, chosen, history, shape, records, len(users))


def _users(path: Path) -> dict[str, Any]:
    document = load_json(path)
    users = document.get("user_interactions") if isinstance(document, dict) else None
    if users is None:
        raise InputError(path, "user_interactions", "missing field (expected a ComPASS result file)")
    if not isinstance(users, dict):
        raise InputError(
            path, "user_interactions", f"expected an object of users keyed by id, got {kind_of(users)}"
        )
    for user_id, interactions in users.items():
        if not isinstance(interactions, list):
            raise InputError(path, f"user_interactions.{user_id}", "expected a list of interactions")
        for position, interaction in enumerate(interactions):
            check_interaction(interaction, path, f"user_interactions.{user_id}[{position}]")
    return users


def _check_new_situation(record: dict, persona: Persona, indices: set[int], path: Path, where: str) -> None:
    """Two interactions of one user read as one situation (say, more interactions than situations)."""
    index = record["situation_index"]
    if index in indices:
        raise InputError(
            path,
            where,
            f"reads as situation {index + 1} of persona {persona.id!r} again "
            f"(it has {len(persona.situations)} situations)",
        )
    indices.add(index)


def _persona(personas: dict[str, Persona], user_id: str, path: Path) -> Persona:
    persona = personas.get(str(user_id))
    if persona is None:
        raise InputError(
            path,
            f"user_interactions.{user_id}",
            "no imported persona with this user id (run `compass-tui personas import` on the test set first)",
        )
    return persona


# --- which official script wrote the file --------------------------------------------------------


_IMPORTED_STAGE1 = ("by", "declared_scenario")
_IMPORTED_KEYS = (
    "run_id", "model", "persona_id", "situation_index", "setting", "scenario_type", "emotion", "utterance",
    "scored", "stage1", "tool_call", "tool_result", "stage2", "response", "response_raw",
    "first_attempt_success", "final_success", "feedback", "import_shape", "tool_call_only",
)  # fmt: skip


def _record(interaction: dict, context: tuple, definitions: dict) -> dict[str, Any]:
    persona, position, run_id, model, setting, shape = context
    utterance = interaction.get("user_utterance") or interaction.get("utterance") or ""
    index = _situation_index(persona, utterance, position)
    situation = persona.situations[index]
    step = nested_step(interaction) or {}
    call_document = step.get("tool_call") if step else interaction.get("tool_call")
    call = parse_call(call_document) if call_document else None
    first, final = _success_flags(interaction, step, shape)
    raw = _raw_response(interaction, shape)
    record = InteractionRecord(
        run_id=run_id,
        model=model,
        persona_id=persona.id,
        situation_index=index,
        setting=setting,
        scenario_type=situation.scenario_type,
        emotion=situation.emotion_label,
        utterance=situation.utterance,
        scored=index >= len(persona.situations) - SCORED_TAIL if setting == "history" else True,
        stage1=StageCall(
            by="imported", declared_scenario=interaction.get("scenario"), order=_IMPORTED_STAGE1
        ),
        tool_call=ToolCall.from_document(call.as_dict()) if call else None,
        tool_result=_tool_result(call, _raw_result(interaction, step), final, first, definitions),
        stage2=StageCall(by="imported", order=("by",)),
        response=None if "tool_call_failed" in interaction else displayed_reply(raw),
        response_raw=raw,
        first_attempt_success=first,
        final_success=final,
        feedback=_typed_feedback(imported_feedback(interaction.get("user_feedback"))),
        extra={"import_shape": shape},
        tool_call_only=shape == TOOL_CALLS,
        order=_IMPORTED_KEYS,
    )
    return record_step(record.to_document(), **_outcome(interaction, record, shape))


def _outcome(interaction: dict, record: InteractionRecord, shape: str) -> dict[str, Any]:
    """status and error: an {"error"} item or a tool_call_failed is an error; tool calls alone end executed."""
    if "tool_call_failed" in interaction:
        message = str(interaction["tool_call_failed"])
        return {"status": "error", "error": _error("tool_selection", "tool_call_failed", message)}
    if "error" in interaction and record.tool_call is None and record.response is None:
        return {"status": "error", "error": _error("tool_selection", "imported", str(interaction["error"]))}
    if shape == TOOL_CALLS:
        return {"status": "executed", "error": None}
    if record.response is None:
        return {"status": "error", "error": _error("response", "missing", "no response in the file")}
    return {"status": "done", "error": None}


def _error(stage: str, kind: str, message: str) -> RecordError:
    return RecordError(stage=stage, kind=kind, message=message)


def _situation_index(persona: Persona, utterance: str, position: int) -> int:
    wanted = " ".join(utterance.split())
    for index, situation in enumerate(persona.situations):
        if wanted and " ".join(situation.utterance.split()) == wanted:
            return index
    return min(position, len(persona.situations) - 1)


def _raw_response(interaction: dict, shape: str) -> str | None:
    """The text the official evaluation script measures, in its order; None where it reads none."""
    if "tool_call_failed" in interaction:
        return TOOL_CALL_FAILED_TEXT if shape == HISTORY else None
    if isinstance(interaction.get("tool_call_all"), str):
        return interaction["tool_call_all"]
    for holder in (interaction.get("1"), nested_step(interaction)):
        if isinstance(holder, dict) and isinstance(holder.get("generated_feedback"), str):
            return holder["generated_feedback"]
    return None


def displayed_reply(raw: str | None) -> str | None:
    """The reply a reader sees: the "feedback" of a {"feedback": ...} document, else the text itself."""
    if raw is None:
        return None
    try:
        document = json.loads(raw)
    except json.JSONDecodeError:
        return raw
    if isinstance(document, dict) and isinstance(document.get("feedback"), str):
        return document["feedback"]
    return raw


def _typed_feedback(feedback: dict[str, Any] | None) -> Feedback | None:
    return Feedback.from_document(feedback) if feedback else None


def imported_feedback(feedback: Any) -> dict[str, Any] | None:
    """{"label": like|dislike|None, "by": "imported", "text"} from the history scripts' record or text."""
    if isinstance(feedback, dict):
        feedback = feedback.get("user_feedback")
    if not isinstance(feedback, str) or not feedback.strip():
        return None
    text = feedback.strip()
    return {"label": _LABELS.get(text, _LABELS.get(text.lower())), "by": "imported", "text": text}


def _success_flags(interaction: dict, step: dict, shape: str) -> tuple[bool | None, bool | None]:
    """(first attempt ran, best of 3 ran), from the fields the writing script keeps."""
    if "tool_call_failed" in interaction or set(interaction) == {"error"}:
        return False, False
    if "execution_success" in interaction or "three_execution_success" in interaction:
        return interaction.get("execution_success"), interaction.get("three_execution_success")
    if shape == TOOL_CALLS:
        return interaction.get("success"), None
    if "3turn_execute_success" in step:
        return step.get("execute_success"), step.get("3turn_execute_success")
    if "execute_success" in step:
        return step.get("execute_success"), None
    return (False, False) if "tool_call_all" in interaction else (None, None)


def _keep_known_flags(records: list[dict[str, Any]]) -> None:
    """A flag no item of the file records is unknown for its failures too, not false."""
    for flag in ("first_attempt_success", "final_success"):
        known = any(r[flag] is not None for r in records if r["status"] != "error")
        for record in records if not known else []:
            record_step(record, **{flag: None})


def _raw_result(interaction: dict, step: dict) -> Any:
    return step.get("tool_raw_result") if step else interaction.get("tool_result")


def parsed_result(raw: Any) -> tuple[Any, list[str]]:
    """A tool result as data: JSON, or the Python repr the scripts keep (`str(result)`), read with
    ast.literal_eval; text that reads as neither stays text, with a note if it looked like data."""
    if not isinstance(raw, str):
        return raw, []
    text = raw.strip()
    for reader in (json.loads, ast.literal_eval):
        try:
            return _jsonable(reader(text)), []
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
    if text[:1] in ("[", "{", "("):
        return raw, ["the tool result is kept as text: it reads as neither JSON nor a Python literal"]
    return raw, []


def _jsonable(value: Any) -> Any:
    """Tuples and sets as lists, keys as text, anything else JSON lacks as its repr."""
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return [_jsonable(item) for item in items]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)


def _tool_result(
    call, raw_result: Any, final: bool | None, first: bool | None, definitions: dict
) -> dict[str, Any] | None:
    if call is None:
        return None
    result, notes = parsed_result(raw_result)
    record: dict[str, Any] = {
        "tool_folder_name": call.folder,
        "function_name": call.function,
        "params": call.params,
        "form": call.form,
        "result": result,
        "mode": "imported",
        "changes": [],
        "notes": notes,
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
    executed = final if final is not None else first
    record["ok"] = bool(executed) if executed is not None else record["error"] is None
    if not record["ok"] and record["error"] is None:
        message = " ".join(str(raw_result).split())[:_MAX_MESSAGE_CHARS]
        record["error"] = {"code": "tool_failed", "message": message, "parameter": None}
    return record


# --- the run -------------------------------------------------------------------------------------


def _meta(run_id, path, model, setting, history, shape, records) -> RunMeta:
    return RunMeta.for_import(
        run_id=run_id,
        name=run_id,
        setting=setting,
        models=[model],
        personas=sorted({r["persona_id"] for r in records}),
        history=history,
        import_shape=shape,
        prompt_source="imported",
        prompt_hash=None,
        source=f"import:{Path(path).name}",
        created_at=now_iso(),
        updated_at=now_iso(),
        status="finished",
    )


def _save(store: Store, run_id: str, model: str, meta: RunMeta, records: list[dict[str, Any]]) -> None:
    with run_lock(store, run_id):
        store.modify(
            run_meta_path(run_id),
            META_TABLE,
            "meta",
            lambda existing: _merged_meta(existing, meta).to_document(),
        )
        for document in records:
            record = as_record(document)
            key = interaction_key(model, record.persona_id, record.situation_index)
            store.upsert(run_records_path(run_id, record.persona_id), INTERACTIONS_TABLE, key, document)


def _merged_meta(existing: dict[str, Any] | None, meta: RunMeta) -> RunMeta:
    """Importing into an existing run adds to it (another model's results, say), from the same setting."""
    stored = None if existing is None else RunMeta.from_document(existing, run_meta_path(meta.run_id))
    merged = meta.merged_into(stored, ("setting", "history", "prompt_source"))  # never into a run of ours
    if stored is None:
        return merged
    sources = [part for part in (stored.source or "").split("; ") if part]
    return replace(merged, source="; ".join(dict.fromkeys([*sources, meta.source or ""])))


def _summary(run_id, setting, history, shape, records, users: int) -> dict[str, Any]:
    def count(status: str) -> int:
        return sum(1 for r in records if r["status"] == status)

    return {
        "run_id": run_id,
        "setting": setting,
        "history": history,
        "shape": shape,
        "records": len(records),
        "users": users,
        "scored": sum(1 for r in records if r["scored"]),
        "responses": count("done"),
        "tool_calls_only": count("executed"),
        "errors": count("error"),
        "tool_call_failed": sum(1 for r in records if (r["error"] or {}).get("kind") == "tool_call_failed"),
    }
