"""The stub model that persona-synthesis tests talk to: valid answers per stage, faults queued per persona.

A persona is known by its first name: persona n (1-based) is FIRST_NAMES[n - 1], found in the demographic
prompt by the brief the seed draws for it, and in every later prompt by the demographic it quotes.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter, deque

from compass_tui.synthesis import persona_brief
from compass_tui.vocab import EMOTIONS, SCENARIO_KEYS
from tools.stub_llm import Reply, text

STAGE_RE = re.compile(r"^Stage: (\w+)")
FIRST_NAMES = ("Ines", "Tomasz", "Aiko", "Kwame", "Lucia")
HOBBIES = {
    "Ines": "restores old bicycles and swims in the sea before work",
    "Tomasz": "plays chess online at night and grows chillies on his balcony",
    "Aiko": "sings in a choir and bakes bread for her neighbours",
    "Kwame": "coaches a youth football team and repairs radios",
    "Lucia": "paints watercolour birds and hikes volcano trails",
}
SHARED_BACKGROUND = {
    "hobbies": "reads detective novels, walks the dog along the canal every evening and knits scarves",
    "health_status": "mild asthma in spring; otherwise healthy and sleeps well",
    "family_environment": "lives with a partner and a teenage son in a rented flat",
    "living_habits": "cooks at home, takes the tram to work and goes to bed early",
    "growth_experience": "grew up on a farm and moved to the city to study accounting",
}


def request_stage(body: dict) -> str | None:
    found = STAGE_RE.match(body["messages"][1]["content"]) if len(body["messages"]) > 1 else None
    return found.group(1) if found else None


def valid_answer(stage: str, name: str, same_background: bool = False, mix: dict | None = None) -> dict:
    mix = mix or dict.fromkeys(SCENARIO_KEYS, 3)
    if stage == "demographic":
        return {
            "age": 30 + FIRST_NAMES.index(name),
            "gender": "woman",
            "firstname": name,
            "lastname": "Stubson",
            "address": "1 Test Street",
            "phone": "555-0100",
            "education": "college",
            "career": "librarian",
            "income": "modest",
        }
    if stage == "big_five":
        return {
            "openness": "high",
            "conscientiousness": "medium",
            "extraversion": "low",
            "agreeableness": "high",
            "neuroticism": "medium",
        }
    if stage == "personality":
        return {
            "personality_description": f"{name} is curious and warm, slow to trust, quick to laugh, and kind."
        }
    if stage == "background":
        if same_background:
            return dict(SHARED_BACKGROUND)
        return {
            "hobbies": HOBBIES[name],
            "health_status": f"{name} has {len(name)} old sports injuries",
            "family_environment": f"{name}'s family is scattered over {len(name)} countries",
            "living_habits": f"{name} rises at {len(name)} every morning",
            "growth_experience": f"{name} changed schools {len(name)} times",
        }
    if stage == "tool_preferences":
        return {
            key: {
                "text": f"I like music when {key} gets hard.",
                "liked": ["music_recommendation"],
                "disliked": [],
            }
            for key in SCENARIO_KEYS
        }
    if stage == "scenarios":
        types = [key for key in SCENARIO_KEYS for _ in range(mix[key])]
        return {
            "situations": [
                {"scenario_type": kind, "emotion": EMOTIONS[i], "scenario": f"{name} faces moment {i + 1}."}
                for i, kind in enumerate(types)
            ]
        }
    if stage == "utterances":
        return {"utterances": [f"{name} says thing {i + 1}." for i in range(sum(mix.values()))]}
    raise AssertionError(f"unknown stage {stage!r}")


class SynthBot:
    """Answers every synthesis stage validly, unless replies are queued for (first name, stage)."""

    def __init__(self, seed: int = 0, same_background: bool = False, mix: dict | None = None):
        self.briefs = {
            name: "\n".join(f"- {key}: {value}" for key, value in persona_brief(seed, index).items())
            for index, name in enumerate(FIRST_NAMES, start=1)
        }
        assert len(set(self.briefs.values())) == len(FIRST_NAMES), "two personas share a brief"
        self.same_background = same_background
        self.mix = mix
        self.asked: Counter[tuple[str, str]] = Counter()  # (first name, stage) -> requests
        self.bodies: list[tuple[str, str, dict]] = []
        self._faults: dict[tuple[str, str], deque[Reply]] = {}
        self._lock = threading.Lock()

    def fail(self, name: str, stage: str, *replies: Reply) -> None:
        self._faults.setdefault((name, stage), deque()).extend(replies)

    def __call__(self, body: dict) -> Reply:
        stage = request_stage(body)
        if stage is None:
            return text("ready")
        with self._lock:
            name = self._name_in(body, stage)
            self.asked[(name, stage)] += 1
            self.bodies.append((name, stage, body))
            queued = self._faults.get((name, stage))
            if queued:
                return queued.popleft()
        return text(json.dumps(valid_answer(stage, name, self.same_background, self.mix)))

    def _name_in(self, body: dict, stage: str) -> str:
        prompt = body["messages"][1]["content"]
        if stage == "demographic":
            found = [name for name, brief in self.briefs.items() if brief in prompt]
        else:
            found = [name for name in FIRST_NAMES if f'"firstname": "{name}"' in prompt]
        assert len(found) == 1, f"cannot tell which persona asked: {found}"
        return found[0]

    def requests_for(self, name: str) -> dict[str, int]:
        return {stage: count for (who, stage), count in self.asked.items() if who == name}
