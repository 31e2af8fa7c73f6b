"""Comparison tables in the style of the paper: Table 2 (per model and setting), Table 3 (with and
without history), Table 4 (hybrid against its parts) and Table 5 (empathetic against tool use).

This module computes numbers only; `report_format` renders them. Scores come from the judge or from
humans, never mixed. Every dimension mean carries its own n (items scored on it), how many items
the judge left flagged on it, and a percentile-bootstrap 95 % interval (none below 2 items). Each
row names its run, setting and score source; judge rows name the judge model and the prompt.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from compass_tui.annotations import Annotation, load_annotations, rubric_versions_note
from compass_tui.errors import InputError
from compass_tui.interaction_record import InteractionRecord
from compass_tui.judge import current_contents
from compass_tui.judge_prompt import judged_by_official_scripts
from compass_tui.judgements import (
    SELECTED_JUDGE,
    ItemKey,
    Judgement,
    JudgeSelection,
    ScoreSource,
    item_key,
    official_total,
    read_judgements,
    select_judgements,
    stale_note,
)
from compass_tui.metrics import (
    OFFICIAL_BASIS,
    distinct_standard,
    mean_distinct_compass,
    official_texts,
    pass_rate,
    preference_rates,
    strict_schema_rate,
    success_rate,
    tool_usage,
)
from compass_tui.records import (
    load_records,
    load_run_meta,
    load_variant_records,
    split_system_id,
)
from compass_tui.run_meta import RunMeta
from compass_tui.statistics import bootstrap_mean_ci
from compass_tui.store import Store
from compass_tui.vocab import DIMENSION_KEYS

SESSION_SCOPE = "session"
THREE_TURN_FIELD = "3turn_execute_succ_rate"  # evaluation_without_his.py's name for the best-of-3 rate
Aggregate = Literal["ours", "official"]
Breakdown = Literal["tool", "scenario", "emotion", "persona"]
BREAKDOWNS: tuple[Breakdown, ...] = ("tool", "scenario", "emotion", "persona")
NO_TOOL = "(no tool call)"


@dataclass(frozen=True)
class DimensionScore:
    mean: float | None = None
    low: float | None = None
    high: float | None = None
    n: int = 0  # items with a score on this dimension
    flagged: int = 0  # judged items whose score on this dimension stayed invalid
    spread: float | None = None  # mean per-item sd over the judge's K samples, when K > 1


@dataclass
class SystemRow:
    run_id: str
    model: str
    setting: str
    history: bool | None
    source: str  # "judge" or "human"
    judge_model: str | None
    prompt_label: str | None
    items: int  # scored items of this system in the run
    n: int  # of them, finished with a response
    errors: int
    not_attempted: int
    pass_rate: float | None  # tool calls that ran, over finished and errored items
    pass_rate_finished: float | None  # the same over finished items only
    strict_rate: float | None
    d1: float | None  # ComPASS's D-1, on the texts of `distinct_basis`
    d2: float | None
    distinct1: float | None
    distinct2: float | None
    acceptable: float | None
    optimal: float | None
    scores: dict[str, DimensionScore] = field(default_factory=dict)
    avg: float | None = None  # mean of the six dimension means
    official_avg: float | None = None  # ComPASS's avg_score (six-score total over items), if asked
    official_n: int = 0
    unscored: int = 0  # finished items with no score from this source
    stale: int = 0  # judgements of responses that changed since: not used
    tools: dict[str, int] = field(default_factory=dict)
    execute_succ_rate: float | None = None  # the tool ran on the first attempt (official field names)
    three_turn_execute_succ_rate: float | None = None  # ... on one of up to 3 attempts
    distinct_basis: str | None = None  # "official" (the text the official script measures), "reply", "mixed"
    distinct_n: int = 0  # texts D-1 and D-2 are the mean over
    tool_calls_only: int = 0  # imported tool calls with no response by design
    group: str | None = None  # with a breakdown: the tool, scenario, emotion or persona of these items

    @property
    def provenance(self) -> str:
        if self.source == "human":
            return "human"
        return f"{self.judge_model} · {self.prompt_label}" if self.judge_model else "judge: none"

    @property
    def scored_items(self) -> int:
        return max((score.n for score in self.scores.values()), default=0)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data[THREE_TURN_FIELD] = data.pop("three_turn_execute_succ_rate")
        data |= data.pop("scores") | {"provenance": self.provenance, "scored_items": self.scored_items}
        return data


@dataclass
class Report:
    rows: list[SystemRow]
    source: str
    aggregate: Aggregate = "ours"
    by: Breakdown | None = None
    variants_excluded: dict[str, tuple[int, int]] = field(default_factory=dict)  # run -> (items, scored)
    variant_rows: list[SystemRow] = field(default_factory=list)  # `--variants`: never pooled into `rows`
    rubric_notes: list[str] = field(default_factory=list)  # human scores given under several rubric versions

    @property
    def notes(self) -> list[str]:
        where = (
            "are shown as their own what-if rows, never pooled"
            if self.variant_rows
            else "are not counted in these rows; `compass-tui variants list {run}` lists them"
        )
        notes = [
            f"run {run}: {items} what-if variant items ({scored} scored by hand) " + where.format(run=run)
            for run, (items, scored) in self.variants_excluded.items()
        ]
        provenances = {row.run_id: row.provenance for row in self.rows}
        if len(set(provenances.values())) > 1:
            notes.append(
                "these runs were scored differently: "
                + "; ".join(f"{run} by {how}" for run, how in provenances.items())
            )
        notes += self._distinct_notes()
        notes += self.rubric_notes + self._unscored_notes()
        stale = stale_note(sum(row.stale for row in self.rows))
        if stale:
            notes.append(stale)
        if any(0 < score.n < 2 for row in self.rows for score in row.scores.values()):
            notes.append("† a mean over a single item: no interval")
        if self.by:
            notes.append(f"rows are {self.by} groups of each system; Tables 3-5 compare whole runs only")
        return notes

    def _unscored_notes(self) -> list[str]:
        """Finished items without a score from this source: left out of every mean, and said so."""
        missing = "no judgement (rerun judge)" if self.source == "judge" else "no finished human score"
        counts: dict[str, list[int]] = {}
        for row in self.rows:  # a breakdown's groups add up to their system
            unscored_and_n = counts.setdefault(f"{row.run_id}/{row.model}", [0, 0])
            unscored_and_n[0] += row.unscored
            unscored_and_n[1] += row.n
        return [
            f"{system}: {unscored} of {n} items have {missing}; the means leave them out"
            for system, (unscored, n) in counts.items()
            if unscored
        ]

    def _distinct_notes(self) -> list[str]:
        bases = {f"{row.run_id}/{row.model}": row.distinct_basis for row in self.rows if row.distinct_basis}
        notes = [
            f"{row.run_id}/{row.model}: tool calls only, no responses: pass rates and tool usage only"
            for row in self.rows
            if row.tool_calls_only and not row.n
        ]
        if len(set(bases.values())) > 1:
            shown = "; ".join(f"{system} {basis}" for system, basis in bases.items())
            return [*notes, f"D-1/D-2 are measured on different texts across rows: {shown}"]
        basis = next(iter(bases.values()), "reply")
        if basis == "reply":  # our own runs' usual basis: said by the distinct_basis field alone
            return notes
        return [*notes, f"D-1/D-2 (ComPASS's formula) are measured on {BASIS_TEXT[basis]}"]


BASIS_TEXT = {
    OFFICIAL_BASIS: "the text the official script measures (the raw output it keeps)",
    "reply": "the reply shown",
    "mixed": "the text the official script measures where it is kept, else the reply shown",
}


def build_report(
    store: Store,
    run_ids: list[str],
    personas: dict[str, Any],
    scores: ScoreSource = SELECTED_JUDGE,
    aggregate: Aggregate = "ours",
    by: Breakdown | None = None,
) -> Report:
    source = scores.source
    if by is not None and by not in BREAKDOWNS:
        raise InputError(None, "--by", f"choose one of {', '.join(BREAKDOWNS)}")
    if aggregate == "official" and source != "judge":
        raise InputError(None, "--aggregate", "official aggregation reads judge scores: use --source judge")
    rows = []
    excluded: dict[str, tuple[int, int]] = {}
    for run_id in run_ids:
        meta = load_run_meta(store, run_id)
        variant_items = len(load_variant_records(store, run_id))
        if variant_items:
            excluded[run_id] = (variant_items, hand_scored_variants(store, run_id))
        records = scored_records(store, run_id, variant_items)
        selection = score_selection(store, run_id, records, personas, scores)
        for model in meta.models:
            mine = [r for r in records if r.model == model]
            for group, items in _groups(mine, by):
                row = system_row(run_id, model, meta, items, personas, source, selection, aggregate)
                row.group = group
                rows.append(row)
    rubric_notes = [
        note
        for run in (run_ids if source == "human" else [])
        if (note := rubric_versions_note(final_session_annotations(store, run), f"run {run}"))
    ]
    return Report(rows, source, aggregate, by, excluded, rubric_notes=rubric_notes)


def scored_records(store: Store, run_id: str, variant_items: int = 0) -> list[InteractionRecord]:
    """The run's records that count in a table (the history setting's cold start and what-if variants
    do not)."""
    records = [r for r in load_records(store, run_id) if r.counts]
    if not records:
        only = f" but for {variant_items} what-if variant items (not counted)" if variant_items else ""
        raise InputError(None, "RUN", f"run {run_id!r} is empty{only}")
    return records


def score_selection(
    store: Store,
    run_id: str,
    records: list[InteractionRecord],
    personas: dict[str, Any],
    scores: ScoreSource,
) -> JudgeSelection:
    """Per item, the scores of one source: the selected judge's, or the mean of humans' final scores."""
    if scores.source == "human":
        return JudgeSelection(None, None, None, by_item=human_scores(store, run_id))
    return select_judgements(
        read_judgements(store, run_id),
        current_contents(records, personas),
        scores.judge_model,
        scores.judge_prompt,
        scope=f"run {run_id!r}",
    )


def group_of(record: InteractionRecord, by: Breakdown) -> str:
    """The group an item falls in: the tool it called, its scenario type, emotion or persona."""
    if by == "tool":
        return record.tool_folder or NO_TOOL
    value = {"scenario": record.scenario_type, "emotion": record.emotion, "persona": record.persona_id}[by]
    return str(value or "(unknown)")


def _groups(
    records: list[InteractionRecord], by: Breakdown | None
) -> list[tuple[str | None, list[InteractionRecord]]]:
    if by is None:
        return [(None, records)]
    grouped: dict[str, list[InteractionRecord]] = {}
    for record in records:
        grouped.setdefault(group_of(record, by), []).append(record)
    return sorted(grouped.items())


def judge_summaries(store: Store, run_id: str, personas: dict[str, Any]) -> tuple[list[SystemRow], list[str]]:
    """One row per model for every (judge, prompt) that judged the run: what `runs show` lists; and a
    note for each (judge, prompt) whose scores cannot make one row (a judge name that stood for two
    configurations), which `report` refuses."""
    scored_by = {(j.judge_model, j.prompt_hash) for j in read_judgements(store, run_id) if j.judge_model}
    rows: list[SystemRow] = []
    notes: list[str] = []
    for judge_model, prompt_hash in sorted(scored_by):
        source = ScoreSource("judge", judge_model, prompt_hash)
        try:
            rows += build_report(store, [run_id], personas, source).rows
        except InputError as refused:
            prompt = (prompt_hash or "")[:8]
            notes.append(f"{judge_model} (prompt {prompt}) not summarised: {refused.message}")
    return rows, notes


def system_row(
    run_id: str,
    model: str,
    meta: RunMeta,
    records: list[InteractionRecord],
    personas: dict,
    source: str,
    selection: JudgeSelection,
    aggregate: Aggregate,
) -> SystemRow:
    done = [r for r in records if r.status == "done"]
    errored = [r for r in records if r.status == "error"]
    calls_only = [r for r in records if r.finished and r.status != "done"]
    responses = [r.response or "" for r in done]
    measured, basis = official_texts(done + errored)
    d1, d2 = mean_distinct_compass(measured)
    rates = preference_rates(done + calls_only, personas)
    scored = [selection.by_item.get(item_key(r)) for r in done]
    scores = {key: _dimension(scored, key) for key in DIMENSION_KEYS}
    means = [score.mean for score in scores.values()]
    row = SystemRow(
        run_id=run_id,
        model=model,
        setting=meta.setting,
        history=meta.history,
        source=source,
        judge_model=selection.judge_model,
        prompt_label=selection.prompt_label,
        items=len(records),
        n=len(done),
        errors=len(errored),
        not_attempted=len(records) - len(done) - len(errored) - len(calls_only),
        pass_rate=_pass_rate_with_errors(done + calls_only, errored),
        pass_rate_finished=pass_rate(done + calls_only),
        strict_rate=strict_schema_rate(done + calls_only),
        d1=d1,
        d2=d2,
        distinct1=distinct_standard(responses, 1),
        distinct2=distinct_standard(responses, 2),
        acceptable=rates["acceptable"],
        optimal=rates["optimal"],
        scores=scores,
        avg=statistics.fmean(m for m in means if m is not None) if None not in means else None,
        unscored=sum(1 for judgement in scored if judgement is None),
        stale=sum(1 for key in selection.stale_items if key[0] == model),
        tools=tool_usage(done + calls_only),
        execute_succ_rate=success_rate(done + errored + calls_only, "first_attempt_success"),
        three_turn_execute_succ_rate=success_rate(done + errored + calls_only, "final_success"),
        distinct_basis=basis,
        distinct_n=len(measured),
        tool_calls_only=len(calls_only),
    )
    if aggregate == "official":  # the official scripts also judge a history import's tool_call_failed
        judged = scored + [
            selection.by_item.get(item_key(r)) for r in errored if judged_by_official_scripts(r)
        ]
        totals = [official_total(j.first_answer() or "") for j in judged if j is not None]
        kept = [total for total in totals if total is not None]
        row.official_avg = sum(kept) / len(kept) if kept else None
        row.official_n = len(kept)
    return row


def _dimension(scored: list[Judgement | None], key: str) -> DimensionScore:
    judged = [j for j in scored if j is not None]
    values = [score for j in judged if (score := j.score(key)) is not None]
    flagged = sum(1 for j in judged if j.score(key) is None)
    spreads = [spread for j in judged if j.sample_count > 1 and (spread := j.spread.get(key)) is not None]
    mean, low, high = bootstrap_mean_ci(values)
    if len(values) < 2:
        low = high = None
    spread = statistics.fmean(spreads) if spreads else None
    return DimensionScore(mean, low, high, len(values), flagged, spread)


def _pass_rate_with_errors(done: list[InteractionRecord], errored: list[InteractionRecord]) -> float | None:
    """Tool calls that ran, over every finished or errored item of a tool setting: an error is a failure."""
    attempted = [r for r in done + errored if r.setting != "empathetic"]
    if not attempted:
        return None
    ran = [r for r in attempted if r.finished and r.tool_ran]
    return len(ran) / len(attempted)


def human_scores(store: Store, run_id: str, variant: str | None = None) -> dict[ItemKey, Judgement]:
    """Per item, the mean over annotators of complete, committed session scores, in a judgement's shape
    (of the originals, or of one what-if variant)."""
    collected: dict[ItemKey, list[dict]] = {}
    for annotation in final_session_annotations(store, run_id, variant):
        model = split_system_id(annotation.system)[1]
        collected.setdefault((model, annotation.persona_id, annotation.situation_index), []).append(
            annotation.scores
        )
    return {
        key: Judgement.of_scores(key, {d: statistics.fmean(s[d] for s in score_sets) for d in DIMENSION_KEYS})
        for key, score_sets in collected.items()
    }


def final_session_annotations(store: Store, run_id: str, variant: str | None = None) -> list[Annotation]:
    """The session annotations a table of human scores reads: finished, with six scores, of the run (of
    the originals, or of one what-if variant)."""
    return [
        annotation
        for annotation in load_annotations(store, SESSION_SCOPE)
        if split_system_id(annotation.system)[0] == run_id
        and annotation.has_final_scores
        and annotation.variant == variant
    ]


def hand_scored_variants(store: Store, run_id: str) -> int:
    """Finished human scores of the run's what-if variants: counted in a note, never in a row."""
    return sum(
        1
        for annotation in load_annotations(store, SESSION_SCOPE)
        if annotation.variant
        and annotation.has_final_scores
        and split_system_id(annotation.system)[0] == run_id
    )
