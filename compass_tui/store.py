"""A TinyDB store that never loses an acknowledged save.

TinyDB's JSONStorage rewrites its file in place, so a crash mid-write can leave it empty,
and two processes can overwrite each other's saves. Here every TinyDB file is a small
shard (one per run and persona, one per annotator scope and persona, ...) written through
`AtomicJSONStorage`: a temp file is fsynced, renamed over the shard and the directory is
fsynced, all under an exclusive `flock` on the shard's lock file. A save therefore costs
the same whether the store holds a hundred annotations or a hundred thousand.

Layout under the data dir (see README, "Data layout"):

    personas/<persona>.json                         persona files (our format)
    runs/<run>/run.json                              run metadata (TinyDB)
    runs/<run>/records/<persona>.json                step records of that persona (TinyDB)
    annotations/<scope>/<annotator>/<persona>.json   human scores (TinyDB)
    judgements/<run>/<persona>.json                  judge scores and the judge cache (TinyDB)
    tool_state/<scope>/<persona>.json                schedules and appointments (TinyDB)
    studies/<study>/...                              study design, packs and merged scores
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from tinydb import TinyDB, where
from tinydb.storages import Storage
from tinydb.table import Document, Table

from compass_tui.jsonio import atomic_write_bytes, atomic_write_text, dumps, loads_strict

STALE_TEMP_S = 600.0  # a save's temp file lives for milliseconds; one this old was left by a killed save


class AtomicJSONStorage(Storage):
    """TinyDB storage that reads once per transaction and writes by atomic rename."""

    def __init__(self, path: str | Path, read_only: bool = False):
        self.path = Path(path)
        self.read_only = read_only
        self._cache: dict[str, Any] | None = None

    def read(self) -> dict[str, Any] | None:
        if self._cache is None:
            try:
                raw = self.path.read_bytes()
            except FileNotFoundError:
                return None
            self._cache = loads_strict(raw, source=self.path) if raw.strip() else {}
        return self._cache

    def write(self, data: dict[str, Any]) -> None:
        if self.read_only:
            raise PermissionError(f"{self.path} was opened read-only")
        text = dumps(data, indent=None)  # raises before anything is written if the data cannot be stored
        atomic_write_text(self.path, text + "\n")
        self._cache = data

    def write_encoded(self, encoded: bytes) -> None:
        """Write a shard already serialised in TinyDB's layout (the run writer's group commits)."""
        if self.read_only:
            raise PermissionError(f"{self.path} was opened read-only")
        atomic_write_bytes(self.path, encoded)
        self._cache = None

    def close(self) -> None:
        self._cache = None


class Store:
    """The data dir. Open shards with `transaction` (locked, writable) or `read` (a consistent snapshot)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self._swept: set[Path] = set()

    def path(self, *parts: str) -> Path:
        return self.root.joinpath(*parts)

    @contextmanager
    def transaction(self, relative: str | Path) -> Iterator[TinyDB]:
        """A TinyDB on one shard, holding its inter-process lock. Each write inside is durable when it returns."""
        shard = self.root / relative
        shard.parent.mkdir(parents=True, exist_ok=True)
        lock_path = shard.with_name(shard.name + ".lock")
        with open(lock_path, "a+b") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                if (
                    shard not in self._swept
                ):  # temps of killed saves are from earlier processes: once is enough
                    remove_stale_temps(shard)
                    self._swept.add(shard)
                database = TinyDB(shard, storage=AtomicJSONStorage)
                try:
                    yield database
                finally:
                    database.close()
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    @contextmanager
    def read(self, relative: str | Path) -> Iterator[TinyDB]:
        """A read-only TinyDB on one shard. Renames are atomic, so no lock is needed to read a whole snapshot."""
        database = TinyDB(self.root / relative, storage=AtomicJSONStorage, read_only=True)
        try:
            yield database
        finally:
            database.close()

    def upsert(self, relative: str | Path, table: str, key: str, document: dict[str, Any]) -> None:
        """Insert or replace the document whose `key` field is `key`."""
        with self.transaction(relative) as database:
            _upsert(database.table(table), key, document)

    def update(self, relative: str | Path, table: str, key: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Merge `changes` into the keyed document (creating it) and return the result."""
        with self.transaction(relative) as database:
            records = database.table(table)
            current = _find(records, key)
            merged = {**(dict(current) if current else {}), **changes, "key": key}
            _upsert(records, key, merged)
            return merged

    def modify(
        self,
        relative: str | Path,
        table: str,
        key: str,
        change: Callable[[dict[str, Any] | None], dict[str, Any]],
    ) -> dict[str, Any]:
        """Read, change and write the keyed document under the shard's lock: no update is lost between
        two processes. `change` gets the stored document (or None) and returns the one to store."""
        with self.transaction(relative) as database:
            records = database.table(table)
            current = _find(records, key)
            changed = {**change(dict(current) if current else None), "key": key}
            _upsert(records, key, changed)
            return changed

    def get(self, relative: str | Path, table: str, key: str) -> dict[str, Any] | None:
        with self.read(relative) as database:
            found = _find(database.table(table), key)
            return dict(found) if found else None

    def all(self, relative: str | Path, table: str) -> list[dict[str, Any]]:
        with self.read(relative) as database:
            return [dict(document) for document in database.table(table).all()]

    def shards(self, directory: str | Path) -> list[Path]:
        """The shard files under a directory, relative to the root, in a stable order."""
        base = self.root / directory
        if not base.is_dir():
            return []
        return sorted(
            path.relative_to(self.root) for path in base.rglob("*.json") if not path.name.startswith(".")
        )

    def all_in(self, directory: str | Path, table: str) -> list[dict[str, Any]]:
        documents: list[dict[str, Any]] = []
        for shard in self.shards(directory):
            documents.extend(self.all(shard, table))
        return documents

    def drop(self, relative: str | Path, table: str) -> None:
        with self.transaction(relative) as database:
            database.drop_table(table)


def remove_stale_temps(shard: Path, older_than_s: float = STALE_TEMP_S) -> int:
    """Delete the temp files that killed saves of this shard left behind. Call it holding the shard's
    lock: then no save of this shard is under way, and the age bound spares any other writer's."""
    removed = 0
    cutoff = time.time() - older_than_s
    for temp in shard.parent.glob(f".{shard.name}.*.tmp"):
        try:
            if os.stat(temp).st_mtime < cutoff:
                temp.unlink()
                removed += 1
        except FileNotFoundError:
            pass
    return removed


def _find(records: Table, key: str) -> Document | None:
    return records.get(where("key") == key)


def _upsert(records: Table, key: str, document: dict[str, Any]) -> None:
    document = {**document, "key": key}
    existing = _find(records, key)
    if existing is None:
        records.insert(document)
    else:
        records.update(lambda stored: _replace(stored, document), doc_ids=[existing.doc_id])


def _replace(stored: MutableMapping[str, Any], document: dict[str, Any]) -> None:
    stored.clear()
    stored.update(document)


@dataclass
class ShardText:
    """A shard as JSON text per document of one table, in TinyDB's layout, for writers that rewrite
    a large shard often (the run writer): only changed documents are serialised again."""

    table: str
    ids: dict[str, str] = field(default_factory=dict)  # record key -> TinyDB doc id
    texts: dict[str, bytes] = field(default_factory=dict)  # doc id -> the record's JSON
    other_tables: dict[str, bytes] = field(default_factory=dict)  # kept verbatim
    identity: tuple[int, int, int] | None = None

    @classmethod
    def parse(cls, data: dict[str, Any], table: str) -> ShardText:
        shard = cls(
            table, other_tables={name: orjson.dumps(docs) for name, docs in data.items() if name != table}
        )
        for doc_id, document in data.get(table, {}).items():
            shard.texts[doc_id] = orjson.dumps(document)
            shard.ids[document.get("key")] = doc_id
        return shard

    def update(self, changed: dict[str, bytes]) -> None:
        next_id = max((int(doc_id) for doc_id in self.texts), default=0) + 1
        for key, text in changed.items():
            if key not in self.ids:
                self.ids[key], next_id = str(next_id), next_id + 1
            self.texts[self.ids[key]] = text

    def render(self) -> bytes:
        parts = [b"{"]
        for name, text in self.other_tables.items():
            parts += [orjson.dumps(name), b":", text, b","]
        parts += [orjson.dumps(self.table), b":{"]
        for doc_id, text in self.texts.items():
            parts += [orjson.dumps(doc_id), b":", text, b","]
        if self.texts:
            parts.pop()
        parts.append(b"}}\n")
        return b"".join(parts)
