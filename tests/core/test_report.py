"""`compass-tui report`: Tables 2-5 against golden files, and which scores each --source may use.

The fixed runs are written straight into the store in the shapes of compass_tui.records (records and
judgements with fixed values), so the output is deterministic; the bootstrap CIs are seeded. To refresh
the golden files after a deliberate change, run with COMPASS_TUI_UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import replace
from pathlib import Path

import pytest
from run_support import insert_judgements, insert_records, situation_record

from compass_tui.annotations import Annotation, load_annotations, save_annotation
from compass_tui.interaction_record import InteractionRecord
from compass_tui.judge import judged_content
from compass_tui.judgements import content_hash
from compass_tui.library import PersonaLibrary
from compass_tui.records import (
    INTERACTIONS_TABLE,
    JUDGEMENTS_TABLE,
    META_TABLE,
    interaction_key,
    judgement_path,
    run_meta_path,
    run_records_path,
    system_id,
)
from compass_tui.report import SESSION_SCOPE
from compass_tui.store import Store
from compass_tui.vocab import DIMENSION_KEYS

GOLDEN = Path(__file__).parent / "golden"
PERSONA = "adam-kerr"  # situations 0-4: health, family, work/study, social, leisure
JUDGE, OTHER_JUDGE = "judge-x", "judge-y"
ITEMS = range(4)
# Tool per item; adam-kerr likes medical_appointment (health), film_recommendation (family),
# plan_assistant (health) and schedule_manager (work/study); dislikes role_play (social) and
# psyweb_recommender (family); music_recommendation is neutral for work/study.
TOOLS = {
    "alpha": ["medical_appointment", "film_recommendation", "music_recommendation", "role_play"],
    "beta": ["plan_assistant", "psyweb_recommender", "schedule_manager", None],
}
RESPONSES = {
    "alpha": [
        "I booked you a calm appointment, rest that leg.",
        "What a lovely film night for the family.",
        "Some quiet music might help you think.",
        "Let us role play the talk together.",
    ],
    "beta": [
        "Here is a gentle plan for the week.",
        "This page on family stress may help.",
        "I put the meeting in your schedule.",
        "That sounds lonely. I am here.",
    ],
    "empathetic": [
        "That sounds so hard, I am sorry.",
        "How wonderful, you must be proud.",
        "Your anger makes sense here.",
        "Feeling alone hurts, I hear you.",
    ],
}
RUNS = {  # run: (setting, history, models, tools of, items, scored from)
    "profile-ab": ("profile", None, ["alpha", "beta"]),
    "hybrid-ab": ("hybrid", None, ["alpha+beta"]),
    "history-on": ("history", True, ["alpha"]),
    "history-off": ("history", False, ["alpha"]),
    "empathetic-a": ("empathetic", None, ["alpha"]),
}
HISTORY_UNSCORED = 1  # in the history runs, item 0 is the cold start and is not scored
INVALID_ITEM = ("profile-ab", "beta", 3)  # judged, but flagged invalid: never counted


def _tools_of(run: str, model: str) -> list[str | None]:
    if run.startswith("empathetic"):
        return [None] * len(ITEMS)
    return TOOLS["beta" if model == "alpha+beta" else model]


def _response(run: str, model: str, index: int) -> str:
    if run.startswith("empathetic"):
        return RESPONSES["empathetic"][index]
    return RESPONSES["beta" if model == "alpha+beta" else model][index] + (
        "" if run == "profile-ab" else " Again."
    )


def _tool_result(tool: str | None, index: int) -> dict | None:
    if tool is None:
        return None
    ok, strict = index != 2, index == 0  # item 0 exact, item 1 normalised, item 2 rejected
    return {
        "tool_folder_name": tool,
        "function_name": "f",
        "ok": ok,
        "result": {"n": index} if ok else None,
        "error": None if ok else {"code": "invalid_params", "message": "bad"},
        "validation": {"valid": ok, "strict_valid": strict, "normalisations": [], "errors": []},
    }


def judge_score(run: str, model: str, index: int, dimension: str, judge: str = JUDGE) -> int:
    offset = 2 if judge == OTHER_JUDGE else 0
    return 1 + (len(run) + 3 * len(model) + 2 * index + DIMENSION_KEYS.index(dimension) + offset) % 5


def _record(run: str, setting: str, model: str, index: int) -> dict:
    tool = _tools_of(run, model)[index]
    return situation_record(
        run,
        model,
        PERSONA,
        index,
        setting=setting,
        scored=setting != "history" or index >= HISTORY_UNSCORED,
        tool_call=None if tool is None else {"tool_folder_name": tool, "function_name": "f", "param": {}},
        tool_result=_tool_result(tool, index),
        response=_response(run, model, index),
        error=None,
    )


def _judgement(run: str, model: str, index: int, judge: str = JUDGE) -> dict:
    """Judged for the record's current content; the invalid item's empathy stayed flagged."""
    valid = (run, model, index) != INVALID_ITEM
    scores = {d: float(judge_score(run, model, index, d, judge)) for d in DIMENSION_KEYS}
    if not valid:
        scores["empathy"] = None
    persona = PersonaLibrary(Path("/nonexistent")).get(PERSONA)
    setting = RUNS[run][0]
    record_content, persona_content = judged_content(
        persona, InteractionRecord.read(_record(run, setting, model, index))
    )
    return {
        "key": f"{model}|{PERSONA}|{index}|{judge}|h1|{content_hash(record_content, persona_content)}",
        "record_hash": record_content,
        "persona_hash": persona_content,
        "run_id": run,
        "model": model,
        "persona_id": PERSONA,
        "situation_index": index,
        "judge_model": judge,
        "prompt_hash": "h1",
        "prompt_kind": "ours",
        "scores": scores,
        "spread": {d: 0.0 if scores[d] is not None else None for d in DIMENSION_KEYS},
        "valid": valid,
        "flags": [] if valid else ["empathy: 0 is outside 1-5"],
        "samples": [{"raw": "{}", "valid": valid, "flags": []}],
        "created_at": "2025-01-01T00:00:00.000+00:00",
    }


def write_fixed_runs(store: Store) -> None:
    for run, (setting, history, models) in RUNS.items():
        store.upsert(
            run_meta_path(run),
            META_TABLE,
            "meta",
            {
                "run_id": run,
                "name": run,
                "setting": setting,
                "history": history,
                "models": models,
                "personas": [PERSONA],
                "status": "finished",
                "source": "compass-tui",
            },
        )
        records = [_record(run, setting, model, index) for model in models for index in ITEMS]
        insert_records(store, run, PERSONA, records)
        insert_judgements(
            store, run, PERSONA, [_judgement(run, model, index) for model in models for index in ITEMS]
        )


@pytest.fixture
def fixed(data_dir) -> Path:
    write_fixed_runs(Store(data_dir))
    return data_dir


def report(cli, *args: str) -> str:
    code, out, err = cli("report", *args)
    assert code == 0, err
    return out


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("COMPASS_TUI_UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    assert text == path.read_bytes().decode("utf-8"), f"{name} differs from the golden file"


# --- golden output ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["md", "csv", "json"])
def test_report_matches_the_golden_output(cli, fixed, fmt):
    check_golden(f"report.{fmt}", report(cli, *RUNS, "--format", fmt))


def test_the_golden_tables_hold_the_hand_checked_values(cli, fixed):
    document = json.loads(report(cli, *RUNS, "--format", "json"))
    assert list(document["tables"]) == [
        "Table 2",
        "Table 3 (history)",
        "Table 4 (hybrid)",
        "Table 5 (empathetic)",
    ]
    rows = {(row["run_id"], row["model"]): row for row in document["systems"]}
    alpha = rows[("profile-ab", "alpha")]
    # Tools: liked, liked, neutral, disliked -> acceptable 3/4, optimal 2/4. Results: exact, normalised,
    # rejected, normalised -> pass 3/4, strict 1/4.
    assert (alpha["acceptable"], alpha["optimal"], alpha["pass_rate"], alpha["strict_rate"]) == (
        0.75,
        0.5,
        0.75,
        0.25,
    )
    for key in DIMENSION_KEYS:
        expected = [judge_score("profile-ab", "alpha", index, key) for index in ITEMS]
        assert alpha[key]["mean"] == pytest.approx(sum(expected) / 4)
        assert alpha[key]["low"] <= alpha[key]["mean"] <= alpha[key]["high"]
        assert (alpha[key]["n"], alpha[key]["flagged"]) == (4, 0)
    assert alpha["avg"] == pytest.approx(sum(alpha[key]["mean"] for key in DIMENSION_KEYS) / 6)
    assert (alpha["source"], alpha["judge_model"], alpha["prompt_label"]) == ("judge", JUDGE, "ours:h1")
    beta = rows[("profile-ab", "beta")]
    # The invalid judgement's empathy is flagged and left out; its other five scores count.
    assert (beta["n"], beta["empathy"]["n"], beta["empathy"]["flagged"]) == (4, 3, 1)
    assert beta["empathy"]["mean"] == pytest.approx(
        sum(judge_score("profile-ab", "beta", i, "empathy") for i in range(3)) / 3
    )
    assert beta["safety"]["n"] == 4 and beta["safety"]["mean"] == pytest.approx(
        sum(judge_score("profile-ab", "beta", i, "safety") for i in ITEMS) / 4
    )
    # Tools: liked, disliked, liked, none -> acceptable 2/4, optimal 2/4.
    assert (beta["acceptable"], beta["optimal"]) == (0.5, 0.5)
    history_on = rows[("history-on", "alpha")]
    assert history_on["n"] == 3 and history_on["history"] is True  # the cold-start item is not scored
    empathetic = rows[("empathetic-a", "alpha")]
    assert (empathetic["pass_rate"], empathetic["acceptable"], empathetic["tools"]) == (None, None, {})

    (history,) = document["tables"]["Table 3 (history)"]
    assert (history["from"], history["to"]) == ("history-off (without history)", "history-on (with history)")
    assert history["Emp"] == pytest.approx(
        history_on["empathy"]["mean"] - rows[("history-off", "alpha")]["empathy"]["mean"], abs=1e-3
    )
    hybrid = document["tables"]["Table 4 (hybrid)"]
    assert [(row["model"], row["from"]) for row in hybrid] == [
        ("alpha+beta", "profile-ab (alpha)"),
        ("alpha+beta", "profile-ab (beta)"),
    ]
    assert hybrid[1]["Safe"] == pytest.approx(
        rows[("hybrid-ab", "alpha+beta")]["safety"]["mean"] - beta["safety"]["mean"], abs=1e-3
    )
    (empathy_only,) = document["tables"]["Table 5 (empathetic)"]
    assert empathy_only["Help"] == pytest.approx(
        alpha["helpfulness"]["mean"] - empathetic["helpfulness"]["mean"], abs=1e-3
    )


def test_csv_is_table_2_only_with_plain_numbers(cli, fixed):
    rows = list(csv.reader(io.StringIO(report(cli, *RUNS, "--format", "csv"))))
    dimension_columns = [
        f"{key}{suffix}"
        for key in DIMENSION_KEYS
        for suffix in ("", "_ci_low", "_ci_high", "_n", "_flagged", "_spread")
    ]
    assert rows[0] == [
        "model",
        "setting",
        "run",
        "source",
        "judge_model",
        "judge_prompt",
        "items",
        "n",
        "errors",
        "not_attempted",
        "pass_rate",
        "pass_rate_finished",
        "execute_succ_rate",
        "3turn_execute_succ_rate",
        "d1",
        "d2",
        "distinct_basis",
        "distinct_n",
        *dimension_columns,
        "avg",
        "acceptable_rate",
        "optimal_rate",
    ]
    assert float(rows[1][rows[0].index("empathy")]) == pytest.approx(2.75)
    assert float(rows[1][rows[0].index("pass_rate")]) == pytest.approx(0.75)
    assert [(row[0], row[1]) for row in rows[1:]] == [
        ("alpha", "profile"),
        ("beta", "profile"),
        ("alpha+beta", "hybrid"),
        ("alpha", "history"),
        ("alpha", "history (without history)"),
        ("alpha", "empathetic"),
    ]


# --- whose scores -----------------------------------------------------------------------------------


def _annotate(
    store: Store,
    annotator: str,
    run: str,
    model: str,
    index: int,
    score: int | None,
    *,
    committed: bool = True,
    skipped: bool = False,
    scope: str = SESSION_SCOPE,
    missing: str | None = None,
):
    scores = {key: (None if key == missing else score) for key in DIMENSION_KEYS}
    save_annotation(
        store,
        Annotation(
            scope,
            annotator,
            PERSONA,
            index,
            system_id(run, model),
            scores=scores,
            committed=committed,
            skipped=skipped,
        ),
    )


def test_human_source_uses_only_committed_complete_session_annotations(cli, fixed):
    store = Store(fixed)
    _annotate(store, "ann1", "profile-ab", "alpha", 0, 5)
    _annotate(store, "ann2", "profile-ab", "alpha", 0, 3)  # item 0: mean of 5 and 3 = 4
    _annotate(store, "ann1", "profile-ab", "alpha", 1, 2)  # item 1: 2
    _annotate(store, "ann2", "profile-ab", "alpha", 1, 5, committed=False)  # not committed: ignored
    _annotate(store, "ann1", "profile-ab", "alpha", 2, 1, missing="safety")  # incomplete: ignored
    _annotate(store, "ann1", "profile-ab", "alpha", 3, 1, skipped=True)  # skipped: ignored
    _annotate(store, "ann1", "profile-ab", "alpha", 3, 1, scope="study:s1")  # a study's scores: ignored
    document = json.loads(report(cli, "profile-ab", "--source", "human", "--format", "json"))
    assert document["source"] == "human"
    alpha, beta = document["systems"]
    for key in DIMENSION_KEYS:
        assert alpha[key]["mean"] == pytest.approx(3.0)  # items 0 and 1: (4 + 2) / 2
        assert alpha[key]["n"] == 2  # n is the items scored, not the records
        assert beta[key]["mean"] is None  # beta has judge scores but no human ones
    assert (alpha["scored_items"], beta["scored_items"]) == (2, 0)
    assert "— scores from human" in report(cli, "profile-ab", "--source", "human", "--format", "md")


def test_judge_source_never_uses_human_scores(cli, fixed):
    store = Store(fixed)
    store.drop(judgement_path("empathetic-a", PERSONA), JUDGEMENTS_TABLE)
    for index in ITEMS:
        _annotate(store, "ann1", "empathetic-a", "alpha", index, 5)
        _annotate(store, "ann1", "profile-ab", "alpha", index, 5)
    document = json.loads(report(cli, "empathetic-a", "profile-ab", "--format", "json"))
    empathetic, alpha, _ = document["systems"]
    assert all(empathetic[key]["mean"] is None for key in DIMENSION_KEYS)
    assert empathetic["scored_items"] == 0
    assert alpha["empathy"]["mean"] == pytest.approx(
        sum(judge_score("profile-ab", "alpha", i, "empathy") for i in ITEMS) / 4
    )


def test_a_run_judged_twice_needs_the_judge_named(cli, fixed):
    store = Store(fixed)
    store.upsert(
        judgement_path("profile-ab", PERSONA),
        JUDGEMENTS_TABLE,
        "other",
        _judgement("profile-ab", "alpha", 0, OTHER_JUDGE),
    )
    code, out, err = cli("report", "profile-ab", "--format", "json")
    assert code == 2 and out == ""
    assert err == (
        f"compass-tui: --judge-model: run 'profile-ab' was judged by {JUDGE}, {OTHER_JUDGE}; "
        "choose one with --judge-model\n"
    )
    alpha = json.loads(report(cli, "profile-ab", "--judge-model", OTHER_JUDGE, "--format", "json"))[
        "systems"
    ][0]
    assert alpha["empathy"]["mean"] == judge_score("profile-ab", "alpha", 0, "empathy", OTHER_JUDGE)
    assert alpha["scored_items"] == 1


@pytest.mark.parametrize(
    ("runs", "message"), [(["nope"], "no run 'nope'"), (["bare"], "run 'bare' is empty")]
)
def test_a_missing_or_empty_run_is_one_line_and_exit_2(cli, fixed, runs, message):
    Store(fixed).upsert(
        run_meta_path("bare"),
        META_TABLE,
        "meta",
        {"run_id": "bare", "setting": "profile", "models": ["alpha"]},
    )
    code, out, err = cli("report", *runs)
    assert code == 2 and out == "" and err.count("\n") == 1 and message in err


# --- provenance, selection and the numbers a paper needs --------------------------------------------


def _rejudge(store: Store, run: str, *, prompt_hash: str, kind: str, judge: str = JUDGE) -> None:
    """Replace a run's judgements with ones made by another prompt (and judge)."""
    store.drop(judgement_path(run, PERSONA), JUDGEMENTS_TABLE)
    with store.transaction(judgement_path(run, PERSONA)) as database:
        database.table(JUDGEMENTS_TABLE).insert_multiple(
            [
                {**_judgement(run, model, index, judge), "prompt_hash": prompt_hash, "prompt_kind": kind}
                for model in RUNS[run][2]
                for index in ITEMS
            ]
        )


