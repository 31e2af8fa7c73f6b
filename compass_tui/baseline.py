"""The offline baseline: a deterministic, rule-based agent with no network and no LLM.

It classifies the utterance's scenario type, picks a tool the persona likes for that type
(in the history setting, where preferences are hidden, a tool that earned a "like" before),
fills the required parameters from the utterance and the persona, and composes a reply
from the tool's result. It exists so that the workbench runs with no API key, and as a
floor for comparisons. It is shown as a baseline, never as an LLM.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from compass_tui.persona import Persona
from compass_tui.scenario import classify_scenario
from compass_tui.tools.definitions import MUSIC_GENRES
from compass_tui.vocab import POSITIVE_EMOTIONS, SCENARIO_BY_KEY

BASELINE_LABEL = "baseline (offline, rule-based)"

_STOPWORDS = set(
    """a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have having he her here
hers herself him himself his how i if in into is it its itself just like me more most my myself no nor not now of off on
once only or other our ours out over own really same she should so some such than that the their them then there these
they this those through to too under until up very was we were what when where which while who whom why will with would
you your yours yourself got get getting im i'm it's that's don't can't didn't ive i've ill i'll been just even still also
much thing things feel felt feeling kind sort today tonight yesterday week day lot know think keep going one way make
made bit honestly""".split()
)
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
_FILM_TONES = {True: "uplifting", False: "heartwarming"}
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
_PSY_PROBLEMS = (
    ("sleep", "Sleep"),
    ("lonel", "Loneliness"),
    ("friend", "Friendship"),
    ("debt", "Debt"),
    ("money", "Debt"),
    ("work", "Work-life balance"),
    ("exercise", "Physical activity"),
    ("pain", "Physical health"),
    ("sick", "Physical health"),
    ("smok", "Smoking"),
    ("pet", "Pets"),
    ("dog", "Pets"),
    ("cat", "Pets"),
    ("body", "Body image"),
    ("menopause", "Menopause"),
)


def keywords(text: str, limit: int = 5) -> list[str]:
    """The most telling words of an utterance, in order of first appearance."""
    words = re.findall(r"[a-zA-Z][a-zA-Z'-]{2,}", text.lower())
    seen: list[str] = []
    for word in words:
        if word not in _STOPWORDS and word not in seen:
            seen.append(word)
    return sorted(seen, key=lambda w: (-len(w), seen.index(w)))[:limit]


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


def tool_params(
    tool: str, utterance: str, emotion: str, scenario_type: str, persona: Persona | None, today: date
) -> dict[str, Any]:
    words = keywords(utterance)
    topic = " ".join(words[:3]) or "everyday life"
    positive = emotion in POSITIVE_EMOTIONS
    snippet = _first_sentence(utterance)
    if tool == "music_recommendation":
        params: dict[str, Any] = {
            "keywords": [*(["uplifting", "celebration"] if positive else ["calm", "comforting"]), *words[:2]]
        }
        genre = _preferred_genre(persona, scenario_type)
        return params | ({"genre": genre} if genre else {})
    if tool == "film_recommendation":
        return {"keyword": words[:3] or ["friendship"], "emotion": _FILM_TONES[positive], "min_rating": 6.5}
    if tool == "joke_recommendation":
        return {
            "description": f"gentle, kind jokes about {topic}",
            "category": _JOKE_CATEGORIES[scenario_type],
        }
    if tool == "story_recommender":
        return {
            "user_prompt": snippet,
            "theme": _STORY_THEMES[scenario_type],
            "style": "Passionate and Inspiring" if positive else "Warm and Comforting",
        }
    if tool == "psyweb_recommender":
        return {
            "situation": snippet,
            "problem_type": _psy_problem(utterance),
            "user_group": _user_group(persona),
        }
    if tool == "strength_card":
        return {"situation": snippet}
    if tool == "sticker_respond":
        return {"tag": _STICKER_TAGS.get(emotion, "comforting"), "topk": 1}
    if tool == "schedule_manager":
        when = (today + timedelta(days=1)).strftime("%Y-%m-%d 18:00")
        return {
            "operation": "add",
            "time": when,
            "location": "Home",
            "event": f"Follow-up: {' '.join(snippet.split()[:8]).rstrip('.,!?')}",
            "duration": "1 hour",
        }
    if tool == "medical_appointment":
        params = {
            "operation": "book",
            "desired_date": (today + timedelta(days=3)).isoformat(),
            "illness_description": snippet,
        }
        if persona is not None:
            params |= {"user_name": persona.display_name, "user_phone": persona.demographic.phone}
        return params
    if tool == "online_shopping":
        return {
            "item_type": "Home Goods",
            "item_name": "comfort care package",
            "item_features": words[:3] or ["cosy"],
        }
    if tool == "plan_assistant":
        return {
            "plan": f"a gentle plan for: {snippet[:120]}",
            "theme": f"{SCENARIO_BY_KEY[scenario_type].label} plan",
            "style": "casual",
        }
    return {
        "name": "a trusted old friend",
        "user_input": utterance[:500],
        "relationship": "close friend",
        "style": "gentle",
        **({"user_name": persona.name} if persona else {}),
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
    from compass_tui.vocab import TOOL_BY_FOLDER

    return {
        "scenario": SCENARIO_BY_KEY[scenario_type].compass_key,
        "tool_folder_name": tool,
        "function_name": TOOL_BY_FOLDER[tool].function,
        "param": tool_params(tool, utterance, emotion, scenario_type, persona, today),
    }


def _first_sentence(text: str) -> str:
    sentence = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0]
    return sentence[:300]


def _preferred_genre(persona: Persona | None, scenario_type: str) -> str | None:
    if persona is None:
        return None
    text = persona.tool_preferences.for_scenario(scenario_type).text.lower()
    liked_part = re.split(r"dislik|avoid", text, maxsplit=1)[0]
    found = [genre for genre in MUSIC_GENRES if re.search(rf"\b{genre}\b", liked_part)]
    return found[0] if found else None


def _psy_problem(utterance: str) -> str:
    text = utterance.lower()
    return next((problem for cue, problem in _PSY_PROBLEMS if cue in text), "Stress")


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
    "devastated": "I'm so sorry. Something this heavy deserves time, gentleness and support.",
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
    "sentimental": "Those bittersweet feelings show how much these things mean to you.",
    "surprised": "What a turn of events — it's a lot to take in.",
    "terrified": "That sounds truly frightening. You're safe to talk about it here.",
    "trusting": "It's a good feeling to be able to rely on someone.",
}


def opening(emotion: str) -> str:
    """An acknowledgement fitted to the emotion: the baseline's whole empathy, and it says so by being plain."""
    positive = emotion in POSITIVE_EMOTIONS
    first = "That's wonderful to hear." if positive else "That sounds really hard."
    thanks = "Thank you for sharing it with me." if positive else "Thank you for telling me about it."
    return f"{first} {_REFLECTIONS.get(emotion, '')} {thanks}".replace("  ", " ")


