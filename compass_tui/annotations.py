"""Human scores: one record per annotator, item and system, saved the moment anything changes.

An item is a (persona, situation) pair; a system is what produced the response being scored
(`<run>::<model>` in a session, a blinded id such as `S2` in a study). Records live in
`annotations/<scope>/<annotator>/<persona>.json`, one small TinyDB shard per persona, so a
save costs the same however many annotations the store holds.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from compass_tui.errors import InputError
from compass_tui.rubric import RUBRIC_VERSION, valid_score
from compass_tui.store import Store, safe_name
from compass_tui.vocab import DIMENSION_KEYS

TABLE = "annotations"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def item_id(persona_id: str, situation_index: int) -> str:
    return f"{persona_id}#{situation_index}"


@dataclass
class Annotation:
    scope: str
    annotator: str
    persona_id: str
    situation_index: int
    system: str
    scores: dict[str, int | None] = field(default_factory=lambda: {key: None for key in DIMENSION_KEYS})
    comment: str = ""
    flag: bool = False
    skipped: bool = False
    committed: bool = False
    seconds: float = 0.0
    position: int | None = None
    blinded_id: str | None = None
    seed: int | None = None
    rubric_version: str = RUBRIC_VERSION
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)
    revision: int = 0

    @property
    def key(self) -> str:
        return f"{item_id(self.persona_id, self.situation_index)}|{self.system}"

    @property
    def complete(self) -> bool:
        return all(valid_score(self.scores.get(key)) for key in DIMENSION_KEYS)

    def set_score(self, dimension: str, value: int | None) -> None:
        if dimension not in DIMENSION_KEYS:
            raise InputError(
                None, dimension, f"unknown dimension; dimensions are {', '.join(DIMENSION_KEYS)}"
            )
        if value is not None and not valid_score(value):
            raise InputError(None, dimension, f"score {value!r} is outside 1-5")
        self.scores[dimension] = value

    def as_record(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Annotation:
        known = {name: record[name] for name in cls.__dataclass_fields__ if name in record}
        return cls(**known)


def shard_path(scope: str, annotator: str, persona_id: str) -> str:
    return f"annotations/{safe_name(scope)}/{safe_name(annotator)}/{safe_name(persona_id)}.json"


def save_annotation(store: Store, annotation: Annotation) -> Annotation:
    """Durably save; returns the annotation with its new revision and timestamp. Raises nothing silently."""
    for dimension, value in annotation.scores.items():
        if value is not None and not valid_score(value):
            raise InputError(None, f"scores.{dimension}", f"score {value!r} is outside 1-5")
    annotation.revision += 1
    annotation.updated_at = now_iso()
    store.upsert(
        shard_path(annotation.scope, annotation.annotator, annotation.persona_id),
        TABLE,
        annotation.key,
        annotation.as_record(),
    )
    return annotation


def load_annotation(
    store: Store, scope: str, annotator: str, persona_id: str, situation_index: int, system: str
) -> Annotation | None:
    key = f"{item_id(persona_id, situation_index)}|{system}"
    record = store.get(shard_path(scope, annotator, persona_id), TABLE, key)
    return Annotation.from_record(record) if record else None


def load_annotations(store: Store, scope: str, annotator: str | None = None) -> list[Annotation]:
    base = f"annotations/{safe_name(scope)}" + (f"/{safe_name(annotator)}" if annotator else "")
    return [Annotation.from_record(record) for record in store.all_in(base, TABLE)]
