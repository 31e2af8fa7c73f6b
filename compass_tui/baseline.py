"""The offline baseline: a deterministic, rule-based agent with no network and no LLM.

It classifies the utterance's scenario type, picks a tool the persona likes for that type
(in the history setting, where preferences are hidden, a tool that earned a "like" before),
fills the required parameters from the utterance and the persona, and composes a reply
from the tool's result. It exists so that the workbench runs with no API key, and as a
floor for comparisons. It is shown as a baseline, never as an LLM.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from compass_tui.persona import Persona
from compass_tui.scenario import classify_scenario
from compass_tui.tools.definitions import MUSIC_GENRES
from compass_tui.tools.generative import OFFLINE
from compass_tui.tools.summary import main_item
from compass_tui.vocab import POSITIVE_EMOTIONS, SCENARIO_BY_KEY, TOOL_BY_FOLDER

BASELINE_LABEL = "baseline (offline, rule-based)"

_TOOL_CUES: dict[str, tuple[str, ...]] = {
    "medical_appointment": (
        "doctor",
        "appointment",
        "pain",
        "sick",
        "symptom",
        "check",
        "hospital",
        "clinic",
        "ache",
        "injur",
    ),
    "schedule_manager": ("schedule", "calendar", "remind", "deadline", "meeting", "busy", "time", "organi"),
    "plan_assistant": ("plan", "prepare", "organi", "steps", "goal", "project", "start", "how do i"),
    "psyweb_recommender": ("stress", "anxious", "sleep", "lonely", "worry", "panic", "overwhelm", "cope"),
    "music_recommendation": ("music", "song", "listen", "playlist", "sing", "band"),
    "film_recommendation": ("movie", "film", "watch", "cinema", "series"),
    "joke_recommendation": ("laugh", "funny", "joke", "silly", "cheer"),
    "story_recommender": ("story", "stories", "read", "book", "inspir"),
    "strength_card": ("proud", "doubt", "confidence", "failed", "achieve", "strength", "brave"),
    "sticker_respond": ("chat", "message", "text", "send"),
    "online_shopping": ("buy", "shop", "gift", "order", "need a new"),
    "role_play": ("talk to", "conversation", "practice", "rehearse", "say to", "confront"),
}
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


def choose_tool(
    utterance: str, scenario_type: str, persona: Persona | None, liked_history: dict[str, list[str]]
) -> str:
    """A liked tool for this scenario type, the one whose cues best fit the utterance."""
    if persona is not None:
        preference = persona.tool_preferences.for_scenario(scenario_type)
        candidates, avoid = list(preference.liked), set(preference.disliked)
    else:
        candidates, avoid = list(liked_history.get(scenario_type, [])), set()
    if not candidates:
        candidates = [tool for tool in _TOOL_CUES if tool not in avoid]
    text = utterance.lower()
    return max(
        candidates,
        key=lambda tool: (sum(cue in text for cue in _TOOL_CUES.get(tool, ())), -candidates.index(tool)),
    )


# Topical phrases, each with the words that point at it (a trailing * matches any ending); the phrases are
# the catalogues' own keywords where they have one.
_TOPICS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("new baby", ("baby", "babies", "pregnan*", "cradle", "midwife", "nursery")),
    ("grief", ("passed away", "funeral", "mourning*", "would've been", "died", "gone this year", "widow*")),
    ("birthday", ("birthday*",)),
    ("holidays", ("christmas", "easter", "thanksgiving", "new year", "nengaj*", "undas", "diwali", "eid")),
    ("marriage", ("wife", "husband", "anniversary", "wedding", "married")),
    ("mother", ("mum", "mom", "mama", "mamá", "mother", "amma", "maman", "ma")),
    ("father", ("dad", "papa", "appa", "father")),
    ("grandmother", ("abuela", "granny", "gran", "grandm*", "lola", "nonna")),
    ("parenting", ("kid", "wean", "my son", "my daughter", "children", "school run")),
    ("siblings", ("sister", "brother", "sibling")),
    ("friendship", ("friend*", "mate", "neighbour*", "group chat", "the boys")),
    ("loneliness", ("alone", "lonel*", "quiet", "who is left", "miss her", "miss him", "missing")),
    ("cooking", ("cook*", "bak*", "recipe", "kitchen", "dessert", "curry", "tart", "flan", "caramel")),
    ("exams", ("exam", "boards", "assessment", "test", "tuition", "revision", "grade", "pre-boards")),
    ("studies", ("school", "study", "studies", "studying", "class", "course", "rotation", "universit*")),
    ("work pressure", ("boss", "manager", "gaffer", "shift", "deadline", "meeting", "colleague", "review")),
    ("career", ("job", "career", "promotion", "interview", "abroad", "director", "design doc")),
    ("recovery", ("surgery", "post-op", "knee", "crutch*", "physio*", "cane", "injur*", "recover*")),
    ("illness", ("sick", "diagnos*", "insulin", "diabet*", "asthma", "inhaler", "crash", "medicine")),
    ("sleep", ("sleep*", "insomnia", "awake", "tired", "exhausted")),
    ("football", ("football", "soccer", "celtic", "the game", "goal", "portera", "match")),
    ("music", ("violin", "guitar", "piano", "song", "singing", "radio", "band", "concert")),
    ("travel", ("travel*", "trip", "holiday", "flight", "boarding pass", "airport")),
    ("pets", ("cat", "dog", "pet", "vet", "kitten", "pupp*")),
    ("nature", ("garden*", "field", "farm*", "harvest", "park", "beach", "walk*")),
    ("learning", ("learn*", "certificate", "practis*", "practic*", "lesson")),
    (
        "making things",
        ("repair*", "fix*", "solder*", "capacitor*", "restor*", "craft*", "knit*", "sew*", "paint*"),
    ),
    ("games", ("backgammon", "chess", "cards", "board game", "puzzle", "crossword")),
    ("memories", ("remember*", "used to", "memor*", "years ago", "photo*")),
    ("courage", ("scared", "brave*", "nervous")),
)
_TOPIC_PATTERNS = tuple(
    (
        topic,
        re.compile("|".join(rf"\b{stem[:-1]}" if stem.endswith("*") else rf"\b{stem}s?\b" for stem in stems)),
    )
    for topic, stems in _TOPICS
)
_SCENARIO_TOPICS = {
    "work_study": "work",
    "health": "health",
    "family": "family",
    "social": "friendship",
    "leisure": "free time",
}


def keywords(text: str, limit: int = 3, scenario_type: str | None = None) -> list[str]:
    """The utterance's topics as short phrases, in order of first mention; the scenario's topic if none."""
    lowered = text.lower()
    found = [
        (match.start(), topic) for topic, pattern in _TOPIC_PATTERNS if (match := pattern.search(lowered))
    ]
    topics = [topic for _, topic in sorted(found)][:limit]
    fallback = _SCENARIO_TOPICS.get(scenario_type or "", "everyday life")
    return topics or [fallback]


def _joined(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _digest(*parts: str) -> int:
    """A number fixed by the situation's text: the baseline's only source of variety."""
    return int(hashlib.sha256("|".join(parts).encode()).hexdigest(), 16)


def _pick(options: tuple[str, ...], *seed: str) -> str:
    return options[_digest(*seed) % len(options)]


# How a reply should sound, by emotion: one of six families, each with its own openers and moods.
_FAMILIES: dict[str, tuple[str, ...]] = {
    "joy": tuple(sorted(POSITIVE_EMOTIONS)),
    "tender": ("nostalgic", "sentimental"),
    "fear": ("afraid", "terrified", "anxious", "apprehensive"),
    "anger": ("angry", "furious", "annoyed"),
    "shame": ("ashamed", "embarrassed", "guilty", "jealous"),
    "sadness": ("sad", "devastated", "lonely", "disappointed"),
}
FAMILY_BY_EMOTION = {emotion: family for family, emotions in _FAMILIES.items() for emotion in emotions}
_OPENERS = {
    "joy": ("That's wonderful to hear!", "What lovely news.", "Oh, I love this.", "How brilliant."),
    "tender": (
        "What a memory to hold on to.",
        "There's so much love in that.",
        "That's a tender thing to share.",
    ),
    "fear": ("That sounds frightening.", "That's a lot to face.", "No wonder your mind is racing."),
    "anger": (
        "That would get under anyone's skin.",
        "Ugh, that's infuriating.",
        "That sounds really unfair.",
    ),
    "shame": (
        "Oh, that's such an uncomfortable feeling.",
        "Be gentle with yourself here.",
        "That stings, I know.",
    ),
    "sadness": ("I'm so sorry.", "That sounds really hard.", "That's a heavy thing to carry."),
}
_MUSIC_MOODS = {
    "joy": ["uplifting", "joyful"],
    "tender": ["nostalgic", "warm"],
    "fear": ["calm", "soothing"],
    "anger": ["calm", "cathartic"],
    "shame": ["gentle", "hopeful"],
    "sadness": ["comforting", "gentle"],
}
# Films for a happy user come from the light genres; a low one gets gentle, comforting ones.
_FILM_GENRES = {
    True: ["Comedy", "Animation", "Family", "Adventure"],
    False: ["Comedy", "Family", "Animation"],
}
_FILM_TONES = {
    True: ("uplifting", "feel-good", "funny", "charming"),
    False: ("heartwarming", "gentle", "hopeful"),
}
_PLAN_GOALS = {
    ("work_study", True): "keeping up the good work",
    ("work_study", False): "a calmer week at work",
    ("health", True): "keeping up the progress",
    ("health", False): "a gentler week for your health",
    ("family", True): "more good days with family",
    ("family", False): "easing things at home",
    ("social", True): "more time with good people",
    ("social", False): "feeling at ease with people again",
    ("leisure", True): "making room for what you enjoy",
    ("leisure", False): "a restful week",
}


def valence_family(emotion: str) -> str:
    return FAMILY_BY_EMOTION.get(emotion, "sadness")


def is_positive(emotion: str) -> bool:
    return emotion in POSITIVE_EMOTIONS


_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8}
_NUMBERS |= {"nine": 9, "ten": 10, "eleven": 11, "twelve": 12}
_NUMBER = r"(\d{1,2}|" + "|".join(sorted(_NUMBERS, key=len, reverse=True)) + ")"
_PARTS_OF_DAY: tuple[tuple[str, int], ...] = (
    ("morning", 9),
    ("noon", 12),
    ("lunch", 12),
    ("afternoon", 14),
    ("evening", 18),
    ("tonight", 19),
    ("night", 20),
)
DEFAULT_HOUR = 18  # the stated default: early evening, the day after the conversation


@dataclass(frozen=True)
class StatedTime:
    when: datetime
    stated: bool  # False: nothing in the utterance said when, and the default was used


def _number(word: str) -> int:
    return int(word) if word.isdigit() else _NUMBERS[word]


def _stated_day(text: str, today: date) -> date | None:
    """The day an utterance names: tomorrow, a weekday, the weekend, next week, in three weeks."""
    if re.search(r"\btomorrow\b", text):
        return today + timedelta(days=1)
    weekday = re.search(r"\b(" + "|".join(_WEEKDAYS) + r")s?\b", text)
    if weekday:
        ahead = (_WEEKDAYS.index(weekday.group(1)) - today.weekday() - 1) % 7 + 1
        return today + timedelta(days=ahead + (7 if "next " + weekday.group(1) in text else 0))
    if re.search(r"\b(this|the|at the) weekend\b", text):
        return today + timedelta(days=(5 - today.weekday()) % 7 or 7)
    later = re.search(rf"\bin (a|a couple of|{_NUMBER[1:-1]}) (day|week|month)s?\b", text)
    if later:
        count = {"a": 1, "a couple of": 2}.get(later.group(1)) or _number(later.group(1))
        days = {"day": 1, "week": 7, "month": 30}[later.group(2)] * count
        return today + timedelta(days=days)
    if following := re.search(r"\bnext (week|month)\b", text):
        return today + timedelta(days=7 - today.weekday() if following.group(1) == "week" else 30)
    if re.search(r"\b(tonight|this evening)\b", text):
        return today
    return None


def _stated_clock(text: str) -> tuple[int, int] | None:
    """The clock time an utterance names: at 3pm, 15:30, at nine, quarter to five, half past six, noon."""
    if clock := re.search(r"\b([01]?\d|2[0-3])[:.]([0-5]\d)\s*(am|pm|a\.m\.|p\.m\.)?", text):
        return _on_clock(int(clock.group(1)), int(clock.group(2)), clock.group(3), text)
    if clock := re.search(rf"\b(quarter|half) (to|past) {_NUMBER}\b", text):
        hour, minutes = _number(clock.group(3)), 30 if clock.group(1) == "half" else 15
        if clock.group(2) == "to":
            hour, minutes = hour - 1, 60 - minutes
        return _on_clock(hour, minutes, None, text)
    if clock := re.search(
        rf"\b(?:at|by|for|around) {_NUMBER}(?: o'clock)?\s*(am|pm|a\.m\.|p\.m\.)?(?!\w)", text
    ):
        return _on_clock(_number(clock.group(1)), 0, clock.group(2), text)
    if clock := re.search(r"\b(\d{1,2})\s*(am|pm)\b", text):
        return _on_clock(int(clock.group(1)), 0, clock.group(2), text)
    return None


def _on_clock(hour: int, minutes: int, suffix: str | None, text: str) -> tuple[int, int] | None:
    if hour > 23 or (suffix and hour > 12):
        return None
    if suffix and suffix.startswith("p") and hour < 12:
        hour += 12
    elif suffix and suffix.startswith("a") and hour == 12:
        hour = 0
    elif not suffix and 1 <= hour <= 6 and not re.search(r"\b(morning|early|in the night|alarm)\b", text):
        hour += 12  # "at three" means the afternoon unless the utterance says otherwise
    return hour, minutes


def stated_time(utterance: str, today: date) -> StatedTime:
    """When the utterance says something happens; tomorrow at DEFAULT_HOUR when it says nothing."""
    text = utterance.lower()
    day, clock = _stated_day(text, today), _stated_clock(text)
    if day is None and clock is not None and re.search(r"\btoday\b", text):
        day = today  # "today" alone mostly tells what already happened; with a clock time it is a plan
    part = next((hour for name, hour in _PARTS_OF_DAY if re.search(rf"\b{name}\b", text)), None)
    if day is None and clock is None and part is not None and re.search(r"\b(this|last|yesterday)\b", text):
        part = None  # "this morning I made...": a time already gone
    if day is None and clock is None and part is None:
        return StatedTime(datetime.combine(today + timedelta(days=1), time(DEFAULT_HOUR)), stated=False)
    hour, minutes = clock or (part if part is not None else 10, 0)
    on = day or today + timedelta(days=1)
    return StatedTime(datetime.combine(on, time(hour, minutes)), stated=True)


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
    params: dict[str, Any] = {"keywords": [*_MUSIC_MOODS[valence_family(ask.emotion)], *ask.topics[:2]]}
    genre = _preferred_genre(ask.persona, ask.scenario_type)
    return params | ({"genre": genre} if genre else {})


def _film_params(ask: _Ask) -> dict[str, Any]:
    return {
        "keyword": ask.topics,
        "genres": _FILM_GENRES[ask.positive],
        "emotion": _pick(_FILM_TONES[ask.positive], "tone", ask.utterance),
        "min_rating": 6.5,
    }


def _joke_params(ask: _Ask) -> dict[str, Any]:
    return {
        "description": f"gentle, kind jokes about {_joined(ask.topics)}",
        "category": _JOKE_CATEGORIES[ask.scenario_type],
    }


def _story_params(ask: _Ask) -> dict[str, Any]:
    return {
        "user_prompt": f"Feeling {ask.emotion} about {_joined(ask.topics)}. {ask.gist}",
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
    topic = _joined(ask.topics[:2])
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
        "plan": _PLAN_GOALS[(ask.scenario_type, ask.positive)],
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
) -> dict[str, Any]:
    """The baseline's tool call. `scenario_type` is the situation's label when it has one (author-given or
    inferred from the scenario text at import); only without it is the type guessed from the utterance alone."""
    scenario_type = scenario_type or classify_scenario("", utterance).scenario_type
    tool = choose_tool(utterance, scenario_type, persona, liked_history or {})
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


_REFLECTIONS = {
    "afraid": "Being scared like that takes a lot out of you, and you don't have to face it alone.",
    "angry": "Anger usually means something you care about was crossed; it's fair to feel it.",
    "annoyed": "Little things pile up, and it's no wonder this one got under your skin.",
    "anticipating": "There's something lovely about having a thing to look forward to.",
    "anxious": "When worries stack up like that, even ordinary steps can feel huge.",
    "apprehensive": "Not knowing how it will go is often the hardest part.",
    "ashamed": "Feeling ashamed hurts, but one moment doesn't define who you are.",
    "caring": "The care you're showing says a lot about you.",
    "confident": "It's good to hear that steadiness in you; you've clearly earned it.",
    "content": "Moments of quiet contentment are worth noticing and keeping.",
    "devastated": "Something this heavy deserves time, gentleness and support.",
    "disappointed": "It's hard when something you hoped for doesn't turn out the way you wanted.",
    "embarrassed": "Everyone has moments like that, even if it doesn't feel that way right now.",
    "excited": "Your excitement comes through, and it's a joy to hear.",
    "faithful": "Holding on to what you believe in, through everything, takes real strength.",
    "furious": "Being that angry is exhausting; what happened clearly matters a great deal to you.",
    "grateful": "It's heart-warming to hear you notice the good in this.",
    "guilty": "Feeling guilty shows how much you care about doing right by others.",
    "hopeful": "Hold on to that hope; it sounds well-founded.",
    "impressed": "It's lovely when someone or something really moves us like that.",
    "jealous": "Envy is a very human feeling, and it often points at something we want for ourselves.",
    "joyful": "Your happiness is lovely to hear about.",
    "lonely": "Loneliness can feel heavy, especially in the quiet moments.",
    "nostalgic": "Memories like these carry so much of who we are.",
    "prepared": "You've clearly put real thought and work into getting ready.",
    "proud": "You should be proud; that took effort and heart.",
    "sad": "It's okay to feel sad about this; it matters.",
    "sentimental": "Those feelings show how much these things mean to you.",
    "surprised": "What a turn of events — that's a lot to take in.",
    "terrified": "You're safe to talk about it here, as much or as little as you like.",
    "trusting": "It's a good feeling to be able to rely on someone.",
}


def opening(emotion: str, utterance: str = "", reflect: bool = True) -> str:
    """An acknowledgement that fits the emotion's family, varied by the utterance, then the emotion's own line."""
    first = _pick(_OPENERS[valence_family(emotion)], "opener", emotion, utterance)
    return f"{first} {_REFLECTIONS.get(emotion, '')}".strip() if reflect else first


def empathetic_reply(emotion: str, utterance: str = "") -> str:
    return f"{opening(emotion, utterance)}\n\nIf you'd like to talk it through, I'm here and listening."


def compose_response(emotion: str, utterance: str, tool_record: dict[str, Any]) -> str:
    """A reply built from the tool's result, the way the two-stage agent's second stage would: it names the
    result's main item (as the stepper's summary does), and closes with a line fitted to tool and emotion."""
    folder = tool_record.get("tool_folder_name") or ""
    if not tool_record.get("ok"):
        body = (
            "I tried to find something to help, but the tool didn't work this time. I'm still here to listen."
        )
        return f"{opening(emotion, utterance)}\n\n{body}"
    result, params, mode = tool_record.get("result"), tool_record.get("params"), tool_record.get("mode")
    body = render_result(folder, result, params, emotion, utterance, mode)
    opener = opening(emotion, utterance, reflect=folder != "role_play")  # the character says it instead
    return f"{opener}\n\n{body}\n\n{_closing(folder, emotion, utterance)}"


_FOLLOW_UPS = {
    "music_recommendation": (
        "If it's not quite the mood, tell me and I'll find another.",
        "Want a few more like it?",
    ),
    "film_recommendation": (
        "If you've seen it already, say so and I'll find another.",
        "Tell me what you make of it.",
    ),
    "joke_recommendation": (
        "I have plenty more where that came from.",
        "If that one fell flat, I'll find a better one.",
    ),
    "story_recommender": (
        "Take from it whatever fits and leave the rest.",
        "I'd love to hear which part stays with you.",
    ),
    "psyweb_recommender": (
        "Have a look when you have the energy; there's no rush.",
        "I can look for a page closer to this.",
    ),
    "strength_card": (
        "Keep it somewhere you'll see it.",
        "The strength is already yours; the card just names it.",
    ),
    "sticker_respond": ("Consider it a small wave from me.", "Pass it on if it makes you smile."),
    "schedule_manager": (
        "Tell me if the time needs moving.",
        "I can add a reminder the day before if that helps.",
    ),
    "medical_appointment": (
        "If that day doesn't suit you, I can move it.",
        "Jot down your questions so none get forgotten.",
    ),
    "online_shopping": (
        "If it's not right, I can look for something else.",
        "Tell me if you'd like it changed.",
    ),
    "plan_assistant": (
        "Start with the first step only; the rest can wait.",
        "We can adjust it as the week goes.",
    ),
    "role_play": ("We can keep talking as long as you like.", "Say the word and we'll try it another way."),
}
_SIGN_OFFS = {
    "joy": ("Enjoy every minute of it.", "Here's to more days like this.", "You deserve this."),
    "tender": (
        "Hold on to that one.",
        "Thank you for sharing it with me.",
        "Those memories are yours to keep.",
    ),
    "fear": ("One step at a time is plenty.", "You don't have to face it alone.", "We'll take it slowly."),
    "anger": ("Your feelings make sense.", "Take a breath before the next move.", "It's fair to be cross."),
    "shame": (
        "Be as kind to yourself as you'd be to a friend.",
        "This doesn't define you.",
        "Everyone stumbles.",
    ),
    "sadness": ("Go easy on yourself today.", "I'm right here.", "Rest counts as doing something."),
}
_LISTENING = (
    "I'm here and listening whenever you want to talk it through.",
    "Tell me more whenever you like.",
)


def _closing(folder: str | None, emotion: str, utterance: str) -> str:
    """A follow-up for the tool, then a sign-off for the emotion's family, each chosen by the utterance."""
    follow_up = _pick(_FOLLOW_UPS.get(folder or "", _LISTENING), "follow-up", utterance)
    return f"{follow_up} {_pick(_SIGN_OFFS[valence_family(emotion)], 'sign-off', emotion, utterance)}"


