"""Read and write ComPASS-Bench's persona file (`test_set_correct_form.json`) unchanged.

A ComPASS user maps onto our Persona field by field; what has no place in our model is
kept in `Persona.extra` so that exporting gives back an equal document.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from compass_tui.errors import InputError
from compass_tui.jsonio import load_json
from compass_tui.persona import PERSONA_FORMAT, Demographic, Persona, persona_from_dict
from compass_tui.preferences import parse_preference_text
from compass_tui.scenario import classify_scenario
from compass_tui.vocab import (
    BACKGROUND_ASPECTS,
    BIG_FIVE,
    SCENARIO_BY_COMPASS_KEY,
    SCENARIO_BY_KEY,
    SCENARIO_TYPES,
)

COMPASS_USER_KEYS = (
    "demographic",
    "Big_Five_personality_traits",
    "personality_description",
    "background",
    "tool_preferences",
    "scenarios",
    "name",
    "utterance",
)
_BIG_FIVE_KEYS = {key.capitalize(): key for key in BIG_FIVE}
_BACKGROUND_KEYS = {compass: ours for ours, compass in BACKGROUND_ASPECTS.items()}
COMPASS_ID_PREFIX = "compass-"
_SITUATION_FIELD_RE = re.compile(r"^situations\[(\d+)\]\.(\w+)")


def load_compass_file(path: str | Path) -> list[Persona]:
    """Every user in a ComPASS-Bench persona file, as personas. Raises InputError on bad input."""
    data = load_json(path)
    if not isinstance(data, dict) or not data:
        raise InputError(path, None, 'expected a JSON object of users keyed by id ("0", "1", ...)')
    if data.get("format") == PERSONA_FORMAT:
        raise InputError(
            path, "format", "a compass-tui persona, not a ComPASS file: copy it into the data dir's personas/"
        )
    if "" in data:
        raise InputError(path, '[""]', "a user id must not be empty")
    return [compass_user_to_persona(user_id, user, source=path) for user_id, user in data.items()]


def compass_user_to_persona(user_id: str, user: Any, *, source: str | Path | None = None) -> Persona:
    where = f'["{user_id}"]'
    if not isinstance(user, dict):
        raise InputError(source, where, "a user must be a JSON object")
    for key in (
        "demographic",
        "Big_Five_personality_traits",
        "background",
        "tool_preferences",
        "scenarios",
        "utterance",
    ):
        if key not in user:
            raise InputError(source, f"{where}.{key}", "missing field")
    scenarios, utterances = user["scenarios"], user["utterance"]
    if not isinstance(scenarios, list) or not isinstance(utterances, list):
        raise InputError(source, f"{where}.scenarios", "scenarios and utterance must be lists")
    if not scenarios:
        raise InputError(source, f"{where}.scenarios", "a persona needs at least one situation")
    if len(scenarios) != len(utterances):
        raise InputError(
            source, f"{where}.utterance", f"{len(utterances)} utterances for {len(scenarios)} scenarios"
        )
    document = {
        "id": f"{COMPASS_ID_PREFIX}{user_id}",
        "name": user.get("name", _dict_at(user, "demographic", source, where).get("firstname", "")),
        "demographic": _demographic(user, source, where),
        "big_five": _renamed(
            _dict_at(user, "Big_Five_personality_traits", source, where),
            _BIG_FIVE_KEYS,
            source,
            f"{where}.Big_Five_personality_traits",
        ),
        "personality_description": user.get("personality_description", ""),
        "background": _renamed(
            _dict_at(user, "background", source, where), _BACKGROUND_KEYS, source, f"{where}.background"
        ),
        "tool_preferences": _preferences(_dict_at(user, "tool_preferences", source, where), source, where),
        "situations": [
            _situation(s, u, source, f"{where}.scenarios[{i}]")
            for i, (s, u) in enumerate(zip(scenarios, utterances))
        ],
        "origin": {
            "source": "compass-bench",
            "user_id": str(user_id),
            "file": Path(source).name if source else None,
        },
        "extra": _extras(user),
    }
    try:
        return persona_from_dict(document, source=source)
    except InputError as error:
        raise InputError(source, _compass_field(where, error.field), error.message) from None


def persona_to_compass_user(persona: Persona) -> dict[str, Any]:
    """The ComPASS document for a persona, equal to the one it was imported from."""
    extra = persona.extra
    demographic = persona.demographic.model_dump()
    demographic = {key: demographic[key] for key in extra.get("demographic_order", demographic)}
    demographic.update(extra.get("demographic_extra", {}))
    user: dict[str, Any] = {
        "demographic": demographic,
        "Big_Five_personality_traits": {key.capitalize(): getattr(persona.big_five, key) for key in BIG_FIVE},
        "personality_description": persona.personality_description,
        "background": {
            BACKGROUND_ASPECTS[key]: value for key, value in persona.background.model_dump().items()
        },
        "tool_preferences": {
            s.compass_key: persona.tool_preferences.for_scenario(s.key).text for s in SCENARIO_TYPES
        },
        "scenarios": [{"scenario": s.scenario, "emotion": s.emotion} for s in persona.situations],
        "name": persona.name,
        "utterance": [s.utterance for s in persona.situations],
    }
    user.update(extra.get("user_extra", {}))
    order = extra.get("key_order")
    if order:
        user = {key: user[key] for key in order if key in user} | {
            k: v for k, v in user.items() if k not in order
        }
    return user


def personas_to_compass(personas: list[Persona]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for persona in personas:
        user_id = persona.origin.user_id if persona.origin and persona.origin.user_id else persona.id
        document[user_id] = persona_to_compass_user(persona)
    return document


def _compass_field(where: str, field: str | None) -> str:
    """Our model's field path (`situations[3].emotion`) as the ComPASS file names it (`["0"].scenarios[3].emotion`)."""
    if not field:
        return where
    situation = _SITUATION_FIELD_RE.match(field)
    if situation:
        index, name = situation.groups()
        return f"{where}.utterance[{index}]" if name == "utterance" else f"{where}.scenarios[{index}].{name}"
    head, _, rest = field.partition(".")
    first, _, tail = rest.partition(".")
    if head == "big_five" and first:
        return f"{where}.Big_Five_personality_traits.{first.capitalize()}"
    if head == "background" and first:
        return f"{where}.background.{BACKGROUND_ASPECTS.get(first, first)}"
    if head == "tool_preferences" and first in SCENARIO_BY_KEY:
        return f"{where}.tool_preferences.{SCENARIO_BY_KEY[first].compass_key}"
    if head == "situations":
        return f"{where}.scenarios"
    return f"{where}.{field}"


