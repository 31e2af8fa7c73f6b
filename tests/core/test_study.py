"""Human-evaluation studies: design, packs and journals, merge, statistics, CSV and the `study` commands.

Fixture runs are written straight into a temporary store in the shapes of compass_tui.records;
personas are the bundled ones. Statistics are checked against scipy and krippendorff called
directly, and the ICC against Shrout & Fleiss's published example.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections import Counter
from dataclasses import replace
from pathlib import Path

import krippendorff
import numpy as np
import pytest
from run_support import bundled_persona, insert_judgements, insert_records, situation_record
from scipy import stats

from compass_tui import statistics, study
from compass_tui.annotations import Annotation, load_annotations, save_annotation
from compass_tui.cli import main
from compass_tui.csvio import neutralise, unneutralise
from compass_tui.errors import InputError, NotFoundError
from compass_tui.interaction_record import InteractionRecord
from compass_tui.judge import judged_content
from compass_tui.records import (
    JUDGEMENTS_TABLE,
    META_TABLE,
    judgement_path,
    run_meta_path,
    system_id,
)
from compass_tui.store import Store
from compass_tui.vocab import DIMENSION_KEYS

PERSONAS = {"adam-kerr": 15, "angelica-villanueva": 15}
EXTRA_PERSONA = "min-jun-kang"  # finished only in run-alpha: never shared
RUNS = {"run-alpha": ["acme/alpha-model-7b", "zeta/omega-chat-v2"], "run-beta": ["acme/alpha-model-7b"]}
FAILED_IN_BETA = ("adam-kerr", 14)
JUDGE, OTHER_JUDGE = "judge/jm-1", "judge/rare-2"
SECRET_NAMES = ("run-alpha", "run-beta", "alpha-model-7b", "omega-chat-v2", "acme/", "zeta/", "judge/")
SHARED_ITEMS = sum(PERSONAS.values()) - 1
ANNOTATORS = ["alice", "bob", "chen"]


# ------------------------------------------------------------------------------------------------- fixtures


def _judge_score(system: str, persona: str, index: int, dimension: str) -> int:
    return 1 + (len(system) * 7 + len(persona) + index * 3 + DIMENSION_KEYS.index(dimension) * 5) % 5


def _record(run: str, model: str, persona: str, index: int, status: str = "done") -> dict:
    return situation_record(
        run,
        model,
        persona,
        index,
        status=status,
        tool_call={
            "tool_folder_name": "music_recommendation",
            "function_name": "query_music",
            "param": {"query": f"calm songs {index}"},
        },
        tool_result={
            "tool_folder_name": "music_recommendation",
            "function_name": "query_music",
            "ok": True,
            "result": [{"title": f"Quiet Song {index}"}],
            "error": None,
            "mode": f"llm:{model}",
            "notes": [f"served by {run}"],
            "latency_ms": 3.0,
        },
        response=None if status != "done" else f"That sounds hard. Here is a calm song for you ({index}).",
    )


def _write_run(store: Store, run: str, models: list[str]) -> None:
    store.upsert(
        run_meta_path(run),
        META_TABLE,
        "meta",
        {"run_id": run, "name": run, "setting": "profile", "models": models, "personas": list(PERSONAS)},
    )
    for persona, count in [*PERSONAS.items(), (EXTRA_PERSONA, 1)]:
        if persona == EXTRA_PERSONA and run != "run-alpha":
            continue
        records = [
            _record(
                run,
                model,
                persona,
                index,
                "error" if (run == "run-beta" and (persona, index) == FAILED_IN_BETA) else "done",
            )
            for model in models
            for index in range(count)
        ]
        insert_records(store, run, persona, records)
        judgements = [_judgement(record, JUDGE) for record in records]
        judgements += [
            _judgement(record, OTHER_JUDGE) for record in records if record["situation_index"] == 0
        ]
        insert_judgements(store, run, persona, judgements)


def _judgement(record: dict, judge: str) -> dict:
    run, model, persona, index = (record[k] for k in ("run_id", "model", "persona_id", "situation_index"))
    system = system_id(run, model)
    record_content, persona_content = judged_content(bundled_persona(persona), InteractionRecord.read(record))
    return {
        "key": f"{model}|{persona}|{index}|{judge}|h1",
        "record_hash": record_content,
        "persona_hash": persona_content,
        "run_id": run,
        "model": model,
        "persona_id": persona,
        "situation_index": index,
        "judge_model": judge,
        "prompt_hash": "h1",
        "valid": True,
        "scores": {d: float(_judge_score(system, persona, index, d)) for d in DIMENSION_KEYS},
        "created_at": "2025-01-01T00:00:00.000+00:00",
    }


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("runs")
    store = Store(root)
    for run, models in RUNS.items():
        _write_run(store, run, models)
    return root


@pytest.fixture
def store(runs_dir, tmp_path) -> Store:
    root = tmp_path / "data"
    shutil.copytree(runs_dir, root)
    return Store(root)


def _create(store: Store, name: str = "s1", sample: int = 20, annotators=ANNOTATORS, **options) -> dict:
    return study.create_study(store, name, list(RUNS), sample, list(annotators), **options)


def _annotation(
    design: study.StudyDesign, annotator: str, entry: study.Assignment, blinded: str, scores: dict, **fields
) -> Annotation:
    item = design.items_by_id[entry.item_id]
    return Annotation(
        scope=study.study_scope(design.name),
        annotator=annotator,
        persona_id=item.persona_id,
        situation_index=item.situation_index,
        system=blinded,
        scores=dict(scores),
        **{"committed": True, **fields},  # what the annotator screen saves on enter
    )


def _full(score: int) -> dict:
    return {key: score for key in DIMENSION_KEYS}


# ------------------------------------------------------------------------------------------------- design


def test_shared_items_and_systems(store):
    design = _create(store, sample=SHARED_ITEMS)
    items = {item.item_id for item in design.items}
    assert len(items) == SHARED_ITEMS
    assert "adam-kerr#14" not in items and f"{EXTRA_PERSONA}#0" not in items
    assert sorted(design.systems.values()) == sorted(system_id(r, m) for r, ms in RUNS.items() for m in ms)
    assert design.blinded_ids == ["S1", "S2", "S3"]
    assert json.loads(study.study_path(store, "s1").read_text())["name"] == "s1"


def test_fully_crossed_and_positions_balanced(store):
    design = _create(store, sample=20)
    items = {item.item_id for item in design.items}
    for annotator in ANNOTATORS:
        entries = design.assignments[annotator]
        assert {entry.item_id for entry in entries} == items and len(entries) == len(items)
        assert all(sorted(entry.systems) == design.blinded_ids for entry in entries)
        counts = Counter(
            (blinded, position) for entry in entries for position, blinded in enumerate(entry.systems)
        )
        per_cell = [counts[(b, p)] for b in design.blinded_ids for p in range(3)]
        assert max(per_cell) - min(per_cell) <= 1
    orders = [[entry.item_id for entry in design.assignments[a]] for a in ANNOTATORS]
    assert orders[0] != orders[1]  # item order is shuffled per annotator


def test_seeded_design_is_reproducible(store, tmp_path):
    first = _create(store, "a", seed=7)
    second = _create(store, "b", seed=7)
    for key in ("items", "systems", "assignments", "strata"):
        assert getattr(first, key) == getattr(second, key)
    assert _create(store, "c", seed=8).assignments != first.assignments


def test_stratification_is_proportional(store):
    design = _create(store, sample=12, stratify=["scenario"])
    available = Counter(item.scenario_type for item in _create(store, "all", sample=SHARED_ITEMS).items)
    drawn = Counter(item.scenario_type for item in design.items)
    assert sum(drawn.values()) == 12
    assert dict(drawn) == {s.values["scenario"]: s.drawn for s in design.strata if s.drawn}
    for scenario, count in available.items():
        assert abs(drawn[scenario] - 12 * count / SHARED_ITEMS) < 1
    assert study.largest_remainder(10, {"a": 5, "b": 3, "c": 2}) == {"a": 5, "b": 3, "c": 2}
    assert study.largest_remainder(4, {"a": 5, "b": 3, "c": 2}) == {"a": 2, "b": 1, "c": 1}


@pytest.mark.parametrize(
    "options, message",
    [
        ({"runs": ["run-alpha", "nope"]}, "no run 'nope'"),
        ({"sample": SHARED_ITEMS + 1}, f"only {SHARED_ITEMS} items"),
        ({"stratify": ["colour"]}, "unknown field 'colour'"),
        ({"annotators": ["alice", "Alice"]}, "unique"),
        ({"annotators": ["al ice"]}, "simple name"),
    ],
)
def test_create_rejects_bad_input(store, options, message):
    arguments = {
        "runs": list(RUNS),
        "sample": 5,
        "annotators": ANNOTATORS,
        "stratify": ["scenario"],
    } | options
    with pytest.raises(InputError) as caught:
        study.create_study(
            store,
            "bad",
            arguments.pop("runs"),
            arguments.pop("sample"),
            arguments.pop("annotators"),
            **arguments,
        )
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert study.list_studies(store) == []


def test_refuses_to_overwrite_and_warns_for_one_system(store):
    _create(store)
    with pytest.raises(InputError, match="already exists"):
        _create(store)
    single = study.create_study(store, "solo", ["run-beta"], 3, ["alice"])
    assert single.warnings and single.blinded_ids == ["S1"]


# ------------------------------------------------------------------------------------------------- packs


def test_pack_is_blind_and_complete(store, tmp_path):
    design = _create(store, sample=10)
    path = study.write_pack(store, "s1", "bob", tmp_path)
    text = path.read_text(encoding="utf-8")
    for secret in SECRET_NAMES:
        assert secret not in text
    pack = study.load_pack(path)
    assert pack.annotator == "bob" and pack.fingerprint == design.fingerprint()
    assert [d.key for d in pack.rubric.dimensions] == list(DIMENSION_KEYS)
    assert [item.item_id for item in pack.items] == [e.item_id for e in design.assignments["bob"]]
    first, entry = pack.items[0], design.assignments["bob"][0]
    assert [r.blinded_id for r in first.responses] == entry.systems
    assert [r.position for r in first.responses] == [1, 2, 3]
    assert set(json.loads(text)["items"][0]["persona"]) == {
        "name",
        "age",
        "career",
        "personality_description",
        "tool_preference",
    }
    assert first.situation.scenario and (first.responses[0].response or "").startswith("That sounds hard")
    assert '"scores":' not in text and '"judge_model"' not in text


def test_unknown_annotator_and_alien_files(store, tmp_path):
    _create(store)
    with pytest.raises(InputError, match="'mallory' is not an annotator"):
        study.write_pack(store, "s1", "mallory", tmp_path)
    with pytest.raises(NotFoundError, match="no study 'nope'"):
        study.write_pack(store, "nope", "alice", tmp_path)
    alien = tmp_path / "alien.json"
    alien.write_text('{"format": "something else"}')
    with pytest.raises(InputError, match="not a compass-tui study pack"):
        study.load_pack(alien)


def test_journal_last_line_wins_and_torn_tail_ignored(store, tmp_path):
    design = _create(store)
    pack = study.write_pack(store, "s1", "alice", tmp_path / "alice.pack.json")
    entry = design.assignments["alice"][0]
    blinded = entry.systems[1]
    study.append_pack_score(pack, _annotation(design, "alice", entry, blinded, _full(2), seconds=4.0))
    study.append_pack_score(pack, _annotation(design, "alice", entry, blinded, _full(4), seconds=9.5))
    journal = study.journal_path(pack)
    assert journal.name == "alice.pack.scores.jsonl"
    with journal.open("ab") as handle:
        handle.write(b'{"scope": "study:s1", "annot')  # a crash mid-append
    scores = study.read_pack_scores(pack)
    assert len(scores) == 1
    assert scores[0].scores == _full(4) and scores[0].position == 2 and scores[0].blinded_id == blinded
    other = design.assignments["alice"][1]
    study.append_pack_score(pack, _annotation(design, "alice", other, other.systems[0], _full(3)))
    assert len(study.read_pack_scores(pack)) == 2
    assert all(json.loads(line) for line in journal.read_text().splitlines())


def test_a_corrupt_journal_line_before_the_last_is_skipped_counted_and_named(store, tmp_path):
    design = _create(store)
    pack = study.write_pack(store, "s1", "alice", tmp_path / "alice.pack.json")
    first, second = design.assignments["alice"][:2]
    study.append_pack_score(pack, _annotation(design, "alice", first, first.systems[0], _full(2)))
    journal = study.journal_path(pack)
    with journal.open("ab") as handle:
        handle.write(b'{"scope": "study:s1", "annot\n')  # line 2: garbage, yet newline-terminated
        handle.write(json.dumps({"fingerprint": "elsewhere"}).encode() + b"\n")  # line 3: another study
    study.append_pack_score(pack, _annotation(design, "alice", second, second.systems[0], _full(5)))
    journal_read = study.read_pack_journal(pack)
    assert sorted(a.scores["empathy"] for a in journal_read.annotations) == [2, 5]
    assert [error.line for error in journal_read.skipped] == [2, 3]
    assert journal_read.skipped_note() == (
        f"{journal}:2: not a JSON line (invalid JSON: Unterminated string starting at (column 23))"
        " (skipped 2 corrupt journal lines)"
    )
    assert len(study.read_pack_scores(pack)) == 2
    with pytest.raises(InputError, match=f"{journal}:2: not a JSON line"):  # merging stays strict
        study.merge(store, "s1", [journal])


def test_append_rejects_foreign_or_bad_scores(store, tmp_path):
    design = _create(store)
    pack = study.write_pack(store, "s1", "alice", tmp_path)
    entry = design.assignments["alice"][0]
    with pytest.raises(InputError, match="outside 1-5"):
        study.append_pack_score(pack, _annotation(design, "alice", entry, "S1", {"empathy": 6}))
    with pytest.raises(InputError, match="not an annotator"):
        study.append_pack_score(pack, _annotation(design, "bob", entry, "S1", _full(3)))
    assert not study.journal_path(pack).exists()


# ------------------------------------------------------------------------------------------------- merge


def _scored_pack(
    store: Store, design: dict, annotator: str, folder: Path, items: int, score: int = 3
) -> Path:
    pack = study.write_pack(store, design.name, annotator, folder / f"{annotator}.pack.json")
    for entry in design.assignments[annotator][:items]:
        for blinded in entry.systems:
            study.append_pack_score(
                pack, _annotation(design, annotator, entry, blinded, _full(score), seconds=2.0)
            )
    return pack


def test_merge_is_idempotent_and_reports_missing(store, tmp_path):
    design = _create(store, sample=6)
    alice = _scored_pack(store, design, "alice", tmp_path, items=4)
    bob = _scored_pack(store, design, "bob", tmp_path, items=6)
    first = study.merge(store, "s1", [study.journal_path(alice), bob])
    assert (first.added, first.unchanged, first.conflicts) == (4 * 3 + 6 * 3, 0, [])
    assert len(first.missing["alice"]) == 2 and first.missing["bob"] == [] and len(first.missing["chen"]) == 6
    second = study.merge(store, "s1", [study.journal_path(alice), bob])
    assert (second.added, second.updated, second.unchanged, second.conflicts) == (0, 0, 30, [])
    assert len(load_annotations(store, "study:s1")) == 30


def test_merge_reports_conflicts_and_keeps_newer(store, tmp_path):
    design = _create(store, sample=4)
    entry = design.assignments["alice"][0]
    older = _annotation(design, "alice", entry, entry.systems[0], _full(1))
    save_annotation(store, older)  # alice also worked in the shared data dir, earlier
    pack = _scored_pack(store, design, "alice", tmp_path, items=1, score=5)
    report = study.merge(store, "s1", [pack])
    assert len(report.conflicts) == 1 and report.added == 2
    conflict = report.conflicts[0]
    assert conflict["kept"] == "incoming" and conflict["stored"]["scores"] == _full(1)
    assert conflict["incoming"]["scores"] == _full(5)
    stored = {a.key: a for a in load_annotations(store, "study:s1")}
    assert stored[older.key].scores == _full(5)
    newer = _annotation(design, "alice", entry, entry.systems[0], _full(2))
    save_annotation(store, newer)
    again = study.merge(store, "s1", [pack])
    assert again.conflicts[0]["kept"] == "stored"
    assert {a.key: a for a in load_annotations(store, "study:s1")}[older.key].scores == _full(2)


def test_merge_rejects_other_study_and_writes_nothing(store, tmp_path):
    design = _create(store, sample=4)
    other = _create(store, "s2", sample=4)
    good = _scored_pack(store, design, "alice", tmp_path / "s1", items=2)
    alien = _scored_pack(store, other, "bob", tmp_path / "s2", items=1)
    for alien_file in (alien, study.journal_path(alien)):
        with pytest.raises(InputError, match="another study"):
            study.merge(store, "s1", [good, alien_file])
    assert load_annotations(store, "study:s1") == []


def test_merge_rejects_bad_lines_naming_file_and_line(store, tmp_path):
    design = _create(store, sample=4)
    pack = _scored_pack(store, design, "alice", tmp_path, items=1)
    journal = study.journal_path(pack)
    lines = journal.read_text().splitlines()
    record = json.loads(lines[0])
    for change, message in (
        ({"scores": _full(3) | {"safety": 7}}, "score 7 is outside 1-5"),
        ({"annotator": "mallory"}, "'mallory' is not an annotator"),
    ):
        journal.write_text("\n".join([*lines, json.dumps(record | change)]) + "\n")
        with pytest.raises(InputError) as caught:
            study.merge(store, "s1", [journal])
        assert message in str(caught.value) and f"{journal}:{len(lines) + 1}" in str(caught.value)
    assert load_annotations(store, "study:s1") == []


# ------------------------------------------------------------------------------------------------- statistics

SHROUT_FLEISS = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]


def test_icc_matches_shrout_fleiss_textbook_example():
    single, average = statistics.icc_two_way_random(SHROUT_FLEISS)
    assert round(single, 2) == 0.29 and round(average, 2) == 0.62


def _rate_everything(store: Store, design: dict, seed: int = 3) -> dict:
    """Annotators score in the shared store: noisy copies of the judge, a few units left out."""
    rng = np.random.default_rng(seed)
    items = design.items_by_id
    table = {}
    for annotator in design.annotators:
        for entry in design.assignments[annotator]:
            item = items[entry.item_id]
            for blinded in entry.systems:
                if rng.random() < 0.1:
                    continue
                base = _judge_score(design.systems[blinded], item.persona_id, item.situation_index, "empathy")
                scores = {key: int(np.clip(base + rng.integers(-1, 2), 1, 5)) for key in DIMENSION_KEYS}
                save_annotation(store, _annotation(design, annotator, entry, blinded, scores, seconds=10.0))
                table[(annotator, entry.item_id, blinded)] = scores
    return table


def test_agreement_equals_direct_scipy_and_krippendorff(store):
    design = _create(store, sample=8)
    table = _rate_everything(store, design)
    result = study.agreement(store, "s1", judge_model=JUDGE)
    assert result["judge_model"] == JUDGE and result["units"] == 24
    units = design.units
    items = design.items_by_id
    positions = design.positions()
    for key in DIMENSION_KEYS:
        matrix = np.array([[table.get((a, i, b), {}).get(key, np.nan) for i, b in units] for a in ANNOTATORS])
        rated = ~np.isnan(matrix).all(axis=0)
        human = np.nanmean(matrix[:, rated], axis=0)
        judge = [
            _judge_score(design.systems[b], items[i].persona_id, items[i].situation_index, key)
            for (i, b), keep in zip(units, rated)
            if keep
        ]
        got = result["dimensions"][key]
        assert got["pearson"]["r"] == pytest.approx(stats.pearsonr(human, judge).statistic)
        assert got["spearman"]["r"] == pytest.approx(stats.spearmanr(human, judge).statistic)
        for name in ("pearson", "spearman"):
            low, high = got[name]["ci"]
            assert -1 <= low <= got[name]["r"] <= high <= 1
        assert got["alpha_ordinal"] == pytest.approx(
            krippendorff.alpha(reliability_data=matrix, level_of_measurement="ordinal")
        )
        assert got["alpha_interval"] == pytest.approx(
            krippendorff.alpha(reliability_data=matrix, level_of_measurement="interval")
        )
        complete = matrix[:, ~np.isnan(matrix).any(axis=0)].T
        assert got["icc_units"] == len(complete)
        assert got["icc2_k"] == pytest.approx(statistics.icc_two_way_random(complete)[1])
        blocks = {}
        for (a, i, b), scores in table.items():
            blocks.setdefault((a, i), {})[positions[a][i][b]] = scores[key]
        full = np.array([[block[p] for p in (1, 2, 3)] for block in blocks.values() if len(block) == 3])
        assert got["position"]["test"] == "friedman"
        assert got["position"]["p"] == pytest.approx(stats.friedmanchisquare(*full.T).pvalue)
        for p in (1, 2, 3):
            expected = np.mean([block[p] for block in blocks.values() if p in block])
            assert got["position"]["means"][str(p)] == pytest.approx(expected)
    assert result == study.agreement(store, "s1", judge_model=JUDGE)  # seeded bootstrap
    progress = result["progress"]["alice"]
    assert progress["assigned"] == 24 and progress["rated"] == sum(1 for k in table if k[0] == "alice")
    per_item = Counter(item for annotator, item, _ in table if annotator == "alice")
    assert progress["mean_seconds_per_item"] == pytest.approx(np.mean([10.0 * n for n in per_item.values()]))


def test_agreement_judge_choice_and_absence(store):
    design = _create(store, sample=SHARED_ITEMS)  # includes the #0 items that a second, rarer judge scored
    _rate_everything(store, design)
    with pytest.raises(NotFoundError, match="judges: judge/jm-1, judge/rare-2"):
        study.agreement(store, "s1", judge_model="judge/none")
    with pytest.raises(InputError, match="judged by judge/jm-1, judge/rare-2; choose one with --judge-model"):
        study.agreement(store, "s1")  # two judges are never silently reduced to one
    assert study.agreement(store, "s1", judge_model=JUDGE)["judge_prompt"] == "ours:h1"
    rare = study.agreement(store, "s1", judge_model=OTHER_JUDGE)
    assert rare["judge_model"] == OTHER_JUDGE and rare["dimensions"]["empathy"]["judged_units"] == 2 * 3
    shutil.rmtree(store.path("judgements"))
    result = study.agreement(store, "s1")
    assert result["judge_available"] is False and "unavailable" in result["judge_note"]
    assert result["dimensions"]["empathy"]["pearson"] is None
    assert result["dimensions"]["empathy"]["alpha_interval"] is not None


def _rated_study_and_first_judgement(store) -> tuple[str, dict]:
    """Study s1, every unit rated; the judgement of its first item's first system, with its shard."""
    design = _create(store, sample=SHARED_ITEMS)
    _rate_everything(store, design)
    item = design.items[0]
    run, model = design.systems[design.blinded_ids[0]].split("::", 1)
    path = judgement_path(run, item.persona_id)
    (judged,) = [
        j
        for j in store.all(path, JUDGEMENTS_TABLE)
        if j["model"] == model and j["situation_index"] == item.situation_index and j["judge_model"] == JUDGE
    ]
    return path, judged


