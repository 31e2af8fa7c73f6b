"""A study's disagreement triage (the ranking rules are in compass_tui.triage).

Units are (item, blinded system); the human scores are the finished study annotations, the judge
the one `agreement` reads. Entries name the blinded id; the real run and model only with `reveal`,
which is for the study's owner (the design file holds the map; an annotator's pack never does).
"""

from __future__ import annotations

from compass_tui.annotations import Annotation
from compass_tui.records import split_system_id
from compass_tui.store import Store
from compass_tui.study.agreement import study_judge_scores
from compass_tui.study.design import load_study
from compass_tui.study.journal import annotation_item
from compass_tui.study.merge import study_annotations
from compass_tui.triage import Triage, TriageEntry, check_dimension, fill_entry


def study_disagreements(
    store: Store,
    name: str,
    dimension: str | None = None,
    judge_model: str | None = None,
    judge_prompt: str | None = None,
    reveal: bool = False,
) -> Triage:
    check_dimension(dimension)
    design = load_study(store, name)
    selection, judge_scores, judge_note = study_judge_scores(store, design, judge_model, judge_prompt)
    human = _finished_scores(study_annotations(store, design))
    entries = []
    for item in design.items:
        for blinded in design.blinded_ids:
            run_id, model = split_system_id(design.systems[blinded]) if reveal else (None, None)
            entry = TriageEntry(
                item.item_id,
                item.persona_id,
                item.situation_index,
                blinded,
                study=name,
                run_id=run_id,
                model=model,
            )
            unit = (item.item_id, blinded)
            entries.append(fill_entry(entry, human.get(unit, []), judge_scores.get(unit), dimension))
    return Triage.ranked(f"study {name}", dimension, selection, entries, [judge_note] if judge_note else [])


def _finished_scores(annotations: list[Annotation]) -> dict[tuple[str, str], list[dict]]:
    collected: dict[tuple[str, str], list[dict]] = {}
    for annotation in annotations:
        if annotation.has_final_scores:
            unit = (annotation_item(annotation), annotation.system)
            collected.setdefault(unit, []).append(annotation.scores)
    return collected
