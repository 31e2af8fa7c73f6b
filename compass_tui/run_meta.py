"""A run's metadata (`runs/<run>/run.json`) as a typed value.

`from_document` reads a stored document, keeping the fields it does not know in `extra` and the order
of its fields in `keys`; `to_document` gives back the stored JSON object, fields in that order, so a
document read and written again is byte-for-byte the same. `for_run` and `for_import` are the two
writers' builders, each with the field order its files have always had.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from compass_tui.errors import InputError

RUN_KEYS = (
    "run_id", "name", "setting", "models", "personas", "history", "prompt_source", "prompt_hash",
    "fidelity", "simulator", "simulator_fallback", "today", "source", "created_at", "status", "updated_at",
)  # fmt: skip
IMPORT_KEYS = (
    "run_id", "name", "setting", "models", "personas", "history", "import_shape", "prompt_source",
    "prompt_hash", "source", "created_at", "updated_at", "status",
)  # fmt: skip
_TEXT_FIELDS = (
    "name", "import_shape", "prompt_source", "prompt_hash", "fidelity", "simulator", "simulator_fallback",
    "today", "source", "created_at", "updated_at", "status",
)  # fmt: skip


@dataclass(frozen=True)
class RunMeta:
    """What a run is: its setting, its models and personas, its prompts, where it came from, its state.
    `source` is "compass-tui" for a run executed here, "import:<file>[; import:<file>...]" for imports."""

    run_id: str
    setting: str
    models: list[str] = field(default_factory=list)
    personas: list[str] = field(default_factory=list)
    name: str | None = None
    history: bool | None = None
    import_shape: str | None = None
    prompt_source: str | None = None
    prompt_hash: str | None = None
    fidelity: str | None = None
    simulator: str | None = None
    simulator_fallback: str | None = None
    today: str | None = None
    source: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    status: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # fields this version does not know, and "key"
    keys: tuple[str, ...] = RUN_KEYS  # the stored fields, in their order

    @classmethod
    def for_run(cls, **values: Any) -> RunMeta:
        """The metadata of a run executed here (compass_tui.runner)."""
        return cls(**values, keys=RUN_KEYS)

    @classmethod
    def for_import(cls, **values: Any) -> RunMeta:
        """The metadata of an imported ComPASS result file (compass_tui.replay)."""
        return cls(**values, keys=IMPORT_KEYS)

    @classmethod
    def from_document(cls, document: Mapping[str, Any], source: str | Path | None = None) -> RunMeta:
        if not isinstance(document, Mapping):
            raise InputError(source, None, "not a JSON object")
        for name, kind in (("run_id", str), ("setting", str)):
            if not isinstance(document.get(name), kind):
                raise InputError(source, name, "missing or of the wrong type")
        for name in ("models", "personas"):
            value = document.get(name, [])
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                raise InputError(source, name, "must be a list of strings")
        for name in _TEXT_FIELDS:
            if document.get(name) is not None and not isinstance(document[name], str):
                raise InputError(source, name, "must be text")
        known = {f.name for f in fields(cls)} - {"extra", "keys", "models", "personas"}
        return cls(
            **{name: document[name] for name in known if name in document},
            models=list(document.get("models", [])),
            personas=list(document.get("personas", [])),
            extra={name: value for name, value in document.items() if name not in known | _LISTS},
            keys=tuple(document),
        )

    def to_document(self) -> dict[str, Any]:
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("extra", "keys")}
        values.update(models=list(self.models), personas=list(self.personas), **self.extra)
        document = {name: values[name] for name in self.keys if name in values}
        document.update(
            (name, value) for name, value in values.items() if name not in document and value is not None
        )
        return document

    @property
    def imported(self) -> bool:
        return (self.source or "").startswith("import:")

    def merged_into(self, existing: RunMeta | None, must_match: tuple[str, ...]) -> RunMeta:
        """This metadata added to a run that exists: the `must_match` fields must agree with the run's
        (else a one-line error on --name); models and personas are merged in order; created_at stays."""
        if existing is None:
            return self
        for name in must_match:
            theirs, ours = getattr(existing, name), getattr(self, name)
            if theirs != ours:
                raise InputError(
                    None,
                    "--name",
                    f"run {self.run_id!r} exists with {name} {theirs!r}, not {ours!r}; use another --name",
                )
        return replace(
            self,
            created_at=existing.created_at or self.created_at,
            models=list(dict.fromkeys([*existing.models, *self.models])),
            personas=list(dict.fromkeys([*existing.personas, *self.personas])),
        )


_LISTS = {"models", "personas"}
