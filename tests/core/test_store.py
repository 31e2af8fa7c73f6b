"""The store never loses an acknowledged save: SIGKILL mid-write, two writers on the same shards, atomic files.

The crash and concurrency tests run real child processes that save through
`compass_tui.annotations.save_annotation`; nothing is mocked.
"""

from __future__ import annotations

import json
import math
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from compass_tui.annotations import Annotation, load_annotation, load_annotations, save_annotation, shard_path
from compass_tui.errors import InputError
from compass_tui.jsonio import atomic_write_json, loads_strict
from compass_tui.store import Store
from compass_tui.vocab import DIMENSION_KEYS

REPO_ROOT = Path(__file__).resolve().parents[2]
SCOPE, ANNOTATOR = "durability", "ann-1"
PERSONAS_PER_WRITER = 5
KILL_ROUNDS = 3
CHILD_TIMEOUT_S = 120

# One child process: save `count` annotations as fast as it can, printing each key once save_annotation returned.
_WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from compass_tui.annotations import Annotation, save_annotation
    from compass_tui.store import Store
    from compass_tui.vocab import DIMENSION_KEYS

    root, system, count, go_file = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    store = Store(root)
    while go_file != "-" and not Path(go_file).exists():
        time.sleep(0.001)
    print("start", time.monotonic(), flush=True)
    for index in range(count):
        persona = f"persona-{index % 5}"
        situation = (index // 5) % 15
        round_ = index // 75
        scores = {key: 1 + (index + offset) % 5 for offset, key in enumerate(DIMENSION_KEYS)}
        annotation = Annotation(scope="durability", annotator="ann-1", persona_id=persona,
                                situation_index=situation, system=f"{system}-{round_}", scores=scores)
        save_annotation(store, annotation)
        print("ack", annotation.key, flush=True)
    print("end", time.monotonic(), flush=True)
""")


def expected_scores(index: int) -> dict[str, int]:
    return {key: 1 + (index + offset) % 5 for offset, key in enumerate(DIMENSION_KEYS)}


def expected_key(system: str, index: int) -> str:
    return f"persona-{index % 5}#{(index // 5) % 15}|{system}-{index // 75}"


def start_writer(root: Path, system: str, count: int, go_file: Path | None = None) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(root), system, str(count), str(go_file) if go_file else "-"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO_ROOT,
    )


def stored_scores(store: Store) -> dict[str, dict[str, int | None]]:
    return {annotation.key: annotation.scores for annotation in load_annotations(store, SCOPE)}


def read_acks(process: subprocess.Popen, wanted: int) -> list[str]:
    """Keys acknowledged by the child, read until `wanted` acks arrived or the child ended."""
    acked: list[str] = []
    while len(acked) < wanted:
        line = process.stdout.readline()
        if not line:
            break
        kind, _, value = line.strip().partition(" ")
        if kind == "ack":
            acked.append(value)
    return acked


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_no_acknowledged_save(tmp_path):
    """kill -9 a writer after a random number of acks; every acknowledged key is present with its scores."""
    seed = int(os.environ.get("COMPASS_TUI_KILL_SEED", random.randrange(2**31)))
    chooser = random.Random(seed)
    for round_number in range(KILL_ROUNDS):
        root = tmp_path / f"store-{round_number}"
        kill_after = chooser.randint(50, 900)
        writer = start_writer(root, "S", 1000)
        try:
            acked = read_acks(writer, kill_after)
            writer.send_signal(signal.SIGKILL)
            writer.wait(timeout=CHILD_TIMEOUT_S)
        finally:
            if writer.poll() is None:
                writer.kill()
        context = f"seed={seed} round={round_number} kill_after={kill_after}"
        assert len(acked) == kill_after, f"{context}: the writer died early: {writer.stderr.read()[-2000:]}"
        assert writer.returncode == -signal.SIGKILL, context

        reopened = Store(root)
        stored = stored_scores(reopened)
        assert len(acked) <= len(stored) < 1000, f"{context}: the kill must land while the writer is saving"
        for index, key in enumerate(acked):
            assert key == expected_key("S", index), context
            assert stored.get(key) == expected_scores(index), f"{context}: acknowledged {key} lost or wrong"
        # Everything stored is a whole annotation the writer produced, never a torn one.
        index_by_key = {expected_key("S", index): index for index in range(1000)}
        for key, scores in stored.items():
            assert scores == expected_scores(index_by_key[key]), f"{context}: unexpected {key}"
        # After a kill the store keeps working: a new save lands next to the old ones.
        extra = Annotation(
            scope=SCOPE,
            annotator=ANNOTATOR,
            persona_id="persona-0",
            situation_index=0,
            system="after-crash",
            scores=expected_scores(3),
        )
        save_annotation(reopened, extra)
        assert load_annotation(
            reopened, SCOPE, ANNOTATOR, "persona-0", 0, "after-crash"
        ).scores == expected_scores(3)
        assert len(stored_scores(reopened)) == len(stored) + 1, context


@pytest.mark.slow
def test_two_processes_saving_into_the_same_shards_lose_nothing(tmp_path):
    """Requirement 6: two writers, 300 saves each into the SAME persona shards, run at once: all 600 are present."""
    root, go_file = tmp_path / "store", tmp_path / "go"
    writers = {system: start_writer(root, system, 300, go_file) for system in ("A", "B")}
    time.sleep(0.5)  # both children import and wait at the start line
    go_file.touch()
    spans: dict[str, tuple[float, float]] = {}
    for system, writer in writers.items():
        out, err = writer.communicate(timeout=CHILD_TIMEOUT_S)
        assert writer.returncode == 0, err[-2000:]
        lines = dict(line.split(" ", 1) for line in out.splitlines() if not line.startswith("ack"))
        spans[system] = (float(lines["start"]), float(lines["end"]))
        assert sum(1 for line in out.splitlines() if line.startswith("ack ")) == 300
    # The writers really overlapped, so the lock was exercised.
    (a_start, a_end), (b_start, b_end) = spans["A"], spans["B"]
    assert a_start < b_end and b_start < a_end, spans

    stored = stored_scores(Store(root))
    assert len(stored) == 600
    for system in ("A", "B"):
        for index in range(300):
            assert stored[expected_key(system, index)] == expected_scores(index)
    shard_names = sorted(p.name for p in (root / "annotations" / SCOPE / ANNOTATOR).glob("*.json"))
    assert shard_names == [f"persona-{i}.json" for i in range(PERSONAS_PER_WRITER)]


def temp_files(directory: Path) -> list[Path]:
    return sorted(directory.rglob("*.tmp"))


def test_atomic_write_leaves_no_temp_files(tmp_path):
    target = tmp_path / "nested" / "doc.json"
    atomic_write_json(target, {"a": 1})
    atomic_write_json(target, {"a": 2, "text": "naïve ✓"})
    assert json.loads(target.read_text(encoding="utf-8")) == {"a": 2, "text": "naïve ✓"}
    assert temp_files(tmp_path) == []
    assert sorted(p.name for p in target.parent.iterdir()) == ["doc.json"]


@pytest.mark.parametrize("bad_value", [math.nan, math.inf, "lone \ud800 surrogate"])
def test_unserialisable_write_raises_and_keeps_the_old_file(tmp_path, bad_value):
    target = tmp_path / "doc.json"
    atomic_write_json(target, {"a": 1})
    before = target.read_bytes()
    with pytest.raises(ValueError):
        atomic_write_json(target, {"a": bad_value})
    assert target.read_bytes() == before
    assert temp_files(tmp_path) == []


def test_store_upsert_with_nan_raises_and_keeps_the_shard(tmp_path):
    store = Store(tmp_path)
    store.upsert("shard.json", "t", "k1", {"score": 3})
    before = (tmp_path / "shard.json").read_bytes()
    with pytest.raises(ValueError):
        store.upsert("shard.json", "t", "k2", {"score": math.nan})
    assert (tmp_path / "shard.json").read_bytes() == before
    assert store.all("shard.json", "t") == [{"score": 3, "key": "k1"}]
    assert temp_files(tmp_path) == []


def test_save_annotation_rejects_an_out_of_range_score_and_writes_nothing(tmp_path):
    store = Store(tmp_path)
    annotation = Annotation(scope=SCOPE, annotator=ANNOTATOR, persona_id="p", situation_index=0, system="S1")
    annotation.scores["empathy"] = 7
    with pytest.raises(Exception, match="outside 1-5"):
        save_annotation(store, annotation)
    assert not (tmp_path / shard_path(SCOPE, ANNOTATOR, "p")).exists()


def test_read_only_view_cannot_write(tmp_path):
    store = Store(tmp_path)
    store.upsert("shard.json", "t", "k1", {"score": 3})
    before = (tmp_path / "shard.json").read_bytes()
    with store.read("shard.json") as database:
        with pytest.raises(PermissionError):
            database.table("t").insert({"score": 4, "key": "k2"})
        with pytest.raises(PermissionError):
            database.drop_tables()
    assert (tmp_path / "shard.json").read_bytes() == before
    assert store.all("shard.json", "t") == [{"score": 3, "key": "k1"}]


def test_read_of_a_missing_shard_creates_nothing(tmp_path):
    store = Store(tmp_path)
    assert store.get("runs/none/run.json", "meta", "meta") is None
    assert store.all("runs/none/run.json", "meta") == []
    assert list(tmp_path.iterdir()) == []


def test_save_and_reload_round_trip_with_revisions(tmp_path):
    store = Store(tmp_path)
    annotation = Annotation(
        scope=SCOPE,
        annotator=ANNOTATOR,
        persona_id="compass-7",
        situation_index=4,
        system="run-1::gpt",
        scores=expected_scores(2),
        comment="warm, but generic",
    )
    save_annotation(store, annotation)
    annotation.set_score("safety", 1)
    save_annotation(store, annotation)
    loaded = load_annotation(store, SCOPE, ANNOTATOR, "compass-7", 4, "run-1::gpt")
    assert loaded.revision == 2
    assert loaded.scores == {**expected_scores(2), "safety": 1}
    assert loaded.comment == "warm, but generic"
    assert [a.key for a in load_annotations(store, SCOPE)] == ["compass-7#4|run-1::gpt"]


def test_stale_temp_files_are_ignored(tmp_path):
    store = Store(tmp_path)
    store.upsert("annotations/s/a/p.json", "t", "k", {"v": 1})
    stale = tmp_path / "annotations" / "s" / "a" / ".p.json.abc123.tmp"
    stale.write_text(
        '{"t": {"1": {"v": 2, "key": "k"', encoding="utf-8"
    )  # a torn write from a killed process
    assert store.shards("annotations") == [Path("annotations/s/a/p.json")]
    assert store.all_in("annotations", "t") == [{"v": 1, "key": "k"}]


def test_corrupt_shard_is_reported_naming_the_file(tmp_path):
    store = Store(tmp_path)
    shard = tmp_path / "annotations" / "s" / "a" / "p.json"
    shard.parent.mkdir(parents=True)
    shard.write_text('{"t": {"1": {"v": NaN}}}', encoding="utf-8")
    with pytest.raises(Exception) as caught:
        store.all("annotations/s/a/p.json", "t")
    assert str(shard) in str(caught.value) and "NaN" in str(caught.value)


def test_written_files_get_the_usual_mode_not_mkstemps_0600(tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    target = tmp_path / "export.json"
    atomic_write_json(target, {"a": 1})
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('{"a": NaN}', "a: NaN is not a valid number"),
        ('{"a": [1, {"b": 1e999}]}', "a[1].b: number is out of range (infinite)"),
        ('{"a": -Infinity}', "a: -Infinity is not a valid number"),
        ('{"a": "x\\ud800"}', "a: text holds a lone surrogate (\\ud800) at character 1"),
        ('{"\\udc00": 1}', "key holds a lone surrogate (\\udc00)"),
        ('"\ud800"', "text holds a lone surrogate"),  # a str already holding one, not an escape
        ('{"a": ' + "1" * 5000 + "}", "invalid JSON: Exceeds the limit (4300 digits)"),
    ],
)
def test_strict_json_rejects_what_a_store_must_never_hold(text, needle):
    with pytest.raises(InputError) as caught:
        loads_strict(text, source="s.json")
    assert str(caught.value).startswith("s.json") and needle in str(caught.value)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('{"a": "\\ud83d\\ude00"}', {"a": "😀"}),  # an escaped surrogate pair is one valid character
        ('{"a": "\\\\ud800"}', {"a": "\\ud800"}),  # an escaped backslash, not a surrogate escape
        ('{"a": 1.5e300, "b": -0.0}', {"a": 1.5e300, "b": -0.0}),
    ],
)
def test_strict_json_accepts_valid_look_alikes(text, value):
    assert loads_strict(text.encode("utf-8"), source="s.json") == value
