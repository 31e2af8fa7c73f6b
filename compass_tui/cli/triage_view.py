"""Printing a disagreement triage (`study disagreements`, `report --vs judge`): two ranked tables."""

from __future__ import annotations

from compass_tui.cli.output import console, print_json, print_table
from compass_tui.triage import Triage, TriageEntry
from compass_tui.vocab import DIMENSION_BY_KEY, DIMENSION_KEYS


def show_triage(triage: Triage, top: int | None, as_json: bool) -> None:
    if as_json:
        print_json(triage.as_dict(top))
        return
    judge = f"{triage.judge_model} · {triage.judge_prompt}" if triage.judge_model else "none"
    console.print(
        f"Disagreements in {triage.scope}: {triage.units} units (item x system), judge: {judge}; "
        f"ranked {triage.basis}",
        markup=False,
        soft_wrap=True,
    )
    if triage.judge_stale:
        console.print(
            f"note: {triage.judge_stale} judgements are of responses that changed since and are not used",
            markup=False,
        )
    for note in triage.notes:
        console.print(f"note: {note}", markup=False, soft_wrap=True)
    _gap_table(triage, top)
    _spread_table(triage, top)


def _count_line(entries: list[TriageEntry], top: int | None, reasons: dict[str, int]) -> None:
    shown = len(entries) if top is None else min(top, len(entries))
    total = sum(reasons.values())
    detail = ", ".join(f"{count} {reason}" for reason, count in reasons.items())
    console.print(
        f"shown {shown} of {len(entries)} ranked; not ranked: {total}" + (f" ({detail})" if total else ""),
        markup=False,
        soft_wrap=True,
    )


def _gap_table(triage: Triage, top: int | None) -> None:
    dimension = triage.dimension
    if dimension:
        columns = ["#", "item", "system", "annotators", "human", "judge", "|h-j|", "sd"]
    else:
        columns = ["#", "item", "system", "annotators", "|h-j|", "dims", "largest gap", "sd"]
    rows = []
    for rank, entry in enumerate(triage.by_gap[:top], 1):
        if dimension:
            cells = entry.dimensions[dimension]
            values = [_num(cells["human_mean"]), _num(cells["judge"]), _num(entry.gap), _num(entry.spread)]
        else:
            values = [_num(entry.gap), str(entry.gap_dimensions), _largest_gap(entry), _num(entry.spread)]
        rows.append([rank, entry.item_id, _system(entry), entry.annotators, *values])
    print_table(f"By |human mean - judge| ({_basis(triage)})", columns, rows)
    _count_line(triage.by_gap, top, triage.not_ranked_gap)


def _spread_table(triage: Triage, top: int | None) -> None:
    columns = ["#", "item", "system", "annotators", "sd", "dims", "|h-j|"]
    rows = [
        [rank, e.item_id, _system(e), e.annotators, _num(e.spread), e.spread_dimensions, _num(e.gap)]
        for rank, e in enumerate(triage.by_spread[:top], 1)
    ]
    print_table(f"By annotator spread (sample sd, n - 1; {_basis(triage)})", columns, rows)
    _count_line(triage.by_spread, top, triage.not_ranked_spread)


def _basis(triage: Triage) -> str:
    return triage.dimension or "mean over six dimensions"


def _system(entry: TriageEntry) -> str:
    if entry.study and entry.run_id is not None:
        return f"{entry.system} ({entry.run_id}::{entry.model})"
    return entry.system


def _largest_gap(entry: TriageEntry) -> str:
    gaps = [(entry.dimensions[k]["gap"], k) for k in DIMENSION_KEYS if entry.dimensions[k]["gap"] is not None]
    if not gaps:
        return "-"
    gap, key = max(gaps, key=lambda pair: pair[0])
    return f"{DIMENSION_BY_KEY[key].short} {gap:.2f}"


def _num(value) -> str:
    return "-" if value is None else f"{value:.2f}"


def show_diagnostics(result: dict, as_json: bool) -> None:
    if as_json:
        print_json(result)
        return
    judge = f"{result['judge_model']} · {result['judge_prompt']}" if result["judge_model"] else "none"
    samples = "/".join(map(str, result["samples_per_item"])) or "-"
    console.print(
        f"Judge diagnostics of run {result['run']}: judge {judge}, {result['judged_items']} judged items, "
        f"K = {samples} samples per item",
        markup=False,
        soft_wrap=True,
    )
    for note in result["notes"]:
        console.print(f"note: {note}", markup=False, soft_wrap=True)
    rows = []
    for key in DIMENSION_KEYS:
        d = result["dimensions"][key]
        length, consistency = d["length_spearman"], d["consistency"]
        rows.append(
            [
                DIMENSION_BY_KEY[key].short,
                d["n"],
                _correlation(length),
                "—" if consistency is None else f"{consistency['mean_sd']:.2f}",
                "—" if consistency is None else f"{consistency['all_agree']:.0%} of {consistency['items']}",
                ",".join(f"{level:g}" for level in d["levels"]) or "-",
                d["distinct_levels"],
                "collapsed" if d["collapsed"] else "",
            ]
        )
    print_table(
        "Per dimension: Spearman rho of score vs response length in characters [95% CI]; "
        "K-sample sd and agreement; levels used (collapsed: fewer than 3)",
        ["dim", "n", "rho(length)", "mean sd", "all K agree", "levels", "distinct", "flag"],
        rows,
    )


def _correlation(value: dict) -> str:
    if value.get("r") is None:
        return f"- ({value.get('note', 'undefined')})"
    low, high = value["ci"]
    return f"{value['r']:+.2f} [{_num(low)}, {_num(high)}]"
