"""Each stage's prompt and the checks its answer must pass, and the persona the seven stages make."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError

from compass_tui import synthesis_prompts as prompts
from compass_tui.errors import InputError
from compass_tui.jsonio import loads_strict
from compass_tui.persona import (
    Background,
    BigFive,
    Demographic,
    Persona,
    ToolPreference,
    persona_from_dict,
    validation_message,
)
from compass_tui.synthesis.plan import ORIGIN, SynthesisPlan, mix_text, persona_brief, suggested_emotions
from compass_tui.vocab import BACKGROUND_ASPECTS, EMOTIONS, SCENARIO_KEYS, scenario_key

_FENCE_RE = re.compile(r"^\s*```[a-zA-Z]*\s*\n?(.*?)\n?```\s*$", re.DOTALL)


class StageInvalid(ValueError):
    """A stage's answer that fails its checks; the message goes back to the model."""


def parse_answer(text: str | None) -> dict[str, Any]:
    """The JSON object of an answer (a code fence around it is allowed)."""
    body = (text or "").strip()
    fenced = _FENCE_RE.match(body)
    if fenced:
        body = fenced.group(1)
    try:
        data = loads_strict(body, source="answer")
    except InputError as error:
        raise StageInvalid(f"not valid JSON ({error.message})") from None
    if not isinstance(data, dict):
        raise StageInvalid("the answer must be one JSON object")
    return data


def _validated(model: type[BaseModel], data: Any, where: str = "") -> dict[str, Any]:
    try:
        return model.model_validate(data).model_dump(mode="json")
    except ValidationError as error:
        location, message = validation_message(error)
        raise StageInvalid(f"{where}{location}: {message}" if location or where else message) from None


def _require_text(data: dict[str, Any], keys: tuple[str, ...] | list[str], where: str = "") -> None:
    for key in keys:
        if not str(data.get(key, "")).strip():
            raise StageInvalid(f"{where}{key}: must not be empty")


def check_demographic(data: dict[str, Any]) -> dict[str, Any]:
    checked = _validated(Demographic, data)
    _require_text(checked, ("gender", "firstname", "career"))
    return checked


def check_big_five(data: dict[str, Any]) -> dict[str, Any]:
    return _validated(BigFive, data)


def check_personality(data: dict[str, Any]) -> dict[str, Any]:
    extra = set(data) - {"personality_description"}
    if extra:
        raise StageInvalid(f"{sorted(extra)[0]}: unknown field (only personality_description)")
    text = data.get("personality_description")
    if not isinstance(text, str) or len(text.split()) < 10:
        raise StageInvalid("personality_description: must be a text of at least 10 words")
    return {"personality_description": text.strip()}


def check_background(data: dict[str, Any]) -> dict[str, Any]:
    checked = _validated(Background, data)
    _require_text(checked, list(BACKGROUND_ASPECTS))
    return checked


def check_tool_preferences(data: dict[str, Any]) -> dict[str, Any]:
    checked: dict[str, Any] = {}
    for name, value in data.items():
        key = scenario_key(name)
        if key is None:
            raise StageInvalid(f"{name}: not a scenario type ({', '.join(SCENARIO_KEYS)})")
        preference = _validated(ToolPreference, value, f"{key}.")
        _require_text(preference, ("text",), f"{key}.")
        if not preference["liked"]:
            raise StageInvalid(f"{key}.liked: name at least one liked tool")
        checked[key] = preference
    missing = [key for key in SCENARIO_KEYS if key not in checked]
    if missing:
        raise StageInvalid(f"{missing[0]}: missing (all five scenario types are needed)")
    return {key: checked[key] for key in SCENARIO_KEYS}


