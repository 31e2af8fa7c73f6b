"""An interaction record (`runs/<run>/records/<persona>.json`, shapes in compass_tui.records) as a typed
value, with the rules that read one defined once.

Every part keeps the fields it does not know in `extra` and the order of its stored fields in `order`;
`to_document` gives back the stored object, fields in that order, so a record read and written again
is byte-for-byte the same. `record[name]` and `record.get(name)` read a stored field as the document
has it (nested parts as dicts), for the readers not yet moved to the attributes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import MISSING, dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import Any, ClassVar, overload

from compass_tui.errors import InputError

_OWN = ("extra", "order")


@dataclass(frozen=True, kw_only=True)
class _Stored(Mapping[str, Any]):
    extra: dict[str, Any] = field(default_factory=dict)
    order: tuple[str, ...] = ()  # the stored fields, in their order
    _nested: ClassVar[dict[str, type[_Stored]]] = {}

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> Any:
        known = cls._known()
        values: dict[str, Any] = {}
        for name in known.intersection(document):
            value, part = document[name], cls._nested.get(name)
            values[name] = part.from_document(value) if part and isinstance(value, Mapping) else value
        extra = {name: value for name, value in document.items() if name not in known}
        return cls(**values, extra=extra, order=tuple(document))

    @classmethod
    def _known(cls) -> frozenset[str]:
        return _known_fields(cls)

    def to_document(self) -> dict[str, Any]:
        values = {name: _stored(getattr(self, name)) for name in self._known()} | self.extra
        document = {name: values[name] for name in self.order if name in values}
        for part in fields(self):
            if part.name not in document and part.name not in _OWN and not _is_default(self, part):
                document[part.name] = values[part.name]
        return document

    def __getitem__(self, name: str) -> Any:
        if name in self.extra:
            return self.extra[name]
        if name in self._known() and (name in self.order or getattr(self, name) is not None):
            return _stored(getattr(self, name))
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self.to_document())

    def __len__(self) -> int:
        return len(self.to_document())


@cache
def _known_fields(kind: type) -> frozenset[str]:
    return frozenset(f.name for f in fields(kind)) - set(_OWN)


def _stored(value: Any) -> Any:
    """A typed part as its stored document; any other value as it is."""
    return value.to_document() if isinstance(value, _Stored) else value


stored_value = _stored


def _is_default(value: _Stored, part: Any) -> bool:
    default = part.default_factory() if part.default_factory is not MISSING else part.default
    return getattr(value, part.name) == default


@dataclass(frozen=True, kw_only=True)
class StageError(_Stored):
    """Why a stage's model call failed, after how many attempts."""

    kind: str | None = None
    message: str | None = None
    attempts: int | None = None
    order: tuple[str, ...] = ("kind", "message", "attempts")


@dataclass(frozen=True, kw_only=True)
class StageCall(_Stored):
    """One stage's model call (stage 1 the tool choice, stage 2 the response), or the baseline's."""

    by: str | None = None
    messages: list[dict[str, Any]] | None = None
    order: tuple[str, ...] = ("by", "parsed", "declared_scenario")  # a new one: the baseline's
    native_tools: bool | None = None
    raw: Any = None
    parsed: Any = None
    declared_scenario: str | None = None
    parse_error: str | None = None
    latency_s: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: float | None = None
    attempts: int | None = None
    error: StageError | None = None
    retried_after: str | None = None  # why the first answer was not read, when it was asked again
    first_attempt: dict[str, Any] | None = None  # that first answer's usage and raw text
    attempt_log: list[dict[str, Any]] | None = None  # --fidelity official: each attempt's raw text, tool_ran

    _nested: ClassVar[dict[str, type[_Stored]]] = {"error": StageError}


@dataclass(frozen=True, kw_only=True)
class ToolCall(_Stored):
    tool_folder_name: str | None = None
    function_name: str | None = None
    param: Any = None


@dataclass(frozen=True, kw_only=True)
class Feedback(_Stored):
    """The user's (simulated) reaction in the history setting: "like" or "dislike", by "rule" or a model."""

    label: str | None = None
    by: str | None = None
    text: str | None = None  # the user's words, where they are known


@dataclass(frozen=True, kw_only=True)
class RecordError(_Stored):
    stage: str | None = None
    kind: str | None = None
    message: str | None = None
    order: tuple[str, ...] = ("stage", "kind", "message")


