"""The report's figures: their data (hand-checked on the fixed runs of test_report), their drawing
(checked by structure: axes, series and bar counts, not pixels), determinism and bad input."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from scipy import stats
from test_report import ITEMS, PERSONA, TOOLS, judge_score, write_fixed_runs

from compass_tui.annotations import Annotation, save_annotation
from compass_tui.judgements import ScoreSource
from compass_tui.library import PersonaLibrary
from compass_tui.plot_data import human_vs_judge, report_figures, score_distribution, scored_items
from compass_tui.records import system_id
from compass_tui.report import SESSION_SCOPE
from compass_tui.store import Store
from compass_tui.vocab import DIMENSION_KEYS

RUN = "profile-ab"


@pytest.fixture
def store(data_dir) -> Store:
    store = Store(data_dir)
    write_fixed_runs(store)
    return store


@pytest.fixture
def personas() -> dict:
    return {PERSONA: PersonaLibrary(Path("/nonexistent")).get(PERSONA)}


def human_score(model: str, index: int, key: str) -> int:
    return 1 + (2 * index + len(key) + len(model)) % 5


def score_by_hand(store: Store, model: str = "alpha") -> None:
    for index in ITEMS:
        scores = {key: human_score(model, index, key) for key in DIMENSION_KEYS}
        annotation = Annotation(
            SESSION_SCOPE, "me", PERSONA, index, system_id(RUN, model), scores=scores, committed=True
        )
        save_annotation(store, annotation)


def test_a_score_distribution_counts_each_level_per_system(store, personas):
    items = scored_items(store, [RUN], personas, ScoreSource("judge"))
    figure = score_distribution(items, "helpfulness", "judge", [RUN])
    by_label = {series.label: series for series in figure.series}
    assert set(by_label) == {"alpha", "beta"} and by_label["alpha"].x == [1, 2, 3, 4, 5]
    for model in ("alpha", "beta"):
        expected = [0.0] * 5
        for index in ITEMS:
            expected[judge_score(RUN, model, index, "helpfulness") - 1] += 1
        assert by_label[model].y == expected
    empathy = score_distribution(items, "empathy", "judge", [RUN])
    assert "1 without a score left out" in empathy.note  # beta's item 3 stayed flagged on empathy


def test_human_vs_judge_pairs_items_and_its_r_is_scipys(store, personas):
    score_by_hand(store)
    human = scored_items(store, [RUN], personas, ScoreSource("human"))
    judge = scored_items(store, [RUN], personas, ScoreSource("judge"))
    pooled = human_vs_judge(human, judge, None, [RUN])
    [series] = pooled.series  # beta has no human scores: no points
    xs = [float(human_score("alpha", i, k)) for i in ITEMS for k in DIMENSION_KEYS]
    ys = [float(judge_score(RUN, "alpha", i, k)) for i in ITEMS for k in DIMENSION_KEYS]
    assert sorted(zip(series.x, series.y)) == sorted(zip(xs, ys))
    assert f"Pearson r {stats.pearsonr(xs, ys).statistic:.2f}, n 24 " in pooled.note


def test_the_written_figures_have_the_expected_axes_and_series(store, personas, tmp_path):
    from compass_tui.figures import _pyplot, draw, write_figures

    score_by_hand(store)
    figures = report_figures(store, [RUN], personas, ScoreSource("judge"))
    names = [figure.name for figure in figures]
    assert names == [
        *(f"scores-{key}" for key in DIMENSION_KEYS),
        *(f"human-vs-judge-{key}" for key in (*DIMENSION_KEYS, "pooled")),
        "tool-usage",
        "tool-means",
    ]
    written = write_figures(figures, tmp_path / "figs")
    assert sorted(p.name for p in written) == sorted(f"{n}.{fmt}" for n in names for fmt in ("svg", "pdf"))
    plt = _pyplot()
    by_name = {figure.name: figure for figure in figures}
    tool_means = draw(plt, by_name["tool-means"])
    [axes] = tool_means.axes
    assert axes.get_title().startswith("Mean score by tool\n") and len(axes.containers) == 2  # alpha, beta
    used_tools = sorted({t for tools in TOOLS.values() for t in tools if t})
    assert [label.get_text() for label in axes.get_xticklabels()] == used_tools
    scatter = draw(plt, by_name["human-vs-judge-pooled"])
    assert len(scatter.axes[0].collections) == 1 and len(scatter.axes[0].collections[0].get_offsets()) == 24
    usage = draw(plt, by_name["tool-usage"])
    assert [len(container) for container in usage.axes[0].containers] == [13, 13]  # 12 tools + none


def test_figures_are_byte_identical_for_the_same_data(store, personas, tmp_path):
    from compass_tui.figures import write_figures

    figures = report_figures(store, [RUN], personas, ScoreSource("judge"))
    first = {p.name: p.read_bytes() for p in write_figures(figures, tmp_path / "a")}
    second = {p.name: p.read_bytes() for p in write_figures(figures, tmp_path / "b")}
    assert first == second


def test_report_figures_cli_writes_and_an_unwritable_dir_is_bad_input(cli, store, tmp_path):
    code, out, err = cli("report", RUN, "--figures", tmp_path / "out")
    assert code == 0, err
    assert "Table 2" in out and "16 figure files" in err and "human-vs-judge" not in err
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, out, err = cli("report", RUN, "--figures", blocker / "sub")
    assert code == 2 and "--figures" in err and out == "" and len(err.strip().splitlines()) == 1


def test_without_matplotlib_the_advice_is_one_line(cli, store, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    code, _, err = cli("report", RUN, "--figures", tmp_path / "out")
    assert code == 2 and "pip install 'compass-tui[figures]'" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("source", ["judge", "human"])
def test_every_figure_of_judge_scores_names_the_judge_and_prompt(store, personas, source):
    score_by_hand(store)
    figures = {f.name: f for f in report_figures(store, [RUN], personas, ScoreSource(source, "judge-x"))}
    judge = "judge-x · ours:h1"
    scored_by = judge if source == "judge" else "human"
    assert figures["scores-empathy"].title == f"Empathy scores ({scored_by})"
    assert figures["tool-means"].note.startswith(f"scores from {scored_by};")
    assert figures["human-vs-judge-pooled"].note.endswith(f"judge scores from {judge}")
