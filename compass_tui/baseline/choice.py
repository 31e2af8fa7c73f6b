"""Which tool the baseline calls: a liked tool for the scenario type, by the cues; the utterance's topics."""

from __future__ import annotations

import re

from compass_tui.persona import Persona

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
