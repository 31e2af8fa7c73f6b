"""`study disagreements`, `report --source human --vs judge`, `report --diagnostics` and the overall
agreement in `study agreement`, in-process through the `cli` runner on the hand-made data of
tests/triage_support.py (values worked out in tests/core/test_triage.py)."""

from __future__ import annotations

import json

import pytest
from triage_support import JUDGE, MODELS, RUN, STUDY, build_session, build_study

from compass_tui.store import Store
from compass_tui.study import load_study


@pytest.fixture
def study_dir(data_dir):
    build_study(Store(data_dir))
    return data_dir


@pytest.fixture
def session_dir(data_dir):
    build_session(Store(data_dir))
    return data_dir


def test_study_disagreements_json_has_both_rankings_and_counts(cli, study_dir):
    code, out, err = cli("study", "disagreements", STUDY, "--top", "2", "--json")
    assert code == 0, err
    data = json.loads(out)
    gap, spread = data["by_gap"], data["by_spread"]
    assert [(e["item_id"], e["system"], e["gap"]) for e in gap["entries"]] == [
        ("adam-kerr#0", "S2", 3.0),
        ("adam-kerr#1", "S1", 2.0),
    ]
    assert (gap["ranked"], gap["shown"], gap["not_ranked"], gap["not_ranked_reasons"]) == (
        5,
        2,
        1,
        {"no judge score": 1},
    )
    assert [(e["item_id"], e["system"]) for e in spread["entries"]] == [
        ("adam-kerr#1", "S2"),
        ("adam-kerr#0", "S2"),
    ]
    assert spread["not_ranked_reasons"] == {"fewer than 2 annotators": 1}
    assert (
        data["ranked_by"].startswith("as the mean over the six dimensions")
        and "sample sd" in data["spread_measure"]
    )
    assert all("run_id" not in e and "model" not in e for e in gap["entries"] + spread["entries"])
    assert "tri::" not in out and "acme/" not in out  # blinded unless --reveal


def test_study_disagreements_table_is_blinded_unless_revealed(cli, study_dir):
    code, out, err = cli("study", "disagreements", STUDY, "--dimension", "empathy")
    assert code == 0, err
    assert "ranked on empathy" in out
    assert "shown 5 of 5 ranked; not ranked: 1 (1 no judge score)" in out
    assert "shown 5 of 5 ranked; not ranked: 1 (1 fewer than 2 annotators)" in out
    assert "tri::" not in out
    code, out, _ = cli("study", "disagreements", STUDY, "--reveal")
    design = load_study(Store(study_dir), STUDY)
    assert code == 0 and f"S1 ({design.systems['S1']})" in out and "mean over the six dimensions" in out


def test_study_agreement_prints_the_overall_readings(cli, study_dir):
    code, out, err = cli("study", "agreement", STUDY)
    assert code == 0, err
    assert "Overall human mean vs judge" in out  # the table folds at the terminal's width
    assert "pooled over all" in out and "mean of the six" in out and "29 pairs" in out
    code, out, _ = cli("study", "agreement", STUDY, "--json")
    overall = json.loads(out)["overall"]
    assert set(overall) == {"units", "pooled", "mean_of_dimensions"}
    assert overall["pooled"]["label"] == "pooled over all (unit, dimension) pairs"
    assert overall["mean_of_dimensions"]["label"] == "mean of the six per-dimension coefficients"
    assert overall["pooled"]["pearson"]["n"] == 6 + 6 + 6 + 5 + 6  # five judged units, one with no safety


def test_report_vs_judge_ranks_session_scores(cli, session_dir):
    a, b = MODELS
    code, out, err = cli("report", RUN, "--source", "human", "--vs", "judge", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert [(e["model"], e["situation_index"], e["gap"]) for e in data["by_gap"]["entries"]] == [
        (a, 1, 3.0),
        (a, 0, 2.0),
        (b, 0, 0.0),
    ]
    assert data["by_gap"]["not_ranked_reasons"] == {"no finished human score": 2}
    assert data["judge_model"] == JUDGE
    code, out, err = cli("report", RUN, "--source", "human", "--vs", "judge", "--top", "1")
    assert code == 0, err
    assert "shown 1 of 3 ranked; not ranked: 2 (2 no finished human score)" in out


def test_report_diagnostics(cli, session_dir):
    code, out, err = cli("report", RUN, "--diagnostics")
    assert code == 0, err
    assert "K = 1" in out and "—" in out and "rho(length)" in out
    code, out, _ = cli("report", RUN, "--diagnostics", "--format", "json")
    data = json.loads(out)
    assert data["judged_items"] == 5 and data["dimensions"]["safety"]["distinct_levels"] == 5


@pytest.mark.parametrize(
    "argv, field",
    [
        (
            ("study", "disagreements", STUDY, "--dimension", "warmth"),
            "--dimension: unknown dimension 'warmth'",
        ),
        (("study", "disagreements", "nope"), "no study 'nope'"),
        (("study", "disagreements", STUDY, "--top", "0"), "--top"),
        (("report", RUN, "--vs", "judge"), "--vs: compares human scores with the judge: use --source human"),
        (("report", RUN, "--source", "judge", "--vs", "judge"), "--vs: compares human scores"),
        (("report", RUN, "--source", "human", "--vs", "judge", "--dimension", "warmth"), "--dimension"),
        (("report", RUN, RUN, "--source", "human", "--vs", "judge"), "RUN: --vs reads one run; 2 given"),
        (("report", RUN, "--source", "human", "--vs", "judge", "--format", "csv"), "--format"),
        (("report", RUN, "--top", "3"), "--top: applies to --vs judge only"),
        (("report", RUN, "--diagnostics", "--source", "human"), "--source"),
        (("report", "no-such-run", "--diagnostics"), "no run 'no-such-run'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli, study_dir, argv, field):
    code, out, err = cli(*argv)
    assert code == 2, (out, err)
    assert field in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_the_study_option_refuses_an_unknown_study_and_a_command(cli, study_dir, monkeypatch):
    import compass_tui.app.app as tui

    opened = []
    monkeypatch.setattr(tui, "run_app", lambda ctx, pack=None, study=None: opened.append(study) or 0)
    code, _, err = cli("--study", "nope")
    assert code == 2 and "no study 'nope' (studies: tri-study)" in err and opened == []
    code, _, err = cli("--study", STUDY, "runs", "list")
    assert code == 2 and "--study: opens the TUI on a study's triage and takes no command" in err
    assert cli("--study", STUDY)[0] == 0 and opened == [STUDY]
