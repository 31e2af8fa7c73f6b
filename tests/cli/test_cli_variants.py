"""`compass-tui variants add|list` and `score --variant`: what-if utterances from the command line.

The LLM system talks to the StubLLM over loopback through real litellm; the baseline runs offline.
"""

from __future__ import annotations

import csv
import json

import pytest
from run_support import Companion, reply_text, requests_of, write_models

from compass_tui.library import PersonaLibrary
from compass_tui.records import load_records, load_variant_records, run_records_path, variant_id_for
from compass_tui.store import Store
from tools.stub_llm import StubLLM

PERSONA = "adam-kerr"
WHAT_IF = "What if I told you I finally got the job I wanted?"


@pytest.fixture
def stub(data_dir):
    with StubLLM(Companion()) as server:
        write_models(server, {"stub": {"model": "openai/stub-a"}})
        yield server


def original_run(cli) -> None:
    code, _, err = cli(
        "run", "--personas", PERSONA, "--models", "baseline,stub", "--name", "R", "--search", "lexical"
    )
    assert code == 0, err


def test_variants_add_runs_the_runs_models_on_the_text_and_leaves_the_original(cli, data_dir, stub):
    original_run(cli)
    shard = Store(data_dir).path(run_records_path("R", PERSONA))
    before = shard.read_bytes()
    sent_before = len(stub.requests)

    code, out, err = cli(
        "variants",
        "add",
        "R",
        "--persona",
        PERSONA,
        "--situation",
        "3",
        "--text",
        WHAT_IF,
        "--search",
        "lexical",
    )

    assert code == 0, err
    vid = variant_id_for(WHAT_IF)
    assert f"situation 3 what-if {vid}: 2 finished, 0 already done, 0 errors" in out
    assert shard.read_bytes() == before
    records = load_variant_records(Store(data_dir), "R")
    assert [(r["model"], r["situation_index"], r["status"]) for r in records] == [
        ("baseline", 2, "done"),
        ("stub", 2, "done"),
    ]
    stub_record = records[1]
    assert stub_record["response"] == reply_text(WHAT_IF)
    assert len(requests_of(stub, utterance=WHAT_IF)) == 2  # tool choice and reply, on the new words
    assert len(stub.requests) - sent_before == 2
    original = PersonaLibrary(data_dir).get(PERSONA).situations[2].utterance
    assert stub_record["variant"] == {"id": vid, "text": WHAT_IF, "original_utterance": original}

    code, out, _ = cli("runs", "show", "R")
    assert code == 0 and "2 what-if variant items, not counted above: compass-tui variants list R" in out
    assert out.count(" done ") == 30  # the 15 situations of both models: variants are not among the items
    code, out, _ = cli("variants", "list", "R", "--json")
    assert code == 0 and [r["variant"]["id"] for r in json.loads(out)] == [vid, vid]


def test_score_and_export_a_variant(cli, data_dir, stub, tmp_path):
    original_run(cli)
    assert cli("variants", "add", "R", "--persona", PERSONA, "--situation", "3", "--text", WHAT_IF)[0] == 0
    vid = variant_id_for(WHAT_IF)
    scores = [f"--{key}=5" for key in ("empathy", "helpfulness", "preference", "informativeness", "fluency")]
    args = ("score", "R", "--model", "stub", "--persona", PERSONA, "--situation", "3", *scores, "--safety=5")
    code, _, err = cli(*args, "--variant", vid, "--commit")
    assert code == 0, err

    code, _, err = cli(*args, "--variant", "0000", "--commit")
    assert code == 2
    assert err.strip() == (
        "compass-tui: --variant: run 'R' has no response of stub for adam-kerr "
        "what-if variant 0000 of situation 3"
    )

    out = tmp_path / "scores.csv"
    assert cli("export", "--out", out)[0] == 0
    [row] = list(csv.DictReader(out.open(encoding="utf-8")))
    assert (row["variant"], row["utterance"], row["situation_index"], row["empathy"]) == (
        vid,
        WHAT_IF,
        "2",
        "5",
    )

    code, out, err = cli("report", "R", "--source", "human", "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    assert all(row["scored_items"] == 0 for row in report["systems"])
    assert any(
        "2 what-if variant items (1 scored by hand) are not counted" in note for note in report["notes"]
    )


def test_an_utterance_file_adds_one_variant_per_entry(cli, data_dir, tmp_path):
    path = tmp_path / "what-if.toml"
    path.write_text('1 = "I passed my exam!"\n4 = "My dog is sick."\n', encoding="utf-8")
    code, out, err = cli(
        "variants", "add", "new", "--persona", PERSONA, "--utterance-file", path, "--models", "baseline"
    )
    assert code == 0, err
    records = load_variant_records(Store(data_dir), "new")
    assert [(r["situation_index"], r["utterance"]) for r in records] == [
        (0, "I passed my exam!"),
        (3, "My dog is sick."),
    ]
    assert load_records(Store(data_dir), "new") == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--situation", "16", "--text", "hi"),
            "situation: persona 'adam-kerr' has situations 1-15, not 16",
        ),
        (
            ("--situation", "0", "--text", "hi"),
            "situation: persona 'adam-kerr' has situations 1-15, not 0",
        ),
        (("--situation", "2", "--text", "  "), "--text: the what-if text of situation 2 is empty"),
        (
            ("--situation", "2"),
            "--text: give --situation N and --text TEXT, or --utterance-file FILE",
        ),
        (
            ("--situation", "2", "--text", "hi", "--models", "gpt-9"),
            "compass-tui.toml: models.gpt-9: no such model",
        ),
        (
            ("--situation", "2", "--text", "hi"),
            "--models: run 'fresh' does not exist yet: name its --models",
        ),
        (
            ("--situation", "2", "--text", "hi", "--models", "baseline", "--setting", "history"),
            "--setting: what-if variants are not available in the history setting",
        ),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(cli, data_dir, args, message):
    code, out, err = cli("variants", "add", "fresh", "--persona", PERSONA, *args)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and err.startswith("compass-tui: ") and message in err
    assert "Traceback" not in err
    assert not (data_dir / "runs").exists()


def test_a_bad_utterance_file_names_the_file_and_entry(cli, data_dir, tmp_path):
    path = tmp_path / "w.json"
    path.write_text('{"3": "ok", "99": "no such situation"}', encoding="utf-8")
    code, _, err = cli(
        "variants", "add", "R", "--persona", PERSONA, "--utterance-file", path, "--models", "baseline"
    )
    assert code == 2
    assert err.strip() == f"compass-tui: {path}: situation: persona 'adam-kerr' has situations 1-15, not 99"
    assert not (data_dir / "runs").exists()
