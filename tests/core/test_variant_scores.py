"""What-if variants judged by the LLM judge (`judge RUN --variants`) and shown as rows of their own
(`report RUN --variants`), against the loopback StubLLM through real litellm.

The run is a real offline-baseline run over situations 1-2 of a bundled persona plus one what-if
variant of each. The stub judge recognises each item by the words quoted in the request and answers
with that item's verdict; every expected number below is computed by hand from those verdicts.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from compass_tui import paths
from compass_tui.annotations import Annotation, save_annotation
from compass_tui.library import PersonaLibrary
from compass_tui.pipeline import System
from compass_tui.prompts import our_prompts
from compass_tui.records import (
    INTERACTIONS_TABLE,
    load_judgements,
    load_variant_judgements,
    load_variant_records,
    run_variants_path,
    system_id,
)
from compass_tui.report import SESSION_SCOPE
from compass_tui.report_format import VARIANTS_TITLE
from compass_tui.runner import RunPlan, execute_run
from compass_tui.store import Store
from compass_tui.tools.environment import ToolEnvironment
from compass_tui.variants import make_variant
from compass_tui.vocab import DIMENSION_KEYS
from tools.stub_llm import Reply, StubLLM, text

PERSONA = "adam-kerr"
RUN = "R"
WHAT_IF = {
    0: "Honestly I just got promoted and want to celebrate tonight with friends!",
    1: "My sister moved abroad today and the flat feels so empty now.",
}
VERDICTS = {  # the judge's scores per item; the originals get 3 on every dimension
    WHAT_IF[0]: dict(zip(DIMENSION_KEYS, (5, 4, 3, 2, 1, 5))),  # avg 20/6
    WHAT_IF[1]: dict(zip(DIMENSION_KEYS, (2, 2, 2, 2, 2, 2))),
}
ORIGINAL_SCORE = 3


def verdict(scores: dict[str, int]) -> str:
    return json.dumps({key: {"score": value, "rationale": f"{key} fits"} for key, value in scores.items()})


def uttered(body: dict) -> str:
    """The words in the judge request's USER UTTERANCE block."""
    user = body["messages"][1]["content"]
    return user.split("<<<BEGIN UNTRUSTED USER UTTERANCE>>>\n", 1)[1].split("\n<<<END", 1)[0]


class VariantJudge:
    """Answers by the what-if words in the request, else with the originals' verdict."""

    def __init__(self) -> None:
        self.verdicts = dict(VERDICTS)

    def __call__(self, body: dict) -> Reply:
        said = uttered(body)
        for words, scores in self.verdicts.items():
            if words == said:
                return text(verdict(scores))
        return text(verdict(dict.fromkeys(DIMENSION_KEYS, ORIGINAL_SCORE)))


