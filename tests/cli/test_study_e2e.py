"""A human-evaluation study from start to finish, as a researcher and two annotators would run it.

Two offline-baseline runs (profile and empathetic settings) over two bundled personas → `study create`
with two annotators → one pack each → both annotators score every response in the TUI's annotator
mode, driven by the keyboard through Textual's Pilot → `study merge` of both journals → judge scores
for the study's systems → `study agreement` → `study export` in wide and long form, checked cell by cell
against the keys that were pressed.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from run_support import bundled_persona
from scipy import stats

from compass_tui.app.app import CompassApp
from compass_tui.app.screens.annotator import AnnotatorScreen
from compass_tui.interaction_record import InteractionRecord
from compass_tui.judge import judged_content
from compass_tui.records import JUDGEMENTS_TABLE, judgement_path, load_records
from compass_tui.store import Store
from compass_tui.study import (
    LONG_COLUMNS,
    WIDE_COLUMNS,
    journal_path,
    load_pack,
    load_study,
    read_pack_scores,
)
from compass_tui.vocab import DIMENSION_KEYS
from compass_tui.workspace import Context

PERSONAS = "adam-kerr,haruko-okumura"
RUNS = {"prof": "profile", "emp": "empathetic"}
ANNOTATORS = ["ann1", "ann2"]
SAMPLE = 6
STUDY = "e2e"
JUDGE = "judge-e2e"

Slot = tuple[str, str, str]  # (annotator, item id, blinded id)


def typed_score(annotator: str, order: int, position: int, dimension: int) -> int:
    """What an annotator presses for one dimension of the response at `position` of their `order`-th item."""
    return 1 + (3 * ANNOTATORS.index(annotator) + order + 2 * position + dimension) % 5


def judge_score(item_index: int, system_index: int, dimension: int) -> int:
    return 1 + (item_index + 3 * system_index + 2 * dimension) % 5


async def annotate_pack(pack_path: Path) -> dict[Slot, list[int]]:
    """Score every response of the pack with the keyboard: 1-5 per dimension, enter, then on to the next."""
    pack = load_pack(pack_path)
    annotator = pack.annotator
    typed: dict[Slot, list[int]] = {}
    app = CompassApp(Context(), pack=pack_path)
    async with app.run_test(size=(110, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, AnnotatorScreen)
        for order, item in enumerate(pack.items):
            assert screen.index == order
            for position, response in enumerate(item.responses):
                if (order, position) != (0, 0):
                    await pilot.press("right")  # next column: unscored, so the cursor starts at Emp
                panel = screen.focused_panel()
                assert (screen.focused_position(), panel.cursor) == (position, 0)
                scores = [typed_score(annotator, order, position, d) for d in range(len(DIMENSION_KEYS))]
                await pilot.press(*map(str, scores))
                assert not screen.annotation_at(position).committed
                await pilot.press("enter")
                saved = screen.annotation_at(position)
                assert saved.committed and list(saved.scores.values()) == scores
                typed[(annotator, item.item_id, response.blinded_id)] = scores
            assert screen.item_done(order)
            await pilot.press("n")
        assert screen.index == len(pack.items) - 1  # `n` on the last item goes nowhere
    return typed


@pytest.mark.slow
def test_a_study_from_runs_to_exported_csv(cli, data_dir, tmp_path):
    for run, setting in RUNS.items():
        code, _, err = cli(
            "run",
            "--models",
            "baseline",
            "--personas",
            PERSONAS,
            "--setting",
            setting,
            "--name",
            run,
            "--search",
            "lexical",
        )
        assert code == 0, err

    code, out, err = cli(
        "study",
        "create",
        STUDY,
        "--runs",
        ",".join(RUNS),
        "--sample",
        str(SAMPLE),
        "--annotators",
        ",".join(ANNOTATORS),
        "--seed",
        "3",
        "--json",
    )
    assert code == 0, err
    assert json.loads(out)["items"] == SAMPLE and json.loads(out)["systems"] == len(RUNS)
    design = load_study(Store(data_dir), STUDY)

    packs = tmp_path / "packs"
    packs.mkdir()
    for annotator in ANNOTATORS:
        code, _, err = cli("study", "pack", STUDY, "--annotator", annotator, "--out", packs)
        assert code == 0, err
    pack_paths = [packs / f"{STUDY}-{annotator}.pack.json" for annotator in ANNOTATORS]

    typed: dict[Slot, list[int]] = {}
    for pack_path in pack_paths:
        typed |= asyncio.run(annotate_pack(pack_path))  # the CLI runs its own loops, so this test is sync
        assert len(read_pack_scores(pack_path)) == SAMPLE * len(RUNS)
        assert all(a.committed and a.complete for a in read_pack_scores(pack_path))
    assert len(typed) == len(ANNOTATORS) * SAMPLE * len(RUNS)

    code, out, err = cli("study", "merge", STUDY, *(journal_path(path) for path in pack_paths), "--json")
    assert code == 0, err
    merged = json.loads(out)
    assert (merged["added"], merged["conflicts"]) == (len(typed), [])
    assert all(items == [] for items in merged["missing"].values())

    judged = write_judgements(Store(data_dir), design)
    code, out, err = cli("study", "agreement", STUDY, "--json")
    assert code == 0, err
    check_agreement(json.loads(out), design, typed, judged)

    wide, long = tmp_path / "wide.csv", tmp_path / "long.csv"
    for fmt, path in (("wide", wide), ("long", long)):
        code, _, err = cli("study", "export", STUDY, "--format", fmt, "--out", path)
        assert code == 0, err
    check_wide(wide, design, typed)
    check_long(long, design, typed)


def write_judgements(store: Store, design: dict) -> dict[tuple[str, str], list[int]]:
    """Judge scores for each (item id, blinded id) of the study, written in judge.py's shape."""
    judged = {}
    records = {
        (r["run_id"], r["model"], r["persona_id"], r["situation_index"]): r
        for run in design.runs
        for r in load_records(store, run)
    }
    for blinded, system in design.systems.items():
        run, _, model = system.partition("::")
        system_index = design.blinded_ids.index(blinded)
        for item_index, item in enumerate(design.items):
            scores = [judge_score(item_index, system_index, d) for d in range(len(DIMENSION_KEYS))]
            judged[(item.item_id, blinded)] = scores
            persona, index = item.persona_id, item.situation_index
            record = InteractionRecord.read(records[(run, model, persona, index)])
            record_content, persona_content = judged_content(bundled_persona(persona), record)
            store.upsert(
                judgement_path(run, persona),
                JUDGEMENTS_TABLE,
                f"{model}|{persona}|{index}|{JUDGE}|h",
                {
                    "record_hash": record_content,
                    "persona_hash": persona_content,
                    "run_id": run,
                    "model": model,
                    "persona_id": persona,
                    "situation_index": index,
                    "judge_model": JUDGE,
                    "prompt_hash": "h",
                    "valid": True,
                    "scores": dict(zip(DIMENSION_KEYS, map(float, scores))),
                    "created_at": "2025-01-01T00:00:00.000+00:00",
                },
            )
    return judged


