"""One name, one place: injective storage names, the migration of old data dirs, read-modify-write
under the shard lock (annotations, run metadata) and stale temp files, with real child processes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from compass_tui.annotations import Annotation, load_annotation, load_annotations, save_annotation, shard_path
from compass_tui.names import MAX_STORAGE_CHARS, legacy_storage_name, name_from_storage, storage_name
from compass_tui.records import INTERACTIONS_TABLE, META_TABLE, list_run_ids, load_run_meta, run_meta_path
from compass_tui.store import Store
from compass_tui.store_migration import MARKER, migrate_store
from compass_tui.vocab import DIMENSION_KEYS
from compass_tui.workspace import Context

REPO_ROOT = Path(__file__).resolve().parents[2]
COLLIDED_BEFORE = [
    ("pilot/a", "pilot a"),
    ("Ann Lee", "Ann_Lee"),
    ("Ann", "ann"),
    ("a:b", "a_b"),
    (".x", "x"),
]


# --- storage names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("first", "second"), COLLIDED_BEFORE)
def test_names_that_shared_a_file_before_get_two_case_distinct_ones(first, second):
    assert legacy_storage_name(first).lower() == legacy_storage_name(second).lower()  # the old collision
    assert storage_name(first).lower() != storage_name(second).lower()


@pytest.mark.parametrize(
    "name", ["r", "R", "pilot/a", "Ann Lee", "", ".", "..", "naïve 😀", "a%2Fb", "^a", "x" * 400, "A" * 100]
)
def test_a_storage_name_is_a_plain_file_name_and_decodes_back(name):
    encoded = storage_name(name)
    assert len(encoded) <= MAX_STORAGE_CHARS and "/" not in encoded and not encoded.startswith(".")
    assert encoded == encoded.encode("ascii").decode()
    assert name_from_storage(encoded) == (None if "~" in encoded else name)


def test_lower_case_slugs_keep_their_old_file_name():
    for name in ("adam-kerr", "profile-baseline-20261201-120000", "r@situation-3", "openai+x"):
        assert storage_name(name) == legacy_storage_name(name) == name


def test_annotators_that_collided_before_keep_their_own_scores(tmp_path):
    store = Store(tmp_path)
    for value, annotator in enumerate(["Ann Lee", "Ann_Lee", "Ann", "ann"], start=1):
        annotation = Annotation("session", annotator, "p", 0, "run::m")
        annotation.set_score("empathy", value)
        save_annotation(store, annotation)
    for value, annotator in enumerate(["Ann Lee", "Ann_Lee", "Ann", "ann"], start=1):
        loaded = load_annotation(store, "session", annotator, "p", 0, "run::m")
        assert loaded is not None and (loaded.annotator, loaded.scores["empathy"]) == (annotator, value)
    assert len(load_annotations(store, "session")) == 4


# --- migration of a format-1 data dir --------------------------------------------------------------


def _legacy_data_dir(root: Path) -> None:
    """A data dir as format 1 wrote it: lossy names ("pilot/a" -> pilot_a), no marker."""
    store = Store(root)
    store.upsert(
        "runs/pilot_a/run.json",
        META_TABLE,
        "meta",
        {"run_id": "pilot/a", "setting": "profile", "models": ["m"]},
    )
    store.upsert(
        "runs/pilot_a/records/Adam.json", INTERACTIONS_TABLE, "m|Adam|0", {"persona_id": "Adam", "model": "m"}
    )
    store.upsert(
        "judgements/pilot_a/Adam.json", "judgements", "k", {"run_id": "pilot/a", "persona_id": "Adam"}
    )
    record = Annotation("session", "Ann Lee", "Adam", 0, "pilot/a::m", scores={"empathy": 4}).as_record()
    store.upsert("annotations/session/Ann_Lee/Adam.json", "annotations", "Adam#0|pilot/a::m", record)
    store.upsert("tool_state/run@situation-1/adam.json", "schedules", "1", {"id": "1"})


def test_an_old_data_dir_is_migrated_once_with_a_note(tmp_path):
    _legacy_data_dir(tmp_path)
    context = Context(tmp_path)
    store = context.store
    (note,) = context.notes
    assert note == f"data dir {tmp_path} moved to injective file names: 6 renamed"
    assert list_run_ids(store) == ["pilot/a"] and load_run_meta(store, "pilot/a").models == ["m"]
    assert store.all(f"runs/pilot%2Fa/records/{storage_name('Adam')}.json", INTERACTIONS_TABLE)
    assert store.all(f"judgements/pilot%2Fa/{storage_name('Adam')}.json", "judgements")
    (annotation,) = load_annotations(store, "session", "Ann Lee")
    assert annotation.scores["empathy"] == 4
    assert (tmp_path / "tool_state/run@situation-1/adam.json").is_file()  # the same name in both formats
    assert (tmp_path / MARKER).is_file()
    assert migrate_store(Store(tmp_path)) is None and Context(tmp_path).notes == []


def test_a_new_data_dir_needs_no_note(tmp_path):
    context = Context(tmp_path)
    assert context.store.root == tmp_path and context.notes == []


# --- read-modify-write under the lock, with real processes ---------------------------------------

_EDITOR = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from compass_tui.annotations import Annotation, load_annotation, save_annotation
    from compass_tui.store import Store

    root, dimension, count, go_file = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    store = Store(root)
    while not Path(go_file).exists():
        time.sleep(0.001)
    annotation = load_annotation(store, "s", "ann", "p", 0, "run::m") or Annotation("s", "ann", "p", 0, "run::m")
    for index in range(count):
        annotation.set_score(dimension, 1 + index % 5)
        save_annotation(store, annotation)
""")


