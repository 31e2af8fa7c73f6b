"""The baseline's tool call: the parameters of each tool, made from the utterance, the emotion and the persona."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from compass_tui.baseline.choice import choose_tool, keywords
from compass_tui.baseline.times import StatedTime, stated_time
from compass_tui.baseline.tone import (
    FILM_GENRES,
    FILM_TONES,
    MUSIC_MOODS,
    PLAN_GOALS,
    is_positive,
    joined,
    pick,
    valence_family,
)
from compass_tui.persona import Persona
from compass_tui.scenario import classify_scenario
from compass_tui.tools.definitions import MUSIC_GENRES
from compass_tui.vocab import SCENARIO_BY_KEY, TOOL_BY_FOLDER

_STICKER_TAGS = {
    "proud": "celebrating",
    "joyful": "happy",
    "excited": "excited",
    "grateful": "grateful",
    "hopeful": "hopeful",
    "impressed": "celebrating",
    "confident": "encouraging",
    "content": "calm",
    "anticipating": "excited",
    "prepared": "encouraging",
    "caring": "loving",
    "faithful": "loving",
    "trusting": "loving",
    "surprised": "surprised",
    "lonely": "lonely",
    "sad": "comforting",
    "devastated": "comforting",
    "afraid": "brave",
    "terrified": "comforting",
    "anxious": "calm",
    "apprehensive": "encouraging",
    "angry": "calm",
    "furious": "calm",
    "annoyed": "calm",
    "ashamed": "comforting",
    "embarrassed": "silly",
    "guilty": "comforting",
    "disappointed": "comforting",
    "jealous": "comforting",
    "nostalgic": "nostalgic",
    "sentimental": "nostalgic",
}
_STORY_THEMES = {
    "work_study": "Career and Development",
    "health": "Adversity and Resilience",
    "family": "Interpersonal Relationships",
    "social": "Interpersonal Relationships",
    "leisure": "Daily Emotions and Mood",
}
_JOKE_CATEGORIES = {
    "work_study": "At Work",
    "health": "Medical",
    "family": "Children",
    "social": "One Liners",
    "leisure": "Puns",
}
_PSY_PROBLEMS = (  # a pattern in the utterance, and the problem type it points at
    (r"\bsleep|insomnia", "Sleep"),
    (r"\blonel|\balone\b", "Loneliness"),
    (r"\bfriend", "Friendship"),
    (r"\bdebt|\bmoney|\brent\b|\bbills\b", "Debt"),
    (r"\bwork|\bjob\b|\bshift", "Work-life balance"),
    (r"\bexercis|\bwalk", "Physical activity"),
    (r"body image|\bappearance|\bweight\b", "Body image"),
    (r"\bpain|\bsick|\bcrash|\bfatigue|\bchronic|\bbody\b", "Physical health"),
    (r"\bsmok", "Smoking"),
    (r"\bpets?\b|\bdogs?\b|\bcats?\b", "Pets"),
    (r"menopause", "Menopause"),
)


_CHARACTERS = {
    "family": ("Auntie Rose", "wise old aunt"),
    "work_study": ("Coach Dana", "old mentor"),
    "health": ("Nurse Ada", "kind nurse who has seen it all"),
    "social": ("Sam", "oldest friend"),
    "leisure": ("Sam", "oldest friend"),
}


def tool_params(
    tool: str, utterance: str, emotion: str, scenario_type: str, persona: Persona | None, today: date
) -> dict[str, Any]:
    topics = keywords(utterance, scenario_type=scenario_type)
    build = _PARAM_BUILDERS.get(tool, _role_play_params)
    return build(_Ask(utterance, emotion, scenario_type, persona, today, topics))


@dataclass(frozen=True)
class _Ask:
    """What a tool's parameters are made from."""

    utterance: str
    emotion: str
    scenario_type: str
    persona: Persona | None
    today: date
    topics: list[str]

    @property
    def positive(self) -> bool:
        return is_positive(self.emotion)

    @property
    def gist(self) -> str:
        return _clipped(_first_sentence(self.utterance), 160)


def _music_params(ask: _Ask) -> dict[str, Any]:
    params: dict[str, Any] = {"keywords": [*MUSIC_MOODS[valence_family(ask.emotion)], *ask.topics[:2]]}
    genre = _preferred_genre(ask.persona, ask.scenario_type)
    return params | ({"genre": genre} if genre else {})


def _film_params(ask: _Ask) -> dict[str, Any]:
    return {
        "keyword": ask.topics,
        "genres": FILM_GENRES[ask.positive],
        "emotion": pick(FILM_TONES[ask.positive], "tone", ask.utterance),
        "min_rating": 6.5,
    }


def _joke_params(ask: _Ask) -> dict[str, Any]:
    return {
        "description": f"gentle, kind jokes about {joined(ask.topics)}",
        "category": _JOKE_CATEGORIES[ask.scenario_type],
    }


def _story_params(ask: _Ask) -> dict[str, Any]:
    return {
        "user_prompt": f"Feeling {ask.emotion} about {joined(ask.topics)}. {ask.gist}",
        "theme": _STORY_THEMES[ask.scenario_type],
        "style": "Passionate and Inspiring" if ask.positive else "Warm and Comforting",
    }


