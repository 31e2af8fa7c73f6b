"""Disagreement triage (study and session), the overall human-judge agreement, and judge diagnostics,
on hand-made runs whose every expected value is worked out by hand below."""

from __future__ import annotations

import csv
import math
import statistics

import numpy as np
import pytest
from scipy import stats
from triage_support import (
    JUDGE,
    MODELS,
    RUN,
    STUDY,
    build_session,
    build_study,
    judgement,
    score,
    write_judgements,
    write_run,
)

from compass_tui import study
from compass_tui.errors import InputError, NotFoundError
from compass_tui.judge_diagnostics import judge_diagnostics
from compass_tui.records import split_system_id
from compass_tui.store import Store
from compass_tui.triage import session_disagreements
from compass_tui.vocab import DIMENSION_KEYS


def _units(ranking) -> list[tuple[int, str]]:
    return [(entry.situation_index, entry.system) for entry in ranking]


@pytest.fixture
def study_store(tmp_path) -> Store:
    return build_study(Store(tmp_path / "data"))


def test_study_triage_order_and_values(study_store):
    triage = study.study_disagreements(study_store, STUDY, judge_model=JUDGE)
    assert triage.units == 6 and triage.judge_model == JUDGE
    # |human mean - judge|, mean over six: 3, 2, 2 (over 5 dims: safety unjudged), 0.5 (empathy 3), 0
    assert _units(triage.by_gap) == [(0, "S2"), (1, "S1"), (1, "S2"), (0, "S1"), (2, "S1")]
    assert [e.gap for e in triage.by_gap] == pytest.approx([3, 2, 2, 0.5, 0])
    assert [e.gap_dimensions for e in triage.by_gap] == [6, 6, 5, 6, 6]
    assert triage.not_ranked_gap == {"no judge score": 1}
    # sample sd among annotators: 2, 1, 1 (ties by item), 0, 0; (2, S1) has one finished score
    assert _units(triage.by_spread) == [(1, "S2"), (0, "S2"), (2, "S2"), (0, "S1"), (1, "S1")]
    assert [e.spread for e in triage.by_spread] == pytest.approx([2, 1, 1, 0, 0])
    assert triage.not_ranked_spread == {"fewer than 2 annotators": 1}
    first = triage.by_gap[0]
    assert (first.study, first.item_id, first.persona_id, first.annotators) == (
        STUDY,
        "adam-kerr#0",
        "adam-kerr",
        3,
    )
    assert first.dimensions["empathy"] == {
        "human_mean": 4.0, "human_n": 3, "human_sd": 1.0, "judge": 1.0, "gap": 3.0
    }  # fmt: skip
    by_unit = {(e.situation_index, e.system): e for e in triage.by_spread}
    assert by_unit[(1, "S1")].annotators == 2  # the skip is not a score
    assert first.run_id is None and first.model is None and "run_id" not in first.as_dict()


def test_study_triage_on_one_dimension_breaks_ties_by_item_then_system(study_store):
    empathy = study.study_disagreements(study_store, STUDY, "empathy", judge_model=JUDGE)
    assert _units(empathy.by_gap) == [(0, "S1"), (0, "S2"), (1, "S1"), (1, "S2"), (2, "S1")]
    assert [e.gap for e in empathy.by_gap] == pytest.approx([3, 3, 2, 2, 0])
    safety = study.study_disagreements(study_store, STUDY, "safety", judge_model=JUDGE)
    assert (1, "S2") not in _units(safety.by_gap) and safety.not_ranked_gap == {"no judge score": 2}


def test_study_triage_reveals_systems_only_when_asked(study_store):
    design = study.load_study(study_store, STUDY)
    revealed = study.study_disagreements(study_store, STUDY, reveal=True)
    for entry in revealed.by_gap:
        assert f"{entry.run_id}::{entry.model}" == design.systems[entry.system]
    assert {e.model for e in revealed.by_gap} == set(MODELS)


