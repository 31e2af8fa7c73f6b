"""Comparison tables in the style of the paper: Table 2 (per model and setting), Table 3 (with and
without history), Table 4 (hybrid against its parts) and Table 5 (empathetic against tool use).

Scores come from the judge or from humans, never mixed: `source="judge"` or `source="human"`.
Means carry percentile-bootstrap 95 % confidence intervals.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

from compass_tui.annotations import load_annotations
from compass_tui.errors import InputError
from compass_tui.metrics import (
    bootstrap_mean_ci,
    distinct_standard,
    mean_distinct_compass,
    pass_rate,
    preference_rates,
    strict_schema_rate,
    tool_usage,
)
from compass_tui.records import load_judgements, load_records, load_run_meta, split_system_id
from compass_tui.store import Store
from compass_tui.vocab import DIMENSIONS

SESSION_SCOPE = "session"


@dataclass
class SystemRow:
    run_id: str
    model: str
    setting: str
    history: bool | None
    n: int
    pass_rate: float | None
    strict_rate: float | None
    d1: float | None
    d2: float | None
    distinct1: float | None
    distinct2: float | None
    acceptable: float | None
    optimal: float | None
    scores: dict[str, tuple[float | None, float | None, float | None]] = field(default_factory=dict)
    scored_items: int = 0
    tools: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "scores"}
        for key, (mean, low, high) in self.scores.items():
            data[key] = mean
            data[f"{key}_ci"] = [low, high]
        return data


def system_rows(
    store: Store,
    run_ids: list[str],
    personas: dict[str, Any],
    source: str = "judge",
    judge_model: str | None = None,
) -> list[SystemRow]:
    if source not in ("judge", "human"):
        raise InputError(None, "--source", "choose judge or human")
    rows = []
    for run_id in run_ids:
        meta = load_run_meta(store, run_id)
        records = [r for r in load_records(store, run_id) if r.get("scored", True)]
        if not records:
            raise InputError(None, "RUN", f"run {run_id!r} is empty")
        scores = (
            _judge_scores(store, run_id, judge_model) if source == "judge" else _human_scores(store, run_id)
        )
        for model in meta["models"]:
            rows.append(
                _row(run_id, model, meta, [r for r in records if r["model"] == model], personas, scores)
            )
    return rows


def _row(run_id: str, model: str, meta: dict, records: list[dict], personas: dict, scores: dict) -> SystemRow:
    done = [r for r in records if r.get("status") == "done"]
    responses = [r.get("response") or "" for r in done]
    d1, d2 = mean_distinct_compass(responses)
    rates = preference_rates(done, personas)
    per_dimension: dict[str, list[float]] = {d.key: [] for d in DIMENSIONS}
    for record in done:
        item_scores = scores.get((model, record["persona_id"], record["situation_index"]))
        for key, value in (item_scores or {}).items():
            if value is not None and key in per_dimension:
                per_dimension[key].append(value)
    return SystemRow(
        run_id=run_id,
        model=model,
        setting=meta["setting"],
        history=meta.get("history"),
        n=len(done),
        pass_rate=pass_rate(done),
        strict_rate=strict_schema_rate(done),
        d1=d1,
        d2=d2,
        distinct1=distinct_standard(responses, 1),
        distinct2=distinct_standard(responses, 2),
        acceptable=rates["acceptable"],
        optimal=rates["optimal"],
        scores={key: bootstrap_mean_ci(values) for key, values in per_dimension.items()},
        scored_items=max((len(v) for v in per_dimension.values()), default=0),
        tools=tool_usage(done),
    )


def _judge_scores(store: Store, run_id: str, judge_model: str | None) -> dict[tuple, dict]:
    judgements = [j for j in load_judgements(store, run_id) if j.get("valid")]
    models = sorted({j["judge_model"] for j in judgements})
    if judge_model is None and len(models) > 1:
        raise InputError(
            None, "--judge-model", f"run {run_id!r} was judged by {', '.join(models)}; choose one"
        )
    chosen = judge_model or (models[0] if models else None)
    judged = [j for j in judgements if j["judge_model"] == chosen]
    prompts = sorted({j.get("prompt_hash") or "" for j in judged})
    if len(prompts) > 1:
        raise InputError(
            None,
            "RUN",
            f"run {run_id!r} was judged by {chosen} with {len(prompts)} different prompts "
            f"({', '.join(map(str, prompts))}); scores from different prompts are not mixed",
        )
    return {(j["model"], j["persona_id"], j["situation_index"]): j["scores"] for j in judged}


def _human_scores(store: Store, run_id: str) -> dict[tuple, dict]:
    """Mean over annotators of complete, committed session scores for this run's systems."""
    collected: dict[tuple, list[dict]] = {}
    for annotation in load_annotations(store, SESSION_SCOPE):
        annotated_run, model = split_system_id(annotation.system)
        if (
            annotated_run != run_id
            or not annotation.committed
            or not annotation.complete
            or annotation.skipped
        ):
            continue
        collected.setdefault((model, annotation.persona_id, annotation.situation_index), []).append(
            annotation.scores
        )
    return {
        key: {d.key: sum(s[d.key] for s in score_sets) / len(score_sets) for d in DIMENSIONS}
        for key, score_sets in collected.items()
    }


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
        low, high = before.scores[d.key][0], after.scores[d.key][0]
        delta[d.short] = None if low is None or high is None else round(high - low, 3)
    return delta