def test_runs_judged_with_different_prompts_say_so_above_the_table(cli, fixed):
    _rejudge(Store(fixed), "empathetic-a", prompt_hash="0fficia1", kind="official", judge=OTHER_JUDGE)
    check_golden("report_mixed.md", report(cli, "profile-ab", "empathetic-a", "--format", "md"))
    out = report(cli, "profile-ab", "empathetic-a")
    first = out.splitlines()[0]
    assert first == (
        f"Note: these runs were scored differently: profile-ab by {JUDGE} · ours:h1; "
        f"empathetic-a by {OTHER_JUDGE} · official:0fficia1"
    )
    flowing = " ".join(out.split())
    assert f"A = {JUDGE} · ours:h1; B = {OTHER_JUDGE} · official:0fficia1" in flowing
    assert " src " in flowing


def test_two_prompts_on_one_run_are_refused_and_judge_prompt_chooses(cli, fixed):
    store = Store(fixed)
    extra = {**_judgement("profile-ab", "alpha", 0), "prompt_hash": "h2", "prompt_kind": "official"}
    store.upsert(judgement_path("profile-ab", PERSONA), JUDGEMENTS_TABLE, "h2", extra)
    code, out, err = cli("report", "profile-ab")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "with 2 different prompts (official:h2, ours:h1)" in err and "--judge-prompt" in err
    for choice, items in (("official", 1), ("ours", 4), ("h2", 1)):
        (alpha, _) = json.loads(report(cli, "profile-ab", "--judge-prompt", choice, "--format", "json"))[
            "systems"
        ]
        assert alpha["empathy"]["n"] == items


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--judge-model", "nosuch"), "--judge-model: no judgements by 'nosuch' in run 'profile-ab'"),
        (("--judge-prompt", "nosuch"), "--judge-prompt: 'nosuch' matches no prompt of judge-x"),
    ],
)
def test_a_judge_or_prompt_that_did_not_judge_is_one_line_and_exit_2(cli, fixed, args, message):
    code, out, err = cli("report", "profile-ab", *args)
    assert code == 2 and out == "" and err.count("\n") == 1 and message in err


