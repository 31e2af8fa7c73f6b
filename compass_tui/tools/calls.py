"""Tool calls: read them in any of the forms agents write, then validate them with jsonschema.

Accepted forms:
- ComPASS: {"tool_folder_name": ..., "function_name": ..., "param": {...}}, also nested under "1"
  as the history-based prompt asks;
- OpenAI function calling: {"name": ..., "arguments": "{...}"} or {"type": "function", "function": {...}};
- ComPASS's text form: music_recommendation.query_music(genre='pop', keywords=['happy']).

Validation first normalises what the definitions themselves allow (enums are case-insensitive,
a lone string where a list is wanted, null for an optional parameter), records each change,
then runs jsonschema and our own checks (dates, size). `strict_valid` says whether the call
passed with no normalisation at all.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from jsonschema import Draft202012Validator

from compass_tui.vocab import FOLDER_BY_FUNCTION, TOOL_BY_FOLDER

MAX_STRING_CHARS = 10_000
_TEXT_CALL_RE = re.compile(
    r"^\s*`*\s*([A-Za-z_][\w]*)\s*\.\s*([A-Za-z_][\w]*)\s*\((.*)\)\s*`*\s*$", re.DOTALL
)
_DATE_FORMATS = {
    ("medical_appointment", "desired_date"): ("%Y-%m-%d", "YYYY-MM-DD"),
    ("schedule_manager", "time"): ("%Y-%m-%d %H:%M", "YYYY-MM-DD HH:MM"),
}


@dataclass
class CallProblem:
    code: str  # unknown_tool | malformed_call | invalid_params | not_found | tool_failed
    message: str
    parameter: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ToolCall:
    folder: str | None
    function: str | None
    params: Any
    form: str
    problem: CallProblem | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"tool_folder_name": self.folder, "function_name": self.function, "param": self.params}


@dataclass
class Validation:
    valid: bool
    strict_valid: bool
    params: dict[str, Any]
    normalisations: list[str] = field(default_factory=list)
    errors: list[CallProblem] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "strict_valid": self.strict_valid,
            "normalisations": self.normalisations,
            "errors": [error.as_dict() for error in self.errors],
        }


def parse_call(raw: Any) -> ToolCall:
    """A ToolCall from a dict or text in any accepted form; problems are recorded, never raised."""
    if isinstance(raw, str):
        return _parse_text(raw)
    if not isinstance(raw, dict):
        return _broken(f"a tool call must be an object or text, not {type(raw).__name__}")
    if isinstance(raw.get("1"), dict) and "tool_folder_name" not in raw:
        raw = raw["1"]
    if "tool_folder_name" in raw or "function_name" in raw:
        return _resolve(
            raw.get("tool_folder_name"), raw.get("function_name"), raw.get("param", {}), "compass"
        )
    if isinstance(raw.get("function"), dict):
        raw = raw["function"]
    if "name" in raw:
        return _resolve(None, raw.get("name"), _arguments(raw.get("arguments", {})), "openai")
    return _broken("no tool named: expected tool_folder_name/function_name or name/arguments")


def _arguments(arguments: Any) -> Any:
    if isinstance(arguments, str):
        try:
            return json.loads(arguments) if arguments.strip() else {}
        except json.JSONDecodeError as error:
            return _Unparsable(f"arguments are not valid JSON: {error.msg}")
    return arguments


class _Unparsable:
    def __init__(self, message: str):
        self.message = message


def _parse_text(text: str) -> ToolCall:
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            return parse_call(json.loads(stripped))
        except json.JSONDecodeError as error:
            return _broken(f"tool call is not valid JSON: {error.msg}")
    match = _TEXT_CALL_RE.match(stripped)
    if not match:
        return _broken("tool call text is neither JSON nor folder.function(param=value, ...)")
    folder, function, argument_text = match.groups()
    try:
        node = ast.parse(f"f({argument_text})", mode="eval").body
        assert isinstance(node, ast.Call)
        params = {keyword.arg: ast.literal_eval(keyword.value) for keyword in node.keywords if keyword.arg}
    except (SyntaxError, ValueError) as error:
        return _broken(f"cannot read the arguments of {folder}.{function}: {error}")
    return _resolve(folder, function, params, "text")


def _resolve(folder: Any, function: Any, params: Any, form: str) -> ToolCall:
    folder = folder if isinstance(folder, str) and folder else None
    function = function if isinstance(function, str) and function else None
    if isinstance(params, _Unparsable):
        return ToolCall(folder, function, {}, form, CallProblem("malformed_call", params.message))
    known_folder = folder in TOOL_BY_FOLDER
    if folder and not known_folder and folder in FOLDER_BY_FUNCTION:
        folder, function = FOLDER_BY_FUNCTION[folder], function or folder
        known_folder = True
    if function and not known_folder:
        folder = FOLDER_BY_FUNCTION.get(function, folder)
        known_folder = folder in TOOL_BY_FOLDER
    if not known_folder:
        named = folder or function or "?"
        return ToolCall(
            folder, function, params, form, CallProblem("unknown_tool", f"unknown tool {named!r}")
        )
    expected = TOOL_BY_FOLDER[folder].function
    if function is None:
        function = expected
    elif function != expected:
        problem = CallProblem(
            "unknown_tool", f"tool {folder!r} has no function {function!r} (it has {expected!r})"
        )
        return ToolCall(folder, function, params, form, problem)
    return ToolCall(folder, function, params, form)


def _broken(message: str) -> ToolCall:
    return ToolCall(None, None, {}, "unknown", CallProblem("malformed_call", message))


def validate_params(folder: str, params: Any, definition: dict[str, Any]) -> Validation:
    schema = definition["parameters"]
    if not isinstance(params, dict):
        problem = CallProblem("invalid_params", f"parameters must be an object, not {type(params).__name__}")
        return Validation(False, False, {}, errors=[problem])
    validator = _validator(folder, schema)
    normalised, notes = _normalise(params, schema)
    errors = [
        problem
        for error in sorted(validator.iter_errors(normalised), key=lambda e: e.path)
        for problem in _problems(error)
    ]
    if not errors:
        errors = _semantic_errors(folder, normalised)
    if not notes:  # nothing was normalised: the call as written is what was checked
        return Validation(not errors, not errors, normalised, notes, errors)
    strict_valid = validator.is_valid(params) and not _semantic_errors(folder, params)
    return Validation(not errors, strict_valid, normalised, notes, errors)


_validators: dict[str, tuple[dict[str, Any], Draft202012Validator]] = {}


def _validator(folder: str, schema: dict[str, Any]) -> Draft202012Validator:
    """One validator per tool schema: building one costs more than a validation."""
    cached = _validators.get(folder)
    if cached is None or cached[0] is not schema:
        cached = _validators[folder] = (schema, Draft202012Validator(schema))
    return cached[1]


def _normalise(params: dict[str, Any], schema: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    normalised: dict[str, Any] = {}
    notes: list[str] = []
    for name, value in params.items():
        spec = properties.get(name, {})
        if value is None and name not in required:
            notes.append(f"{name}: null dropped")
            continue
        if spec.get("type") == "array" and isinstance(value, str):
            notes.append(f"{name}: {value!r} read as [{value!r}]")
            value = [value]
        if "enum" in spec and isinstance(value, str) and value not in spec["enum"]:
            canonical = next(
                (option for option in spec["enum"] if option.lower() == value.strip().lower()), None
            )
            if canonical is not None:
                notes.append(f"{name}: {value!r} read as {canonical!r}")
                value = canonical
        normalised[name] = value
    return normalised, notes


def _problems(error) -> list[CallProblem]:
    """One problem per offending parameter: an error about several unknown parameters names each."""
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        declared = error.schema.get("properties", {})
        unexpected = [name for name in error.instance if name not in declared]
        return [CallProblem("invalid_params", f"unknown parameter {name!r}", name) for name in unexpected]
    return [_problem(error)]


def _problem(error) -> CallProblem:
    parameter = ".".join(str(part) for part in error.absolute_path) or None
    message = error.message
    if error.validator == "required":
        parameter = message.split("'")[1] if "'" in message else parameter
        message = f"missing required parameter {parameter!r}"
    elif error.validator == "enum":
        message = (
            f"{error.instance!r} is not allowed; choose one of: {', '.join(map(str, error.validator_value))}"
        )
    elif parameter:
        message = f"{parameter}: {message}"
    return CallProblem("invalid_params", message, parameter)


def _semantic_errors(folder: str, params: dict[str, Any]) -> list[CallProblem]:
    errors: list[CallProblem] = []
    for name, value in params.items():
        if isinstance(value, str) and len(value) > MAX_STRING_CHARS:
            errors.append(
                CallProblem(
                    "invalid_params",
                    f"{name} is {len(value):,} characters; the limit is {MAX_STRING_CHARS:,}",
                    name,
                )
            )
        date_format = _DATE_FORMATS.get((folder, name))
        if date_format and isinstance(value, str) and not _parses(value, date_format[0]):
            errors.append(
                CallProblem("invalid_params", f"{name} {value!r} is not a date as {date_format[1]}", name)
            )
    return errors


def _parses(value: str, pattern: str) -> bool:
    try:
        datetime.strptime(value.strip(), pattern)
    except ValueError:
        return False
    return True