def check_agreement(
    result: dict, design: dict, typed: dict[Slot, list[int]], judged: dict[tuple[str, str], list[int]]
) -> None:
    units = list(judged)
    assert (result["judge_model"], result["units"], result["judge_note"]) == (JUDGE, len(units), None)
    for d, key in enumerate(DIMENSION_KEYS):
        stats_ = result["dimensions"][key]
        assert stats_["rated_units"] == stats_["judged_units"] == stats_["icc_units"] == len(units)
        human = [np.mean([typed[(a, item, blinded)][d] for a in ANNOTATORS]) for item, blinded in units]
        judge = [judged[unit][d] for unit in units]
        assert stats_["human_mean"] == pytest.approx(np.mean([scores[d] for scores in typed.values()]))
        assert stats_["judge_mean"] == pytest.approx(np.mean(judge))
        assert stats_["pearson"]["r"] == pytest.approx(stats.pearsonr(human, judge).statistic)
        assert stats_["spearman"]["r"] == pytest.approx(stats.spearmanr(human, judge).statistic)
    for annotator in ANNOTATORS:
        progress = result["progress"][annotator]
        assert (progress["rated"], progress["assigned"]) == (SAMPLE * len(RUNS), SAMPLE * len(RUNS))
        assert (progress["items_done"], progress["items_assigned"]) == (SAMPLE, SAMPLE)


def read_export(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    raw = path.read_bytes()
    assert raw.startswith("\ufeff".encode("utf-8")), "no BOM"
    text = raw.decode("utf-8-sig")
    assert "\r\n" in text
    reader = csv.DictReader(io.StringIO(text, newline=""))
    return list(reader.fieldnames), list(reader)


def check_wide(path: Path, design: dict, typed: dict[Slot, list[int]]) -> None:
    header, rows = read_export(path)
    assert header == list(WIDE_COLUMNS)
    assert len(rows) == len(ANNOTATORS) * SAMPLE * len(RUNS)
    seen = set()
    for row in rows:
        slot = (row["annotator"], row["item_id"], row["blinded_id"])
        assert [int(row[key]) for key in DIMENSION_KEYS] == typed[slot]
        assert row["system"] == design.systems[row["blinded_id"]]
        assert (row["seed"], row["skipped"], row["flag"], row["comment"]) == ("3", "false", "false", "")
        seen.add(slot)
    assert seen == set(typed)


def check_long(path: Path, design: dict, typed: dict[Slot, list[int]]) -> None:
    header, rows = read_export(path)
    assert header == list(LONG_COLUMNS)
    assert len(rows) == len(ANNOTATORS) * SAMPLE * len(RUNS) * len(DIMENSION_KEYS)
    for row in rows:
        slot = (row["annotator"], row["item_id"], row["blinded_id"])
        assert int(row["score"]) == typed[slot][DIMENSION_KEYS.index(row["dimension"])]
        assert row["system"] == design.systems[row["blinded_id"]]
