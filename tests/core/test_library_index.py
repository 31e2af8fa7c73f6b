"""The library index lists the personas before their files are read, and is never shown once a file changed."""

from __future__ import annotations

import json
import os
from pathlib import Path

from compass_tui import paths
from compass_tui.library import PersonaLibrary
from compass_tui.library_index import ListedPersona, files_stamp, read_index, write_index


def _library(data_dir: Path) -> tuple[PersonaLibrary, list[Path]]:
    library = PersonaLibrary(data_dir)
    return library, [paths.bundled_personas_dir(), data_dir / "personas"]


def test_the_index_lists_what_the_files_hold(data_dir):
    library, folders = _library(data_dir)
    stamp = files_stamp(folders)
    write_index(data_dir, stamp, library.entries())
    listed = read_index(data_dir, folders)
    assert listed == [ListedPersona.of(entry) for entry in library.entries()]
    adam = next(row for row in listed if row.id == "adam-kerr")
    assert (adam.name, adam.age, adam.kind, adam.broken) == ("Adam Kerr", 38, "bundled", False)


def test_an_added_edited_or_removed_persona_file_makes_the_index_stale(data_dir):
    library, folders = _library(data_dir)
    write_index(data_dir, files_stamp(folders), library.entries())
    saved = library.save(library.get("adam-kerr").model_copy(update={"id": "adam-copy"}))
    assert read_index(data_dir, folders) is None  # added
    write_index(data_dir, files_stamp(folders), PersonaLibrary(data_dir).entries())
    assert read_index(data_dir, folders) is not None
    document = json.loads(saved.read_text(encoding="utf-8"))
    saved.write_text(json.dumps({**document, "name": "Adam Changed"}), encoding="utf-8")
    os.utime(saved, ns=(1, 1))
    assert read_index(data_dir, folders) is None  # edited
    write_index(data_dir, files_stamp(folders), PersonaLibrary(data_dir).entries())
    saved.unlink()
    assert read_index(data_dir, folders) is None  # removed


def test_a_file_changed_while_the_library_was_read_leaves_the_index_stale(data_dir):
    library, folders = _library(data_dir)
    library.save(library.get("adam-kerr").model_copy(update={"id": "adam-copy"}))
    stamp = files_stamp(folders)  # taken before the files are read, as the library screen does
    entries = PersonaLibrary(data_dir).entries()
    (data_dir / "personas" / "adam-copy.json").unlink()
    write_index(data_dir, stamp, entries)
    assert read_index(data_dir, folders) is None
