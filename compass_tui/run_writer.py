"""Saving a run's records durably, on one thread, off the event loop, by group commit.

`save_record` only queues a record. The writer thread gathers what arrives within a window
(and while it is busy writing), then rewrites each persona's shard once for the whole group,
saving only the latest state of a record queued twice meanwhile. The window closes after
`window_s`, or sooner once `quiet_s` pass with no new save: a single step from the TUI, or the
last items of a run, are on disk at once, while a busy run's windows stay long, so that an
item's steps share rewrites (each rewrite costs the whole shard). `durable` waits until a
record's last queued state is on disk. A failed write is raised by the next `durable`,
`save_record` or `close`.

A shard is written through the store's storage, as `ShardText` (the store's TinyDB layout, kept
as JSON text per record). The writer keeps each
record's JSON from its last write of a shard, so a rewrite serialises only the records that
changed (with orjson, some 20 times faster than the json module on these records; it writes
NaN as null and refuses lone surrogates) and never parses the file it wrote itself. Before
using what it kept it checks, under the shard's lock, that the file is still the one it wrote
(inode, mtime and size); if anyone else has replaced it, it reads the file again.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from compass_tui.records import INTERACTIONS_TABLE, record_location
from compass_tui.store import AtomicJSONStorage, ShardText, Store

KEPT_SHARDS = 32  # a run writes a few personas' shards at a time; older ones are read again if needed


class RunWriter:
    def __init__(self, store: Store, window_s: float = 0.2, quiet_s: float = 0.02):
        self.store = store
        self.window_s = window_s
        self.quiet_s = quiet_s
        self._saves = 0  # queued so far; the window watches it to see whether saves still arrive
        self._pending: dict[str, dict[str, _Entry]] = {}  # shard -> key -> entry
        self._writing: dict[str, dict[str, _Entry]] = {}
        self._shards: OrderedDict[str, ShardText] = OrderedDict()  # touched by the writer thread only
        self._wake = threading.Condition()
        self._closed = False
        self._failure: Exception | None = None
        self._thread = threading.Thread(target=self._work, name="compass-store", daemon=True)
        self._thread.start()

    def save_record(self, run_id: str, record: dict[str, Any]) -> None:
        """Queue the record's current state (a shallow copy: the pipeline replaces, never mutates, its parts)."""
        path, key = _location(run_id, record)
        with self._wake:
            self._raise_failure()
            if self._closed:
                raise RuntimeError("the run's writer is closed")
            shard = self._pending.setdefault(path, {})
            waiters = shard[key].waiters if key in shard else []
            shard[key] = _Entry({**record, "key": key}, waiters)
            self._saves += 1
            self._wake.notify()

    async def durable(self, run_id: str, record: dict[str, Any]) -> None:
        """Return once the last state queued for this record is on disk."""
        path, key = _location(run_id, record)
        loop = asyncio.get_running_loop()
        written = loop.create_future()
        with self._wake:
            self._raise_failure()
            entry = self._pending.get(path, {}).get(key) or self._writing.get(path, {}).get(key)
            if entry is None:
                return
            entry.waiters.append((loop, written))
        await written

    def close(self) -> None:
        """Write what is pending, then stop the thread; raises a failure that nothing has reported yet."""
        with self._wake:
            self._closed = True
            self._wake.notify()
        self._thread.join()
        with self._wake:
            self._raise_failure()

    def _raise_failure(self) -> None:
        if self._failure is not None:
            failure, self._failure = self._failure, None
            raise failure

    def _work(self) -> None:
        while True:
            with self._wake:
                while not self._pending and not self._closed:
                    self._wake.wait()
                if not self._pending:
                    return
                closing = self._closed
            if not closing:
                self._hold_window()
            with self._wake:
                self._writing, self._pending = self._pending, {}
            failures = {}
            for path, entries in self._writing.items():
                try:
                    self._write(path, {key: entry.document for key, entry in entries.items()})
                except Exception as error:  # handed to whoever waits for these records
                    self._shards.pop(path, None)
                    failures[path] = error
            with self._wake:
                done, self._writing = self._writing, {}
                unreported = [
                    error
                    for path, error in failures.items()
                    if not any(entry.waiters for entry in done[path].values())
                ]
                if unreported and self._failure is None:
                    self._failure = unreported[0]
            settled: dict[asyncio.AbstractEventLoop, list] = {}
            for path, entries in done.items():
                for entry in entries.values():
                    for loop, written in entry.waiters:
                        settled.setdefault(loop, []).append((written, failures.get(path)))
            for loop, outcomes in settled.items():
                _settle(loop, outcomes)

    def _hold_window(self) -> None:
        """Let the saves of the same moment join this group (polled: waking on each save costs the GIL)."""
        deadline = time.monotonic() + self.window_s
        seen = -1
        while (remaining := deadline - time.monotonic()) > 0:
            with self._wake:
                if self._closed or self._saves == seen:
                    return
                seen = self._saves
            time.sleep(min(self.quiet_s, remaining))

    def _write(self, path: str, documents: dict[str, dict[str, Any]]) -> None:
        """One durable rewrite of the shard with these documents added or replaced."""
        shard_file = self.store.path(path)
        with self.store.transaction(path) as database:
            storage = database.storage
            assert isinstance(storage, AtomicJSONStorage)
            shard = self._kept(path, shard_file) or ShardText.parse(storage.read() or {}, INTERACTIONS_TABLE)
            changed = {key: orjson.dumps(document) for key, document in documents.items()}  # may raise
            shard.update(changed)
            storage.write_encoded(shard.render())
            shard.identity = _identity(shard_file)
        self._shards[path] = shard
        self._shards.move_to_end(path)
        if len(self._shards) > KEPT_SHARDS:
            self._shards.popitem(last=False)

    def _kept(self, path: str, shard_file: Path) -> ShardText | None:
        shard = self._shards.pop(path, None)
        if shard is None or shard.identity is None or shard.identity != _identity(shard_file):
            return None
        return shard


@dataclass
class _Entry:
    document: dict[str, Any]
    waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future]]


def _identity(path: Path) -> tuple[int, int, int] | None:
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return None
    return status.st_ino, status.st_mtime_ns, status.st_size


def _location(run_id: str, record: dict[str, Any]) -> tuple[str, str]:
    return record_location(run_id, record)


def _settle(loop: asyncio.AbstractEventLoop, outcomes: list[tuple[asyncio.Future, Exception | None]]) -> None:
    """Resolve a group's waiters on their loop, with one wake-up for the lot."""

    def resolve() -> None:
        for written, failure in outcomes:
            if written.done():  # its waiter was cancelled (Ctrl-C); the record is written all the same
                continue
            if failure is None:
                written.set_result(None)
            else:
                written.set_exception(failure)

    try:
        loop.call_soon_threadsafe(resolve)
    except RuntimeError:  # the loop has closed: nobody waits for these records any more
        pass
