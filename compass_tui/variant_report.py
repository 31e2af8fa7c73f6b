"""`report RUN --variants`: each what-if variant's systems as rows of their own, beside Table 2, never pooled.

A variant row is computed as a Table 2 row (`report.system_row`) over that variant's items of one system:
its n, errors, pass rate and the six means with their n. Judge scores come from the variants' own
judgements (`judge RUN --variants`), read with the judge and prompt the originals' rows use (or, for a
run with no judged originals, by the same one-judge, one-prompt rule), each for its current content;
human scores are the mean of annotators' finished scores of that variant.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from compass_tui.errors import InputError
from compass_tui.interaction_record import InteractionRecord
from compass_tui.judge import current_contents
from compass_tui.judgements import SELECTED_JUDGE, JudgeSelection, ScoreSource, select_judgements
from compass_tui.records import load_records, load_run_meta, load_variant_judgements, load_variant_records
from compass_tui.report import (
    Aggregate,
    Report,
    SystemRow,
    build_report,
    hand_scored_variants,
    human_scores,
    score_selection,
    system_row,
)
from compass_tui.store import Store

VariantItem = tuple[str, int, str]  # (persona id, situation index, variant id)


@dataclass
class VariantRow(SystemRow):
    variant_id: str = ""
    variant_persona: str = ""
    variant_situation: int = 0  # 0-based
    variant_text: str = ""

    @property
    def label(self) -> str:
        return f"what-if {self.variant_id} ({self.variant_persona} #{self.variant_situation + 1})"

    def as_dict(self) -> dict[str, Any]:
        return super().as_dict() | {"row_kind": "what-if", "label": self.label}


def report_with_variants(
    store: Store,
    run_ids: list[str],
    personas: dict[str, Any],
    scores: ScoreSource = SELECTED_JUDGE,
    aggregate: Aggregate = "ours",
) -> Report:
    """Table 2 of the runs' originals, plus `variant_rows`; a run with only variants has variant rows only."""
    with_originals = [run for run in run_ids if _has_originals(store, run)]
    if with_originals:
        report = build_report(store, with_originals, personas, scores, aggregate=aggregate)
    else:
        report = Report([], scores.source, aggregate)
    for run_id in run_ids:
        variant_items = load_variant_records(store, run_id)
        if run_id not in with_originals and not variant_items:
            raise InputError(None, "RUN", f"run {run_id!r} is empty")
        originals = None
        if run_id in with_originals and scores.source == "judge":
            records = [r for r in load_records(store, run_id) if r.counts]
            originals = score_selection(store, run_id, records, personas, scores)
        rows = variant_rows(store, run_id, personas, scores, aggregate, originals)
        report.variant_rows += rows
        if variant_items:
            report.variants_excluded[run_id] = (len(variant_items), hand_scored_variants(store, run_id))
    return report


def _has_originals(store: Store, run_id: str) -> bool:
    return any(r.counts for r in load_records(store, run_id))


def variant_rows(
    store: Store,
    run_id: str,
    personas: dict[str, Any],
    scores: ScoreSource,
    aggregate: Aggregate,
    originals: JudgeSelection | None,
) -> list[VariantRow]:
    """One row per (variant, system), in the order persona, situation, variant, the run's models."""
    meta = load_run_meta(store, run_id)
    by_variant: dict[VariantItem, list[InteractionRecord]] = {}
    for record in load_variant_records(store, run_id):
        item = (record.persona_id, record.situation_index, record.what_if.id)
        by_variant.setdefault(item, []).append(record)
    source = scores.source
    if source == "judge":
        judgements = load_variant_judgements(store, run_id)
        basis = _judge_basis(judgements, originals, scores, run_id)
    rows = []
    for item, records in sorted(by_variant.items()):
        if source == "human":
            selection = JudgeSelection(None, None, None, by_item=human_scores(store, run_id, item[2]))
        else:
            selection = _variant_selection(judgements, records, personas, basis, item[2], run_id)
        models = list(dict.fromkeys([*meta.models, *(r.model for r in records)]))
        for model in models:
            mine = [r for r in records if r.model == model]
            if mine:
                row = system_row(run_id, model, meta, mine, personas, source, selection, aggregate)
                rows.append(_as_variant_row(row, item, mine[0].what_if.text))
    return rows


def _as_variant_row(row: SystemRow, item: VariantItem, text: str) -> VariantRow:
    values = {f.name: getattr(row, f.name) for f in fields(SystemRow)}
    return VariantRow(**values, variant_id=item[2], variant_persona=item[0], variant_situation=item[1],
                      variant_text=text)  # fmt: skip


def _judge_basis(
    judgements: list[dict[str, Any]],
    originals: JudgeSelection | None,
    scores: ScoreSource,
    run_id: str,
) -> tuple[str | None, str | None, str | None]:
    """(judge, prompt hash, prompt label): the originals' when they were judged, else the one rule's."""
    if originals is not None and originals.judge_model is not None:
        return originals.judge_model, originals.prompt_hash, originals.prompt_label
    scope = f"the what-if variants of run {run_id!r}"
    resolved = select_judgements(judgements, {}, scores.judge_model, scores.judge_prompt, scope=scope)
    return resolved.judge_model, resolved.prompt_hash, resolved.prompt_label


def _variant_selection(
    judgements: list[dict[str, Any]],
    records: list[InteractionRecord],
    personas: dict[str, Any],
    basis: tuple[str | None, str | None, str | None],
    variant_id: str,
    run_id: str,
) -> JudgeSelection:
    judge, prompt_hash, label = basis
    mine = [
        j
        for j in judgements
        if (j.get("variant") or {}).get("id") == variant_id
        and j.get("judge_model") == judge
        and j.get("prompt_hash") == prompt_hash
    ]
    if judge is None or not mine:
        return JudgeSelection(judge, prompt_hash, label)
    scope = f"what-if {variant_id} of run {run_id!r}"
    return select_judgements(mine, current_contents(records, personas), judge, prompt_hash, scope=scope)