def test_triage_bad_input(study_store):
    with pytest.raises(InputError, match="--dimension: unknown dimension 'warmth'"):
        study.study_disagreements(study_store, STUDY, "warmth")
    with pytest.raises(NotFoundError, match="no study 'nope'"):
        study.study_disagreements(study_store, "nope")


def test_study_triage_without_a_judge_counts_every_unit(study_store):
    import shutil

    shutil.rmtree(study_store.path("judgements"))
    triage = study.study_disagreements(study_store, STUDY)
    assert triage.by_gap == [] and triage.not_ranked_gap == {"no judge score": 6}
    assert len(triage.by_spread) == 5 and "unavailable" in triage.notes[0]


def test_study_item_shows_every_system_and_annotator_of_one_item(tmp_path):
    from triage_support import ANNOTATORS, full, rationale

    store = build_study(Store(tmp_path / "data"), rationales=True)
    design = study.load_study(store, STUDY)
    item = study.study_item(store, STUDY, "adam-kerr#1")
    assert (item.persona_id, item.situation_index, item.annotators) == ("adam-kerr", 1, list(ANNOTATORS))
    assert [s.blinded_id for s in item.systems] == ["S1", "S2"] and item.judge_model == JUDGE
    first, second = item.systems
    assert f"{first.run_id}::{first.model}" == design.systems["S1"]
    assert first.record["response"] == f"{first.model} answers situation 1."
    assert first.states == {"alice": "finished", "bob": "finished", "chen": "skipped"}
    assert first.scores == {"alice": full(2), "bob": full(2), "chen": None}
    assert first.entry.dimensions["empathy"] == {
        "human_mean": 2.0, "human_n": 2, "human_sd": 0.0, "judge": 4.0, "gap": 2.0
    }  # fmt: skip
    assert first.judge_rationales["empathy"] == rationale("empathy", first.model, 1)
    assert second.entry.dimensions["safety"]["judge"] is None and second.entry.spread == pytest.approx(2)
    triage = study.study_disagreements(store, STUDY, judge_model=JUDGE)
    ranked = {(e.item_id, e.system): e.gap for e in triage.by_gap}
    assert first.entry.gap == pytest.approx(ranked[("adam-kerr#1", "S1")])  # the triage's own numbers
    last = study.study_item(store, STUDY, "adam-kerr#2").systems[0]
    assert last.states == {"alice": "finished", "bob": "in progress", "chen": "not scored"}
    with pytest.raises(NotFoundError, match="item: study 'tri-study' has no item 'adam-kerr#9'"):
        study.study_item(store, STUDY, "adam-kerr#9")


# ------------------------------------------------------------------------------------------ session


@pytest.fixture
def session_store(tmp_path) -> Store:
    return build_session(Store(tmp_path / "data"))


def test_session_triage_against_the_judge(session_store):
    from triage_support import persona

    a, b = MODELS
    triage = session_disagreements(session_store, RUN, {"adam-kerr": persona()})
    assert triage.units == 5 and triage.scope == f"run {RUN}"
    assert [(e.model, e.situation_index) for e in triage.by_gap] == [(a, 1), (a, 0), (b, 0)]
    assert [e.gap for e in triage.by_gap] == pytest.approx([3, 2, 0])
    assert triage.not_ranked_gap == {"no finished human score": 2}
    assert [(e.model, e.situation_index) for e in triage.by_spread] == [(a, 0), (b, 0)]
    assert [e.spread for e in triage.by_spread] == pytest.approx([math.sqrt(2), 0])
    assert triage.not_ranked_spread == {"fewer than 2 annotators": 3}
    assert triage.by_gap[0].run_id == RUN and triage.by_gap[0].system == a
    assert any("1 finished human scores of 1 items" in note for note in triage.notes)
    helpful = session_disagreements(session_store, RUN, {}, "helpfulness")
    assert [e.gap for e in helpful.by_gap] == pytest.approx([3, 2, 0])


