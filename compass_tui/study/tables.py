"""Study scores as tidy CSV (wide or long): export, and import back as a merge."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compass_tui import csvio
from compass_tui.annotations import Annotation
from compass_tui.errors import InputError
from compass_tui.records import now_iso
from compass_tui.rubric import RUBRIC_VERSION, valid_score
from compass_tui.store import Store
from compass_tui.study.design import (
    CSV_HEADERS,
    LONG_COLUMNS,
    WIDE_COLUMNS,
    load_study,
    study_scope,
)
from compass_tui.study.journal import annotation_item, check_timestamp
from compass_tui.study.merge import MergeReport, apply_annotations, study_annotations
from compass_tui.study.models import DesignItem, Positions, StudyDesign
from compass_tui.vocab import DIMENSION_KEYS

# ---------------------------------------------------------------------------------------------- CSV


def export(store: Store, name: str, fmt: str, out: str | Path) -> int:
    """Write the study's scores as tidy CSV (`long`: one row per dimension; `wide`: one per response).

    Rows are ordered by annotator, their item order and display position. Returns the row count.
    """
    if fmt not in CSV_HEADERS:
        raise InputError(None, "--format", f"{fmt!r} is not a format; use long or wide")
    design = load_study(store, name)
    records = _export_records(design, study_annotations(store, design))
    rows = _long_rows(records) if fmt == "long" else ([record[c] for c in WIDE_COLUMNS] for record in records)
    return csvio.write_csv(out, CSV_HEADERS[fmt], rows)


def _export_records(design: StudyDesign, annotations: list[Annotation]) -> list[dict[str, Any]]:
    by_slot = {(a.annotator, annotation_item(a), a.system): a for a in annotations}
    items = design.items_by_id
    records = []
    for annotator, entries in design.assignments.items():
        for entry in entries:
            for position, blinded in enumerate(entry.systems, 1):
                annotation = by_slot.get((annotator, entry.item_id, blinded))
                if annotation is not None:
                    records.append(
                        _export_record(design, items[entry.item_id], blinded, position, annotation)
                    )
    return records


def _export_record(
    design: StudyDesign, item: DesignItem, blinded: str, position: int, annotation: Annotation
) -> dict[str, Any]:
    return {
        "annotator": annotation.annotator,
        "item_id": item.item_id,
        "persona_id": item.persona_id,
        "situation_index": item.situation_index,
        "scenario_type": item.scenario_type,
        "emotion": item.emotion,
        "system": design.systems[blinded],
        "blinded_id": blinded,
        "position": position,
        **{key: annotation.scores.get(key) for key in DIMENSION_KEYS},
        "comment": annotation.comment,
        "flag": annotation.flag,
        "skipped": annotation.skipped,
        "seconds": annotation.seconds,
        "rubric_version": annotation.rubric_version,
        "seed": design.seed,
        "timestamp": annotation.updated_at,
    }


def _long_rows(records: list[dict[str, Any]]):
    for record in records:
        for key in DIMENSION_KEYS:
            yield [
                key if column == "dimension" else record[key] if column == "score" else record[column]
                for column in LONG_COLUMNS
            ]


def import_csv(store: Store, name: str, path: str | Path) -> MergeReport:
    """Read a long or wide export back into the store (format found from the header).

    The header must match exactly; every row is checked (study, annotator, item, system,
    position, scores 1-5) before anything is written. Existing scores merge as in `merge`.
    """
    design = load_study(store, name)
    path = Path(path)
    table = csvio.read_csv(path, CSV_HEADERS)
    groups: dict[tuple[str, str, str], list[tuple[int, dict[str, str]]]] = {}
    for line, row in table.rows:
        group = groups.setdefault((row["annotator"], row["item_id"], row["blinded_id"]), [])
        if table.kind == "wide" and group:
            raise InputError(
                path,
                None,
                f"a second row for {row['annotator']} / {row['item_id']} / "
                f"{row['blinded_id']} (first on line {group[0][0]})",
                line=line,
            )
        group.append((line, row))
    study = _CsvStudy(design, design.items_by_id, design.positions())
    incoming = [(str(path), _csv_annotation(study, path, table.kind, rows)) for rows in groups.values()]
    return apply_annotations(store, design, incoming, [str(path)])


@dataclass
class _CsvStudy:
    design: StudyDesign
    items: dict[str, DesignItem]
    positions: Positions


def _csv_annotation(
    study: _CsvStudy, path: Path, kind: str, rows: list[tuple[int, dict[str, str]]]
) -> Annotation:
    design = study.design
    line, first = rows[0]
    item = _csv_item(study, path, line, first)
    scores = (
        _csv_scores(path, rows)
        if kind == "long"
        else {key: _csv_score(path, line, key, first[key]) for key in DIMENSION_KEYS}
    )
    timestamp = first["timestamp"] or now_iso()
    check_timestamp(timestamp, path, line, "timestamp")
    return Annotation(
        scope=study_scope(design.name),
        annotator=first["annotator"],
        persona_id=item.persona_id,
        situation_index=item.situation_index,
        system=first["blinded_id"],
        scores=scores,
        comment=first["comment"],
        flag=_csv_bool(path, line, "flag", first["flag"]),
        skipped=_csv_bool(path, line, "skipped", first["skipped"]),
        committed=True,  # a score in the table is final
        seconds=_csv_seconds(path, line, first["seconds"]),
        position=_csv_int(path, line, "position", first["position"]),
        blinded_id=first["blinded_id"],
        rubric_version=first["rubric_version"] or RUBRIC_VERSION,
        created_at=timestamp,
        updated_at=timestamp,
    )


def _csv_item(study: _CsvStudy, path: Path, line: int, row: dict[str, str]) -> DesignItem:
    """The design item of a row, after checking that the row is this study's."""
    design = study.design
    if _csv_int(path, line, "seed", row["seed"]) != design.seed:
        raise InputError(
            path, "seed", f"{row['seed']} is not study {design.name!r}'s seed {design.seed}", line=line
        )
    design.check_annotator(row["annotator"], path, line)
    item = study.items.get(row["item_id"])
    if (
        item is None
        or row["persona_id"] != item.persona_id
        or _csv_int(path, line, "situation_index", row["situation_index"]) != item.situation_index
    ):
        raise InputError(
            path, "item_id", f"{row['item_id']!r} is not an item of study {design.name!r}", line=line
        )
    if design.systems.get(row["blinded_id"]) != row["system"]:
        raise InputError(
            path,
            "system",
            f"{row['system']!r} is not blinded as {row['blinded_id']!r} in this study",
            line=line,
        )
    expected = study.positions[row["annotator"]][row["item_id"]][row["blinded_id"]]
    if _csv_int(path, line, "position", row["position"]) != expected:
        raise InputError(
            path, "position", f"{row['position']} is not the design's position {expected}", line=line
        )
    return item