def test_agreement_refuses_to_mix_prompts_and_judge_prompt_chooses(store):
    path, original = _rated_study_and_first_judgement(store)
    store.upsert(
        path, JUDGEMENTS_TABLE, "other-prompt", {**original, "prompt_hash": "h2", "prompt_kind": "official"}
    )
    with pytest.raises(InputError, match=r"with 2 different prompts \(official:h2, ours:h1\)"):
        study.agreement(store, "s1", judge_model=JUDGE)
    official = study.agreement(store, "s1", judge_model=JUDGE, judge_prompt="official")
    assert official["judge_prompt"] == "official:h2"
    assert official["dimensions"]["empathy"]["judged_units"] == 1


def test_agreement_never_reads_a_judgement_of_a_persona_edited_since(store):
    path, judged = _rated_study_and_first_judgement(store)
    before = study.agreement(store, "s1", judge_model=JUDGE)
    store.upsert(path, JUDGEMENTS_TABLE, judged["key"], {**judged, "persona_hash": "of-the-old-persona"})
    after = study.agreement(store, "s1", judge_model=JUDGE)
    assert (before["judge_stale"], after["judge_stale"]) == (0, 1)
    for key in DIMENSION_KEYS:
        assert after["dimensions"][key]["judged_units"] == before["dimensions"][key]["judged_units"] - 1


