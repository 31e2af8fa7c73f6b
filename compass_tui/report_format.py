"""Renderings of a `report.Report`: Markdown, CSV, JSON, and the text cells that the terminal table
and the TUI show. They only format the report's numbers; nothing here computes or parses one.

A dimension cell reads "3.40 [3.10, 3.70] n15" (md) or "3.40 n15" (terminal), with "⚑2" when the
judge left that dimension flagged on 2 items and "±0.31" for the judge's mean spread over K samples.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from compass_tui.errors import InputError
from compass_tui.report import THREE_TURN_FIELD, DimensionScore, Report, SystemRow
from compass_tui.report_comparisons import comparison_tables
from compass_tui.variant_report import VariantRow
from compass_tui.vocab import DIMENSIONS

VARIANTS_TITLE = "What-if variants (each its own rows, never pooled into Table 2)"
VARIANT_COLUMNS = ("variant", "variant_persona", "variant_situation", "variant_text")


def render(report: Report, fmt: str) -> str:
    if fmt == "json":
        return render_json(report)
    if fmt == "csv":
        return render_csv(report)
    if fmt == "md":
        return render_markdown(report)
    raise InputError(None, "--format", f"unknown format {fmt!r}")


def render_json(report: Report) -> str:
    tables: dict[str, Any] = {"Table 2": table2_cells(report, intervals=True), **comparison_tables(report)}
    document: dict[str, Any] = {
        "source": report.source,
        "aggregate": report.aggregate,
        "by": report.by,
        "notes": report.notes,
        "systems": [row.as_dict() for row in report.rows],
        "tables": tables,
    }
    if report.variant_rows:
        document["variant_systems"] = [row.as_dict() for row in report.variant_rows]
        tables[VARIANTS_TITLE] = variant_cells(report, intervals=True)
    return json.dumps(document, indent=2, ensure_ascii=False)


def variant_rows(report: Report) -> list[VariantRow]:
    rows = report.variant_rows
    assert all(isinstance(row, VariantRow) for row in rows)
    return rows  # type: ignore[return-value]


def variant_cells(report: Report, intervals: bool, compact: bool = False) -> list[dict[str, str | None]]:
    """The what-if rows as text cells, each led by its label: `what-if <id> (<persona> #<situation>)`."""
    return [
        {"what-if": row.label, **_row_cells(report, row, intervals, True, compact)}
        for row in variant_rows(report)
    ]


def avg_heading(report: Report) -> str:
    return "avg_score (official)" if report.aggregate == "official" else "Avg"


def table2_cells(
    report: Report, intervals: bool, show_run: bool = True, compact: bool = False
) -> list[dict[str, str | None]]:
    """Table 2 as text cells, one dict per row, for md, the terminal and the TUI. `compact` leaves a
    dimension's n out where it equals the row's n (the terminal's header says so)."""
    return [_row_cells(report, row, intervals, show_run, compact) for row in report.rows]


def _row_cells(
    report: Report, row: SystemRow, intervals: bool, show_run: bool, compact: bool
) -> dict[str, str | None]:
    cells = _row_heading(report, row, show_run) | {
        "scored by": row.provenance,
        "n": str(row.n),
        "Err": _errors(row),
        "Pass": _pct(row.pass_rate),
        "D-1": _num(row.d1),
        "D-2": _num(row.d2),
    }
    for d in DIMENSIONS:
        cells[d.short] = dimension_cell(row.scores[d.key], intervals, row.n if compact else None)
    if report.aggregate == "official":
        cells[avg_heading(report)] = (
            None if row.official_avg is None else f"{row.official_avg:.2f} n{row.official_n}"
        )
    else:
        cells["Avg"] = None if row.avg is None else f"{row.avg:.2f}"
    cells["Accept"] = _pct(row.acceptable)
    cells["Optimal"] = _pct(row.optimal)
    return cells


def dimension_cell(score: DimensionScore, intervals: bool, implied_n: int | None = None) -> str | None:
    if score.mean is None:
        return f"— ⚑{score.flagged}" if score.flagged else None
    text = f"{score.mean:.2f}"
    if intervals and score.low is not None and score.high is not None:
        text += f" [{score.low:.2f}, {score.high:.2f}]"
    if score.n != implied_n:
        text += f" n{score.n}"
    if score.flagged:
        text += f"⚑{score.flagged}" if implied_n is not None else f" ⚑{score.flagged}"
    if score.spread is not None:
        text += f" ±{score.spread:.2f}"
    return text + ("†" if score.n < 2 else "")


def runs_needed(rows: list[SystemRow]) -> bool:
    """Whether two rows would look alike without their run."""
    seen = [(row.model, setting_label(row), row.group) for row in rows]
    return len(set(seen)) < len(seen)


def setting_label(row: SystemRow) -> str:
    if row.setting == "history":
        return "history" if row.history else "history (without history)"
    return row.setting


def tool_call_cells(report: Report, show_run: bool = True) -> list[dict[str, str | None]]:
    """Per row, the pass rates the paper reports, named after the official fields, and the Distinct basis."""
    return [
        _row_heading(report, row, show_run)
        | {
            "Pass": _pct(row.pass_rate),
            "execute_succ_rate": _pct(row.execute_succ_rate),
            THREE_TURN_FIELD: _pct(row.three_turn_execute_succ_rate),
            "D basis": row.distinct_basis,
            "D n": str(row.distinct_n),
        }
        for row in report.rows
    ]


def _row_heading(report: Report, row: SystemRow, show_run: bool) -> dict[str, str | None]:
    """The cells that say which system a row is: model, setting, run (where needed) and group."""
    heading: dict[str, str | None] = {"model": row.model, "setting": setting_label(row)}
    if show_run:
        heading["run"] = row.run_id
    if report.by:
        heading[report.by] = row.group
    return heading


def render_markdown(report: Report) -> str:
    title = f"Table 2 by {report.by}" if report.by else "Table 2"
    tables = {title: table2_cells(report, intervals=True), **comparison_tables(report)}
    if report.variant_rows:
        tables[VARIANTS_TITLE] = variant_cells(report, intervals=True)
    tables = {name: table for name, table in tables.items() if table}
    notes = "".join(f"> Note: {note}\n\n" for note in report.notes)
    calls = (
        f"\n\n### Tool calls and Distinct basis\n\n{_markdown(tool_call_cells(report))}"
        if report.rows
        else ""
    )
    return (
        notes
        + "\n\n".join(
            f"### {name} — scores from {report.source}\n\n{_markdown(table)}"
            for name, table in tables.items()
        )
        + calls
    )


def numeric_row(report: Report, row: SystemRow) -> dict[str, Any]:
    """Table 2 for spreadsheets: plain numbers, rates as fractions, each CI in two columns."""
    line: dict[str, Any] = {
        "model": row.model,
        "setting": setting_label(row),
        "run": row.run_id,
        **({report.by: row.group} if report.by else {}),
        "source": row.source,
        "judge_model": row.judge_model,
        "judge_prompt": row.prompt_label,
        "items": row.items,
        "n": row.n,
        "errors": row.errors,
        "not_attempted": row.not_attempted,
        "pass_rate": _round(row.pass_rate),
        "pass_rate_finished": _round(row.pass_rate_finished),
        "execute_succ_rate": _round(row.execute_succ_rate),
        THREE_TURN_FIELD: _round(row.three_turn_execute_succ_rate),
        "d1": _round(row.d1),
        "d2": _round(row.d2),
        "distinct_basis": row.distinct_basis,
        "distinct_n": row.distinct_n,
    }
    for d in DIMENSIONS:
        score = row.scores[d.key]
        line |= {
            d.key: _round(score.mean),
            f"{d.key}_ci_low": _round(score.low),
            f"{d.key}_ci_high": _round(score.high),
            f"{d.key}_n": score.n,
            f"{d.key}_flagged": score.flagged,
            f"{d.key}_spread": _round(score.spread),
        }
    line["avg"] = _round(row.avg)
    if report.aggregate == "official":
        line |= {"official_avg_score": _round(row.official_avg), "official_n": row.official_n}
    line |= {"acceptable_rate": _round(row.acceptable), "optimal_rate": _round(row.optimal)}
    return line


def render_csv(report: Report) -> str:
    from compass_tui.csvio import cell

    table = [numeric_row(report, row) for row in report.rows]
    if report.variant_rows:
        table = [row | _official_kind() for row in table]
        table += [numeric_row(report, row) | _variant_kind(row) for row in variant_rows(report)]
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(list(table[0]))
    for row in table:
        writer.writerow([cell(value) for value in row.values()])
    return buffer.getvalue()


def _official_kind() -> dict[str, Any]:
    return {"row_kind": "official"} | dict.fromkeys(VARIANT_COLUMNS)


def _variant_kind(row: VariantRow) -> dict[str, Any]:
    return {
        "row_kind": "what-if",
        "variant": row.variant_id,
        "variant_persona": row.variant_persona,
        "variant_situation": row.variant_situation + 1,
        "variant_text": row.variant_text,
    }


def _errors(row: SystemRow) -> str:
    return f"{row.errors} (+{row.not_attempted} not run)" if row.not_attempted else str(row.errors)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


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
