"""Store format 2: data dirs written with the old, lossy file names are renamed once, on first open.

Format 1 named files with `legacy_storage_name`, which maps "pilot/a" and "pilot a" (or "Ann" and
"ann" on a case-insensitive filesystem) to one file. Format 2 uses `names.storage_name`, which is
injective. Each directory and shard is renamed to the storage name of the identity its own records
hold (a run's `run_id`, a shard's `persona_id`, an annotation's scope and annotator, a study's
name). Tool state holds no names; its shards keep theirs, which is what a lower-case name gives in
both formats. The marker `store.json` says a data dir is format 2.
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from compass_tui.errors import InputError
from compass_tui.jsonio import atomic_write_text
from compass_tui.names import storage_name
from compass_tui.store import Store

STORE_FORMAT = "compass-tui/store@2"
MARKER = "store.json"
FAMILIES = ("runs", "judgements", "annotations", "studies")


def migrate_store(store: Store) -> str | None:
    """Bring a data dir to format 2; returns a one-line note when anything was renamed."""
    marker = store.path(MARKER)
    if marker.is_file() or not store.root.is_dir():
        return None
    with open(store.path(".migration.lock"), "a+b") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        if marker.is_file():
            return None
        renamed, kept = _migrate(store)
        atomic_write_text(marker, json.dumps({"format": STORE_FORMAT}) + "\n")
    if not renamed and not kept:
        return None
    note = f"data dir {store.root} moved to injective file names: {renamed} renamed"
    return note + (f", {kept} kept (their new name was taken)" if kept else "")


class _Renames:
    def __init__(self) -> None:
        self.renamed = 0
        self.kept = 0

    def rename(self, path: Path, name: str | None) -> Path:
        if name is None or path.name == name:
            return path
        target = path.with_name(name)
        if target.exists():
            self.kept += 1
            return path
        path.rename(target)
        lock = path.with_name(path.name + ".lock")
        if lock.is_file():
            lock.rename(target.with_name(target.name + ".lock"))
        self.renamed += 1
        return target


def _migrate(store: Store) -> tuple[int, int]:
    renames = _Renames()
    for run_dir in _children(store.path("runs")):
        run_dir = renames.rename(run_dir, _named(_first(store, run_dir / "run.json", "meta"), "run_id"))
        _rename_shards(store, run_dir / "records", "interactions", renames)
    for judged_dir in _children(store.path("judgements")):
        first = next((_first(store, shard, "judgements") for shard in _shards(judged_dir)), None)
        judged_dir = renames.rename(judged_dir, _named(first, "run_id"))
        _rename_shards(store, judged_dir, "judgements", renames)
    for scope_dir in _children(store.path("annotations")):
        _migrate_scope(store, scope_dir, renames)
    for study_dir in _children(store.path("studies")):
        renames.rename(study_dir, _named(_read_json(study_dir / "study.json"), "name"))
    return renames.renamed, renames.kept


def _migrate_scope(store: Store, scope_dir: Path, renames: _Renames) -> None:
    annotator_dirs = _children(scope_dir)
    first = next((_first(store, s, "annotations") for d in annotator_dirs for s in _shards(d)), None)
    scope_dir = renames.rename(scope_dir, _named(first, "scope"))
    for annotator_dir in _children(scope_dir):
        shard = next(iter(_shards(annotator_dir)), None)
        annotator = _named(_first(store, shard, "annotations") if shard else None, "annotator")
        annotator_dir = renames.rename(annotator_dir, annotator)
        _rename_shards(store, annotator_dir, "annotations", renames)


def _rename_shards(store: Store, directory: Path, table: str, renames: _Renames) -> None:
    for shard in _shards(directory):
        persona = _named(_first(store, shard, table), "persona_id")
        renames.rename(shard, None if persona is None else persona + ".json")


def _named(document: dict[str, Any] | None, field: str) -> str | None:
    value = (document or {}).get(field)
    return storage_name(value) if isinstance(value, str) else None


def _first(store: Store, shard: Path, table: str) -> dict[str, Any] | None:
    if not shard.is_file():
        return None
    try:
        documents = store.all(shard.relative_to(store.root), table)
    except InputError:  # a damaged shard keeps its name; reading it says what is wrong
        return None
    return documents[0] if documents else None


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def _children(directory: Path, keep: Callable[[Path], bool] = Path.is_dir) -> list[Path]:
    return sorted(path for path in directory.iterdir() if keep(path)) if directory.is_dir() else []


def _shards(directory: Path) -> list[Path]:
    return _children(directory, lambda path: path.is_file() and path.suffix == ".json")