# ------------------------------------------------------------------------------------------------- CSV

INJECTIONS = ["=1+1", "+x", "-x", "@x", "\tx", "\rx"]


def _csv_rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _store_with_scores(store: Store, design: dict) -> None:
    entries = design.assignments["alice"]
    comments = [*INJECTIONS, "line one\nline two", "'=quoted already", 'café, "quoted"']
    for number, (entry, comment) in enumerate(zip(entries, comments)):
        scores = _full(1 + number % 5) | ({"safety": None} if number == 2 else {})
        annotation = _annotation(
            design,
            "alice",
            entry,
            entry.systems[0],
            scores,
            comment=comment,
            flag=number == 1,
            skipped=False,
            seconds=1.25 * number,
        )
        save_annotation(store, annotation)
    entry = design.assignments["bob"][0]
    save_annotation(store, _annotation(design, "bob", entry, entry.systems[2], _full(4), seconds=3.0))


def test_neutralise_round_trips():
    for text in [*INJECTIONS, "'=x", "''+y", "'tis", "'", "", "plain"]:
        assert unneutralise(neutralise(text)) == text
    assert [neutralise(text) for text in INJECTIONS] == ["'" + text for text in INJECTIONS]


def test_export_neutralises_and_import_restores(store, tmp_path):
    design = _create(store, sample=12)
    _store_with_scores(store, design)
    out = tmp_path / "wide.csv"
    assert study.export(store, "s1", "wide", out) == 10
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and raw.count(b"\r\n") >= 11
    header = raw[3:].split(b"\r\n", 1)[0].decode()
    assert header.split(",") == list(study.WIDE_COLUMNS)
    rows = _csv_rows(out)
    assert [row["comment"] for row in rows[:6]] == ["'" + text for text in INJECTIONS]
    assert rows[6]["comment"] == "line one\nline two"
    assert all(not row[key].startswith("'") for row in rows for key in DIMENSION_KEYS)
    assert rows[2]["safety"] == "" and rows[1]["flag"] == "true"
    assert rows[0]["system"] == design.systems[rows[0]["blinded_id"]]
    fresh = _fresh_store(store, tmp_path)
    report = study.import_csv(fresh, "s1", out)
    assert report.added == 10
    comments = sorted(a.comment for a in load_annotations(fresh, "study:s1"))
    assert set(INJECTIONS) <= set(comments)


