"""Which official script wrote a ComPASS result file, read from its shape, and the type check of every
field the importer reads (see `replay` for the shapes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from compass_tui.errors import InputError

PROFILE, TOOL_CALLS, HISTORY, HISTORY_WITHOUT = "profile", "tool_calls", "history", "history_without_history"
SHAPES = (PROFILE, TOOL_CALLS, HISTORY, HISTORY_WITHOUT)
SCORED_TAIL = 3  # the history scripts score utterances 12-14 of 15
_ANY = frozenset(SHAPES)


def interaction_shapes(interaction: Any) -> frozenset[str]:
    """The file shapes this interaction can belong to; empty when it fits none."""
    if not isinstance(interaction, dict) or not interaction:
        return frozenset()
    if set(interaction) == {"error"}:
        return _ANY
    if "user_feedback" in interaction:
        return frozenset({HISTORY})
    if "tool_call_failed" in interaction:
        return frozenset({HISTORY, HISTORY_WITHOUT})
    if {"tool_call_all", "execution_success", "three_execution_success"} & set(interaction):
        return frozenset({PROFILE})
    step = nested_step(interaction)
    if step is not None:
        return _step_shapes(interaction, step)
    if "utterance" in interaction and {"tool_call", "tool_result", "success"} & set(interaction):
        return frozenset({TOOL_CALLS})
    return frozenset()


def _step_shapes(interaction: dict, step: dict) -> frozenset[str]:
    if "user_utterance" not in interaction:
        return frozenset({HISTORY_WITHOUT})  # inference_toolinvoc_nohist.py writes no utterance
    if {"3turn_execute_success", "feedback_success"} & set(step):
        return frozenset({HISTORY, HISTORY_WITHOUT})
    return frozenset({PROFILE, HISTORY, HISTORY_WITHOUT})  # e.g. inference_respond.py's first-attempt file


def detect_shape(users: dict[str, list], path: Path) -> str:
    """The one shape every interaction fits; InputError at the first that fits none, or not the others."""
    possible, first = _ANY, None
    for user_id, interactions in users.items():
        for position, interaction in enumerate(interactions):
            where = f"user_interactions.{user_id}[{position}]"
            shapes = interaction_shapes(interaction)
            if not shapes:
                raise InputError(path, where, f"unknown interaction shape (keys: {_keys(interaction)})")
            if not possible & shapes:
                raise InputError(
                    path, where, f"mixed shapes: this is {_names(shapes)}, but {first} is {_names(possible)}"
                )
            if shapes != _ANY and first is None:
                first = where
            possible &= shapes
    return _preferred(possible, users)


def _preferred(possible: frozenset[str], users: dict[str, list]) -> str:
    """Profile unless only history fits; then with history unless no user has more than 3 items."""
    for shape in (PROFILE, TOOL_CALLS):
        if shape in possible:
            return shape
    if HISTORY in possible and HISTORY_WITHOUT in possible:
        longest = max((len(interactions) for interactions in users.values()), default=0)
        return HISTORY_WITHOUT if longest <= SCORED_TAIL else HISTORY
    return next(iter(possible))


def _names(shapes: frozenset[str]) -> str:
    return " or ".join(shape for shape in SHAPES if shape in shapes)


def _keys(value: Any) -> str:
    if not isinstance(value, dict):
        return kind_of(value)
    return ", ".join(sorted(map(str, value))) or "none"


# --- checks of field types -----------------------------------------------------------------------

# Each field's accepted JSON types; None stands for null. Tool results may be any JSON.
_TEXT, _OBJECT, _FLAG = (str, type(None)), (dict, type(None)), (bool, type(None))
_CALL = (dict, str, type(None))
_INTERACTION_FIELDS = {
    "user_utterance": _TEXT,
    "utterance": _TEXT,
    "scenario": _TEXT,
    "tool_call": _CALL,
    "success": _FLAG,
    "execution_success": _FLAG,
    "three_execution_success": _FLAG,
    "tool_call_all": _TEXT,
    "1": _OBJECT,
    "user_feedback": (str, dict, type(None)),
}
_STEP_FIELDS = {
    "tool_call": _CALL,
    "generated_feedback": _TEXT,
    "execute_success": _FLAG,
    "3turn_execute_success": _FLAG,
    "feedback_success": _FLAG,
}
_FEEDBACK_FIELDS: dict[str, tuple[type, ...]] = {
    "user_utterance": _TEXT,
    "agent_reply": _TEXT,
    "user_feedback": _TEXT,
}


def check_interaction(interaction: Any, path: Path, where: str) -> None:
    """Raise InputError naming the file, the interaction and the first field of a type no reader takes."""
    _check_fields(interaction, _INTERACTION_FIELDS, path, where)
    if isinstance(interaction.get("1"), dict):
        _check_fields(interaction["1"], _STEP_FIELDS, path, f"{where}.1")
    nested = nested_step(interaction)
    if nested is not None:
        _check_fields(nested, _STEP_FIELDS, path, f"{where}.tool_call.1")
    if isinstance(interaction.get("user_feedback"), dict):
        _check_fields(interaction["user_feedback"], _FEEDBACK_FIELDS, path, f"{where}.user_feedback")


def _check_fields(value: Any, fields: dict[str, tuple[type, ...]], path: Path, where: str) -> None:
    if not isinstance(value, dict):
        raise InputError(path, where, f"expected an object, got {kind_of(value)}")
    for name, accepted in fields.items():
        if name in value and not isinstance(value[name], accepted):
            wanted = " or ".join(_KIND_NAMES[kind] for kind in accepted)
            raise InputError(path, f"{where}.{name}", f"expected {wanted}, got {kind_of(value[name])}")


_KIND_NAMES = {str: "text", dict: "an object", bool: "true/false", type(None): "null", list: "a list"}


def kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return f"a number ({value!r})"
    return _KIND_NAMES.get(type(value), type(value).__name__)


# --- one interaction as a record -----------------------------------------------------------------


def nested_step(interaction: dict) -> dict | None:
    tool_call = interaction.get("tool_call")
    if isinstance(tool_call, dict) and isinstance(tool_call.get("1"), dict):
        return tool_call["1"]
    return None
