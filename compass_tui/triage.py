"""Disagreement triage: the units where the human mean and the judge differ most, and those where the
annotators differ most among themselves.

A unit is one response: (item, system). Per dimension it has the mean of the finished human scores,
the judge's score (the one rule of `judgements.select_judgements`), |human mean - judge| and the
sample sd (n - 1) among the annotators. One ranking is by |human mean - judge|, the other by that sd;
with a dimension they read that dimension, otherwise the mean over the dimensions where the value
exists (each entry says over how many). Ties go by item (persona, situation) and then system. A unit
that cannot be ranked is counted under its reason, never dropped. `study.triage` builds the units of
a study; `session_disagreements` those of one run's session scores.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from compass_tui.annotations import item_id, load_annotations
from compass_tui.errors import InputError
from compass_tui.judgements import JudgeSelection, ScoreSource, item_key
from compass_tui.records import load_records, split_system_id
from compass_tui.report import SESSION_SCOPE, score_selection
from compass_tui.statistics import sample_sd
from compass_tui.store import Store
from compass_tui.vocab import DIMENSION_KEYS

SPREAD_MEASURE = "sample sd (n - 1) among annotators"
NO_HUMAN = "no finished human score"
NO_JUDGE = "no judge score"
FEW_ANNOTATORS = "fewer than 2 annotators"


@dataclass
class TriageEntry:
    """One unit. `system` is the blinded id in a study and the model in a session; `run_id` and `model`
    name the real system (in a study only for its owner, with reveal)."""

    item_id: str
    persona_id: str
    situation_index: int
    system: str
    study: str | None = None
    run_id: str | None = None
    model: str | None = None
    annotators: int = 0
    dimensions: dict[str, dict[str, Any]] = field(default_factory=dict)
    gap: float | None = None  # |human mean - judge|, on the dimension or the mean over dimensions
    gap_dimensions: int = 0
    spread: float | None = None  # SPREAD_MEASURE, likewise
    spread_dimensions: int = 0

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return {k: v for k, v in data.items() if v is not None or k in ("gap", "spread")}


@dataclass
class Triage:
    scope: str  # "study s1" or "run r1"
    dimension: str | None
    judge_model: str | None
    judge_prompt: str | None
    judge_stale: int
    units: int
    by_gap: list[TriageEntry]
    by_spread: list[TriageEntry]
    not_ranked_gap: dict[str, int]
    not_ranked_spread: dict[str, int]
    notes: list[str] = field(default_factory=list)

    @classmethod
    def ranked(
        cls,
        scope: str,
        dimension: str | None,
        selection: JudgeSelection,
        entries: list[TriageEntry],
        notes: list[str],
    ) -> Triage:
        """The triage of these units under this judge selection, both rankings made."""
        by_gap, by_spread, not_gap, not_spread = rank(entries)
        return cls(
            scope,
            dimension,
            selection.judge_model,
            selection.prompt_label,
            selection.stale,
            len(entries),
            by_gap,
            by_spread,
            not_gap,
            not_spread,
            notes,
        )

    @property
    def basis(self) -> str:
        if self.dimension:
            return f"on {self.dimension}"
        return "as the mean over the six dimensions"

    def as_dict(self, top: int | None = None) -> dict[str, Any]:
        def ranking(entries: list[TriageEntry], not_ranked: dict[str, int]) -> dict[str, Any]:
            shown = entries[:top] if top is not None else entries
            return {
                "ranked": len(entries),
                "shown": len(shown),
                "not_ranked": sum(not_ranked.values()),
                "not_ranked_reasons": not_ranked,
                "entries": [entry.as_dict() for entry in shown],
            }

        return {
            "scope": self.scope,
            "dimension": self.dimension,
            "ranked_by": self.basis,
            "spread_measure": SPREAD_MEASURE,
            "judge_model": self.judge_model,
            "judge_prompt": self.judge_prompt,
            "judge_stale": self.judge_stale,
            "units": self.units,
            "by_gap": ranking(self.by_gap, self.not_ranked_gap),
            "by_spread": ranking(self.by_spread, self.not_ranked_spread),
            "notes": self.notes,
        }


def check_dimension(dimension: str | None) -> None:
    if dimension is not None and dimension not in DIMENSION_KEYS:
        raise InputError(
            None,
            "--dimension",
            f"unknown dimension {dimension!r}; dimensions are {', '.join(DIMENSION_KEYS)}",
        )


def check_top(top: int | None) -> None:
    if top is not None and top < 1:
        raise InputError(None, "--top", f"{top} is not a positive whole number")


def fill_entry(
    entry: TriageEntry, human: list[dict[str, Any]], judge: dict[str, Any] | None, dimension: str | None
) -> TriageEntry:
    """Per dimension the human mean, n and sd, the judge's score and the gap; then the two ranking values."""
    entry.annotators = len(human)
    for key in DIMENSION_KEYS:
        values = [scores[key] for scores in human if scores.get(key) is not None]
        mean = statistics.fmean(values) if values else None
        judged = None if judge is None or judge.get(key) is None else float(judge[key])
        entry.dimensions[key] = {
            "human_mean": mean,
            "human_n": len(values),
            "human_sd": sample_sd(values),
            "judge": judged,
            "gap": None if mean is None or judged is None else abs(mean - judged),
        }
    keys = [dimension] if dimension else list(DIMENSION_KEYS)
    gaps = [entry.dimensions[k]["gap"] for k in keys if entry.dimensions[k]["gap"] is not None]
    spreads = [entry.dimensions[k]["human_sd"] for k in keys if entry.dimensions[k]["human_sd"] is not None]
    entry.gap, entry.gap_dimensions = (statistics.fmean(gaps) if gaps else None), len(gaps)
    entry.spread, entry.spread_dimensions = (statistics.fmean(spreads) if spreads else None), len(spreads)
    return entry


