"""The run writer: group commits in TinyDB's layout, and never overwriting what someone else saved."""

from __future__ import annotations

import json

import pytest

from compass_tui.records import INTERACTIONS_TABLE, run_records_path
from compass_tui.run_writer import RunWriter
from compass_tui.store import Store

RUN, PERSONA = "run-w", "p-1"
SHARD = run_records_path(RUN, PERSONA)


def record(index: int, status: str = "done", **extra) -> dict:
    return {
        "run_id": RUN,
        "model": "m",
        "persona_id": PERSONA,
        "situation_index": index,
        "status": status,
        "response": f"reply {index} ünïcode",
        **extra,
    }


def stored(store: Store) -> dict[int, dict]:
    return {document["situation_index"]: document for document in store.all(SHARD, INTERACTIONS_TABLE)}


@pytest.fixture
def store(tmp_path) -> Store:
    return Store(tmp_path / "data")


@pytest.fixture
def writer(store):
    writer = RunWriter(store, window_s=0.01)
    yield writer
    writer.close()


async def save(writer: RunWriter, *records: dict) -> None:
    for item in records:
        writer.save_record(RUN, item)
    for item in records:
        await writer.durable(RUN, item)


async def test_durable_records_are_in_tinydbs_layout_with_their_latest_state(store, writer):
    await save(writer, record(0, "selected"), record(1), record(0, "executed"), record(0, "done"))
    documents = stored(store)
    assert sorted(documents) == [0, 1]
    assert documents[0]["status"] == "done" and documents[0]["key"] == "m|p-1|0"
    assert documents[1]["response"] == "reply 1 ünïcode"
    raw = json.loads(store.path(SHARD).read_text(encoding="utf-8"))
    assert list(raw) == [INTERACTIONS_TABLE] and sorted(raw[INTERACTIONS_TABLE]) == ["1", "2"]


async def test_a_rewrite_keeps_records_it_did_not_change(store, writer):
    await save(writer, record(0), record(1))
    await save(writer, record(2))
    await save(writer, record(1, response="changed"))
    documents = stored(store)
    assert [documents[i]["response"] for i in (0, 1, 2)] == ["reply 0 ünïcode", "changed", "reply 2 ünïcode"]


async def test_records_saved_to_the_shard_by_someone_else_survive_the_next_group(store, writer):
    await save(writer, record(0))
    store.upsert(SHARD, INTERACTIONS_TABLE, "m|p-1|7", record(7, response="from another process"))
    store.upsert(SHARD, "notes", "n", {"text": "another table"})
    await save(writer, record(1))
    documents = stored(store)
    assert sorted(documents) == [0, 1, 7] and documents[7]["response"] == "from another process"
    assert store.all(SHARD, "notes")[0]["text"] == "another table"


async def test_a_deleted_shard_is_started_afresh(store, writer):
    await save(writer, record(0))
    store.path(SHARD).unlink()
    await save(writer, record(1))
    assert sorted(stored(store)) == [1]


async def test_a_record_that_cannot_be_stored_fails_its_waiter_and_loses_nothing_else(store, writer):
    await save(writer, record(0))
    with pytest.raises(TypeError, match="surrogates"):
        await save(writer, record(1, response="a lone \ud800 surrogate"))
    await save(writer, record(2))
    assert sorted(stored(store)) == [0, 2]