# ------------------------------------------------------------------------------------------ overall


OVERALL_ITEMS = 6


def _overall_human(annotator: int, index: int, model: int, dimension: int) -> int:
    return 1 + (2 * index + 3 * model + dimension + annotator * (index % 2)) % 5


def _overall_judge(index: int, model: int, dimension: int) -> int:
    return 1 + (2 * index + 3 * model + dimension + (index * dimension) % 3) % 5


@pytest.fixture
def overall_store(tmp_path) -> Store:
    store = Store(tmp_path / "data")
    records = {(r["model"], r["situation_index"]): r for r in write_run(store, items=OVERALL_ITEMS)}
    design = study.create_study(store, STUDY, [RUN], OVERALL_ITEMS, ["ann", "ben"], stratify=[], seed=11)
    for blinded, system in design.systems.items():
        m = MODELS.index(split_system_id(system)[1])
        for index in range(OVERALL_ITEMS):
            for a, annotator in enumerate(("ann", "ben")):
                scores = {key: _overall_human(a, index, m, d) for d, key in enumerate(DIMENSION_KEYS)}
                score(store, study.study_scope(STUDY), annotator, index, blinded, scores)
    write_judgements(
        store,
        [
            judgement(
                rec, {key: _overall_judge(i, MODELS.index(model), d) for d, key in enumerate(DIMENSION_KEYS)}
            )
            for (model, i), rec in records.items()
        ],
    )
    return store


def test_overall_correlations_match_scipy_on_the_exported_long_csv(overall_store, tmp_path):
    out = tmp_path / "long.csv"
    study.export(overall_store, STUDY, "long", out)
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    by_pair: dict[tuple[str, str, str], list[float]] = {}
    for row in rows:
        by_pair.setdefault((row["item_id"], row["system"], row["dimension"]), []).append(float(row["score"]))
    assert len(by_pair) == OVERALL_ITEMS * 2 * 6
    human, judge, dims = [], [], []
    for (item, system, dimension), values in sorted(by_pair.items()):
        index = int(item.split("#")[1])
        model = MODELS.index(split_system_id(system)[1])
        human.append(statistics.fmean(values))
        judge.append(_overall_judge(index, model, DIMENSION_KEYS.index(dimension)))
        dims.append(dimension)
    overall = study.agreement(overall_store, STUDY)["overall"]
    pooled, mean = overall["pooled"], overall["mean_of_dimensions"]
    assert pooled["pearson"]["r"] == pytest.approx(stats.pearsonr(human, judge).statistic)
    assert pooled["spearman"]["r"] == pytest.approx(stats.spearmanr(human, judge).statistic)
    assert pooled["pearson"]["n"] == 72 and overall["units"] == 12 and mean["pearson"]["dimensions"] == 6
    h, j, d = np.array(human), np.array(judge), np.array(dims)
    for method, function in (("pearson", stats.pearsonr), ("spearman", stats.spearmanr)):
        per_dimension = [function(h[d == key], j[d == key]).statistic for key in DIMENSION_KEYS]
        assert mean[method]["r"] == pytest.approx(np.mean(per_dimension))
        for reading in (pooled, mean):
            low, high = reading[method]["ci"]
            assert -1 <= low <= reading[method]["r"] <= high <= 1 and low < high
    assert pooled["label"].startswith("pooled") and mean["label"].startswith("mean of the six")
    assert study.agreement(overall_store, STUDY)["overall"] == overall  # seeded by the study seed


# ------------------------------------------------------------------------------------------ diagnostics