def rank(
    entries: list[TriageEntry],
) -> tuple[list[TriageEntry], list[TriageEntry], dict[str, int], dict[str, int]]:
    """(by gap, by spread, why units are not ranked by gap, ... by spread)."""

    def order(value_of):
        ranked = [e for e in entries if value_of(e) is not None]
        return sorted(
            ranked, key=lambda e: (-round(value_of(e), 9), e.persona_id, e.situation_index, e.system)
        )

    not_gap = Counter(NO_HUMAN if not e.annotators else NO_JUDGE for e in entries if e.gap is None)
    not_spread = Counter(FEW_ANNOTATORS for e in entries if e.spread is None)
    return (
        order(lambda e: e.gap),
        order(lambda e: e.spread),
        dict(sorted(not_gap.items())),
        dict(not_spread),
    )


def session_disagreements(
    store: Store,
    run_id: str,
    personas: dict[str, Any],
    dimension: str | None = None,
    judge_model: str | None = None,
    judge_prompt: str | None = None,
) -> Triage:
    """The triage of one run's session (non-study) human scores against its judge. Units are the run's
    scored, finished responses; the system is the model."""
    check_dimension(dimension)
    records = [r for r in load_records(store, run_id) if r.counts]
    selection = score_selection(
        store, run_id, records, personas, ScoreSource("judge", judge_model, judge_prompt)
    )
    done = [r for r in records if r.status == "done"]
    human = _session_scores(store, run_id)
    entries = []
    for record in done:
        key = item_key(record)
        judgement = selection.by_item.get(key)
        entry = TriageEntry(
            item_id(record.persona_id, record.situation_index),
            record.persona_id,
            record.situation_index,
            record.model,
            run_id=run_id,
            model=record.model,
        )
        entries.append(
            fill_entry(entry, human.pop(key, []), judgement.scores if judgement else None, dimension)
        )
    notes = []
    if selection.judge_model is None:
        notes.append(f"no judge scores in run {run_id!r}: nothing is ranked by |human mean - judge|")
    if human:
        notes.append(
            f"{sum(map(len, human.values()))} finished human scores of {len(human)} items without a "
            "finished response in the run are not read"
        )
    return Triage.ranked(f"run {run_id}", dimension, selection, entries, notes)


def _session_scores(store: Store, run_id: str) -> dict[tuple, list[dict[str, Any]]]:
    """item key -> every annotator's finished session scores of that item (Annotation.has_final_scores)."""
    collected: dict[tuple, list[dict[str, Any]]] = {}
    for annotation in load_annotations(store, SESSION_SCOPE):
        annotated_run, model = split_system_id(annotation.system)
        if annotated_run == run_id and annotation.has_final_scores:
            key = (model, annotation.persona_id, annotation.situation_index)
            collected.setdefault(key, []).append(annotation.scores)
    return collected
