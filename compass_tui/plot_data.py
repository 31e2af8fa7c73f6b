"""The figures of a report as data: what the terminal plots and the paper's figures both draw.

Each `Figure` holds its series and says what its numbers are (source, n, what was left out) in
`note`; `compass_tui.figures` draws them with matplotlib and the TUI with plotext. Nothing here draws.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from compass_tui.interaction_record import InteractionRecord
from compass_tui.judgements import ScoreSource, item_key
from compass_tui.metrics import tool_usage
from compass_tui.records import load_run_meta
from compass_tui.report import NO_TOOL, build_report, score_selection, scored_records
from compass_tui.statistics import correlation
from compass_tui.store import Store
from compass_tui.vocab import DIMENSION_KEYS, DIMENSIONS, TOOL_BY_FOLDER

LEVELS = (1, 2, 3, 4, 5)
SCATTER_SEED = 20250314
FigureKind = Literal["bar", "scatter"]


@dataclass(frozen=True)
class Series:
    label: str
    x: list[Any]
    y: list[float]


@dataclass(frozen=True)
class Figure:
    name: str  # a file stem: scores-empathy, human-vs-judge-empathy, tool-usage, tool-means
    title: str
    kind: FigureKind
    x_label: str
    y_label: str
    series: list[Series] = field(default_factory=list)
    note: str = ""

    @property
    def categories(self) -> list[Any]:
        """A bar chart's x values in order: sorted tools or levels, whichever series has them."""
        seen = {x for series in self.series for x in series.x}
        return sorted(seen, key=lambda x: (isinstance(x, str) and x.startswith("("), x))

    @property
    def empty(self) -> bool:
        return not any(series.y for series in self.series)


@dataclass(frozen=True)
class ScoredItem:
    run_id: str
    model: str
    record: InteractionRecord
    scores: dict[str, float | None] | None  # None: no score from the source


def scored_items(
    store: Store, run_ids: list[str], personas: dict[str, Any], scores: ScoreSource
) -> list[ScoredItem]:
    """Every finished item of the runs with its scores from one source (the report's selection rule)."""
    return _scored_items(store, run_ids, personas, scores)[0]


def _scored_items(
    store: Store, run_ids: list[str], personas: dict[str, Any], scores: ScoreSource
) -> tuple[list[ScoredItem], str]:
    """`scored_items`, and who scored them: "human", or each run's judge and prompt label."""
    items = []
    provenances = []
    for run_id in run_ids:
        records = scored_records(store, run_id)
        selection = score_selection(store, run_id, records, personas, scores)
        provenances.append("human" if scores.source == "human" else selection.provenance)
        for record in records:
            if record.status != "done":
                continue
            judged = selection.by_item.get(item_key(record))
            items.append(ScoredItem(run_id, record.model, record, judged.scores if judged else None))
    return items, "; ".join(dict.fromkeys(provenances))


def system_label(run_id: str, model: str, run_ids: list[str]) -> str:
    return model if len(run_ids) == 1 else f"{run_id}/{model}"


def score_distribution(items: list[ScoredItem], dimension: str, source: str, run_ids: list[str]) -> Figure:
    """Per system, how many items got each level on one dimension (a mean over samples or annotators
    counts at its nearest level)."""
    counts: dict[str, Counter[int]] = {}
    unscored = 0
    for item in items:
        value = (item.scores or {}).get(dimension)
        label = system_label(item.run_id, item.model, run_ids)
        counts.setdefault(label, Counter())
        if value is None:
            unscored += 1
            continue
        counts[label][min(5, max(1, int(value + 0.5)))] += 1
    series = [
        Series(label, list(LEVELS), [float(c[level]) for level in LEVELS]) for label, c in counts.items()
    ]
    n = sum(sum(c.values()) for c in counts.values())
    title = f"{_dimension_name(dimension)} scores ({source})"
    note = f"n {n} items" + (f"; {unscored} without a score left out" if unscored else "")
    return Figure(f"scores-{dimension}", title, "bar", "score", "items", series, note)


