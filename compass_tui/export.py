"""The human-score CSV of session scoring (the TUI's export dialog and `compass-tui export`)."""

from __future__ import annotations

from pathlib import Path

from compass_tui.annotations import Annotation
from compass_tui.csvio import write_csv
from compass_tui.errors import NotFoundError
from compass_tui.interaction_record import InteractionRecord
from compass_tui.records import load_records, load_variant_records, split_system_id
from compass_tui.store import Store
from compass_tui.vocab import DIMENSION_KEYS

SESSION_COLUMNS = (
    "annotator",
    "run",
    "model",
    "system",
    "persona_id",
    "situation_index",
    "scenario_type",
    "emotion",
    *DIMENSION_KEYS,
    "comment",
    "flag",
    "skipped",
    "committed",
    "seconds",
    "rubric_version",
    "timestamp",
    "variant",  # empty for the original situation; a what-if variant's id otherwise
    "utterance",  # the words the response answered: the original's, or the variant's
)


def session_rows(store: Store, annotations: list[Annotation]) -> list[list]:
    situations: dict[str, dict[tuple, InteractionRecord]] = {}
    rows = []
    for annotation in sorted(
        annotations, key=lambda a: (a.annotator, a.system, a.persona_id, a.situation_index, a.variant or "")
    ):
        run_id, model = split_system_id(annotation.system)
        if run_id not in situations:
            try:
                situations[run_id] = {
                    (r.model, r.persona_id, r.situation_index, r.variant_id): r
                    for r in load_records(store, run_id) + load_variant_records(store, run_id)
                }
            except NotFoundError:  # a deleted run; its annotations still export, without the situation
                situations[run_id] = {}
        item = (model, annotation.persona_id, annotation.situation_index, annotation.variant)
        record = situations[run_id].get(item)
        scenario, emotion, utterance = (
            (record.scenario_type, record.emotion, record.utterance) if record else (None, None, None)
        )
        rows.append(
            [
                annotation.annotator,
                run_id,
                model,
                annotation.system,
                annotation.persona_id,
                annotation.situation_index,
                scenario,
                emotion,
                *(annotation.scores.get(key) for key in DIMENSION_KEYS),
                annotation.comment,
                annotation.flag,
                annotation.skipped,
                annotation.committed,
                round(annotation.seconds, 1),
                annotation.rubric_version,
                annotation.updated_at,
                annotation.variant or "",
                utterance,
            ]
        )
    return rows


def write_session_csv(store: Store, annotations: list[Annotation], out: Path) -> int:
    return write_csv(out, SESSION_COLUMNS, session_rows(store, annotations))