def _csv_scores(path: Path, rows: list[tuple[int, dict[str, str]]]) -> dict[str, int | None]:
    scores: dict[str, int | None] = {key: None for key in DIMENSION_KEYS}
    seen: set[str] = set()
    for line, row in rows:
        dimension = row["dimension"]
        if dimension not in DIMENSION_KEYS or dimension in seen:
            raise InputError(
                path, "dimension", f"{dimension!r} is unknown or repeated for this response", line=line
            )
        seen.add(dimension)
        scores[dimension] = _csv_score(path, line, "score", row["score"])
    return scores


def _csv_score(path: Path, line: int, column: str, text: str) -> int | None:
    if text == "":
        return None
    if not re.fullmatch(r"[0-9]+", text) or not valid_score(int(text)):
        raise InputError(path, column, f"score {text!r} is not a whole number from 1 to 5", line=line)
    return int(text)


def _csv_int(path: Path, line: int, column: str, text: str) -> int:
    if not re.fullmatch(r"-?[0-9]+", text):
        raise InputError(path, column, f"{text!r} is not a whole number", line=line)
    return int(text)


def _csv_bool(path: Path, line: int, column: str, text: str) -> bool:
    values = {"true": True, "false": False, "1": True, "0": False, "": False}
    if text.lower() not in values:
        raise InputError(path, column, f"{text!r} is not true or false", line=line)
    return values[text.lower()]


def _csv_seconds(path: Path, line: int, text: str) -> float:
    try:
        seconds = float(text) if text else 0.0
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0:
        raise InputError(path, "seconds", f"{text!r} is not a number of seconds", line=line)
    return seconds