def _fresh_store(store: Store, tmp_path: Path) -> Store:
    fresh = Store(tmp_path / "fresh")
    fresh.path("studies", "s1").mkdir(parents=True)
    shutil.copy(study.study_path(store, "s1"), study.study_path(fresh, "s1"))
    return fresh


@pytest.mark.parametrize("fmt", ["wide", "long"])
def test_csv_round_trip_is_identical(store, tmp_path, fmt):
    design = _create(store, sample=12)
    _store_with_scores(store, design)
    first, second = tmp_path / f"first-{fmt}.csv", tmp_path / f"second-{fmt}.csv"
    rows = study.export(store, "s1", fmt, first)
    assert rows == (10 if fmt == "wide" else 60)
    fresh = _fresh_store(store, tmp_path)
    study.import_csv(fresh, "s1", first)
    study.export(fresh, "s1", fmt, second)
    assert first.read_bytes() == second.read_bytes()
    again = study.import_csv(fresh, "s1", first)
    assert (again.added, again.unchanged) == (0, 10)


def _edit_csv(source: Path, target: Path, edit) -> Path:
    rows = list(csv.reader(io.StringIO(source.read_text(encoding="utf-8-sig"), newline="")))
    rows = edit(rows)
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    target.write_text("\ufeff" + buffer.getvalue(), encoding="utf-8", newline="")
    return target