def human_vs_judge(
    human: list[ScoredItem],
    judge: list[ScoredItem],
    dimension: str | None,
    run_ids: list[str],
    judged_by: str = "judge",
) -> Figure:
    """Each item's human mean against the judge's score, per system; `dimension` None pools all six."""
    judged = {(item.run_id, *item_key(item.record)): item.scores for item in judge if item.scores}
    points: dict[str, tuple[list[float], list[float]]] = {}
    for item in human:
        other = judged.get((item.run_id, *item_key(item.record)))
        if not item.scores or not other:
            continue
        label = system_label(item.run_id, item.model, run_ids)
        for key in [dimension] if dimension else DIMENSION_KEYS:
            if item.scores.get(key) is not None and other.get(key) is not None:
                xs, ys = points.setdefault(label, ([], []))
                xs.append(float(item.scores[key]))  # type: ignore[arg-type]
                ys.append(float(other[key]))  # type: ignore[arg-type]
    every_x = [x for xs, _ in points.values() for x in xs]
    every_y = [y for _, ys in points.values() for y in ys]
    pearson = correlation(every_x, every_y, "pearson", SCATTER_SEED, resamples=200) if every_x else None
    r = pearson["r"] if pearson else None
    r_text = "r —" if r is None else f"Pearson r {r:.2f}"
    what = _dimension_name(dimension) if dimension else "all six dimensions, pooled"
    series = [Series(label, xs, ys) for label, (xs, ys) in points.items()]
    name = f"human-vs-judge-{dimension or 'pooled'}"
    note = f"{r_text}, n {len(every_x)} (item, dimension) pairs; judge scores from {judged_by}"
    return Figure(name, f"Human vs judge: {what}", "scatter", "human mean", "judge", series, note)


def tool_usage_figure(store: Store, run_ids: list[str]) -> Figure:
    """How often each system called each tool (finished items and imported tool calls)."""
    series = []
    for run_id in run_ids:
        records = scored_records(store, run_id)
        for model in load_run_meta(store, run_id).models:
            used = tool_usage([r for r in records if r.model == model])
            counts = [float(used.get(tool, 0)) for tool in (*TOOL_BY_FOLDER, "(none)")]
            series.append(Series(system_label(run_id, model, run_ids), [*TOOL_BY_FOLDER, NO_TOOL], counts))
    return Figure("tool-usage", "Tool usage", "bar", "tool", "calls", series, "finished items")


def tool_means(store: Store, run_ids: list[str], personas: dict[str, Any], scores: ScoreSource) -> Figure:
    """The paper's Figure 8: per tool, each system's mean of the six dimension means on items that
    called it (`report --by tool`'s Avg column)."""
    source = scores.source
    report = build_report(store, run_ids, personas, scores, by="tool")
    tools = sorted({row.group for row in report.rows if row.group and row.avg is not None})
    series = []
    for label in dict.fromkeys(system_label(r.run_id, r.model, run_ids) for r in report.rows):
        by_tool = {
            row.group: row.avg
            for row in report.rows
            if system_label(row.run_id, row.model, run_ids) == label and row.avg is not None
        }
        series.append(
            Series(label, [t for t in tools if t in by_tool], [by_tool[t] for t in tools if t in by_tool])
        )
    without = sum(1 for row in report.rows if row.avg is None)
    source = "; ".join(dict.fromkeys(row.provenance for row in report.rows)) or source
    note = f"scores from {source}; n per bar: `report --by tool`" + (
        f"; {without} groups without all six means left out" if without else ""
    )
    return Figure("tool-means", "Mean score by tool", "bar", "tool", "mean of six dimensions", series, note)


def report_figures(
    store: Store, run_ids: list[str], personas: dict[str, Any], scores: ScoreSource
) -> list[Figure]:
    """Every figure of a report: a distribution per dimension, human vs judge (per dimension and pooled,
    when both kinds of score exist), tool usage and per-tool means."""
    items, provenance = _scored_items(store, run_ids, personas, scores)
    figures = [score_distribution(items, key, provenance, run_ids) for key in DIMENSION_KEYS]
    human = scored_items(store, run_ids, personas, ScoreSource("human"))
    judge, judged_by = (
        (items, provenance) if scores.source == "judge" else _judge_items(store, run_ids, personas, scores)
    )
    if any(item.scores for item in human) and any(item.scores for item in judge):
        figures += [human_vs_judge(human, judge, key, run_ids, judged_by) for key in (*DIMENSION_KEYS, None)]
    figures.append(tool_usage_figure(store, run_ids))
    figures.append(tool_means(store, run_ids, personas, scores))
    return figures


def _judge_items(store, run_ids, personas, scores: ScoreSource) -> tuple[list[ScoredItem], str]:
    from compass_tui.errors import InputError

    try:
        return _scored_items(store, run_ids, personas, replace(scores, source="judge"))
    except InputError:  # several judges and none chosen: no scatter rather than a guess
        return [], "judge"


def _dimension_name(key: str) -> str:
    return next(d.label for d in DIMENSIONS if d.key == key)