def test_an_item_never_judged_is_counted_in_a_note_not_silently_left_out(cli, fixed):
    store = Store(fixed)
    store.path(judgement_path("profile-ab", PERSONA)).unlink()
    judged = [
        (model, index) for model in ("alpha", "beta") for index in ITEMS if (model, index) != ("alpha", 2)
    ]
    insert_judgements(
        store, "profile-ab", PERSONA, [_judgement("profile-ab", model, index) for model, index in judged]
    )
    document = json.loads(report(cli, "profile-ab", "--format", "json"))
    alpha = document["systems"][0]
    assert (alpha["n"], alpha["unscored"], alpha["empathy"]["n"], alpha["empathy"]["flagged"]) == (4, 1, 3, 0)
    note = "profile-ab/alpha: 1 of 4 items have no judgement (rerun judge); the means leave them out"
    assert note in document["notes"]
    assert not any(n.startswith("profile-ab/beta") for n in document["notes"])
    assert f"Note: {note}" in report(cli, "profile-ab", "--by", "tool")
    assert f"> Note: {note}" in report(cli, "profile-ab", "--format", "md")


def test_items_without_a_finished_human_score_are_counted_in_a_note(cli, fixed):
    store = Store(fixed)
    _annotate(store, "ann1", "profile-ab", "alpha", 0, 5)
    _annotate(store, "ann2", "profile-ab", "alpha", 1, 5, committed=False)  # not finished
    notes = json.loads(report(cli, "profile-ab", "--source", "human", "--format", "json"))["notes"]
    assert "profile-ab/alpha: 3 of 4 items have no finished human score; the means leave them out" in notes
    assert "profile-ab/beta: 4 of 4 items have no finished human score; the means leave them out" in notes


