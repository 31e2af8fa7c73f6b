"""The persona library: bundled personas, imported ComPASS users and personas written by the user.

Bundled personas live in the checkout's `personas/`; imported and authored ones in the data
dir's `personas/`, one file each. A persona saved under a bundled id shadows the bundled copy.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path

from compass_tui import paths
from compass_tui.compass_format import load_compass_file, personas_to_compass
from compass_tui.errors import InputError, NotFoundError
from compass_tui.jsonio import atomic_write_json, atomic_write_text, dumps, load_json, write_output_text
from compass_tui.persona import Persona, load_persona_file, persona_to_dict

KINDS = ("bundled", "imported", "authored")


@dataclass
class PersonaEntry:
    """One persona file, loaded or not: a broken file is listed with its error, never dropped."""

    id: str
    path: Path
    kind: str
    persona: Persona | None = None
    error: InputError | None = None

    def failure(self) -> InputError:
        """Why this entry has no persona (an entry without one always carries its error)."""
        assert self.error is not None
        return self.error

    @property
    def name(self) -> str:
        return self.persona.display_name if self.persona else self.path.stem

    def summary(self) -> dict:
        info: dict = {"id": self.id, "kind": self.kind, "path": str(self.path)}
        if self.persona:
            demographic = self.persona.demographic
            info |= {
                "name": self.name,
                "age": demographic.age,
                "gender": demographic.gender,
                "career": demographic.career,
                "situations": len(self.persona.situations),
                "preferences": _preference_sets(self.persona),
                "warnings": self.persona.warnings(),
            }
        else:
            info["error"] = str(self.error)
        return info


@dataclass
class ImportResult:
    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept_edited: list[str] = field(default_factory=list)


class PersonaLibrary:
    def __init__(self, data_dir: Path, bundled_dir: Path | None = None):
        self.user_dir = Path(data_dir) / "personas"
        self.bundled_dir = bundled_dir if bundled_dir is not None else paths.bundled_personas_dir()
        self._entries: dict[str, PersonaEntry] | None = None

    def entries(self) -> list[PersonaEntry]:
        if self._entries is None:
            self._entries = self._scan()
        return list(self._entries.values())

    def refresh(self) -> None:
        self._entries = None

    def _scan(self) -> dict[str, PersonaEntry]:
        entries: dict[str, PersonaEntry] = {}
        for directory, default_kind in ((self.bundled_dir, "bundled"), (self.user_dir, None)):
            if not directory.is_dir():
                continue
            for path in sorted(directory.glob("*.json"), key=_natural_key):
                entry = _load_entry(path, default_kind)
                entries[entry.id] = entry
        return entries

    def get_entry(self, persona_id: str) -> PersonaEntry:
        for entry in self.entries():
            if entry.id == persona_id:
                return entry
        raise NotFoundError(None, None, f"no persona {persona_id!r} (see `compass-tui personas list`)")

    def get(self, persona_id: str) -> Persona:
        entry = self.get_entry(persona_id)
        if entry.persona is None:
            raise entry.failure()
        return entry.persona

    def select(self, selector: str) -> list[Persona]:
        """Personas matching a selector: comma-separated ids, globs (compass-1*), or all|bundled|imported|authored."""
        chosen: dict[str, Persona] = {}
        valid = [entry for entry in self.entries() if entry.persona is not None]
        for term in (part.strip() for part in selector.split(",")):
            if not term:
                continue
            if term == "all":
                matched = valid
            elif term in KINDS:
                matched = [entry for entry in valid if entry.kind == term]
            elif any(char in term for char in "*?["):
                matched = [entry for entry in valid if fnmatch.fnmatchcase(entry.id, term)]
            else:
                matched = [self.get_entry(term)]
                if matched[0].persona is None:
                    raise matched[0].failure()
            if not matched:
                raise NotFoundError(None, "--personas", f"{term!r} matches no persona")
            for entry in matched:
                if entry.persona is not None:
                    chosen.setdefault(entry.id, entry.persona)
        if not chosen:
            raise NotFoundError(None, "--personas", "the selector is empty")
        return list(chosen.values())

    def check_case_collision(self, persona_id: str, source: str | Path | None = None) -> None:
        """Persona files are named by id: on a case-insensitive filesystem "Adam" and "adam" would share one."""
        for entry in self.entries():
            if entry.id != persona_id and entry.id.casefold() == persona_id.casefold():
                raise InputError(
                    source,
                    "id",
                    f"persona id {persona_id!r} differs from the existing {entry.id!r} only in case",
                )

    def save(self, persona: Persona) -> Path:
        self.check_case_collision(persona.id)
        path = self.user_dir / f"{persona.id}.json"
        atomic_write_text(path, dumps(persona_to_dict(persona)) + "\n")
        self.refresh()
        return path

    def delete(self, persona_id: str) -> None:
        entry = self.get_entry(persona_id)
        if entry.kind == "bundled" and entry.path.parent == self.bundled_dir:
            raise InputError(entry.path, None, "bundled personas cannot be deleted; edit a copy instead")
        entry.path.unlink()
        self.refresh()

    def import_compass(self, source: str | Path) -> ImportResult:
        """Import every user of a ComPASS persona file. All are validated before anything is written."""
        personas = load_compass_file(source)
        for persona in personas:
            self.check_case_collision(persona.id, source)
        result = ImportResult()
        for persona in personas:
            path = self.user_dir / f"{persona.id}.json"
            document = persona_to_dict(persona)
            if path.exists():
                existing = _read_document(path)
                if existing == document:
                    result.unchanged.append(persona.id)
                    continue
                if existing is not None and existing.get("origin") == document["origin"]:
                    result.kept_edited.append(persona.id)
                    continue
            atomic_write_json(path, document)
            result.added.append(persona.id)
        self.refresh()
        return result

    def export_compass(self, destination: str | Path, selector: str = "all") -> Path:
        """Write personas as a ComPASS-Bench file. A directory gets `test_set_correct_form.json`."""
        destination = Path(destination)
        if destination.is_dir() or destination.suffix.lower() != ".json":
            destination = destination / "test_set_correct_form.json"
        document = personas_to_compass(self.select(selector))
        write_output_text(destination, dumps(document, indent=4) + "\n", "DEST")
        return destination


def _preference_sets(persona: Persona) -> dict[str, dict[str, list[str]]]:
    """The liked, disliked and unclear tools per scenario type, as `personas list --json` shows them."""
    return {
        key: {
            "liked": list(preference.liked),
            "disliked": list(preference.disliked),
            "ambiguous": list(preference.ambiguous),
        }
        for key, preference in persona.tool_preferences.items()
    }


def _load_entry(path: Path, default_kind: str | None) -> PersonaEntry:
    try:
        persona = load_persona_file(path)
    except InputError as error:
        return PersonaEntry(id=path.stem, path=path, kind=default_kind or "authored", error=error)
    kind = default_kind or (
        "imported" if persona.origin and persona.origin.source == "compass-bench" else "authored"
    )
    return PersonaEntry(id=persona.id, path=path, kind=kind, persona=persona)


def _read_document(path: Path) -> dict | None:
    try:
        return load_json(path)
    except InputError:
        return None


def _natural_key(path: Path) -> tuple:
    stem = path.stem
    prefix, _, number = stem.rpartition("-")
    return (prefix, int(number), "") if number.isdigit() else (stem, -1, stem)
