"""The baseline's reply: an opening for the emotion, the tool's result told in words, and a closing."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from compass_tui.baseline.choice import keywords
from compass_tui.baseline.times import stated_time
from compass_tui.baseline.tone import OPENERS, is_positive, pick, valence_family
from compass_tui.tools.generative import OFFLINE
from compass_tui.tools.summary import main_item

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
    first = pick(OPENERS[valence_family(emotion)], "opener", emotion, utterance)
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
    follow_up = pick(_FOLLOW_UPS.get(folder or "", _LISTENING), "follow-up", utterance)
    return f"{follow_up} {pick(_SIGN_OFFS[valence_family(emotion)], 'sign-off', emotion, utterance)}"


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
            pick(_CHARACTER_LINES[valence_family(emotion)], "character", utterance),
            _REFLECTIONS.get(emotion, ""),
            pick(_CHARACTER_ASKS[is_positive(emotion)], "ask", utterance).format(topic=topic),
        ]
    )
    return f"I asked **{name}**, your {relationship}, to answer you:\n\n> {greeting}{words}"