def test_import_rejects_bad_headers_and_scores(store, tmp_path):
    design = _create(store, sample=12)
    _store_with_scores(store, design)
    source = tmp_path / "wide.csv"
    study.export(store, "s1", "wide", source)
    fresh = _fresh_store(store, tmp_path)
    missing = _edit_csv(source, tmp_path / "missing.csv", lambda rows: [row[:-1] for row in rows])
    with pytest.raises(InputError, match="missing columns: timestamp"):
        study.import_csv(fresh, "s1", missing)
    extra = _edit_csv(
        source,
        tmp_path / "extra.csv",
        lambda rows: [row + ["x"] for row in rows[:1]] + [row + ["1"] for row in rows[1:]],
    )
    with pytest.raises(InputError, match="unexpected columns: x"):
        study.import_csv(fresh, "s1", extra)
    column = study.WIDE_COLUMNS.index("fluency")

    def bad_score(rows):
        rows[3][column] = "6"
        return rows

    bad = _edit_csv(source, tmp_path / "bad.csv", bad_score)
    with pytest.raises(InputError) as caught:
        study.import_csv(fresh, "s1", bad)
    assert str(caught.value).startswith(f"{bad}:4: fluency: score '6'")
    assert load_annotations(fresh, "study:s1") == []


# ------------------------------------------------------------------------------------------------- CLI


