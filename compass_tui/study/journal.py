"""A pack's append-only, fsynced score journal (`<pack>.scores.jsonl`), and reading it back."""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from compass_tui.annotations import Annotation, check_scores, item_id
from compass_tui.errors import InputError
from compass_tui.inputs import check_regular_file, read_input_bytes
from compass_tui.jsonio import dumps, fsync_directory, loads_strict
from compass_tui.records import now_iso
from compass_tui.study.design import journal_path, study_scope
from compass_tui.study.models import Positions
from compass_tui.study.packs import pack_for_journal

# ---------------------------------------------------------------------------------------------- pack journals


def append_pack_score(pack_path: str | Path, annotation: Annotation) -> Annotation:
    """Durably append one save to the pack's journal (fsynced); returns the annotation as saved.

    The annotation must be for this pack's study (scope `study:<name>`), annotator, items and
    blinded systems; its blinded_id and position are set from the pack.
    """
    pack_path = Path(pack_path)
    pack = pack_for_journal(pack_path)
    positions = pack.positions()
    check_scores(annotation.scores, pack_path, None)
    _check_assigned(annotation, study_scope(pack.study), positions, pack_path, None)
    annotation.blinded_id = annotation.system
    annotation.position = positions[annotation.annotator][annotation_item(annotation)][annotation.system]
    annotation.revision += 1
    annotation.updated_at = now_iso()
    line = dumps(annotation.as_record() | {"study": pack.study, "fingerprint": pack.fingerprint}, indent=None)
    _append_line(journal_path(pack_path), line + "\n")
    return annotation


@dataclass
class PackScores:
    """A pack's current scores, and the corrupt journal lines left out of them (each names its line)."""

    annotations: list[Annotation]
    skipped: list[InputError] = field(default_factory=list)

    def skipped_note(self) -> str | None:
        """One line: the first corrupt line's error and how many were skipped."""
        if not self.skipped:
            return None
        count = len(self.skipped)
        return f"{self.skipped[0]} (skipped {count} corrupt journal line{'s' if count > 1 else ''})"


def read_pack_journal(pack_path: str | Path) -> PackScores:
    """The annotator's current scores for a pack: the last good journal line per item and system wins.

    A corrupt line is skipped and counted rather than closing the pack to the annotator.
    """
    pack_path = Path(pack_path)
    pack = pack_for_journal(pack_path)
    journal = journal_path(pack_path)
    if not journal.exists():
        return PackScores([])
    skipped: list[InputError] = []
    entries = read_journal(journal, pack.fingerprint, study_scope(pack.study), pack.positions(), skipped)
    return PackScores(list(last_per_key(entries).values()), skipped)


def read_pack_scores(pack_path: str | Path) -> list[Annotation]:
    return read_pack_journal(pack_path).annotations


def _append_line(path: Path, line: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    created = not path.exists()
    if not created:
        check_regular_file(path)  # _drop_torn_tail reads it whole
    with open(path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            _drop_torn_tail(handle)
            handle.write(line.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    if created:
        fsync_directory(path.parent)


def _drop_torn_tail(handle) -> None:
    """Cut a line left half-written by a crash, so the next line starts clean (it was never acknowledged)."""
    handle.seek(0)
    data = handle.read()
    if data and not data.endswith(b"\n"):
        handle.truncate(data.rfind(b"\n") + 1)


def annotation_item(annotation: Annotation) -> str:
    return item_id(annotation.persona_id, annotation.situation_index)


def read_journal(
    path: Path,
    fingerprint: str,
    scope: str,
    positions: Positions,
    skipped: list[InputError] | None = None,
) -> list[tuple[int, Annotation]]:
    """Every checked (line number, annotation) of a journal; a torn last line is ignored.

    A bad line raises InputError naming its line, or, given a `skipped` list, is added to it and left out.
    """
    *complete, tail = read_input_bytes(path).split(b"\n")
    lines = [(number, line) for number, line in enumerate(complete, 1) if line.strip()]
    if tail.strip() and _parses(tail):  # else torn by a crash mid-append: never acknowledged
        lines.append((len(complete) + 1, tail))
    entries = []
    for number, line in lines:
        try:
            record = _parse_line(line, path, number)
            entries.append((number, _journal_entry(record, path, number, fingerprint, scope, positions)))
        except InputError as error:
            if skipped is None:
                raise
            skipped.append(error)
    return entries


def _parses(line: bytes) -> bool:
    try:
        loads_strict(line)
    except InputError:
        return False
    return True


def _parse_line(line: bytes, path: Path, number: int) -> Any:
    try:
        return loads_strict(line, source=path)
    except InputError as error:
        raise InputError(path, None, f"not a JSON line ({error.message})", line=number) from None


def _journal_entry(
    record: Any,
    path: Path,
    line: int,
    fingerprint: str,
    scope: str,
    positions: Positions,
) -> Annotation:
    if not isinstance(record, dict):
        raise InputError(path, None, "a journal line must be a JSON object", line=line)
    if record.get("fingerprint") != fingerprint:
        raise InputError(
            path, "fingerprint", "these scores belong to another study (fingerprint differs)", line=line
        )
    annotation = _annotation_from_record(record, path, line)
    check_scores(annotation.scores, path, line)
    _check_assigned(annotation, scope, positions, path, line)
    check_timestamp(annotation.updated_at, path, line, "updated_at")
    return annotation


def _annotation_from_record(record: dict[str, Any], path: Path, line: int) -> Annotation:
    for name, kind in (
        ("scope", str),
        ("annotator", str),
        ("persona_id", str),
        ("situation_index", int),
        ("system", str),
        ("scores", dict),
    ):
        if not isinstance(record.get(name), kind):
            raise InputError(path, name, "missing or of the wrong type", line=line)
    return Annotation.from_record(record)


def _check_assigned(
    annotation: Annotation,
    scope: str,
    positions: Positions,
    source: str | Path | None,
    line: int | None,
) -> None:
    if annotation.scope != scope:
        raise InputError(
            source, "scope", f"{annotation.scope!r} is not this study's scope {scope!r}", line=line
        )
    if annotation.annotator not in positions:
        raise InputError(
            source,
            "annotator",
            f"{annotation.annotator!r} is not an annotator of this study "
            f"(annotators: {', '.join(positions)})",
            line=line,
        )
    shown = positions[annotation.annotator].get(annotation_item(annotation), {})
    if annotation.system not in shown:
        raise InputError(
            source,
            "system",
            f"{annotation_item(annotation)} / {annotation.system} is not assigned to {annotation.annotator}",
            line=line,
        )


def check_timestamp(text: Any, source: str | Path | None, line: int | None, what: str) -> None:
    try:
        datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise InputError(source, what, f"{text!r} is not an ISO 8601 time", line=line) from None


def last_per_key(entries: list[tuple[int, Annotation]]) -> dict[tuple[str, str], Annotation]:
    latest: dict[tuple[str, str], Annotation] = {}
    for _, annotation in entries:
        latest[(annotation.annotator, annotation.key)] = annotation
    return latest
