"""A study's design and an annotator's pack as typed values.

`from_document` checks a parsed file field by field (a bad field is an InputError naming the file and
the field, e.g. `items[3].persona_id`); `to_document` gives back the JSON object, with its keys in the
order the files have always had, so a file read and written again is byte-for-byte the same.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from compass_tui.errors import InputError

STUDY_FORMAT = "compass-tui/study@1"
PACK_FORMAT = "compass-tui/study-pack@1"

Positions = dict[str, dict[str, dict[str, int]]]  # annotator -> item id -> blinded id -> position (1-based)


class _Fields:
    """One JSON object of a file, read field by field; `where` is its place in the file (`items[2]`)."""

    def __init__(self, document: Any, source: str | Path | None, where: str = ""):
        if not isinstance(document, dict):
            raise InputError(source, where or None, "not a JSON object")
        self.document, self.source, self.where = document, source, where

    def name(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def get(self, key: str, kind: type | tuple[type, ...], optional: bool = False) -> Any:
        value = self.document.get(key)
        if optional and value is None:
            return None
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise InputError(self.source, self.name(key), "missing or of the wrong type")
        return value

    def strings(self, key: str) -> list[str]:
        values = self.get(key, list)
        if not all(isinstance(value, str) for value in values):
            raise InputError(self.source, self.name(key), "must be a list of strings")
        return values

    def objects(self, key: str) -> list[_Fields]:
        return [
            _Fields(value, self.source, f"{self.name(key)}[{i}]")
            for i, value in enumerate(self.get(key, list))
        ]

    def child(self, key: str) -> _Fields:
        return _Fields(self.document.get(key), self.source, self.name(key))


# ---------------------------------------------------------------------------------------------- the design


@dataclass
class DesignItem:
    item_id: str
    persona_id: str
    situation_index: int
    scenario_type: str | None
    emotion: str | None
    utterance: str | None

    @classmethod
    def read(cls, fields: _Fields) -> DesignItem:
        return cls(
            fields.get("item_id", str),
            fields.get("persona_id", str),
            fields.get("situation_index", int),
            fields.get("scenario_type", str, optional=True),
            fields.get("emotion", str, optional=True),
            fields.get("utterance", str, optional=True),
        )


@dataclass
class Assignment:
    """One item as one annotator sees it: the blinded ids in display order."""

    item_id: str
    systems: list[str]

    @property
    def positions(self) -> dict[str, int]:
        return {blinded: position for position, blinded in enumerate(self.systems, 1)}


@dataclass
class Stratum:
    values: dict[str, str]
    available: int
    drawn: int


@dataclass(kw_only=True)
class StudyDesign:
    """`systems` maps blinded id -> system (`<run>::<model>`): the blinding, never shown to annotators."""

    format: str = STUDY_FORMAT
    name: str
    created_at: str
    seed: int
    nonce: str
    runs: list[str]
    stratify: list[str]
    sample: int
    systems: dict[str, str]
    blinded_ids: list[str]
    annotators: list[str]
    items: list[DesignItem]
    strata: list[Stratum]
    assignments: dict[str, list[Assignment]]
    rubric_version: str
    warnings: list[str] = field(default_factory=list)

    def to_document(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_document(cls, document: Any, source: str | Path | None) -> StudyDesign:
        fields = _Fields(document, source)
        if document.get("format") != STUDY_FORMAT:
            raise InputError(source, "format", f"not a compass-tui study design (expected {STUDY_FORMAT})")
        systems = fields.get("systems", dict)
        if not all(isinstance(value, str) for value in systems.values()):
            raise InputError(source, "systems", "must map blinded ids to system names")
        assignments = fields.child("assignments")
        design = cls(
            name=fields.get("name", str),
            created_at=fields.get("created_at", str),
            seed=fields.get("seed", int),
            nonce=fields.get("nonce", str),
            runs=fields.strings("runs"),
            stratify=fields.strings("stratify"),
            sample=fields.get("sample", int),
            systems=systems,
            blinded_ids=fields.strings("blinded_ids"),
            annotators=fields.strings("annotators"),
            items=[DesignItem.read(item) for item in fields.objects("items")],
            strata=[_stratum(stratum) for stratum in fields.objects("strata")],
            assignments={
                annotator: [
                    Assignment(e.get("item_id", str), e.strings("systems"))
                    for e in assignments.objects(annotator)
                ]
                for annotator in assignments.document
            },
            rubric_version=fields.get("rubric_version", str),
            warnings=fields.strings("warnings"),
        )
        design.check_consistent(source)
        return design

    def check_consistent(self, source: str | Path | None) -> None:
        """The fields that name each other agree: a blinded id per system, an assignment per annotator."""
        if sorted(self.blinded_ids) != sorted(self.systems):
            raise InputError(source, "blinded_ids", "must list the ids that `systems` maps, each once")
        if sorted(self.assignments) != sorted(self.annotators):
            raise InputError(source, "assignments", "must hold one list per annotator of `annotators`")

    def fingerprint(self) -> str:
        """A hash of the whole design. It holds a random nonce, so the hash reveals nothing of the blinding."""
        canonical = json.dumps(self.to_document(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def public_document(self, reveal: bool = False) -> dict[str, Any]:
        """The design without what would unblind it (the system map and the nonce), unless `reveal`."""
        document = self.to_document()
        if reveal:
            return document
        return {key: value for key, value in document.items() if key not in ("systems", "nonce")}

    @property
    def items_by_id(self) -> dict[str, DesignItem]:
        return {item.item_id: item for item in self.items}

    @property
    def units(self) -> list[tuple[str, str]]:
        """Every (item id, blinded id), item by item."""
        return [(item.item_id, blinded) for item in self.items for blinded in self.blinded_ids]

    def positions(self) -> Positions:
        return {
            annotator: {entry.item_id: entry.positions for entry in entries}
            for annotator, entries in self.assignments.items()
        }

    def check_annotator(
        self, annotator: str, source: str | Path | None = None, line: int | None = None
    ) -> None:
        if annotator not in self.annotators:
            raise InputError(
                source,
                "annotator",
                f"{annotator!r} is not an annotator of study {self.name!r} "
                f"(annotators: {', '.join(self.annotators)})",
                line=line,
            )


def _stratum(fields: _Fields) -> Stratum:
    values = fields.get("values", dict)
    return Stratum(values, fields.get("available", int), fields.get("drawn", int))


# ---------------------------------------------------------------------------------------------- the pack


@dataclass
class RubricDimension:
    key: str
    short: str
    label: str
    definition: str
    levels: dict[str, str]  # "5".."1" -> the level's description


@dataclass
class PackRubric:
    version: str
    scale: list[int]
    dimensions: list[RubricDimension]


@dataclass
class PackPersona:
    name: str
    age: int | None
    career: str
    personality_description: str
    tool_preference: str


@dataclass
class PackSituation:
    scenario: str
    utterance: str
    emotion: str | None
    scenario_type: str | None


@dataclass
class PackResponse:
    blinded_id: str
    position: int
    tool_call: dict[str, Any] | None
    tool_result: dict[str, Any] | None
    response: str | None


@dataclass
class PackItem:
    order: int
    item_id: str
    persona_id: str
    situation_index: int
    persona: PackPersona
    situation: PackSituation
    responses: list[PackResponse]

    @classmethod
    def read(cls, fields: _Fields) -> PackItem:
        item_id = fields.document.get("item_id")
        if not isinstance(item_id, str) or not isinstance(fields.document.get("responses"), list):
            raise InputError(fields.source, fields.where, "an item needs an item_id and a list of responses")
        persona, situation = fields.child("persona"), fields.child("situation")
        return cls(
            order=fields.get("order", int),
            item_id=item_id,
            persona_id=fields.get("persona_id", str),
            situation_index=fields.get("situation_index", int),
            persona=PackPersona(
                persona.get("name", str),
                persona.get("age", int, optional=True),
                persona.get("career", str),
                persona.get("personality_description", str),
                persona.get("tool_preference", str),
            ),
            situation=PackSituation(
                situation.get("scenario", str),
                situation.get("utterance", str),
                situation.get("emotion", str, optional=True),
                situation.get("scenario_type", str, optional=True),
            ),
            responses=[_response(response) for response in fields.objects("responses")],
        )


def _response(fields: _Fields) -> PackResponse:
    blinded, position = fields.document.get("blinded_id"), fields.document.get("position")
    if not isinstance(blinded, str) or not isinstance(position, int) or isinstance(position, bool):
        raise InputError(fields.source, fields.where, "a response needs a blinded_id and a position")
    return PackResponse(
        blinded,
        position,
        fields.get("tool_call", dict, optional=True),
        fields.get("tool_result", dict, optional=True),
        fields.get("response", str, optional=True),
    )


@dataclass(kw_only=True)
class StudyPack:
    """What one annotator takes away: the rubric and, per assigned item, the blinded responses."""

    format: str = PACK_FORMAT
    study: str
    fingerprint: str
    annotator: str
    rubric: PackRubric
    items: list[PackItem]

    def to_document(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_document(cls, document: Any, source: str | Path | None) -> StudyPack:
        if not isinstance(document, dict) or document.get("format") != PACK_FORMAT:
            raise InputError(source, "format", f"not a compass-tui study pack (expected {PACK_FORMAT})")
        fields = _Fields(document, source)
        return cls(
            study=fields.get("study", str),
            fingerprint=fields.get("fingerprint", str),
            annotator=fields.get("annotator", str),
            rubric=_rubric(fields.child("rubric")),
            items=[PackItem.read(item) for item in fields.objects("items")],
        )

    def positions(self) -> Positions:
        """Like `StudyDesign.positions`, for the pack's one annotator."""
        return {
            self.annotator: {
                item.item_id: {response.blinded_id: response.position for response in item.responses}
                for item in self.items
            }
        }


def _rubric(fields: _Fields) -> PackRubric:
    dimensions = [
        RubricDimension(
            d.get("key", str),
            d.get("short", str),
            d.get("label", str),
            d.get("definition", str),
            d.get("levels", dict),
        )
        for d in fields.objects("dimensions")
    ]
    return PackRubric(fields.get("version", str), fields.get("scale", list), dimensions)
