"""Which tool the baseline calls: a liked tool for the scenario type, by the cues; the utterance's topics."""

from __future__ import annotations

import re

from compass_tui.baseline.tone import valence_family
from compass_tui.persona import Persona

_TOOL_CUES: dict[str, tuple[str, ...]] = {
    # words that ask for a booking, not any mention of feeling unwell ("sick pay", "a headache")
    "medical_appointment": ("doctor", "appointment", "symptom", "check-up", "checkup", "hospital", "clinic"),
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


_CUE_PATTERNS = {
    tool: tuple(re.compile(rf"\b{re.escape(cue)}") for cue in cues) for tool, cues in _TOOL_CUES.items()
}

# With nothing liked to go on, the tools that suit a feeling, best first; a tool that books or buys
# something is never a guess, only chosen where the words ask for it.
_FITTING_BY_FEELING: dict[str, tuple[str, ...]] = {
    "joy": ("music_recommendation", "joke_recommendation", "film_recommendation", "sticker_respond"),
    "tender": ("story_recommender", "music_recommendation", "film_recommendation", "sticker_respond"),
    "fear": ("psyweb_recommender", "plan_assistant", "music_recommendation", "strength_card"),
    "anger": ("music_recommendation", "psyweb_recommender", "joke_recommendation", "role_play"),
    "shame": ("strength_card", "psyweb_recommender", "story_recommender", "music_recommendation"),
    "sadness": ("psyweb_recommender", "music_recommendation", "story_recommender", "strength_card"),
}


def choose_tool(
    utterance: str,
    scenario_type: str,
    persona: Persona | None,
    liked_history: dict[str, list[str]],
    emotion: str = "",
    disliked_history: dict[str, list[str]] | None = None,
) -> str:
    """A liked tool for this scenario type, the one whose cues best fit the utterance. Without a persona
    (the history setting) the likes and dislikes of earlier turns stand in for its preferences; with
    nothing liked, a tool whose cues the words match, else one that suits the feeling."""
    if persona is not None:
        preference = persona.tool_preferences.for_scenario(scenario_type)
        liked, avoid = list(preference.liked), set(preference.disliked)
    else:
        avoid = set((disliked_history or {}).get(scenario_type, []))
        liked = [tool for tool in dict.fromkeys(liked_history.get(scenario_type, [])) if tool not in avoid]
    text = utterance.lower()
    candidates = liked or _fallback(text, emotion, avoid)
    return max(candidates, key=lambda tool: (_cue_hits(tool, text), -candidates.index(tool)))


def _fallback(text: str, emotion: str, avoid: set[str]) -> list[str]:
    fitting = [tool for tool in _FITTING_BY_FEELING[valence_family(emotion)] if tool not in avoid]
    cued = [tool for tool in _TOOL_CUES if tool not in avoid and _cue_hits(tool, text)]
    return (
        list(dict.fromkeys([*fitting, *cued]))
        or [t for t in _TOOL_CUES if t not in avoid]
        or list(_TOOL_CUES)
    )


def _cue_hits(tool: str, text: str) -> int:
    """How many of the tool's cues begin a word of the text ("time" in "timetable", not "sometimes")."""
    return sum(1 for cue in _CUE_PATTERNS.get(tool, ()) if cue.search(text))


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