@dataclass(frozen=True, kw_only=True)
class VariantInfo(_Stored):
    """A what-if variant: its id (from the edited text), the text, and the words it replaced."""

    id: str = ""
    text: str = ""
    original_utterance: str | None = None
    order: tuple[str, ...] = ("id", "text", "original_utterance")


@dataclass(frozen=True, kw_only=True)
class OfficialFields(_Stored):
    """What `--fidelity official` keeps as the official scripts do: the raw call, scenario and reply."""

    tool_call: Any = None
    scenario: str | None = None
    reply: str | None = None
    order: tuple[str, ...] = ("tool_call", "scenario", "reply")


@overload
def as_record(record: Mapping[str, Any]) -> InteractionRecord: ...
@overload
def as_record(record: Mapping[str, Any] | None) -> InteractionRecord | None: ...


def as_record(record: Mapping[str, Any] | None) -> InteractionRecord | None:
    """A record document in progress (a live run's) read into a record; a record as it is."""
    if record is None or isinstance(record, InteractionRecord):
        return record
    return InteractionRecord.read(record)


NEW_RECORD_KEYS = (
    "run_id", "model", "persona_id", "situation_index", "setting", "status", "scenario_type", "emotion",
    "utterance", "scored", "tool_call", "tool_result", "response", "feedback", "error",
)  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class InteractionRecord(_Stored):
    run_id: str = ""
    model: str
    persona_id: str
    situation_index: int
    setting: str = ""
    status: str = ""  # pending | selected | executed | done | error
    scenario_type: str | None = None
    emotion: str | None = None
    utterance: str = ""
    scored: bool | None = None  # False for the history setting's cold start
    stage1: StageCall | None = None
    tool_call: ToolCall | None = None
    tool_result: dict[str, Any] | None = None
    stage2: StageCall | None = None
    response: str | None = None
    response_raw: Any = None  # an import's raw text, where the official scripts judge it
    feedback: Feedback | None = None
    error: RecordError | None = None
    started_at: str | None = None
    finished_at: str | None = None
    tool_call_only: bool | None = None
    first_attempt_success: bool | None = None
    final_success: bool | None = None
    tool_attempts: int | None = None
    official: OfficialFields | None = None
    variant: VariantInfo | None = None
    key: str | None = None

    _nested: ClassVar[dict[str, type[_Stored]]] = {
        "stage1": StageCall,
        "stage2": StageCall,
        "tool_call": ToolCall,
        "feedback": Feedback,
        "error": RecordError,
        "official": OfficialFields,
        "variant": VariantInfo,
    }

    @classmethod
    def read(cls, document: Mapping[str, Any], source: str | Path | None = None) -> InteractionRecord:
        """A stored record; a record without its item (model, persona, situation) is a one-line error."""
        for name, kind in (("model", str), ("persona_id", str), ("situation_index", int)):
            value = document.get(name)
            if not isinstance(value, kind) or isinstance(value, bool):
                raise InputError(source, name, "missing or of the wrong type")
        record: InteractionRecord = cls.from_document(document)
        return record

    @property
    def item(self) -> tuple[str, str, int]:
        return (self.model, self.persona_id, self.situation_index)

    @property
    def counts(self) -> bool:
        """Scored in tables: every item but the history setting's cold start (`scored` False)."""
        return self.scored is not False

    @property
    def finished(self) -> bool:
        """Done, or an imported item that ended at its tool call (`tool_call_only`)."""
        return self.status == "done" or (self.status == "executed" and bool(self.tool_call_only))

    @property
    def has_response(self) -> bool:
        """Finished with a response to read, and scored: what studies and the judge show."""
        response = self.response
        return self.status == "done" and isinstance(response, str) and bool(response.strip()) and self.counts

    @property
    def tool_ran(self) -> bool:
        return bool((self.tool_result or {}).get("ok"))

    @property
    def tool_folder(self) -> str | None:
        return self.tool_call.tool_folder_name if isinstance(self.tool_call, ToolCall) else None

    @property
    def tool_call_document(self) -> Any:
        """The tool call as stored (what the tools and the prompts are given), or None."""
        return _stored(self.tool_call)

    @property
    def variant_id(self) -> str | None:
        return self.variant.id if self.variant else None

    @property
    def what_if(self) -> VariantInfo:
        """The variant of a what-if record; ValueError on an original."""
        if self.variant is None:
            raise ValueError(f"{self.key} is not a what-if variant")
        return self.variant
