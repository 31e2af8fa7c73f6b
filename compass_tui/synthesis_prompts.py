"""The prompts of persona synthesis, one per stage, in our own words.

Every user message starts with `Stage: <name>` so a log (or a test's stub) can tell the stages apart.
Each stage sees the stages before it as JSON and answers with one JSON object.
"""

from __future__ import annotations

import json
from typing import Any

from compass_tui.vocab import EMOTIONS, SCENARIO_TYPES

SYSTEM = (
    "You invent realistic, varied people for a research benchmark of companion chatbots that can call "
    "tools. You write one part of one person at a time, consistent with the parts already written. "
    "Answer with a single JSON object and nothing else: no prose, no code fences."
)

TOOL_DESCRIPTIONS: dict[str, str] = {
    "music_recommendation": "suggests songs to listen to",
    "joke_recommendation": "tells a joke to lighten the mood",
    "film_recommendation": "suggests films to watch",
    "story_recommender": "offers a short story with a lesson in it",
    "psyweb_recommender": "points to a psychology web page about the problem",
    "strength_card": "names a personal strength, with encouragement",
    "sticker_respond": "answers with a small picture sticker",
    "schedule_manager": "adds, moves or removes events in a calendar",
    "medical_appointment": "books or cancels a doctor's appointment",
    "online_shopping": "finds things to buy",
    "plan_assistant": "writes a step-by-step plan",
    "role_play": "acts out a conversation, for practice or comfort",
}

RETRY = (
    "That answer was rejected: {error}\n"
    "Answer again with the whole JSON object for this stage, corrected, and nothing else."
)


def _known(stages: dict[str, Any]) -> str:
    return "What is already written about this person:\n" + json.dumps(stages, indent=1, ensure_ascii=False)


def demographic(brief: dict[str, str]) -> str:
    return (
        "Stage: demographic\n"
        "Invent a new person with these starting points:\n"
        + "\n".join(f"- {key}: {value}" for key, value in brief.items())
        + "\n\nReply with a JSON object with exactly these keys: age (an integer), gender, firstname, "
        "lastname, address (a plausible street address in their country), phone, education, career, "
        "income (a short phrase in their local currency). Names and places must fit the region."
    )


def big_five(stages: dict[str, Any]) -> str:
    return (
        "Stage: big_five\n"
        f"{_known(stages)}\n\n"
        "Give this person a Big Five profile. Reply with a JSON object with the keys openness, "
        'conscientiousness, extraversion, agreeableness and neuroticism, each "low", "medium" or "high". '
        "Avoid making every trait medium."
    )


def personality(stages: dict[str, Any]) -> str:
    return (
        "Stage: personality\n"
        f"{_known(stages)}\n\n"
        "Describe how this person thinks, feels and behaves with others, in three to five sentences "
        "that follow from the Big Five levels without naming them. Reply with a JSON object with one "
        "key, personality_description."
    )


def background(stages: dict[str, Any]) -> str:
    return (
        "Stage: background\n"
        f"{_known(stages)}\n\n"
        "Write this person's background, one or two concrete sentences per aspect. Reply with a JSON "
        "object with the keys hobbies, health_status, family_environment, living_habits and "
        "growth_experience."
    )


def tool_preferences(stages: dict[str, Any]) -> str:
    tools = "\n".join(f"- {name}: {what}" for name, what in TOOL_DESCRIPTIONS.items())
    kinds = ", ".join(f"{s.key} ({s.label})" for s in SCENARIO_TYPES)
    return (
        "Stage: tool_preferences\n"
        f"{_known(stages)}\n\n"
        f"A companion app can use these tools:\n{tools}\n\n"
        f"For each kind of situation ({kinds}), say which tools this person would welcome and which "
        "they would not, given who they are. Reply with a JSON object keyed by the five kinds; each "
        'value is {"text": what the person would say about it in the first person, "liked": [tool names], '
        '"disliked": [tool names]}. Use the tool names exactly as listed; at least one liked tool per '
        "kind; no tool both liked and disliked."
    )


def scenarios(stages: dict[str, Any], mix: dict[str, int], emotions: list[str]) -> str:
    wanted = ", ".join(f"{count} {key}" for key, count in mix.items() if count)
    return (
        "Stage: scenarios\n"
        f"{_known(stages)}\n\n"
        f"Write {sum(mix.values())} moments from this person's life when they might turn to a companion "
        f"app: {wanted}. Each is told in the third person, in one to three sentences, and fits their "
        "background. Give each moment one emotion, from this list only: "
        f"{', '.join(EMOTIONS)}. Prefer these, one each: {', '.join(emotions)}.\n\n"
        'Reply with a JSON object {"situations": [{"scenario_type": one of the kinds, "emotion": ..., '
        '"scenario": ...}, ...]}.'
    )


def utterances(stages: dict[str, Any]) -> str:
    count = len(stages.get("scenarios", {}).get("situations", []))
    return (
        "Stage: utterances\n"
        f"{_known(stages)}\n\n"
        f"For each of the {count} situations, in order, write what this person types to the companion "
        "app in that moment: first person, in their own voice, one to three sentences, showing the "
        'emotion without naming it. Reply with a JSON object {"utterances": [one string per situation]}.'
    )
