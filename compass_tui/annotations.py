"""Human scores: one record per annotator, item and system, saved the moment anything changes.

An item is a (persona, situation) pair, or a what-if variant of one (`variant`, keyed
`<persona>#<index>~<variant id>|<system>`); a system is what produced the response being scored
(`<run>::<model>` in a session, a blinded id such as `S2` in a study). Records live in
`annotations/<scope>/<annotator>/<persona>.json`, one small TinyDB shard per persona, so a
save costs the same however many annotations the store holds.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from compass_tui.errors import InputError
from compass_tui.names import storage_name
from compass_tui.records import VARIANT_SEPARATOR, now_iso
from compass_tui.rubric import RUBRIC_VERSION, valid_score
from compass_tui.store import Store
from compass_tui.vocab import DIMENSION_KEYS

TABLE = "annotations"


def item_id(persona_id: str, situation_index: int, variant: str | None = None) -> str:
    """`<persona>#<index>`, and `~<variant id>` for a what-if variant of that situation."""
    return f"{persona_id}#{situation_index}" + (f"{VARIANT_SEPARATOR}{variant}" if variant else "")


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
    variant: str | None = None  # the what-if variant scored (records.variant_id_for), None for the original
    _saved: dict[str, Any] | None = field(default=None, repr=False, compare=False)  # as last read or saved

    @property
    def key(self) -> str:
        return f"{item_id(self.persona_id, self.situation_index, self.variant)}|{self.system}"

    @property
    def complete(self) -> bool:
        return all(valid_score(self.scores.get(key)) for key in DIMENSION_KEYS)

    @property
    def finished(self) -> bool:
        """The one rule of "finished", for study progress, the annotator screen and the report: skipped,
        or all six dimensions scored and committed."""
        return self.skipped or (self.complete and self.committed)

    @property
    def has_final_scores(self) -> bool:
        """Finished with six scores: what a table of human scores reads."""
        return self.finished and not self.skipped

    def set_score(self, dimension: str, value: int | None) -> None:
        check_scores({dimension: value})
        self.scores[dimension] = value

    def as_record(self) -> dict[str, Any]:
        record = asdict(self)
        del record["_saved"]
        if record["variant"] is None:  # records of originals keep the shape they always had
            del record["variant"]
        return record

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Annotation:
        annotation = cls(**_known_fields(record))
        annotation._saved = annotation.as_record()
        return annotation

    def changes(self) -> dict[str, Any]:
        """What this copy changed since it was read or saved: fields, and the scores per dimension."""
        current = self.as_record()
        saved = self._saved
        if saved is None:
            return current
        changed = {k: v for k, v in current.items() if k not in _BOOKKEEPING and v != saved.get(k)}
        scores = {d: v for d, v in self.scores.items() if v != (saved.get("scores") or {}).get(d)}
        if scores:
            changed["scores"] = scores
        return changed

    def absorb(self, record: dict[str, Any]) -> None:
        """Take the stored record, which holds this copy's changes and any other writer's."""
        for name, value in _known_fields(record).items():
            setattr(self, name, value)
        self._saved = self.as_record()


_BOOKKEEPING = ("scores", "revision", "updated_at", "created_at")


def _known_fields(record: dict[str, Any]) -> dict[str, Any]:
    names = [name for name in Annotation.__dataclass_fields__ if not name.startswith("_")]
    return {name: record[name] for name in names if name in record}


def shard_path(scope: str, annotator: str, persona_id: str) -> str:
    return f"annotations/{storage_name(scope)}/{storage_name(annotator)}/{storage_name(persona_id)}.json"


def save_annotation(store: Store, annotation: Annotation) -> Annotation:
    """Durably save this copy's changes, merged under the shard's lock into the stored record, so two
    writers editing different dimensions both keep theirs. Returns the annotation as stored."""
    check_scores(annotation.scores)
    changes = annotation.changes()

    def merged(stored: dict[str, Any] | None) -> dict[str, Any]:
        base = stored or annotation.as_record()
        record = {**base, **{k: v for k, v in changes.items() if k not in _BOOKKEEPING}}
        record["scores"] = {**(base.get("scores") or {}), **changes.get("scores", {})}
        record["revision"] = int(base.get("revision") or 0) + 1
        record["updated_at"] = now_iso()
        return record

    path = shard_path(annotation.scope, annotation.annotator, annotation.persona_id)
    annotation.absorb(store.modify(path, TABLE, annotation.key, merged))
    return annotation


def check_scores(scores: dict[str, Any], source: str | Path | None = None, line: int | None = None) -> None:
    """The one score-range check: every dimension known, every value 1-5 or None."""
    known = ", ".join(DIMENSION_KEYS)
    for dimension, value in scores.items():
        if dimension not in DIMENSION_KEYS:
            raise InputError(
                source, f"scores.{dimension}", f"unknown dimension; dimensions are {known}", line
            )
        if value is not None and not valid_score(value):
            raise InputError(source, f"scores.{dimension}", f"score {value!r} is outside 1-5", line)


def load_annotation(
    store: Store,
    scope: str,
    annotator: str,
    persona_id: str,
    situation_index: int,
    system: str,
    variant: str | None = None,
) -> Annotation | None:
    key = f"{item_id(persona_id, situation_index, variant)}|{system}"
    record = store.get(shard_path(scope, annotator, persona_id), TABLE, key)
    return Annotation.from_record(record) if record else None


def load_annotations(store: Store, scope: str, annotator: str | None = None) -> list[Annotation]:
    base = f"annotations/{storage_name(scope)}" + (f"/{storage_name(annotator)}" if annotator else "")
    return [Annotation.from_record(record) for record in store.all_in(base, TABLE)]


def rubric_versions_note(annotations: list[Annotation], where: str) -> str | None:
    """Said when the finished human scores read together were given under more than one rubric version."""
    versions = Counter(a.rubric_version for a in annotations if a.has_final_scores)
    if len(versions) < 2:
        return None
    counts = ", ".join(f"{version}: {count}" for version, count in sorted(versions.items()))
    return f"{where}: its human scores were given under {len(versions)} rubric versions and are pooled ({counts})"