def render_result(
    folder: str,
    result: Any,
    params: dict[str, Any] | None = None,
    emotion: str = "",
    utterance: str = "",
    mode: str | None = None,
) -> str:
    """The middle of the reply: what the tool gave, named as the stepper's summary names it. `mode` is the
    tool record's (an offline role play echoes its input, so the baseline speaks for the character)."""
    params = params or {}
    item = main_item(folder, result, params)
    first = result[0] if isinstance(result, list) and result and isinstance(result[0], dict) else {}
    if folder == "role_play":
        return _role_play_text(params, emotion, utterance, result, mode)
    if folder == "schedule_manager":
        return _schedule_text(params, result, item, stated_time(utterance, date.today()).stated)
    if folder == "medical_appointment":
        return _appointment_text(result, item)
    render = _RENDERERS.get(folder)
    if render is None or item is None:
        return f"Here is what the tool found: {result}"
    return render(item, first, result)


def _music_text(item: str, song: dict[str, Any], _: Any) -> str:
    return f"Here's a song for right now: **{item}**. {song.get('description', '')}".strip()


def _film_text(item: str, film: dict[str, Any], _: Any) -> str:
    genres = ", ".join(film.get("genres", [])[:2]).lower()
    return f"How about a film: **{item}**, {genres}. {film.get('overview', '')}".strip()