def _diagnostics_samples(unit: int) -> list[dict]:
    """Three samples of unit 0..5: empathy rises with length, fluency falls, safety never moves,
    helpfulness uses only 3 and 4, preference always 1, 3, 5, informativeness 2 (unit 0 flagged once)."""
    rising, falling = 1 + unit * 4 // 5, 5 - unit * 4 // 5
    helpful = [3, 4, 3] if unit % 2 == 0 else [4, 4, 4]
    informative = [None, 2, 2] if unit == 0 else [2, 2, 2]
    return [
        {
            "empathy": rising,
            "helpfulness": helpful[k],
            "preference": (1, 3, 5)[k],
            "informativeness": informative[k],
            "fluency": falling,
            "safety": 5,
        }
        for k in range(3)
    ]


@pytest.fixture
def diagnostics_store(tmp_path) -> Store:
    store = Store(tmp_path / "data")
    units = [(model, index) for model in MODELS for index in range(3)]
    responses = {unit: "x" * (10 * (order + 1)) for order, unit in enumerate(units)}
    records = {(r["model"], r["situation_index"]): r for r in write_run(store, 3, responses=responses)}
    write_judgements(
        store,
        [judgement(records[unit], samples=_diagnostics_samples(order)) for order, unit in enumerate(units)],
    )
    return store


def test_judge_diagnostics_by_hand(diagnostics_store):
    result = judge_diagnostics(diagnostics_store, RUN, {})
    assert result["judged_items"] == 6 and result["samples_per_item"] == [3] and result["notes"] == []
    dims = result["dimensions"]
    lengths = [10, 20, 30, 40, 50, 60]
    assert dims["empathy"]["length_spearman"]["r"] > 0 > dims["fluency"]["length_spearman"]["r"]
    assert dims["empathy"]["length_spearman"]["r"] == pytest.approx(
        stats.spearmanr(lengths, [1, 1, 2, 3, 4, 5]).statistic
    )
    assert dims["empathy"]["length_spearman"]["n"] == 6
    assert dims["safety"]["length_spearman"]["r"] is None  # a constant score has no rank correlation
    assert [dims[k]["distinct_levels"] for k in DIMENSION_KEYS] == [5, 2, 3, 1, 5, 1]
    assert [dims[k]["collapsed"] for k in DIMENSION_KEYS] == [False, True, False, True, False, True]
    assert dims["helpfulness"]["levels"] == [3.0, 4.0]
    assert dims["helpfulness"]["consistency"] == pytest.approx(
        {"items": 6, "mean_sd": statistics.stdev([3, 4, 3]) / 2, "all_agree": 0.5}
    )
    assert dims["preference"]["consistency"] == pytest.approx({"items": 6, "mean_sd": 2.0, "all_agree": 0.0})
    assert dims["informativeness"]["consistency"] == pytest.approx(
        {"items": 6, "mean_sd": 0.0, "all_agree": 1.0}
    )
    assert dims["empathy"]["consistency"]["all_agree"] == 1.0


def test_judge_diagnostics_with_one_sample_per_item(session_store):
    result = judge_diagnostics(session_store, RUN, {})
    assert result["samples_per_item"] == [1] and "K = 1" in result["notes"][0]
    assert all(d["consistency"] is None for d in result["dimensions"].values())
    # judged: a0 2, a1 5, a2 1, b0 4, b1 3 (b2 errored): five levels, none collapsed
    assert result["dimensions"]["empathy"]["distinct_levels"] == 5
    assert result["dimensions"]["empathy"]["length_spearman"]["n"] == 5


def test_a_study_without_merged_scores_says_how_to_merge_them(tmp_path, study_store):
    hint = (
        f"no annotator's scores are in study {STUDY} yet; merge their journals with `compass-tui study merge"
    )
    store = Store(tmp_path / "empty")
    write_run(store, items=3)
    study.create_study(store, STUDY, [RUN], 3, ["ann"], stratify=[], seed=5)
    assert any(note.startswith(hint) for note in study.study_disagreements(store, STUDY).notes)
    assert study.agreement(store, STUDY)["merge_note"].startswith(hint)
    assert not any(
        note.startswith("no annotator") for note in study.study_disagreements(study_store, STUDY).notes
    )
    assert study.agreement(study_store, STUDY)["merge_note"] is None
