"""How the baseline sounds: the emotion's family, its openers and moods, and the seeded choice of phrasing."""

from __future__ import annotations

import hashlib

from compass_tui.vocab import POSITIVE_EMOTIONS


def joined(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _digest(*parts: str) -> int:
    """A number fixed by the situation's text: the baseline's only source of variety."""
    return int(hashlib.sha256("|".join(parts).encode()).hexdigest(), 16)


def pick(options: tuple[str, ...], *seed: str) -> str:
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
OPENERS = {
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
MUSIC_MOODS = {
    "joy": ["uplifting", "joyful"],
    "tender": ["nostalgic", "warm"],
    "fear": ["calm", "soothing"],
    "anger": ["calm", "cathartic"],
    "shame": ["gentle", "hopeful"],
    "sadness": ["comforting", "gentle"],
}
# Films for a happy user come from the light genres; a low one gets gentle, comforting ones.
FILM_GENRES = {
    True: ["Comedy", "Animation", "Family", "Adventure"],
    False: ["Comedy", "Family", "Animation"],
}
FILM_TONES = {
    True: ("uplifting", "feel-good", "funny", "charming"),
    False: ("heartwarming", "gentle", "hopeful"),
}
PLAN_GOALS = {
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
