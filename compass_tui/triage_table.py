"""A triage as text: the heading, the two ranked tables and their count lines. The CLI prints them and the
TUI's study triage shows them, so both say the same thing in the same words."""

from __future__ import annotations

from dataclasses import dataclass

from compass_tui.judgements import stale_note
from compass_tui.triage import Triage, TriageEntry
from compass_tui.vocab import DIMENSION_BY_KEY, DIMENSION_KEYS


@dataclass
class TriageTable:
    title: str
    columns: list[str]
    rows: list[list[str]]
    entries: list[TriageEntry]  # the entry of each row
    count_line: str


def heading(triage: Triage) -> str:
    judge = f"{triage.judge_model} · {triage.judge_prompt}" if triage.judge_model else "none"
    return (
        f"Disagreements in {triage.scope}: {triage.units} units (item x system), judge: {judge}; "
        f"ranked {triage.basis}"
    )


def notes(triage: Triage) -> list[str]:
    stale = stale_note(triage.judge_stale)
    return ([stale] if stale else []) + list(triage.notes)


def count_line(entries: list[TriageEntry], top: int | None, reasons: dict[str, int]) -> str:
    shown = len(entries) if top is None else min(top, len(entries))
    total = sum(reasons.values())
    detail = ", ".join(f"{count} {reason}" for reason, count in reasons.items())
    return f"shown {shown} of {len(entries)} ranked; not ranked: {total}" + (f" ({detail})" if total else "")


def gap_table(triage: Triage, top: int | None = None) -> TriageTable:
    dimension = triage.dimension
    if dimension:
        columns = ["#", "item", "system", "annotators", "human", "judge", "|h-j|", "sd"]
    else:
        columns = ["#", "item", "system", "annotators", "|h-j|", "dims", "largest gap", "sd"]
    entries = triage.by_gap[:top]
    rows = []
    for rank, entry in enumerate(entries, 1):
        if dimension:
            cells = entry.dimensions[dimension]
            values = [number(cells["human_mean"]), number(cells["judge"]), number(entry.gap)]
        else:
            values = [number(entry.gap), str(entry.gap_dimensions), largest_gap(entry)]
        rows.append([str(rank), entry.item_id, system_name(entry), str(entry.annotators), *values])
        rows[-1].append(number(entry.spread))
    title = f"By |human mean - judge| ({basis(triage)})"
    return TriageTable(title, columns, rows, entries, count_line(triage.by_gap, top, triage.not_ranked_gap))


def spread_table(triage: Triage, top: int | None = None) -> TriageTable:
    columns = ["#", "item", "system", "annotators", "sd", "dims", "|h-j|"]
    entries = triage.by_spread[:top]
    rows = [
        [str(rank), e.item_id, system_name(e), str(e.annotators), number(e.spread)]
        + [str(e.spread_dimensions), number(e.gap)]
        for rank, e in enumerate(entries, 1)
    ]
    title = f"By annotator spread (sample sd, n - 1; {basis(triage)})"
    count = count_line(triage.by_spread, top, triage.not_ranked_spread)
    return TriageTable(title, columns, rows, entries, count)


def basis(triage: Triage) -> str:
    return triage.dimension or "mean over six dimensions"


def system_name(entry: TriageEntry) -> str:
    """The blinded id in a study, with the real `run::model` once revealed; the model in a session."""
    if entry.study and entry.run_id is not None:
        return f"{entry.system} ({entry.run_id}::{entry.model})"
    return entry.system


def largest_gap(entry: TriageEntry) -> str:
    gaps = [(entry.dimensions[k]["gap"], k) for k in DIMENSION_KEYS if entry.dimensions[k]["gap"] is not None]
    if not gaps:
        return "-"
    gap, key = max(gaps, key=lambda pair: pair[0])
    return f"{DIMENSION_BY_KEY[key].short} {gap:.2f}"


def number(value) -> str:
    return "-" if value is None else f"{value:.2f}"