def _psyweb_params(ask: _Ask) -> dict[str, Any]:
    return {
        "situation": ask.gist,
        "problem_type": _psy_problem(ask.utterance),
        "user_group": _user_group(ask.persona),
    }


def _strength_params(ask: _Ask) -> dict[str, Any]:
    return {"situation": _clipped(ask.utterance, 300)}


def _sticker_params(ask: _Ask) -> dict[str, Any]:
    return {"tag": _STICKER_TAGS.get(ask.emotion, "comforting"), "topk": 1}


def _schedule_params(ask: _Ask) -> dict[str, Any]:
    stated = stated_time(ask.utterance, ask.today)
    return {
        "operation": "add",
        "time": stated.when.strftime("%Y-%m-%d %H:%M"),
        "location": "Home",
        "event": _event_name(ask, stated),
        "duration": "1 hour",
    }


def _event_name(ask: _Ask, stated: StatedTime) -> str:
    """The sentence that says when, or a check-in on the utterance's topics when none does."""
    if stated.stated:
        sentences = re.split(r"(?<=[.!?;])\s+", ask.utterance.strip())
        said = next((s for s in sentences if stated_time(s, ask.today).stated), ask.utterance)
        return f"Reminder: {_clipped(said.rstrip('.;'), 60)}"
    topic = joined(ask.topics[:2])
    return f"Time for you: {topic}" if ask.positive else f"A quiet check-in on {topic}"


def _medical_params(ask: _Ask) -> dict[str, Any]:
    stated = stated_time(ask.utterance, ask.today)
    day = stated.when.date() if stated.stated else ask.today + timedelta(days=3)
    params: dict[str, Any] = {
        "operation": "book",
        "desired_date": day.isoformat(),
        "illness_description": ask.gist,
    }
    if ask.persona is not None:
        params |= {"user_name": ask.persona.display_name, "user_phone": ask.persona.demographic.phone}
    return params


def _shopping_params(ask: _Ask) -> dict[str, Any]:
    return {"item_type": "Home Goods", "item_name": "comfort care package", "item_features": ask.topics}


def _plan_params(ask: _Ask) -> dict[str, Any]:
    return {
        "plan": PLAN_GOALS[(ask.scenario_type, ask.positive)],
        "theme": f"{SCENARIO_BY_KEY[ask.scenario_type].label} plan",
        "style": "casual",
        "additional_requirements": ask.gist,
    }


def _role_play_params(ask: _Ask) -> dict[str, Any]:
    name, relationship = _CHARACTERS[ask.scenario_type]
    return {
        "name": name,
        "user_input": ask.utterance[:500],
        "relationship": relationship,
        "style": "warm and cheerful" if ask.positive else "gentle",
        **({"user_name": ask.persona.name} if ask.persona else {}),
    }


_PARAM_BUILDERS = {
    "music_recommendation": _music_params,
    "film_recommendation": _film_params,
    "joke_recommendation": _joke_params,
    "story_recommender": _story_params,
    "psyweb_recommender": _psyweb_params,
    "strength_card": _strength_params,
    "sticker_respond": _sticker_params,
    "schedule_manager": _schedule_params,
    "medical_appointment": _medical_params,
    "online_shopping": _shopping_params,
    "plan_assistant": _plan_params,
    "role_play": _role_play_params,
}


def baseline_tool_call(
    utterance: str,
    emotion: str,
    persona: Persona | None,
    today: date,
    liked_history: dict[str, list[str]] | None = None,
    scenario_type: str | None = None,
    disliked_history: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """The baseline's tool call. `scenario_type` is the situation's label when it has one (author-given or
    inferred from the scenario text at import); only without it is the type guessed from the utterance alone."""
    scenario_type = scenario_type or classify_scenario("", utterance).scenario_type
    tool = choose_tool(utterance, scenario_type, persona, liked_history or {}, emotion, disliked_history)
    return {
        "scenario": SCENARIO_BY_KEY[scenario_type].compass_key,
        "tool_folder_name": tool,
        "function_name": TOOL_BY_FOLDER[tool].function,
        "param": tool_params(tool, utterance, emotion, scenario_type, persona, today),
    }


def _first_sentence(text: str) -> str:
    return re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0]


def _clipped(text: str, limit: int) -> str:
    """The text cut at a word boundary to at most `limit` characters."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:—-") + "…"


def _preferred_genre(persona: Persona | None, scenario_type: str) -> str | None:
    if persona is None:
        return None
    text = persona.tool_preferences.for_scenario(scenario_type).text.lower()
    liked_part = re.split(r"dislik|avoid", text, maxsplit=1)[0]
    found = [genre for genre in MUSIC_GENRES if re.search(rf"\b{genre}\b", liked_part)]
    return found[0] if found else None


def _psy_problem(utterance: str) -> str:
    text = utterance.lower()
    return next((problem for cue, problem in _PSY_PROBLEMS if re.search(cue, text)), "Stress")


def _user_group(persona: Persona | None) -> str:
    if persona is None:
        return "Adult"
    age = persona.demographic.age
    return "Children" if age < 13 else "Teenager" if age < 20 else "Adult" if age < 65 else "Elder"