def test_human_scores_under_two_rubric_versions_say_so(cli, fixed):
    store = Store(fixed)
    _annotate(store, "ann1", "profile-ab", "alpha", 0, 5)
    _annotate(store, "ann1", "profile-ab", "alpha", 1, 5)
    notes = json.loads(report(cli, "profile-ab", "--source", "human", "--format", "json"))["notes"]
    assert not any("rubric" in note for note in notes)
    (older,) = [a for a in load_annotations(store, SESSION_SCOPE) if a.situation_index == 1]
    save_annotation(store, replace(older, rubric_version="compass-tui-rubric/0"))
    notes = json.loads(report(cli, "profile-ab", "--source", "human", "--format", "json"))["notes"]
    assert (
        "run profile-ab: its human scores were given under 2 rubric versions and are pooled "
        "(compass-tui-rubric/0: 1, compass-tui-rubric/1: 1)"
    ) in notes
    assert not any(
        "rubric" in note for note in json.loads(report(cli, "profile-ab", "--format", "json"))["notes"]
    )


def test_errors_count_as_failures_and_are_shown_per_row(cli, fixed):
    store = Store(fixed)
    key = interaction_key("alpha", PERSONA, 1)
    record = store.get(run_records_path("profile-ab", PERSONA), INTERACTIONS_TABLE, key)
    errored = {**record, "status": "error", "response": None, "error": {"stage": "stage2", "kind": "server"}}
    store.upsert(run_records_path("profile-ab", PERSONA), INTERACTIONS_TABLE, key, errored)
    alpha = json.loads(report(cli, "profile-ab", "--format", "json"))["systems"][0]
    # Items 0 and 3 ran their tool, item 2's call was rejected, item 1 errored: 2 of 4 passed.
    assert (alpha["items"], alpha["n"], alpha["errors"]) == (4, 3, 1)
    assert alpha["pass_rate"] == pytest.approx(2 / 4)
    assert alpha["pass_rate_finished"] == pytest.approx(2 / 3)
    assert alpha["empathy"]["n"] == 3


