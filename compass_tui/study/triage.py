"""A study's disagreement triage (the ranking rules are in compass_tui.triage).

Units are (item, blinded system); the human scores are the finished study annotations, the judge
the one `agreement` reads. Entries name the blinded id; the real run and model only with `reveal`,
which is for the study's owner (the design file holds the map; an annotator's pack never does).
`study_item` is that owner's view of one item: every system's response and every annotator's scores.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from compass_tui.annotations import Annotation
from compass_tui.errors import NotFoundError
from compass_tui.interaction_record import InteractionRecord
from compass_tui.records import find_record, split_system_id
from compass_tui.store import Store
from compass_tui.study.agreement import study_judge_scores
from compass_tui.study.design import load_study
from compass_tui.study.journal import annotation_item
from compass_tui.study.merge import study_annotations, unmerged_note
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
    annotations = study_annotations(store, design)
    human = _finished_scores(annotations)
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
    notes = [note for note in (unmerged_note(design, annotations), judge_note) if note]
    return Triage.ranked(f"study {name}", dimension, selection, entries, notes)


def _finished_scores(annotations: list[Annotation]) -> dict[tuple[str, str], list[dict]]:
    collected: dict[tuple[str, str], list[dict]] = {}
    for annotation in annotations:
        if annotation.has_final_scores:
            unit = (annotation_item(annotation), annotation.system)
            collected.setdefault(unit, []).append(annotation.scores)
    return collected


ANNOTATOR_STATES = ("finished", "skipped", "in progress", "not scored")


@dataclass
class StudyItemSystem:
    """One system's response to a study item, as its owner sees it: the record, each annotator's scores
    (None unless finished with six scores), the triage values of the unit, and the judge's reasons."""

    blinded_id: str
    run_id: str
    model: str
    record: InteractionRecord | None
    scores: dict[str, dict[str, int | None] | None]
    states: dict[str, str]  # annotator -> one of ANNOTATOR_STATES
    entry: TriageEntry
    judge_rationales: dict[str, str] = field(default_factory=dict)


@dataclass
class StudyItem:
    study: str
    item_id: str
    persona_id: str
    situation_index: int
    annotators: list[str]
    systems: list[StudyItemSystem]
    judge_model: str | None
    judge_prompt: str | None
    notes: list[str] = field(default_factory=list)


def study_item(
    store: Store,
    name: str,
    item: str,
    judge_model: str | None = None,
    judge_prompt: str | None = None,
) -> StudyItem:
    """One item of a study with every system's response, every annotator's scores and the judge's: the
    study owner's view (it names the real systems; an annotator's pack never holds them)."""
    design = load_study(store, name)
    summary = next((entry for entry in design.items if entry.item_id == item), None)
    if summary is None:
        raise NotFoundError(None, "item", f"study {name!r} has no item {item!r}")
    selection, judge_scores, judge_note = study_judge_scores(store, design, judge_model, judge_prompt)
    mine = [a for a in study_annotations(store, design) if annotation_item(a) == item]
    persona_id, index = summary.persona_id, summary.situation_index
    systems = []
    for blinded in design.blinded_ids:
        run_id, model = split_system_id(design.systems[blinded])
        by_annotator = {a.annotator: a for a in mine if a.system == blinded}
        finished = [a.scores for a in by_annotator.values() if a.has_final_scores]
        entry = TriageEntry(item, persona_id, index, blinded, study=name, run_id=run_id, model=model)
        judgement = selection.by_item.get((design.systems[blinded], persona_id, index))
        systems.append(
            StudyItemSystem(
                blinded,
                run_id,
                model,
                find_record(store, run_id, (model, persona_id, index)),
                {who: _final(by_annotator.get(who)) for who in design.annotators},
                {who: _state(by_annotator.get(who)) for who in design.annotators},
                fill_entry(entry, finished, judge_scores.get((item, blinded)), None),
                {k: str(v) for k, v in (judgement.rationales if judgement else {}).items() if v},
            )
        )
    return StudyItem(
        name,
        item,
        persona_id,
        index,
        list(design.annotators),
        systems,
        selection.judge_model,
        selection.prompt_label,
        [judge_note] if judge_note else [],
    )


def _final(annotation: Annotation | None) -> dict[str, int | None] | None:
    return dict(annotation.scores) if annotation is not None and annotation.has_final_scores else None


def _state(annotation: Annotation | None) -> str:
    if annotation is None:
        return "not scored"
    if annotation.skipped:
        return "skipped"
    return "finished" if annotation.has_final_scores else "in progress"