def _dict_at(user: dict, key: str, source, where: str) -> dict:
    value = user.get(key)
    if not isinstance(value, dict):
        raise InputError(source, f"{where}.{key}", "must be a JSON object")
    return value


def _renamed(values: dict, names: dict[str, str], source, where: str) -> dict:
    renamed = {}
    for compass_key, our_key in names.items():
        if compass_key not in values:
            raise InputError(source, f"{where}.{compass_key}", "missing field")
        renamed[our_key] = values[compass_key]
    return renamed


def _demographic(user: dict, source, where: str) -> dict:
    demographic = dict(_dict_at(user, "demographic", source, where))
    known = set(Demographic.model_fields)
    return {key: value for key, value in demographic.items() if key in known}


def _preferences(preferences: dict, source, where: str) -> dict:
    parsed = {}
    for scenario in SCENARIO_TYPES:
        text = preferences.get(scenario.compass_key)
        if not isinstance(text, str):
            raise InputError(source, f"{where}.tool_preferences.{scenario.compass_key}", "missing field")
        reading = parse_preference_text(text)
        parsed[scenario.key] = {
            "text": text,
            "liked": reading.liked,
            "disliked": reading.disliked,
            "ambiguous": reading.ambiguous,
        }
    unknown = set(preferences) - set(SCENARIO_BY_COMPASS_KEY)
    if unknown:
        raise InputError(source, f"{where}.tool_preferences.{sorted(unknown)[0]}", "unknown scenario type")
    return parsed


def _situation(scenario: Any, utterance: Any, source, where: str) -> dict:
    if not isinstance(scenario, dict):
        raise InputError(source, where, "a scenario must be a JSON object")
    for key in ("scenario", "emotion"):
        if not isinstance(scenario.get(key), str):
            raise InputError(source, f"{where}.{key}", "missing field")
    if not isinstance(utterance, str):
        raise InputError(source, where.replace("scenarios", "utterance"), "must be text")
    guess = classify_scenario(scenario["scenario"], utterance)
    return {
        "scenario": scenario["scenario"],
        "utterance": utterance,
        "emotion": scenario["emotion"],
        "scenario_type": guess.scenario_type,
        "scenario_type_source": "inferred",
    }


def _extras(user: dict) -> dict:
    known = set(Demographic.model_fields)
    extras: dict[str, Any] = {}
    demographic = user["demographic"]
    if list(demographic) != list(Demographic.model_fields):
        extras["demographic_order"] = [key for key in demographic if key in known]
    unknown_demographic = {k: v for k, v in demographic.items() if k not in known}
    if unknown_demographic:
        extras["demographic_extra"] = unknown_demographic
    unknown_user = {k: v for k, v in user.items() if k not in COMPASS_USER_KEYS}
    if unknown_user:
        extras["user_extra"] = unknown_user
    if list(user) != list(COMPASS_USER_KEYS):
        extras["key_order"] = list(user)
    return extras