def run_plan(persona, run_id: str, variant=None) -> RunPlan:
    return RunPlan(
        run_id,
        "profile",
        [System("baseline")],
        [persona],
        our_prompts(),
        only_situations={0, 1},
        variant=variant,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """Run R (situations 1-2 and a what-if of each) and run V (a what-if only), built once."""
    root = tmp_path_factory.mktemp("variant-run")
    store = Store(root)
    persona = PersonaLibrary(Path("/nonexistent")).get(PERSONA)
    env = ToolEnvironment.create(store, search_mode="lexical", cache_dir=root / "cache")
    plans = [run_plan(persona, RUN)]
    plans += [run_plan(persona, RUN, make_variant(persona, index, words)) for index, words in WHAT_IF.items()]
    plans.append(run_plan(persona, "V", make_variant(persona, 0, WHAT_IF[0])))
    for plan in plans:
        assert not asyncio.run(execute_run(plan, store, env)).failed
    return root


@pytest.fixture
def stub():
    with StubLLM(VariantJudge()) as server:
        yield server


@pytest.fixture
def store(data_dir, built, stub) -> Store:
    shutil.copytree(built, data_dir, dirs_exist_ok=True)
    config = [
        "max_retries = 0",
        'judge_model = "judge"',
        "[models.judge]",
        'model = "openai/judge-a"',
        f'api_base = "{stub.base_url}"',
        "timeout = 5",
    ]
    Path(paths.config_file()).write_text("\n".join(config) + "\n", encoding="utf-8")
    return Store(data_dir)


def variant_ids() -> dict[int, str]:
    return {index: make_variant_id(words) for index, words in WHAT_IF.items()}


def make_variant_id(words: str) -> str:
    from compass_tui.records import variant_id_for

    return variant_id_for(words)


def judge_json(cli, *args) -> dict:
    code, out, err = cli("judge", *args, "--json")
    assert code == 0, err
    return json.loads(out)


def report_json(cli, *args) -> dict:
    code, out, err = cli("report", *args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


# --- judging --------------------------------------------------------------------------------------


def test_variants_are_judged_on_their_own_words_and_stored_apart_keyed_by_the_variant_item(cli, store, stub):
    persona = PersonaLibrary(Path("/nonexistent")).get(PERSONA)
    summary = judge_json(cli, RUN, "--variants")
    assert (summary["judged"], summary["cached"], summary["variants"]) == (2, 0, True)
    assert load_judgements(store, RUN) == []  # the originals have none: nothing was mixed in

    said = [uttered(body) for body in stub.requests]
    for index, words in WHAT_IF.items():
        assert said.count(words) == 1 and persona.situations[index].utterance not in said
    found = {j["variant"]["id"]: j for j in load_variant_judgements(store, RUN)}
    assert set(found) == set(variant_ids().values())
    for index, variant in variant_ids().items():
        judgement = found[variant]
        assert judgement["key"].startswith(f"baseline|{PERSONA}|{index}~{variant}|judge|")
        assert judgement["situation_index"] == index and judgement["variant"]["text"] == WHAT_IF[index]
        assert judgement["scores"] == {k: float(v) for k, v in VERDICTS[WHAT_IF[index]].items()}

    assert judge_json(cli, RUN)["judged"] == 2  # the originals, judged on their own
    assert len(load_judgements(store, RUN)) == 2 and len(load_variant_judgements(store, RUN)) == 2
    assert all("variant" not in j for j in load_judgements(store, RUN))


def test_a_rerun_is_served_from_the_cache_and_a_changed_variant_is_judged_again(cli, store, stub):
    judge_json(cli, RUN, "--variants")
    asked = len(stub.requests)
    again = judge_json(cli, RUN, "--variants")
    assert (again["judged"], again["cached"]) == (0, 2) and len(stub.requests) == asked

    shard = run_variants_path(RUN, PERSONA)
    first = variant_ids()[0]
    [stored] = [r for r in load_variant_records(store, RUN) if r.variant_id == first]
    record = stored.to_document()
    edited = "Honestly I just got promoted and I want a quiet dinner instead."
    record["utterance"], record["variant"]["text"] = edited, edited
    store.upsert(shard, INTERACTIONS_TABLE, record["key"], record)
    changed = judge_json(cli, RUN, "--variants")
    assert (changed["judged"], changed["cached"]) == (1, 1)
    assert uttered(stub.requests[-1]) == edited
    rows = report_json(cli, RUN, "--variants")["variant_systems"]
    [row] = [r for r in rows if r["variant_id"] == first]
    assert row["empathy"]["mean"] == ORIGINAL_SCORE  # the new words' verdict, not the stale 5
    assert row["stale"] == 0  # the old verdict is superseded, so nothing is left to rerun


def test_judging_variants_of_a_run_without_any_is_one_line_and_exit_2(cli, store, data_dir):
    shutil.rmtree(store.path(run_variants_path(RUN, PERSONA)).parent)
    code, out, err = cli("judge", RUN, "--variants")
    assert code == 2 and out == ""
    message = f"compass-tui: RUN: run {RUN!r} has no finished what-if variants to judge"
    assert err.strip().splitlines() == [message]


# --- the report -----------------------------------------------------------------------------------


def test_report_variants_shows_each_variant_as_its_own_row_with_hand_computed_means(cli, store):
    judge_json(cli, RUN, "--variants")
    judge_json(cli, RUN)
    document = report_json(cli, RUN, "--variants")
    [official] = document["systems"]
    assert (official["n"], official["items"]) == (2, 2)
    assert all(official[key]["mean"] == ORIGINAL_SCORE and official[key]["n"] == 2 for key in DIMENSION_KEYS)

    rows = {row["variant_id"]: row for row in document["variant_systems"]}
    assert set(rows) == set(variant_ids().values())
    for index, variant in variant_ids().items():
        row = rows[variant]
        assert row["row_kind"] == "what-if" and row["label"] == f"what-if {variant} ({PERSONA} #{index + 1})"
        assert (row["n"], row["items"], row["variant_situation"], row["variant_text"]) == (
            1,
            1,
            index,
            WHAT_IF[index],
        )
        for key, score in VERDICTS[WHAT_IF[index]].items():
            assert (row[key]["mean"], row[key]["n"]) == (score, 1)
    assert rows[variant_ids()[0]]["avg"] == pytest.approx(20 / 6)
    assert rows[variant_ids()[1]]["avg"] == pytest.approx(2.0)
    assert any("shown as their own what-if rows, never pooled" in note for note in document["notes"])
    assert len(document["tables"][VARIANTS_TITLE]) == 2

    default = report_json(cli, RUN)
    assert "variant_systems" not in default and VARIANTS_TITLE not in default["tables"]
    assert default["systems"][0]["empathy"]["mean"] == ORIGINAL_SCORE
    assert any("2 what-if variant items (0 scored by hand) are not counted" in n for n in default["notes"])


def test_every_format_labels_the_variant_rows(cli, store):
    judge_json(cli, RUN, "--variants")
    first, second = variant_ids()[0], variant_ids()[1]
    code, out, _ = cli("report", RUN, "--variants", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["row_kind"], r["variant"], r["variant_situation"], r["n"]) for r in rows] == [
        ("official", "", "", "2"),
        ("what-if", first, "1", "1"),
        ("what-if", second, "2", "1"),
    ]
    assert rows[1]["empathy"] == "5.0" and rows[1]["empathy_n"] == "1" and rows[0]["empathy"] == ""
    code, plain, _ = cli("report", RUN, "--format", "csv")
    assert "row_kind" not in plain.splitlines()[0]

    code, md, _ = cli("report", RUN, "--variants", "--format", "md")
    assert code == 0 and f"### {VARIANTS_TITLE}" in md
    assert f"| what-if {first} ({PERSONA} #1) | baseline |" in md and "5.00 n1†" in md

    code, table, _ = cli("report", RUN, "--variants")
    assert code == 0 and "What-if variants" in table and second in table.replace("\n", "")


def test_human_scores_of_a_variant_are_its_rows_alone(cli, store):
    first = variant_ids()[0]
    system = system_id(RUN, "baseline")
    for annotator, value in (("a", 4), ("b", 5)):
        annotation = Annotation(SESSION_SCOPE, annotator, PERSONA, 0, system, variant=first)
        for key in DIMENSION_KEYS:
            annotation.set_score(key, value)
        annotation.committed = True
        save_annotation(store, annotation)
    original = Annotation(SESSION_SCOPE, "a", PERSONA, 1, system)
    for key in DIMENSION_KEYS:
        original.set_score(key, 2)
    original.committed = True
    save_annotation(store, original)

    document = report_json(cli, RUN, "--variants", "--source", "human")
    [official] = document["systems"]
    assert (official["empathy"]["mean"], official["empathy"]["n"], official["n"]) == (2, 1, 2)
    rows = {row["variant_id"]: row for row in document["variant_systems"]}
    assert (rows[first]["empathy"]["mean"], rows[first]["empathy"]["n"]) == (4.5, 1)
    assert rows[first]["avg"] == 4.5 and rows[first]["provenance"] == "human"
    assert rows[variant_ids()[1]]["empathy"]["n"] == 0 and rows[variant_ids()[1]]["unscored"] == 1
    assert any("(2 scored by hand)" in note for note in document["notes"])


def test_a_run_of_variants_only_reports_its_variant_rows(cli, store):
    document = report_json(cli, "V", "--variants")
    assert document["systems"] == [] and len(document["variant_systems"]) == 1
    code, out, err = cli("report", "V")
    assert code == 2 and "empty but for 1 what-if variant items" in err


@pytest.mark.parametrize(
    "args, message",
    [
        (("--by", "tool"), "--variants: what-if rows are one per variant and system: not with --by"),
        (("--diagnostics",), "--variants: does not apply to --diagnostics"),
    ],
)
def test_variants_with_a_breakdown_or_diagnostics_is_exit_2(cli, store, args, message):
    code, out, err = cli("report", RUN, "--variants", *args)
    assert code == 2 and out == "" and err.strip().endswith(message)
