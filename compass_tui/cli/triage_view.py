"""Printing a disagreement triage (`study disagreements`, `report --vs judge`): two ranked tables."""

from __future__ import annotations

from compass_tui.cli.output import console, print_json, print_table
from compass_tui.triage import Triage
from compass_tui.triage_table import gap_table, heading, notes, number, spread_table
from compass_tui.vocab import DIMENSION_BY_KEY, DIMENSION_KEYS


def show_triage(triage: Triage, top: int | None, as_json: bool) -> None:
    if as_json:
        print_json(triage.as_dict(top))
        return
    console.print(heading(triage), markup=False, soft_wrap=True)
    for note in notes(triage):
        console.print(f"note: {note}", markup=False, soft_wrap=True)
    for table in (gap_table(triage, top), spread_table(triage, top)):
        print_table(table.title, table.columns, table.rows)
        console.print(table.count_line, markup=False, soft_wrap=True)


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
    return f"{value['r']:+.2f} [{number(low)}, {number(high)}]"