def _cli(data: Path, *argv: str) -> int:
    return main(["--data-dir", str(data), *argv])


def test_cli_study_workflow(store, tmp_path, capsys):
    data = store.root
    assert (
        _cli(
            data,
            "study",
            "create",
            "cli",
            "--runs",
            "run-alpha,run-beta",
            "--sample",
            "6",
            "--annotators",
            "alice,bob",
            "--stratify",
            "scenario,persona",
            "--seed",
            "5",
        )
        == 0
    )
    assert (
        _cli(data, "study", "create", "cli", "--runs", "run-alpha", "--sample", "2", "--annotators", "a") == 2
    )
    assert "already exists" in capsys.readouterr().err
    assert _cli(data, "study", "pack", "cli", "--annotator", "alice") == 0
    pack = data / "studies" / "cli" / "packs" / "cli-alice.pack.json"
    assert pack.is_file()
    assert _cli(data, "study", "pack", "cli", "--annotator", "zed") == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "'zed' is not an annotator" in error
    design = study.load_study(store, "cli")
    for entry in design.assignments["alice"]:
        for blinded in entry.systems:
            study.append_pack_score(pack, _annotation(design, "alice", entry, blinded, _full(4)))
    assert _cli(data, "study", "merge", "cli", str(pack), "--json") == 0
    assert json.loads(capsys.readouterr().out)["added"] == 18
    assert _cli(data, "study", "show", "cli", "--json") == 0
    shown = capsys.readouterr().out
    assert "systems" not in json.loads(shown) and "run-alpha::" not in shown
    assert _cli(data, "study", "show", "cli", "--reveal", "--json") == 0
    assert "run-alpha::" in capsys.readouterr().out
    assert _cli(data, "study", "list", "--json") == 0
    assert json.loads(capsys.readouterr().out)[0]["rated"] == 18
    assert _cli(data, "study", "agreement", "cli", "--json") == 2  # two judges: name one
    assert "choose one with --judge-model" in capsys.readouterr().err
    assert _cli(data, "study", "agreement", "cli", "--judge-model", JUDGE, "--json") == 0
    assert json.loads(capsys.readouterr().out)["judge_model"] == JUDGE
    assert _cli(data, "study", "agreement", "cli", "--judge-model", JUDGE) == 0
    assert "ICC(2,k)" in capsys.readouterr().out.replace("\n", "")
    out = tmp_path / "cli.csv"
    assert _cli(data, "study", "export", "cli", "--format", "long", "--out", str(out)) == 0
    assert "Wrote 108 rows" in capsys.readouterr().out.replace("\n", "")
    assert len(_csv_rows(out)) == 18 * 6
    assert _cli(data, "study", "import-csv", "cli", str(out), "--json") == 0
    assert json.loads(capsys.readouterr().out)["unchanged"] == 18
    assert _cli(data, "study", "show", "nope") == 2