def _joke_text(item: str, joke: dict[str, Any], _: Any) -> str:
    return f"Here's one to lighten things a little:\n\n> {joke.get('body', item)}"


def _story_text(item: str, story: dict[str, Any], _: Any) -> str:
    moral = f"\n\nWhat it says to me: {story['moral']}" if story.get("moral") else ""
    return f"There's a story I'd like to share, *{item}*:\n\n{story.get('content', '')}{moral}"


def _page_text(item: str, page: dict[str, Any], _: Any) -> str:
    return f"This page might help: [{item}]({page.get('link', '')}). {page.get('summary', '')}".strip()


def _strength_text(item: str, card: dict[str, Any], _: Any) -> str:
    return f"I drew a strength card for you: **{item}**. {card.get('description', '')} {card.get('encouragement', '')}".strip()


def _sticker_text(item: str, sticker: dict[str, Any], _: Any) -> str:
    return f"A sticker for you, *{item}*:\n\n```\n{sticker.get('art', '')}\n```"


def _shopping_text(item: str, _: dict[str, Any], result: Any) -> str:
    details = "\n\n".join(str(part) for part in result) if isinstance(result, list) else str(result)
    return f"I found **{item}** for you:\n\n{details}"


def _plan_text(item: str, _: dict[str, Any], result: Any) -> str:
    steps = str(result).split("\n", 1)[1].strip() if "\n" in str(result) else str(result)
    return f"I sketched a plan, **{item}**, in small steps:\n\n{steps}"