def test_a_dimension_scored_on_one_item_has_no_interval(cli, fixed):
    store = Store(fixed)
    store.drop(judgement_path("empathetic-a", PERSONA), JUDGEMENTS_TABLE)
    store.upsert(
        judgement_path("empathetic-a", PERSONA),
        JUDGEMENTS_TABLE,
        "one",
        _judgement("empathetic-a", "alpha", 2),
    )
    row = json.loads(report(cli, "empathetic-a", "--format", "json"))["systems"][0]
    assert row["empathy"]["n"] == 1 and row["empathy"]["low"] is None and row["empathy"]["high"] is None
    assert row["unscored"] == 3
    md = report(cli, "empathetic-a", "--format", "md")
    assert f"{float(judge_score('empathetic-a', 'alpha', 2, 'empathy')):.2f} n1† |" in md
    assert "> Note: † a mean over a single item: no interval" in md


# --- breakdowns ------------------------------------------------------------------------------------


def test_by_tool_gives_each_tool_its_own_row_with_hand_computed_means(cli, fixed):
    document = json.loads(report(cli, "profile-ab", "--by", "tool", "--format", "json"))
    assert document["by"] == "tool" and "Table 3 (history)" not in document["tables"]
    rows = {(row["model"], row["group"]): row for row in document["systems"]}
    expected_groups = {("alpha", tool) for tool in TOOLS["alpha"]} | {
        ("beta", tool or "(no tool call)") for tool in TOOLS["beta"]
    }
    assert set(rows) == expected_groups
    for model in ("alpha", "beta"):
        for index, tool in enumerate(TOOLS[model]):
            row = rows[(model, tool or "(no tool call)")]
            assert row["n"] == 1 and row["items"] == 1
            for key in DIMENSION_KEYS:
                if (("profile-ab", model, index) == INVALID_ITEM) and key == "empathy":
                    assert row[key]["mean"] is None and row[key]["flagged"] == 1
                    continue
                assert row[key]["mean"] == judge_score("profile-ab", model, index, key)
                assert row[key]["n"] == 1 and row[key]["low"] is None  # one item: no interval
    # preferences of adam-kerr: medical_appointment liked (optimal), role_play disliked (not acceptable)
    assert rows[("alpha", "medical_appointment")]["optimal"] == 1.0
    assert rows[("alpha", "role_play")]["acceptable"] == 0.0
    assert rows[("beta", "(no tool call)")]["pass_rate"] == 0.0
    md = report(cli, "profile-ab", "--by", "tool", "--format", "md")
    assert "### Table 2 by tool" in md and "| tool |" in md and "†" in md


def test_by_persona_over_one_persona_is_the_whole_row(cli, fixed):
    whole = json.loads(report(cli, "profile-ab", "--format", "json"))["systems"]
    grouped = json.loads(report(cli, "profile-ab", "--by", "persona", "--format", "json"))["systems"]
    assert [row["group"] for row in grouped] == [PERSONA, PERSONA]
    for plain, group in zip(whole, grouped):
        assert {**group, "group": None} == plain


def test_by_scenario_rows_are_in_every_format(cli, fixed):
    rows = list(csv.DictReader(io.StringIO(report(cli, "profile-ab", "--by", "scenario", "--format", "csv"))))
    assert [(row["model"], row["scenario"]) for row in rows] == [
        (model, scenario)
        for model in ("alpha", "beta")
        for scenario in sorted(("health", "family", "work_study", "social"))
    ]
    table = report(cli, "profile-ab", "--by", "scenario")
    assert "Table 2 by scenario" in table and "work_study" in table


def test_an_unknown_breakdown_is_bad_input(cli, fixed):
    code, _, err = cli("report", "profile-ab", "--by", "colour")
    assert code == 2 and "--by" in err
