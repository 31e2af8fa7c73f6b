"""Human mean against the LLM judge, agreement among annotators, and position effects."""

from __future__ import annotations

import math
import warnings
from dataclasses import replace
from typing import Any

from compass_tui.annotations import Annotation, item_id, rubric_versions_note
from compass_tui.judge import current_contents
from compass_tui.judgements import (
    ItemKey,
    Judgement,
    JudgeSelection,
    read_judgements,
    select_judgements,
)
from compass_tui.records import load_records, system_id
from compass_tui.statistics import (
    correlation,
    finite_number,
    icc_two_way_random,
    krippendorff_alpha,
    overall_correlations,
    position_effect,
)
from compass_tui.store import Store
from compass_tui.study.design import load_study, study_personas
from compass_tui.study.journal import annotation_item
from compass_tui.study.merge import progress, study_annotations, unmerged_note
from compass_tui.study.models import StudyDesign
from compass_tui.vocab import DIMENSION_KEYS


def agreement(
    store: Store, name: str, judge_model: str | None = None, judge_prompt: str | None = None
) -> dict[str, Any]:
    """Human mean against the LLM judge, agreement among annotators, progress and position effects.

    Units are (item, blinded system). Per dimension: Pearson and Spearman with bootstrap 95% CIs
    (2000 resamples of units, seeded by the study seed), Krippendorff's alpha (ordinal and
    interval), ICC(2,k) over units every annotator rated, and the position check.
    """
    design = load_study(store, name)
    annotations = study_annotations(store, design)
    units = design.units
    selection, judge_scores, judge_note = study_judge_scores(store, design, judge_model, judge_prompt)
    dimensions, matrices = {}, {}
    for key in DIMENSION_KEYS:
        matrices[key] = matrix = _rating_matrix(design, annotations, units, key)
        dimensions[key] = _dimension_statistics(design, annotations, units, matrix, key, judge_scores)
    return {
        "study": name,
        "judge_model": selection.judge_model,
        "judge_prompt": selection.prompt_label,
        "judge_available": selection.judge_model is not None,
        "judge_stale": selection.stale,
        "judge_note": judge_note,
        "merge_note": unmerged_note(design, annotations),
        "rubric_note": rubric_versions_note(annotations, f"study {name}"),
        "units": len(units),
        "annotators": design.annotators,
        "dimensions": dimensions,
        "overall": _overall(design, units, matrices, judge_scores) if judge_scores else None,
        "progress": progress(design, annotations),
    }


def _overall(design: StudyDesign, units, matrices, judge_scores) -> dict[str, Any]:
    """Across all six dimensions, in both readings (see statistics.overall_correlations)."""
    import numpy as np

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        human = np.stack([np.nanmean(matrices[key], axis=0) for key in DIMENSION_KEYS], axis=1)
    judge = np.array(
        [[_number(judge_scores.get(unit, {}).get(key)) for key in DIMENSION_KEYS] for unit in units]
    )
    overall = overall_correlations(human, judge, design.seed)
    overall["pooled"]["label"] = "pooled over all (unit, dimension) pairs"
    overall["mean_of_dimensions"]["label"] = "mean of the six per-dimension coefficients"
    return overall


def _number(value) -> float:
    return math.nan if value is None else float(value)


def _rating_matrix(
    design: StudyDesign, annotations: list[Annotation], units: list[tuple[str, str]], key: str
):
    import numpy as np

    column = {unit: index for index, unit in enumerate(units)}
    row = {annotator: index for index, annotator in enumerate(design.annotators)}
    matrix = np.full((len(row), len(units)), np.nan)
    for annotation in annotations:
        score = annotation.scores.get(key)
        if score is not None and annotation.has_final_scores:
            matrix[row[annotation.annotator], column[(annotation_item(annotation), annotation.system)]] = (
                score
            )
    return matrix


def _dimension_statistics(
    design: StudyDesign, annotations, units, matrix, key, judge_scores
) -> dict[str, Any]:
    import numpy as np

    rated = ~np.isnan(matrix).all(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        human_mean = np.nanmean(matrix, axis=0)
    paired = [
        (human_mean[i], judge_scores[unit][key])
        for i, unit in enumerate(units)
        if rated[i] and unit in judge_scores and judge_scores[unit].get(key) is not None
    ]
    humans, judged = (list(values) for values in zip(*paired)) if paired else ([], [])
    complete = matrix[:, ~np.isnan(matrix).any(axis=0)].T
    icc_single, icc_average = (
        icc_two_way_random(complete)
        if complete.shape[0] >= 2 and complete.shape[1] >= 2
        else (math.nan, math.nan)
    )
    return {
        "rated_units": int(rated.sum()),
        "judged_units": len(paired),
        "human_mean": finite_number(np.nanmean(matrix)) if rated.any() else None,
        "judge_mean": finite_number(np.mean(judged)) if judged else None,
        "pearson": correlation(humans, judged, "pearson", design.seed) if judge_scores else None,
        "spearman": correlation(humans, judged, "spearman", design.seed) if judge_scores else None,
        "alpha_ordinal": krippendorff_alpha(matrix, "ordinal"),
        "alpha_interval": krippendorff_alpha(matrix, "interval"),
        "icc2_1": finite_number(icc_single),
        "icc2_k": finite_number(icc_average),
        "icc_units": int(complete.shape[0]),
        "position": position_effect(_position_blocks(design, annotations, key), len(design.blinded_ids)),
    }


def _position_blocks(
    design: StudyDesign, annotations: list[Annotation], key: str
) -> dict[tuple[str, str], dict[int, int]]:
    positions = design.positions()
    blocks: dict[tuple[str, str], dict[int, int]] = {}
    for annotation in annotations:
        score = annotation.scores.get(key)
        if score is not None and annotation.has_final_scores:
            item = annotation_item(annotation)
            position = positions[annotation.annotator][item][annotation.system]
            blocks.setdefault((annotation.annotator, item), {})[position] = score
    return blocks


def study_judge_scores(
    store: Store, design: StudyDesign, judge_model: str | None, judge_prompt: str | None
) -> tuple[JudgeSelection, dict[tuple[str, str], dict[str, Any]], str | None]:
    """The judge selection (the same rule as `report`, over all the study's runs), (item, blinded id) ->
    judge scores, and a note when no judge scored this study's items."""
    blinded_of = {system: blinded for blinded, system in design.systems.items()}
    items = {item.item_id for item in design.items}
    judgements: list[Judgement] = []
    current: dict[ItemKey, tuple[str, str | None]] = {}
    personas = study_personas(store, design, skip_missing=True)
    for run in design.runs:
        studied = [
            record
            for record in load_records(store, run)
            if system_id(run, record.model) in blinded_of
            and item_id(record.persona_id, record.situation_index) in items
        ]
        for (model, persona_id, index), content in current_contents(studied, personas).items():
            current[(system_id(run, model), persona_id, index)] = content
        judgements += [replace(j, model=system_id(run, j.model)) for j in read_judgements(store, run)]
    relevant = [j for j in judgements if j.key in current]
    selection = select_judgements(relevant, current, judge_model, judge_prompt, scope="this study")
    if selection.judge_model is None:
        note = "no judge scores for this study's systems and items; judge correlation is unavailable"
        return selection, {}, note
    scores = {
        (item_id(persona_id, index), blinded_of[system]): judgement.scores
        for (system, persona_id, index), judgement in selection.by_item.items()
    }
    return selection, scores, None
