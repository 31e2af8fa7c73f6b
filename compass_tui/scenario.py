"""Which of the five scenario types a situation belongs to, read from its words.

The published test set does not label its situations with a scenario type, but the
preferences, the baseline agent and the acceptable/optimal rates all need one. This
classifier is lexical and deterministic; what it infers is marked as inferred.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from compass_tui.vocab import SCENARIO_KEYS

_LEXICON: dict[str, tuple[str, ...]] = {
    "work_study": (
        "work", "job", "boss", "supervisor", "coworker", "co-worker", "coworkers", "colleague", "colleagues",
        "office", "shift", "shifts", "meeting", "deadline", "deadlines", "project", "client", "clients",
        "promotion", "interview", "exam", "exams", "test", "class", "classes", "school", "homework", "study",
        "studying", "teacher", "professor", "lecture", "assignment", "grade", "grades", "career", "business",
        "customer", "customers", "report", "presentation", "thesis", "college", "university", "semester",
        "training", "workplace", "manager", "employer", "salary", "workshop", "team lead", "internship",
        "coursework", "classmates", "classmate", "quiz", "tutor", "patients", "lesson", "lessons", "harvest",
        "suneung", "campus", "tuition",
    ),
    "health": (
        "health", "doctor", "doctors", "hospital", "clinic", "pain", "ache", "aches", "aching", "joint",
        "joints", "injury", "injured", "sick", "ill", "illness", "fever", "diagnosis", "diagnosed", "symptom",
        "symptoms", "medication", "medicine", "pills", "therapy", "therapist", "check-up", "checkup",
        "blood", "surgery", "operation", "sleep", "insomnia", "fatigue", "exhausted", "exercise", "diet",
        "weight", "headache", "headaches", "migraine", "panic", "asthma", "diabetes", "insulin", "recovery",
        "physio", "physiotherapy", "dentist", "nurse", "heart", "stretches", "stretching", "sore", "flare",
        "flares", "inhaler", "scan", "results", "cough", "covid", "pregnancy", "pregnant", "midwife",
        "hearing", "knee", "back pain", "rehab", "fall", "fell", "dizzy", "glucose", "sugar levels",
    ),
    "family": (
        "family", "mother", "mom", "mum", "mama", "father", "dad", "papa", "parents", "parent", "son", "sons",
        "daughter", "daughters", "kids", "children", "child", "wife", "husband", "spouse", "partner",
        "sister", "brother", "sibling", "siblings", "grandma", "grandmother", "grandfather", "grandpa",
        "grandchildren", "grandson", "granddaughter", "grandkids", "cousin", "aunt", "uncle", "niece",
        "nephew", "in-laws", "in-law", "baby", "relatives", "anniversary", "household", "marriage",
        "abuela", "lola", "nani", "babcia", "obaachan", "halmeoni",
    ),
    "social": (
        "friend", "friends", "friendship", "neighbor", "neighbour", "neighbors", "neighbours", "party",
        "group", "club", "meetup", "meet-up", "community", "volunteer", "volunteering", "stranger",
        "strangers", "acquaintance", "acquaintances", "date", "dating", "gathering", "invite", "invited",
        "invitation", "social", "teammates", "crowd", "congregation", "choir", "church", "mosque", "temple",
        "reunion", "birthday", "guests", "host", "hosting", "chat", "group chat", "online", "followers",
        "open mic", "audience", "bandmates", "band",
    ),
    "leisure": (
        "weekend", "hobby", "hobbies", "relax", "relaxing", "vacation", "holiday", "trip", "travel",
        "movie", "movies", "film", "films", "music", "concert", "song", "songs", "book", "books", "novel",
        "reading", "painting", "drawing", "sketches", "garden", "gardening", "hiking", "hike", "walk",
        "park", "game", "games", "gaming", "cooking", "baking", "festival", "art", "museum", "exhibition",
        "beach", "fishing", "knitting", "photography", "sunset", "saturday", "sunday", "free time",
        "day off", "downtime", "lazy", "binge", "puzzle", "crossword", "radio", "ikebana", "sea", "backgammon",
    ),
}
_WORDS: dict[str, frozenset[str]] = {key: frozenset(w for w in words if " " not in w) for key, words in _LEXICON.items()}
_PHRASES: dict[str, tuple[str, ...]] = {key: tuple(w for w in words if " " in w) for key, words in _LEXICON.items()}
_TOKEN_RE = re.compile(r"[a-z][a-z'-]*")


def _counts(text: str) -> dict[str, int]:
    lowered = text.lower()
    tokens = _TOKEN_RE.findall(lowered)
    counts = {}
    for key in SCENARIO_KEYS:
        words = _WORDS[key]
        counts[key] = sum(1 for token in tokens if token in words) + sum(lowered.count(p) for p in _PHRASES[key])
    return counts


@dataclass(frozen=True)
class ScenarioGuess:
    scenario_type: str
    confidence: float
    scores: dict[str, float]


def classify_scenario(scenario: str, utterance: str = "") -> ScenarioGuess:
    """The most likely scenario type for a situation, with a confidence in [0, 1]."""
    scores = {key: 0.0 for key in SCENARIO_KEYS}
    for text, weight in ((scenario, 1.0), (utterance, 0.7)):
        for key, count in _counts(text).items():
            scores[key] += weight * count
    ranked = sorted(SCENARIO_KEYS, key=lambda key: (-scores[key], SCENARIO_KEYS.index(key)))
    best, runner_up = scores[ranked[0]], scores[ranked[1]]
    if best == 0:
        return ScenarioGuess("leisure", 0.0, scores)
    confidence = (best - runner_up) / best
    return ScenarioGuess(ranked[0], round(confidence, 3), scores)
