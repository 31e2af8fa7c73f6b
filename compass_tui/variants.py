"""What-if utterances: a situation asked again with edited words, kept as a variant beside the original.

A variant is identified by its situation and the hash of its text (`records.variant_id_for`); its
records live in the run's `variants/` shards, so the original records are never rewritten, and the
official numbers (report, judge, studies) never read a variant. See records.py for the layout.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compass_tui.errors import InputError
from compass_tui.inputs import read_input_text
from compass_tui.interaction_record import InteractionRecord, VariantInfo
from compass_tui.persona import Persona
from compass_tui.records import load_variant_records, variant_id_for
from compass_tui.store import Store

HISTORY_REFUSED = "what-if variants are not available in the history setting (its turns depend on each other)"


@dataclass(frozen=True)
class Variant:
    persona_id: str
    situation_index: int
    text: str
    original_utterance: str

    @property
    def id(self) -> str:
        return variant_id_for(self.text)

    def info(self) -> VariantInfo:
        """The variant as its record stores it."""
        return VariantInfo(id=self.id, text=self.text, original_utterance=self.original_utterance)

    @classmethod
    def of_record(cls, record: InteractionRecord) -> Variant:
        variant = record.variant
        if variant is None:
            raise ValueError(f"{record.key} is not a what-if variant")
        return cls(record.persona_id, record.situation_index, variant.text, variant.original_utterance or "")

    def first_words(self, count: int = 5) -> str:
        words = self.text.split()
        return " ".join(words[:count]) + ("…" if len(words) > count else "")


def make_variant(
    persona: Persona, situation: int, text: str, source: str | Path | None = None, field: str = "text"
) -> Variant:
    """A variant of situation `situation` (0-based); an unknown situation or an empty text is bad input."""
    count = len(persona.situations)
    if not 0 <= situation < count:
        raise InputError(
            source, "situation", f"persona {persona.id!r} has situations 1-{count}, not {situation + 1}"
        )
    words = text.strip()
    if not words:
        raise InputError(source, field, f"the what-if text of situation {situation + 1} is empty")
    original = persona.situations[situation].utterance
    if words == original.strip():
        raise InputError(
            source, field, f"the what-if text of situation {situation + 1} is the original utterance"
        )
    return Variant(persona.id, situation, words, original)


def persona_saying(persona: Persona, variant: Variant) -> Persona:
    """The persona as it would be had the user said the variant's words in that situation."""
    situations = list(persona.situations)
    situations[variant.situation_index] = situations[variant.situation_index].model_copy(
        update={"utterance": variant.text}
    )
    return persona.model_copy(update={"situations": situations})


def variants_of(store: Store, run_id: str, persona_id: str) -> dict[int, list[Variant]]:
    """Per situation, the variants a run holds for a persona, in the order they were first made."""
    records = sorted(load_variant_records(store, run_id, persona_id), key=lambda r: r.started_at or "")
    found: dict[int, dict[str, Variant]] = {}
    for record in records:
        variant = Variant.of_record(record)
        found.setdefault(variant.situation_index, {}).setdefault(variant.id, variant)
    return {index: list(by_id.values()) for index, by_id in sorted(found.items())}


def read_utterance_file(path: Path, persona: Persona) -> list[Variant]:
    """A file of what-if texts by situation number (1-based): JSON `{"3": "text"}`, TOML `3 = "text"`, or
    text lines `3: text`. Each entry is checked like `make_variant`; errors name the file and entry."""
    content = read_input_text(path)
    entries = _entries(path, content)
    if not entries:
        raise InputError(path, None, "no what-if texts in the file")
    variants = []
    for key, text in entries:
        try:
            number = int(key)
        except ValueError:
            raise InputError(path, key, "keys are situation numbers (1-15)") from None
        if not isinstance(text, str):
            raise InputError(path, key, f"the what-if text must be a string, not {type(text).__name__}")
        variants.append(make_variant(persona, number - 1, text, path, key))
    return variants


def _entries(path: Path, content: str) -> list[tuple[str, Any]]:
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            document = json.loads(content)
        except ValueError as error:
            raise InputError(path, None, f"not JSON: {error}") from None
        if not isinstance(document, dict):
            raise InputError(path, None, "expected an object of situation number -> text")
        return list(document.items())
    if suffix == ".toml":
        try:
            return list(tomllib.loads(content).items())
        except tomllib.TOMLDecodeError as error:
            raise InputError(path, None, f"not TOML: {error}") from None
    entries = []
    for number, line in enumerate(content.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, colon, text = line.partition(":")
        if not colon:
            raise InputError(path, None, "expected `SITUATION: text`", number)
        entries.append((key.strip(), text))
    return entries
