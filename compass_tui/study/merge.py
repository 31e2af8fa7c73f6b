"""Merging pack journals into the store, and who has rated what."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from compass_tui.annotations import TABLE, Annotation, load_annotations, shard_path
from compass_tui.errors import InputError
from compass_tui.store import Store
from compass_tui.study.design import JOURNAL_SUFFIX, journal_path, load_study, study_scope
from compass_tui.study.journal import annotation_item, check_scores, last_per_key, read_journal
from compass_tui.study.models import StudyDesign
from compass_tui.study.packs import load_pack
from compass_tui.vocab import DIMENSION_KEYS

# ---------------------------------------------------------------------------------------------- merging


@dataclass
class MergeReport:
    """What a merge or CSV import did. Conflicts keep the newer record and show both."""

    study: str
    files: list[str]
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    missing: dict[str, list[str]] = field(default_factory=dict)

    @property
    def written(self) -> int:
        return (
            self.added
            + self.updated
            + sum(1 for conflict in self.conflicts if conflict["kept"] == "incoming")
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"written": self.written}


def merge(store: Store, name: str, files: list[str | Path]) -> MergeReport:
    """Bring pack journals (or packs with their journal beside them) into the store under `study:<name>`.

    Everything is checked before anything is written: another study's file, an annotator or
    item outside the study, or a score outside 1-5 raises InputError and writes nothing.
    Merging the same file again changes nothing and reports every record as unchanged.
    """
    design = load_study(store, name)
    fingerprint = design.fingerprint()
    positions = design.positions()
    incoming: list[tuple[str, Annotation]] = []
    for file in files:
        journal = _journal_of(Path(file), fingerprint)
        entries = read_journal(journal, fingerprint, study_scope(name), positions)
        incoming.extend((str(journal), annotation) for annotation in last_per_key(entries).values())
    return apply_annotations(store, design, incoming, [str(file) for file in files])


def _journal_of(path: Path, fingerprint: str) -> Path:
    if not path.exists():
        raise InputError(path, None, "no such file")
    if path.name.endswith(JOURNAL_SUFFIX):
        return path
    pack = load_pack(path)
    if pack.fingerprint != fingerprint:
        raise InputError(
            path, "fingerprint", f"a pack of another study ({pack.study!r}, different fingerprint)"
        )
    journal = journal_path(path)
    if not journal.exists():
        raise InputError(path, None, f"no scores beside this pack (expected {journal.name})")
    return journal


def apply_annotations(
    store: Store, design: StudyDesign, incoming: list[tuple[str, Annotation]], files: list[str]
) -> MergeReport:
    report = MergeReport(design.name, files)
    current = {(a.annotator, a.key): a for a in load_annotations(store, study_scope(design.name))}
    to_write: dict[tuple[str, str], Annotation] = {}
    for source, new in incoming:
        slot = (new.annotator, new.key)
        outcome, kept = _resolve(current.get(slot), new)
        if outcome == "conflict":
            report.conflicts.append(_conflict(current[slot], new, kept, source))
        else:
            setattr(report, outcome, getattr(report, outcome) + 1)
        if kept is new:
            current[slot] = to_write[slot] = new
    for annotation in to_write.values():
        _store_annotation(store, annotation)
    report.missing = missing_items(design, current.values())
    return report


def _resolve(old: Annotation | None, new: Annotation) -> tuple[str, Annotation]:
    """(added | updated | unchanged | conflict, the record to keep). Scores that clash make a conflict."""
    if old is None:
        return "added", new
    if old.as_record() == new.as_record():
        return "unchanged", old
    newer = new if _moment(new.updated_at) > _moment(old.updated_at) else old
    clash = any(
        old.scores.get(key) is not None
        and new.scores.get(key) is not None
        and old.scores[key] != new.scores[key]
        for key in DIMENSION_KEYS
    )
    if clash:
        return "conflict", newer
    return ("updated", new) if newer is new else ("unchanged", old)


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _conflict(old: Annotation, new: Annotation, kept: Annotation, source: str) -> dict[str, Any]:
    def version(annotation: Annotation) -> dict[str, Any]:
        return {
            "scores": annotation.scores,
            "comment": annotation.comment,
            "updated_at": annotation.updated_at,
        }

    return {
        "annotator": new.annotator,
        "item_id": annotation_item(new),
        "system": new.system,
        "source": source,
        "kept": "incoming" if kept is new else "stored",
        "stored": version(old),
        "incoming": version(new),
    }


def _store_annotation(store: Store, annotation: Annotation) -> None:
    # Not annotations.save_annotation: that stamps the time of this save, and a merge or an
    # import must keep when the annotator scored (conflicts keep the newer; CSV round trips).
    check_scores(annotation.scores, None, None)
    store.upsert(
        shard_path(annotation.scope, annotation.annotator, annotation.persona_id),
        TABLE,
        annotation.key,
        annotation.as_record(),
    )


def missing_items(design: StudyDesign, annotations) -> dict[str, list[str]]:
    """annotator -> items (in their order) with at least one response not yet rated or skipped."""
    rated = {(a.annotator, annotation_item(a), a.system) for a in annotations if a.finished}
    return {
        annotator: [
            entry.item_id
            for entry in entries
            if any((annotator, entry.item_id, s) not in rated for s in entry.systems)
        ]
        for annotator, entries in design.assignments.items()
    }


def study_annotations(store: Store, design: StudyDesign) -> list[Annotation]:
    """The study's stored annotations that belong to its design (annotator, item and blinded system)."""
    positions = design.positions()
    return [
        a
        for a in load_annotations(store, study_scope(design.name))
        if a.system in positions.get(a.annotator, {}).get(annotation_item(a), {})
    ]


def unmerged_note(design: StudyDesign, annotations: list[Annotation]) -> str | None:
    """Said when the study holds no annotator's scores: they stay beside each pack until merged."""
    if annotations:
        return None
    return (
        f"no annotator's scores are in study {design.name} yet; merge their journals with "
        f"`compass-tui study merge {design.name} FILE.pack.scores.jsonl ...`"
    )


def progress(design: StudyDesign, annotations: list[Annotation]) -> dict[str, dict[str, Any]]:
    """annotator -> rated and assigned responses, items done, and mean seconds spent per item."""
    missing = missing_items(design, annotations)
    result = {}
    for annotator, entries in design.assignments.items():
        mine = [a for a in annotations if a.annotator == annotator]
        seconds_by_item: defaultdict[str, float] = defaultdict(float)
        for annotation in mine:
            seconds_by_item[annotation_item(annotation)] += annotation.seconds
        item_seconds = list(seconds_by_item.values())
        result[annotator] = {
            "rated": sum(1 for a in mine if a.finished),
            "assigned": sum(len(e.systems) for e in entries),
            "items_done": len(entries) - len(missing[annotator]),
            "items_assigned": len(entries),
            "mean_seconds_per_item": sum(item_seconds) / len(item_seconds) if item_seconds else None,
        }
    return result
