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
import re
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from tinydb import TinyDB, where
from tinydb.storages import Storage
from tinydb.table import Document, Table

from compass_tui.jsonio import atomic_write_text, dumps, loads_strict

_SAFE_PART_RE = re.compile(r"[^A-Za-z0-9_.@+-]")


@lru_cache(maxsize=4096)  # every saved record asks for its shard's name
def safe_name(text: str) -> str:
    """A file-name-safe rendering of an id ("openai/gpt-4o" -> "openai_gpt-4o")."""
    cleaned = _SAFE_PART_RE.sub("_", text).strip("._") or "_"
    return cleaned[:120]


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

    def close(self) -> None:
        self._cache = None


class Store:
    """The data dir. Open shards with `transaction` (locked, writable) or `read` (a consistent snapshot)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

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