def empathetic_reply(emotion: str) -> str:
    return f"{opening(emotion)}\n\nIf you'd like to talk it through, I'm here and listening."


def compose_response(emotion: str, utterance: str, tool_record: dict[str, Any]) -> str:
    """A reply built from the tool's result, the way the two-stage agent's second stage would."""
    if not tool_record.get("ok"):
        return f"{opening(emotion)}\n\nI tried to find something to help, but it didn't work this time. I'm still here to listen."
    body = render_result(tool_record["tool_folder_name"], tool_record["result"])
    return (
        f"{opening(emotion)}\n\n{body}\n\nWhatever you decide next, I'm here if you want to talk it through."
    )


def render_result(folder: str, result: Any) -> str:
    first = result[0] if isinstance(result, list) and result and isinstance(result[0], dict) else None
    if folder == "music_recommendation" and first:
        return f"I used the **music** tool and found *{first['title']}* by {first['artist']} — {first.get('description', '')}"
    if folder == "film_recommendation" and first:
        return (
            f"From the **film** tool: *{first['title']}* ({first.get('release_year')}), "
            f"{', '.join(first.get('genres', []))}. {first.get('overview', '')}"
        )
    if folder == "joke_recommendation" and first:
        return f"Here's one from the **joke** tool to lighten things a little:\n\n> {first['body']}"
    if folder == "story_recommender" and first:
        return (
            f"The **story** tool brought up *{first['title']}*:\n\n{first['content']}\n\n"
            f"What it says to me: {first.get('moral', '')}"
        )
    if folder == "psyweb_recommender" and first:
        return f"The **psychology pages** tool found this page: [{first.get('title') or first['link']}]({first['link']}). {first['summary']}"
    if folder == "strength_card" and first:
        return f"I drew a **strength card** for you: **{first['name']}** — {first['description']} {first['encouragement']}"
    if folder == "sticker_respond" and first:
        return f"A **sticker** for you:\n\n```\n{first['art']}\n```"
    if folder == "schedule_manager":
        return f"I updated your **schedule**: {result[1] if isinstance(result, list) and len(result) == 2 else result}"
    if folder == "medical_appointment" and isinstance(result, dict):
        details = result.get("result", {})
        if isinstance(details, dict) and details.get("appointment_id"):
            return (
                f"I booked a **medical appointment**: {details.get('department')} at {details.get('hospital')} "
                f"with {details.get('doctor')} on {details.get('appointment_date')} (ref. {details['appointment_id']})."
            )
        return f"I checked your **appointments**: {details}"
    if folder == "online_shopping" and isinstance(result, list):
        return "I used the **shopping** tool:\n\n" + "\n\n".join(str(part) for part in result)
    if folder == "plan_assistant":
        return f"I put together a **plan** with the plan tool:\n\n{result}"
    if folder == "role_play":
        return f"I asked a **role-play** character to speak with you:\n\n{result}"
    return f"Here is what the tool found: {result}"
