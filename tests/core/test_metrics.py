"""Objective metrics against values worked out by hand: Distinct-n (both variants), preference rates,
tool-call pass and strict-schema rates, tool usage and the seeded bootstrap CI."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import bootstrap

from compass_tui.interaction_record import InteractionRecord
from compass_tui.library import PersonaLibrary
from compass_tui.metrics import (
    distinct_compass,
    distinct_standard,
    mean_distinct_compass,
    pass_rate,
    preference_rates,
    strict_schema_rate,
    tokens,
    tool_usage,
)
from compass_tui.statistics import bootstrap_mean_ci

# Tokens are lower-cased words with ASCII punctuation stripped:
#   T1 "I am happy."      -> i am happy               3 tokens, 3 types {i, am, happy}
#   T2 "I am sad, I am!"  -> i am sad i am            5 tokens, 3 types {i, am, sad}
#   T3 "Happy days"       -> happy days               2 tokens, 2 types {happy, days}
T1, T2, T3 = "I am happy.", "I am sad, I am!", "Happy days"
TEXTS = [T1, T2, T3]


def test_tokens_lower_case_and_drop_punctuation():
    assert tokens(T2) == ["i", "am", "sad", "i", "am"]
    assert tokens("Hello, HELLO!  it's") == ["hello", "hello", "its"]
    assert tokens("") == [] and tokens("?!") == []


def test_distinct_standard_by_hand():
    # Unigrams over all texts: 3 + 5 + 2 = 10; distinct {i, am, happy, sad, days} = 5 -> 5/10.
    assert distinct_standard(TEXTS, 1) == pytest.approx(0.5)
    # Bigrams: T1 (i am)(am happy); T2 (i am)(am sad)(sad i)(i am); T3 (happy days) -> 7 in all;
    # distinct (i am)(am happy)(am sad)(sad i)(happy days) = 5 -> 5/7. N-grams never cross texts.
    assert distinct_standard(TEXTS, 2) == pytest.approx(5 / 7)
    # Trigrams: T1 (i am happy); T2 (i am sad)(am sad i)(sad i am); T3 none -> 4, all distinct.
    assert distinct_standard(TEXTS, 3) == pytest.approx(1.0)
    assert distinct_standard([T3], 3) is None  # no trigram at all
    assert distinct_standard([], 1) is None


def test_distinct_compass_by_hand():
    # D-1 = types / sqrt(2 * tokens), D-2 = types / sqrt(tokens), per response.
    assert distinct_compass(T1) == pytest.approx((3 / math.sqrt(6), 3 / math.sqrt(3)))
    assert distinct_compass(T2) == pytest.approx((3 / math.sqrt(10), 3 / math.sqrt(5)))
    assert distinct_compass(T3) == pytest.approx((2 / math.sqrt(4), 2 / math.sqrt(2)))
    assert distinct_compass(T3)[0] == pytest.approx(1.0)
    assert distinct_compass("...") == (0.0, 0.0)
    # The table value is the mean over responses.
    d1, d2 = mean_distinct_compass(TEXTS)
    assert d1 == pytest.approx((3 / math.sqrt(6) + 3 / math.sqrt(10) + 1.0) / 3)
    assert d2 == pytest.approx((3 / math.sqrt(3) + 3 / math.sqrt(5) + 2 / math.sqrt(2)) / 3)
    assert mean_distinct_compass([]) == (None, None)


# --- preference rates ------------------------------------------------------------------------------

PERSONA = "adam-kerr"


@pytest.fixture(scope="module")
def persona():
    return PersonaLibrary(Path("/nonexistent")).get(PERSONA)


def _record(
    index: int,
    tool: str | None,
    *,
    setting: str = "profile",
    status: str = "done",
    tool_result: dict | None = None,
) -> InteractionRecord:
    call = None if tool is None else {"tool_folder_name": tool, "function_name": "f", "param": {}}
    return InteractionRecord.read(
        {
            "run_id": "hand",
            "model": "m",
            "persona_id": PERSONA,
            "situation_index": index,
            "setting": setting,
            "status": status,
            "tool_call": call,
            "tool_result": tool_result,
            "response": "ok",
            "scored": True,
        }
    )


def test_acceptable_and_optimal_rates_on_a_hand_made_run(persona):
    scenario = [persona.situations[i].scenario_type for i in range(5)]
    assert scenario == ["health", "family", "work_study", "social", "leisure"]
    prefs = [persona.tool_preferences.for_scenario(s) for s in scenario]
    # Each record's tool, checked against the persona's own sets so the expectations below hold:
    assert "medical_appointment" in prefs[0].liked  # 0: liked      -> acceptable, optimal
    assert "film_recommendation" in prefs[1].liked  # 1: liked      -> acceptable, optimal
    assert "music_recommendation" not in prefs[2].liked + prefs[2].disliked  # 2: neutral -> acceptable only
    assert "role_play" in prefs[3].disliked  # 3: disliked   -> neither
    # 4: no tool call at all -> neither. Not choosing a tool is not an acceptable tool choice: the paper's
    #    rates are over the tool-use settings, where every item is meant to call a tool.
    records = [
        _record(0, "medical_appointment"),
        _record(1, "film_recommendation"),
        _record(2, "music_recommendation"),
        _record(3, "role_play"),
        _record(4, None),
        # left out: an empathetic reply (no tool by design) and an item that never finished
        _record(5, "role_play", setting="empathetic"),
        _record(6, "role_play", status="error"),
    ]
    rates = preference_rates(records, {PERSONA: persona})
    assert rates == {"acceptable": pytest.approx(3 / 5), "optimal": pytest.approx(2 / 5), "n": 5}
    assert preference_rates(records, {}) == {"acceptable": None, "optimal": None, "n": 0}  # persona unknown


def test_the_records_scenario_type_wins_over_the_personas(persona):
    # Situation 3 is social (role_play disliked); recorded as leisure, where role_play is neutral.
    leisure = persona.tool_preferences.for_scenario("leisure")
    assert "role_play" not in leisure.liked + leisure.disliked
    record = replace(_record(3, "role_play"), scenario_type="leisure")
    assert preference_rates([record], {PERSONA: persona})["acceptable"] == 1.0


# --- pass and strict-schema rates -------------------------------------------------------------------


def _result(ok: bool, strict: bool | None) -> dict:
    validation = (
        None if strict is None else {"valid": ok, "strict_valid": strict, "normalisations": [], "errors": []}
    )
    return {
        "ok": ok,
        "result": {"x": 1} if ok else None,
        "validation": validation,
        "error": None if ok else {"code": "invalid_params", "message": "bad"},
    }


def test_pass_and_strict_schema_rates_on_hand_made_tool_results():
    records = [
        _record(0, "music_recommendation", tool_result=_result(True, True)),  # ran, parameters exact
        _record(
            1, "music_recommendation", tool_result=_result(True, False)
        ),  # ran after normalising a parameter
        _record(2, "film_recommendation", tool_result=_result(False, False)),  # rejected by the schema
        _record(3, None),  # no tool call: counts against both
        _record(
            4, "film_recommendation", tool_result=_result(True, True), setting="empathetic"
        ),  # not counted
        _record(5, "film_recommendation", tool_result=_result(True, True), status="error"),  # not counted
    ]
    assert pass_rate(records) == pytest.approx(2 / 4)
    assert strict_schema_rate(records) == pytest.approx(1 / 4)
    assert tool_usage(records) == {"music_recommendation": 2, "film_recommendation": 1, "(none)": 1}
    assert pass_rate(records[4:]) is None and strict_schema_rate(records[4:]) is None


# --- bootstrap ---------------------------------------------------------------------------------------


def test_the_bootstrap_ci_is_seeded_and_matches_scipy():
    values = [1.5, 2.25, 2.0, 3.0, 4.75, 4.0, 3.5, 2.0]  # sum 23 -> mean 2.875
    mean, low, high = bootstrap_mean_ci(values)
    assert mean == pytest.approx(2.875)
    expected = bootstrap(
        (np.asarray(values),),
        np.mean,
        n_resamples=2000,
        confidence_level=0.95,
        method="percentile",
        random_state=np.random.default_rng(0),
    ).confidence_interval
    assert (low, high) == (pytest.approx(expected.low), pytest.approx(expected.high))
    assert low < mean < high
    assert bootstrap_mean_ci(values) == (mean, low, high)  # same seed, same interval
    assert bootstrap_mean_ci(values, seed=1) != (mean, low, high)
    assert bootstrap_mean_ci([4.0, 4.0, 4.0]) == (4.0, 4.0, 4.0)
    assert bootstrap_mean_ci([2.5]) == (2.5, 2.5, 2.5)
    assert bootstrap_mean_ci([]) == (None, None, None)
