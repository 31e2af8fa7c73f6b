"""Judge diagnostics of one run, per dimension, over the judgements `select_judgements` picks:

length       Spearman of the judge's score against the response's length in characters, with n
             (and a bootstrap 95% CI, seed 0): a judge that rewards length shows rho > 0
consistency  over items judged K > 1 times: the mean per-item sd (n - 1) of the K samples' scores,
             and the share of items whose valid samples all agree; None when every item has K = 1
levels       the distinct score values the judge used (each sample's score where samples are
             kept, else the summary), "collapsed" when fewer than 3: the 1-5 collapse G-Eval warns of
"""

from __future__ import annotations

import statistics
from typing import Any

from compass_tui.interaction_record import InteractionRecord
from compass_tui.judgements import Judgement, ScoreSource, item_key, stale_note
from compass_tui.records import load_records
from compass_tui.report import score_selection
from compass_tui.statistics import correlation
from compass_tui.store import Store
from compass_tui.vocab import DIMENSION_KEYS

COLLAPSED_BELOW = 3


def judge_diagnostics(
    store: Store,
    run_id: str,
    personas: dict[str, Any],
    judge_model: str | None = None,
    judge_prompt: str | None = None,
) -> dict[str, Any]:
    records = [r for r in load_records(store, run_id) if r.counts]
    selection = score_selection(
        store, run_id, records, personas, ScoreSource("judge", judge_model, judge_prompt)
    )
    judged = [
        (record, selection.by_item[item_key(record)])
        for record in records
        if record.status == "done" and item_key(record) in selection.by_item
    ]
    sample_counts = sorted({j.sample_count or 1 for _, j in judged})
    notes = []
    if selection.judge_model is None:
        notes.append(f"no judge scores in run {run_id!r}")
    stale = stale_note(selection.stale)
    if stale:
        notes.append(stale)
    if selection.judge_model is not None and sample_counts == [1]:
        notes.append("every item was judged once (K = 1): self-consistency needs `judge --samples K`")
    return {
        "run": run_id,
        "judge_model": selection.judge_model,
        "judge_prompt": selection.prompt_label,
        "judge_stale": selection.stale,
        "judged_items": len(judged),
        "samples_per_item": sample_counts,
        "dimensions": {key: _dimension(judged, key) for key in DIMENSION_KEYS},
        "notes": notes,
    }


def _dimension(judged: list[tuple[InteractionRecord, Judgement]], key: str) -> dict[str, Any]:
    scored = [(record, score) for record, j in judged if (score := j.score(key)) is not None]
    lengths = [len(record.response or "") for record, _ in scored]
    scores = [float(score) for _, score in scored]
    length = correlation(lengths, scores, "spearman", seed=0)
    levels = sorted({value for _, j in judged for value in j.sample_scores(key)})
    return {
        "n": len(scored),
        "length_spearman": length,
        "consistency": _consistency([j.sample_scores(key) for _, j in judged]),
        "levels": levels,
        "distinct_levels": len(levels),
        "collapsed": bool(levels) and len(levels) < COLLAPSED_BELOW,
    }


def _consistency(per_item: list[list[float]]) -> dict[str, Any] | None:
    repeated = [values for values in per_item if len(values) > 1]
    if not repeated:
        return None
    return {
        "items": len(repeated),
        "mean_sd": statistics.fmean(statistics.stdev(values) for values in repeated),
        "all_agree": sum(1 for values in repeated if len(set(values)) == 1) / len(repeated),
    }