_RENDERERS = {
    "music_recommendation": _music_text,
    "film_recommendation": _film_text,
    "joke_recommendation": _joke_text,
    "story_recommender": _story_text,
    "psyweb_recommender": _page_text,
    "strength_card": _strength_text,
    "sticker_respond": _sticker_text,
    "online_shopping": _shopping_text,
    "plan_assistant": _plan_text,
}


def _schedule_text(params: dict[str, Any], result: Any, item: str | None, time_stated: bool) -> str:
    if params.get("operation") != "add" or not item:
        return f"I checked your schedule: {item or result}"
    when = datetime.strptime(params["time"], "%Y-%m-%d %H:%M")
    entry_id = str(result[1]).rsplit(" ", 1)[-1] if isinstance(result, list) else ""
    text = f"I've put it in your schedule: **{item}** ({when:%A}, {params.get('duration', '1 hour')}; {entry_id})."
    if not time_stated:
        text += " You didn't say when, so I chose tomorrow early evening; tell me a time and I'll move it."
    return text


def _appointment_text(result: Any, item: str | None) -> str:
    details = result.get("result") if isinstance(result, dict) else None
    if not isinstance(details, dict) or not details.get("appointment_id") or not item:
        return f"I checked your appointments: {item or details}"
    where = ", ".join(str(details[key]) for key in ("department", "hospital") if details.get(key))
    return f"I've booked you in with **{item}** ({where}; ref. {details['appointment_id']})."