def render(rows: list[SystemRow], fmt: str, source: str) -> str:
    tables = {
        "Table 2": [table2_row(row) for row in rows],
        "Table 3 (history)": history_deltas(rows),
        "Table 4 (hybrid)": hybrid_comparisons(rows),
        "Table 5 (empathetic)": empathetic_comparisons(rows),
    }
    tables = {name: table for name, table in tables.items() if table}
    if fmt == "json":
        return json.dumps(
            {"source": source, "systems": [row.as_dict() for row in rows], "tables": tables},
            indent=2,
            ensure_ascii=False,
        )
    if fmt == "csv":
        return _csv([_numeric_row(row) for row in rows])
    if fmt == "md":
        return "\n\n".join(
            f"### {name} — scores from {source}\n\n{_markdown(table)}" for name, table in tables.items()
        )
    raise InputError(None, "--format", f"unknown format {fmt!r}")


def table2_row(row: SystemRow) -> dict[str, Any]:
    line: dict[str, Any] = {
        "model": row.model,
        "setting": _setting_label(row),
        "run": row.run_id,
        "n": row.n,
        "Pass": _pct(row.pass_rate),
        "D-1": _num(row.d1),
        "D-2": _num(row.d2),
    }
    for d in DIMENSIONS:
        mean, low, high = row.scores[d.key]
        line[d.short] = None if mean is None else f"{mean:.2f} [{low:.2f}, {high:.2f}]"
    line["Accept"] = _pct(row.acceptable)
    line["Optimal"] = _pct(row.optimal)
    return line


def _numeric_row(row: SystemRow) -> dict[str, Any]:
    """Table 2 for spreadsheets: plain numbers, rates as fractions, each CI in two columns."""
    line: dict[str, Any] = {
        "model": row.model,
        "setting": _setting_label(row),
        "run": row.run_id,
        "n": row.n,
        "pass_rate": _round(row.pass_rate),
        "d1": _round(row.d1),
        "d2": _round(row.d2),
    }
    for d in DIMENSIONS:
        mean, low, high = row.scores[d.key]
        line |= {d.key: _round(mean), f"{d.key}_ci_low": _round(low), f"{d.key}_ci_high": _round(high)}
    line |= {"acceptable_rate": _round(row.acceptable), "optimal_rate": _round(row.optimal)}
    return line


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _setting_label(row: SystemRow) -> str:
    if row.setting == "history":
        return "history" if row.history else "history (without history)"
    return row.setting


def _pct(value: float | None) -> str | None:
    return None if value is None else f"{100 * value:.1f}%"


def _num(value: float | None) -> str | None:
    return None if value is None else f"{value:.3f}"


def _markdown(table: list[dict[str, Any]]) -> str:
    headers = list(table[0])
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(_markdown_cell(row.get(h)) for h in headers) + " |" for row in table]
    return "\n".join(lines)


def _markdown_cell(value: Any) -> str:
    """Deltas (the only floats in the tables) are signed with two decimals, like Table 2's means."""
    if value is None:
        return "—"
    return f"{value:+.2f}" if isinstance(value, float) else str(value)


def _csv(table: list[dict[str, Any]]) -> str:
    from compass_tui.csvio import cell

    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(list(table[0]))
    for row in table:
        writer.writerow([cell(value) for value in row.values()])
    return buffer.getvalue()
