"""What the library list shows of each persona, kept in a small file so the names are on screen before
the persona model (pydantic) is imported and a hundred persona files are read.

The index is stamped with the path, size and mtime of every persona file it was made from; any
change to the files (added, removed, edited) makes it stale, and a stale index is never shown.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compass_tui import paths

if TYPE_CHECKING:
    from compass_tui.library import PersonaEntry

INDEX_FORMAT = "compass-tui/library-index@1"


@dataclass(frozen=True)
class ListedPersona:
    id: str
    name: str
    age: int | None
    career: str
    kind: str
    warned: bool  # has warnings to show in the list
    broken: bool  # the file does not load

    @classmethod
    def of(cls, entry: PersonaEntry) -> ListedPersona:
        persona = entry.persona
        if persona is None:
            return cls(entry.id, entry.id, None, "", entry.kind, False, True)
        warned = bool(persona.warnings()) and entry.kind != "imported"
        demographic = persona.demographic
        return cls(
            entry.id, persona.display_name, demographic.age, demographic.career, entry.kind, warned, False
        )


def index_path(data_dir: Path) -> Path:
    digest = hashlib.sha256(str(Path(data_dir).resolve()).encode()).hexdigest()[:16]
    return paths.cache_dir() / f"library-index-{digest}.json"


def files_stamp(folders: list[Path]) -> list[list[Any]]:
    """Every persona file's name, size and mtime: what the index must still match."""
    stamp = []
    for folder in folders:
        try:
            found = list(os.scandir(folder))
        except OSError:
            continue
        for item in found:
            if item.name.endswith(".json") and item.is_file():
                status = item.stat()
                stamp.append([item.path, status.st_size, status.st_mtime_ns])
    return sorted(stamp)


def read_index(data_dir: Path, folders: list[Path]) -> list[ListedPersona] | None:
    """The listed personas, or None when there is no index or the files changed since it was written."""
    try:
        document = json.loads(index_path(data_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict) or document.get("format") != INDEX_FORMAT:
        return None
    if document.get("stamp") != files_stamp(folders):
        return None
    try:
        return [ListedPersona(**row) for row in document["personas"]]
    except (TypeError, KeyError):
        return None


def write_index(data_dir: Path, stamp: list[list[Any]], entries: list[PersonaEntry]) -> None:
    """`stamp`: files_stamp taken before the entries were read, so a file edited meanwhile makes it stale."""
    from compass_tui.jsonio import atomic_write_text

    document = {
        "format": INDEX_FORMAT,
        "stamp": stamp,
        "personas": [asdict(ListedPersona.of(entry)) for entry in entries],
    }
    try:
        atomic_write_text(index_path(data_dir), json.dumps(document, ensure_ascii=False))
    except OSError:
        pass  # the index only saves time; without it the list waits for the files