_CHARACTER_LINES = {
    "joy": ("Oh, that's the best thing I've heard all week!", "Now that's what I like to hear!"),
    "tender": ("Oh, I remember days like that too.", "Moments like that stay with you, don't they?"),
    "fear": ("Come here, sit with me a minute. Breathe.", "Easy now. We'll take this slowly."),
    "anger": ("Well, no wonder you're fuming.", "I'd be cross too, and I won't pretend otherwise."),
    "shame": ("Listen to me: everybody has days like that.", "Hey now, I've done far worse, believe me."),
    "sadness": ("Oh, love. I'm right here.", "Come and sit down. You don't have to hold this by yourself."),
}
_CHARACTER_ASKS = {
    True: (
        "Tell me everything about {topic}. What was the best part?",
        "What are you going to do to celebrate?",
    ),
    False: (
        "What would help most with {topic} right now: a plan, or just someone to listen?",
        "What's the part of {topic} that's weighing on you most?",
    ),
}


def _role_play_text(
    params: dict[str, Any], emotion: str, utterance: str, result: Any, mode: str | None
) -> str:
    name = params.get("name") or "a friend"
    relationship = params.get("relationship") or "friend"
    if mode != OFFLINE:  # a tool model wrote the character's words
        return f"I asked **{name}**, your {relationship}, to answer you:\n\n> {result}"
    greeting = f"{params['user_name']}! " if params.get("user_name") and is_positive(emotion) else ""
    if params.get("user_name") and not is_positive(emotion):
        greeting = f"{params['user_name']}, "
    topic = keywords(utterance)[0]
    words = " ".join(
        [
            _pick(_CHARACTER_LINES[valence_family(emotion)], "character", utterance),
            _REFLECTIONS.get(emotion, ""),
            _pick(_CHARACTER_ASKS[is_positive(emotion)], "ask", utterance).format(topic=topic),
        ]
    )
    return f"I asked **{name}**, your {relationship}, to answer you:\n\n> {greeting}{words}"
