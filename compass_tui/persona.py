"""The persona model: a ComPASS-Bench user in our own one-file-per-persona format."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from compass_tui.errors import InputError, field_path
from compass_tui.jsonio import load_json
from compass_tui.vocab import (
    EMOTION_ALIASES,
    EMOTIONS,
    SCENARIO_BY_KEY,
    SCENARIO_KEYS,
    TOOL_FOLDERS,
)

PERSONA_FORMAT = "compass-tui/persona@1"
Level = Literal["low", "medium", "high"]
ScenarioSource = Literal["author", "inferred", "user"]
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Demographic(_Model):
    age: int = Field(ge=0, le=130)
    gender: str
    firstname: str
    lastname: str = ""
    address: str = ""
    phone: str = ""
    education: str = ""
    career: str = ""
    income: str = ""


class BigFive(_Model):
    openness: Level
    conscientiousness: Level
    extraversion: Level
    agreeableness: Level
    neuroticism: Level


class Background(_Model):
    hobbies: str = ""
    health_status: str = ""
    family_environment: str = ""
    living_habits: str = ""
    growth_experience: str = ""


class ToolPreference(_Model):
    text: str = ""
    liked: list[str] = Field(default_factory=list)
    disliked: list[str] = Field(default_factory=list)
    ambiguous: list[str] = Field(default_factory=list)
    confirmed: bool = False

    @field_validator("liked", "disliked", "ambiguous")
    @classmethod
    def _known_tools(cls, tools: list[str]) -> list[str]:
        for tool in tools:
            if tool not in TOOL_FOLDERS:
                raise ValueError(f"unknown tool {tool!r}; tools are: {', '.join(TOOL_FOLDERS)}")
        if len(set(tools)) != len(tools):
            raise ValueError("a tool is listed twice")
        return tools

    @model_validator(mode="after")
    def _disjoint(self) -> ToolPreference:
        both = set(self.liked) & set(self.disliked)
        if both:
            raise ValueError(f"{', '.join(sorted(both))} is both liked and disliked")
        return self

    def stance(self, tool: str) -> str:
        """'liked', 'disliked', 'ambiguous' or 'neutral' for a tool folder name."""
        if tool in self.liked:
            return "liked"
        if tool in self.disliked:
            return "disliked"
        if tool in self.ambiguous:
            return "ambiguous"
        return "neutral"


class ToolPreferences(_Model):
    work_study: ToolPreference
    health: ToolPreference
    family: ToolPreference
    social: ToolPreference
    leisure: ToolPreference

    def for_scenario(self, scenario_type: str) -> ToolPreference:
        return getattr(self, scenario_type)

    def items(self) -> list[tuple[str, ToolPreference]]:
        return [(key, getattr(self, key)) for key in SCENARIO_KEYS]


class Situation(_Model):
    scenario: str
    utterance: str
    emotion: str
    scenario_type: str | None = None
    scenario_type_source: ScenarioSource = "author"

    @field_validator("emotion")
    @classmethod
    def _known_emotion(cls, emotion: str) -> str:
        if emotion not in EMOTIONS and emotion not in EMOTION_ALIASES:
            raise ValueError(f"{emotion!r} is not one of the 31 ComPASS emotions")
        return emotion

    @field_validator("scenario_type")
    @classmethod
    def _known_scenario_type(cls, scenario_type: str | None) -> str | None:
        if scenario_type is not None and scenario_type not in SCENARIO_BY_KEY:
            raise ValueError(f"{scenario_type!r} is not a scenario type ({', '.join(SCENARIO_KEYS)})")
        return scenario_type

    @field_validator("utterance")
    @classmethod
    def _not_blank(cls, utterance: str) -> str:
        if not utterance.strip():
            raise ValueError("utterance is empty")
        return utterance

    @property
    def emotion_label(self) -> str:
        """The emotion as one of the 31 labels ('envious' in the test set reads as 'jealous')."""
        return EMOTION_ALIASES.get(self.emotion, self.emotion)


class Origin(_Model):
    source: str  # "compass-bench" (imported) or "synthesised"; absent for bundled and hand-written personas
    user_id: str | None = None
    file: str | None = None
    model: str | None = None  # synthesised: the configured model's name, its seed and the synthesis job
    seed: int | None = None
    job: str | None = None
    sampling_seed: int | None = (
        None  # synthesised: the seed sent to the model (None: its provider takes none)
    )


class Persona(_Model):
    format: Literal["compass-tui/persona@1"] = "compass-tui/persona@1"
    id: str
    name: str
    demographic: Demographic
    big_five: BigFive
    personality_description: str = ""
    background: Background
    tool_preferences: ToolPreferences
    situations: list[Situation] = Field(min_length=1)
    origin: Origin | None = None
    extra: dict[str, Any] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _valid_id(cls, persona_id: str) -> str:
        if not _ID_RE.match(persona_id):
            raise ValueError(
                "id must be 1-80 letters, digits, '-', '_' or '.', starting with a letter or digit"
            )
        return persona_id

    @property
    def display_name(self) -> str:
        return f"{self.demographic.firstname} {self.demographic.lastname}".strip()

    def warnings(self) -> list[str]:
        """Things a researcher should look at: ambiguous preferences, inferred scenario types, emotion aliases."""
        notes: list[str] = []
        for key, preference in self.tool_preferences.items():
            if preference.ambiguous and not preference.confirmed:
                label = SCENARIO_BY_KEY[key].label
                notes.append(f"{label}: preference unclear for {', '.join(preference.ambiguous)}")
        inferred = [i for i, s in enumerate(self.situations) if s.scenario_type_source == "inferred"]
        if inferred:
            notes.append(f"{len(inferred)} situation(s) have an inferred scenario type")
        for index, situation in enumerate(self.situations):
            if situation.emotion in EMOTION_ALIASES:
                notes.append(
                    f"situation {index + 1}: emotion {situation.emotion!r} read as {situation.emotion_label!r}"
                )
        return notes


def validation_message(error: ValidationError) -> tuple[str, str]:
    """The first error of a pydantic ValidationError as (field path, message)."""
    first = error.errors()[0]
    location = field_path(first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "missing":
        message = "missing field"
    elif first["type"] == "extra_forbidden":
        message = "unknown field"
    return location, message


def persona_from_dict(data: Any, *, source: str | Path | None = None) -> Persona:
    if not isinstance(data, dict):
        raise InputError(source, None, "a persona must be a JSON object")
    try:
        return Persona.model_validate(data)
    except ValidationError as error:
        location, message = validation_message(error)
        raise InputError(source, location or None, message) from None


def load_persona_file(path: str | Path) -> Persona:
    return persona_from_dict(load_json(path), source=path)


def persona_to_dict(persona: Persona) -> dict[str, Any]:
    return persona.model_dump(mode="json", exclude_none=True)