def check_scenarios(data: dict[str, Any], mix: dict[str, int]) -> dict[str, Any]:
    situations = data.get("situations")
    wanted = sum(mix.values())
    if not isinstance(situations, list):
        raise StageInvalid("situations: must be a list")
    if len(situations) != wanted:
        raise StageInvalid(f"situations: {len(situations)} given, {wanted} wanted")
    checked = []
    for index, situation in enumerate(situations):
        where = f"situations[{index}]"
        if not isinstance(situation, dict):
            raise StageInvalid(f"{where}: must be an object")
        key = scenario_key(str(situation.get("scenario_type", "")))
        if key is None:
            raise StageInvalid(f"{where}.scenario_type: one of {', '.join(SCENARIO_KEYS)}")
        emotion = str(situation.get("emotion", "")).strip().lower()
        if emotion not in EMOTIONS:
            raise StageInvalid(f"{where}.emotion: {situation.get('emotion')!r} is not one of the 31 emotions")
        _require_text(situation, ("scenario",), f"{where}.")
        checked.append({"scenario_type": key, "emotion": emotion, "scenario": situation["scenario"].strip()})
    counts = Counter(situation["scenario_type"] for situation in checked)
    if any(counts.get(key, 0) != count for key, count in mix.items()):
        got = ", ".join(f"{key}={counts.get(key, 0)}" for key in SCENARIO_KEYS)
        raise StageInvalid(f"situations: the scenario types are {got}; wanted {mix_text(mix)}")
    return {"situations": checked}


def check_utterances(data: dict[str, Any], count: int) -> dict[str, Any]:
    utterances = data.get("utterances")
    if not isinstance(utterances, list) or not all(isinstance(u, str) for u in utterances):
        raise StageInvalid("utterances: must be a list of strings")
    if len(utterances) != count:
        raise StageInvalid(f"utterances: {len(utterances)} given, one per situation ({count}) wanted")
    for index, utterance in enumerate(utterances):
        if not utterance.strip():
            raise StageInvalid(f"utterances[{index}]: must not be empty")
    return {"utterances": [u.strip() for u in utterances]}


def check_stage(stage: str, data: dict[str, Any], stages: dict[str, Any], mix: dict[str, int]) -> dict:
    if stage == "scenarios":
        return check_scenarios(data, mix)
    if stage == "utterances":
        return check_utterances(data, len(stages["scenarios"]["situations"]))
    checks: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
        "demographic": check_demographic,
        "big_five": check_big_five,
        "personality": check_personality,
        "background": check_background,
        "tool_preferences": check_tool_preferences,
    }
    return checks[stage](data)


def stage_prompt(stage: str, stages: dict[str, Any], plan: SynthesisPlan, index: int) -> str:
    if stage == "demographic":
        return prompts.demographic(persona_brief(plan.seed, index))
    if stage == "scenarios":
        emotions = suggested_emotions(plan.seed, index, sum(plan.mix.values()))
        return prompts.scenarios(stages, plan.mix, emotions)
    builders: dict[str, Callable[[dict[str, Any]], str]] = {
        "big_five": prompts.big_five,
        "personality": prompts.personality,
        "background": prompts.background,
        "tool_preferences": prompts.tool_preferences,
        "utterances": prompts.utterances,
    }
    return builders[stage](stages)


# --- the persona ---------------------------------------------------------------------------------


def _slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")


def persona_id(job: str, index: int, demographic: dict[str, Any]) -> str:
    name = "-".join(filter(None, (_slug(demographic["firstname"]), _slug(demographic.get("lastname", "")))))
    tag = hashlib.sha256(job.encode()).hexdigest()[:6]
    return f"{(name or 'synth')[:60]}-{tag}-{index}"


def assemble(
    plan: SynthesisPlan, index: int, stages: dict[str, Any], source: str, sampling_seed: int | None = None
) -> Persona:
    demographic = stages["demographic"]
    utterances = stages["utterances"]["utterances"]
    situations = [
        {**situation, "utterance": utterance, "scenario_type_source": "author"}
        for situation, utterance in zip(stages["scenarios"]["situations"], utterances)
    ]
    document = {
        "id": persona_id(plan.job, index, demographic),
        "name": demographic["firstname"],
        "demographic": demographic,
        "big_five": stages["big_five"],
        "personality_description": stages["personality"]["personality_description"],
        "background": stages["background"],
        "tool_preferences": stages["tool_preferences"],
        "situations": situations,
        "origin": {
            "source": ORIGIN,
            "model": plan.model_name,
            "seed": plan.seed,
            "job": plan.job,
            **({"sampling_seed": sampling_seed} if sampling_seed is not None else {}),
        },
    }
    return persona_from_dict(document, source=source)