@pytest.mark.parametrize("writers", [2, 4])
def test_processes_editing_different_dimensions_of_one_annotation_lose_nothing(tmp_path, writers):
    saves = 300
    go = tmp_path / "go"
    dimensions = DIMENSION_KEYS[:writers]
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _EDITOR, str(tmp_path), dimension, str(saves), str(go)],
            cwd=REPO_ROOT,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        )
        for dimension in dimensions
    ]
    go.touch()
    assert all(child.wait(timeout=120) == 0 for child in children)
    stored = load_annotation(Store(tmp_path), "s", "ann", "p", 0, "run::m")
    assert stored is not None and stored.revision == writers * saves
    assert {key: stored.scores[key] for key in dimensions} == {key: 1 + (saves - 1) % 5 for key in dimensions}


def test_a_copy_read_before_anothers_save_keeps_that_save(tmp_path):
    store = Store(tmp_path)
    save_annotation(store, Annotation("s", "ann", "p", 0, "run::m"))
    mine = load_annotation(store, "s", "ann", "p", 0, "run::m")
    theirs = load_annotation(store, "s", "ann", "p", 0, "run::m")
    assert mine is not None and theirs is not None
    theirs.set_score("safety", 2)
    theirs.comment = "kind"
    save_annotation(store, theirs)
    mine.set_score("empathy", 5)
    save_annotation(store, mine)
    assert (mine.scores["safety"], mine.scores["empathy"], mine.comment) == (
        2,
        5,
        "kind",
    )  # mine sees theirs too
    stored = load_annotation(store, "s", "ann", "p", 0, "run::m")
    assert stored is not None and (stored.scores["safety"], stored.scores["empathy"], stored.revision) == (
        2,
        5,
        3,
    )


_STARTER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from compass_tui.store import Store
    from compass_tui.library import PersonaLibrary
    from compass_tui.pipeline import System
    from compass_tui.prompts import our_prompts
    from compass_tui.runner import RunPlan, prepare_run

    root, model, go_file = sys.argv[1], sys.argv[2], sys.argv[3]
    persona = PersonaLibrary(Path("/nonexistent")).get("adam-kerr")
    plan = RunPlan("shared", "profile", [System(model)], [persona], our_prompts())
    while not Path(go_file).exists():
        time.sleep(0.0005)
    prepare_run(Store(root), plan)
""")


def test_runs_started_at_once_keep_every_model_in_the_metadata(tmp_path):
    for attempt in range(3):
        root, go = tmp_path / f"data-{attempt}", tmp_path / f"go-{attempt}"
        models = [f"model-{index}" for index in range(4)]
        children = [
            subprocess.Popen(
                [sys.executable, "-c", _STARTER, str(root), model, str(go)],
                cwd=REPO_ROOT,
                env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
            )
            for model in models
        ]
        time.sleep(1.5)  # every child waits at the start line
        go.touch()
        assert all(child.wait(timeout=60) == 0 for child in children)
        meta = Store(root).get(run_meta_path("shared"), META_TABLE, "meta")
        assert meta is not None and sorted(meta["models"]) == models


# --- temp files of killed saves -------------------------------------------------------------------


def test_stale_temp_files_are_swept_under_the_lock_and_a_live_writers_are_kept(tmp_path):
    store = Store(tmp_path)
    store.upsert("annotations/s/a/p.json", "t", "k", {"v": 1})
    folder = tmp_path / "annotations" / "s" / "a"
    stale = folder / ".p.json.killed.tmp"
    stale.write_text("{torn", encoding="utf-8")
    an_hour_ago = time.time() - 3600
    os.utime(stale, (an_hour_ago, an_hour_ago))
    live = folder / ".p.json.writing.tmp"  # a save under way in another process
    live.write_text("{half", encoding="utf-8")
    other_shard = folder / ".q.json.killed.tmp"
    other_shard.write_text("{torn", encoding="utf-8")
    os.utime(other_shard, (an_hour_ago, an_hour_ago))

    fresh = Store(tmp_path)  # a new process: it sweeps each shard once, holding that shard's lock
    fresh.upsert("annotations/s/a/p.json", "t", "k", {"v": 2})
    assert not stale.exists() and live.exists() and other_shard.exists()
    assert fresh.get("annotations/s/a/p.json", "t", "k") == {"v": 2, "key": "k"}


def test_sweeping_beside_a_live_writer_loses_none_of_its_saves(tmp_path):
    writer = subprocess.Popen(
        [sys.executable, "-c", _EDITOR, str(tmp_path), "empathy", "400", str(tmp_path / "go")],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    (tmp_path / "go").touch()
    shard = shard_path("s", "ann", "p")
    while writer.poll() is None:
        Store(tmp_path).modify(shard, "other", "x", lambda stored: {"n": (stored or {}).get("n", 0) + 1})
    assert writer.returncode == 0
    stored = load_annotation(Store(tmp_path), "s", "ann", "p", 0, "run::m")
    assert stored is not None and stored.revision == 400
    assert not list((tmp_path / "annotations" / "s" / "ann").glob("*.tmp"))