def test_one_rule_of_finished_for_study_progress_agreement_and_report():
    """Skipped, or six scores and committed: the study's progress, the annotator screen and the report agree."""
    partial = Annotation("s", "a", "p", 0, "S1", scores={**_full(3), "safety": None}, committed=False)
    complete = Annotation("s", "a", "p", 0, "S1", scores=_full(3), committed=False)
    committed = Annotation("s", "a", "p", 0, "S1", scores=_full(3), committed=True)
    skipped = Annotation("s", "a", "p", 0, "S1", skipped=True)
    assert [a.finished for a in (partial, complete, committed, skipped)] == [False, False, True, True]
    assert [a.has_final_scores for a in (partial, complete, committed, skipped)] == [
        False,
        False,
        True,
        False,
    ]


def test_an_uncommitted_annotation_is_neither_progress_nor_agreement(store, tmp_path):
    design = _create(store, sample=4)
    entry = design.assignments["alice"][0]
    for blinded in entry.systems:
        save_annotation(store, _annotation(design, "alice", entry, blinded, _full(4), committed=False))
    report = study.merge(store, "s1", [])
    assert entry.item_id in report.missing["alice"]
    assert study.progress(design, load_annotations(store, "study:s1"))["alice"]["rated"] == 0


def test_agreement_says_when_its_scores_were_given_under_two_rubric_versions(store):
    design = _create(store, sample=8)
    _rate_everything(store, design)
    assert study.agreement(store, "s1", judge_model=JUDGE)["rubric_note"] is None
    older = next(a for a in load_annotations(store, study.study_scope("s1")) if a.has_final_scores)
    save_annotation(store, replace(older, rubric_version="compass-tui-rubric/0"))
    note = study.agreement(store, "s1", judge_model=JUDGE)["rubric_note"]
    assert note.startswith("study s1: its human scores were given under 2 rubric versions and are pooled")
    assert "compass-tui-rubric/0: 1," in note
