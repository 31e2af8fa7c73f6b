"""Tables 3-5 of the paper: whole runs compared (history against none, hybrid against its parts,
empathy alone against tools), as per-dimension differences of the Table 2 means."""

from __future__ import annotations

from typing import Any

from compass_tui.report import Report, SystemRow
from compass_tui.vocab import DIMENSIONS


def history_deltas(rows: list[SystemRow]) -> list[dict[str, Any]]:
    """Table 3: the same model in the history setting with and without history."""
    by_model: dict[str, dict[bool, SystemRow]] = {}
    for row in rows:
        if row.setting == "history" and row.history is not None:
            by_model.setdefault(row.model, {})[row.history] = row
    deltas = []
    for model, pair in sorted(by_model.items()):
        if True in pair and False in pair:
            deltas.append(_delta(model, pair[False], pair[True], "without history", "with history"))
    return deltas


def hybrid_comparisons(rows: list[SystemRow]) -> list[dict[str, Any]]:
    """Table 4: a hybrid A+B against A and B on their own (profile setting)."""
    solo = {row.model: row for row in rows if row.setting == "profile"}
    comparisons = []
    for row in rows:
        if row.setting != "hybrid":
            continue
        tool_model, _, response_model = row.model.partition("+")
        for part in (tool_model, response_model):
            if part in solo:
                comparisons.append(_delta(row.model, solo[part], row, part, row.model))
    return comparisons


def empathetic_comparisons(rows: list[SystemRow]) -> list[dict[str, Any]]:
    """Table 5: a model replying with empathy alone against the same model using tools."""
    with_tools = {row.model: row for row in rows if row.setting == "profile"}
    return [
        _delta(row.model, row, with_tools[row.model], "empathetic only", "with tools")
        for row in rows
        if row.setting == "empathetic" and row.model in with_tools
    ]


def _delta(
    model: str, before: SystemRow, after: SystemRow, before_label: str, after_label: str
) -> dict[str, Any]:
    delta: dict[str, Any] = {
        "model": model,
        "from": f"{before.run_id} ({before_label})",
        "to": f"{after.run_id} ({after_label})",
    }
    for d in DIMENSIONS:
        low, high = before.scores[d.key].mean, after.scores[d.key].mean
        delta[d.short] = None if low is None or high is None else round(high - low, 3)
    return delta


def comparison_tables(report: Report) -> dict[str, list[dict[str, Any]]]:
    """Tables 3-5 compare whole runs: none for a breakdown's groups."""
    if report.by:
        return {}
    rows = report.rows
    tables = {
        "Table 3 (history)": history_deltas(rows),
        "Table 4 (hybrid)": hybrid_comparisons(rows),
        "Table 5 (empathetic)": empathetic_comparisons(rows),
    }
    return {name: table for name, table in tables.items() if table}
