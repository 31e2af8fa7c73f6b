"""The 12 ComPASS tool definitions, in OpenAI function format with JSON-Schema parameters.

Names, parameters, types, enums and required fields are ComPASS's (a test checks them against
the official `toolenv/*/definition.json`); the descriptions are ours. With `--tool-data` pointing
at a ComPASS `toolenv/`, the official definition files are used instead.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from compass_tui.errors import InputError
from compass_tui.jsonio import load_json
from compass_tui.vocab import TOOLS

MUSIC_GENRES = [
    "pop",
    "rock",
    "classical",
    "jazz",
    "electronic",
    "hiphop",
    "country",
    "blues",
    "rnb",
    "folk",
    "metal",
    "reggae",
    "punk",
    "soul",
    "disco",
]
JOKE_CATEGORIES = [
    "Animal",
    "Other / Misc",
    "Bar",
    "One Liners",
    "Puns",
    "Lawyer",
    "Sports",
    "Medical",
    "News / Politics",
    "Men / Women",
    "Gross",
    "Blond",
    "Yo Momma",
    "Redneck",
    "Religious",
    "At Work",
    "College",
    "Lightbulb",
    "Children",
    "Insults",
    "Knock-Knock",
    "Tech",
    "Yo Mama",
    "Blonde",
]
PSY_PROBLEM_TYPES = [
    "Body image",
    "Problem gambling",
    "Hearing voices (auditory hallucinations)",
    "Stigma and discrimination",
    "Stress",
    "Trauma",
    "Debt",
    "Friendship",
    "Housing",
    "Human rights",
    "Loneliness",
    "Nature",
    "Pets",
    "Work-life balance",
    "Drugs",
    "Menopause",
    "Physical activity",
    "Physical health",
    "Sleep",
    "Smoking",
]
PSY_DOMAINS = ["Psychological Factors", "Social Factors", "Lifestyle and Physical Health Factors"]
PSY_USER_GROUPS = ["Children", "Teenager", "Adult", "Elder"]
STORY_THEMES = [
    "Learning and Knowledge",
    "Dreams and Aspirations",
    "Adversity and Resilience",
    "Interpersonal Relationships",
    "Self-Understanding and Growth",
    "Career and Development",
    "Daily Emotions and Mood",
]
STORY_TYPES = [
    "Literature and Essays",
    "Historical Biography",
    "Real-Life Case Study",
    "Fable and Parable",
    "Fictional Character (Film/Novel)",
]
STORY_STYLES = [
    "Warm and Comforting",
    "Passionate and Inspiring",
    "Analytical and Rational",
    "Story-Driven and Immersive",
    "Concise and Philosophical",
]

# ComPASS writes these per-operation requirements as `dependentRequired` keyed by operation
# names, which JSON Schema reads as property names and so never enforces. This is what they mean.
SCHEDULE_OPERATION_RULES = [
    {
        "if": {"properties": {"operation": {"const": "add"}}, "required": ["operation"]},
        "then": {"required": ["time", "location", "event", "duration"]},
    },
    {
        "if": {"properties": {"operation": {"enum": ["delete", "update"]}}, "required": ["operation"]},
        "then": {"required": ["schedule_id"]},
    },
]


def _string(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **extra}


def _strings(description: str) -> dict[str, Any]:
    return {"type": "array", "items": {"type": "string"}, "description": description}


def _tool(name: str, description: str, properties: dict, required: list[str], **extra: Any) -> dict[str, Any]:
    parameters = {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
    parameters.update(extra)
    return {"name": name, "description": description, "parameters": parameters}


OUR_DEFINITIONS: dict[str, dict[str, Any]] = {
    "music_recommendation": _tool(
        "query_music",
        "Find songs that fit a mood or request. Matches keywords by meaning, optionally narrowed to an artist "
        "(fuzzy) and a genre (exact). Returns songs with title, artist, genre, year, duration, "
        "a short note and a link.",
        {
            "artist": _string("Artist to narrow to; fuzzy and case-insensitive, e.g. 'Nina Simone'."),
            "genre": _string("One of the fixed genres, case-insensitive.", enum=MUSIC_GENRES),
            "keywords": _strings(
                "Words describing the wanted mood or theme, e.g. ['calm', 'hopeful', 'piano']."
            ),
        },
        ["keywords"],
    ),
    "joke_recommendation": _tool(
        "search_jokes",
        "Find jokes that match a description, optionally within a category.",
        {
            "description": _string(
                "What the jokes should be about, e.g. 'gentle jokes about working from home'."
            ),
            "category": _string("Joke category; case-insensitive.", enum=JOKE_CATEGORIES),
        },
        ["description"],
    ),
    "film_recommendation": _tool(
        "search_movies",
        "Find films by content keywords, actors, genres, rating range, vote count and emotional tone. "
        "Returns films with title, year, rating, genres, director, cast and a short overview.",
        {
            "keyword": _strings(
                "Content keywords; several, covering different aspects, e.g. ['friendship', 'road trip']."
            ),
            "actors": _strings("Actors who should appear, e.g. ['Tom Hanks']."),
            "genres": _strings("Genres such as ['comedy', 'drama']; aliases like 'sci-fi' are understood."),
            "min_rating": {
                "type": "number",
                "minimum": 0,
                "maximum": 10,
                "description": "Lowest average rating, 0-10.",
            },
            "max_rating": {
                "type": "number",
                "minimum": 0,
                "maximum": 10,
                "description": "Highest average rating, 0-10.",
            },
            "min_vote_count": {"type": "integer", "minimum": 0, "description": "Fewest votes a film needs."},
            "emotion": _string("Emotional tone to match, e.g. 'heartwarming' or 'suspenseful'."),
            "include_adult": {
                "type": "boolean",
                "description": "Whether adult titles may be returned (default false).",
            },
        },
        ["keyword"],
    ),
    "story_recommender": _tool(
        "retrieve_story",
        "Find an inspiring story for the user's situation and feelings, optionally of a given theme, type and style.",
        {
            "user_prompt": _string("The user's situation, struggles or feelings, in a sentence or two."),
            "theme": _string("Theme of the story.", enum=STORY_THEMES),
            "type": _string("Kind of story.", enum=STORY_TYPES),
            "style": _string("Telling style.", enum=STORY_STYLES),
        },
        ["user_prompt"],
    ),
    "psyweb_recommender": _tool(
        "psychology_websites_recommender",
        "Recommend reputable psychology and health pages for a situation, problem type and age group, "
        "each with a short summary of what it offers.",
        {
            "situation": _string("What the user is going through."),
            "problem_type": _string("The problem the pages should address.", enum=PSY_PROBLEM_TYPES),
            "domain": _string("The domain of the problem.", enum=PSY_DOMAINS),
            "user_group": _string("The user's age group.", enum=PSY_USER_GROUPS),
            "topk": {"type": "integer", "description": "How many pages to return.", "default": 1},
        },
        ["situation", "problem_type", "user_group"],
    ),
    "strength_card": _tool(
        "strengthcard",
        "Draw character-strength cards (VIA framework) for the user's situation: the strength, what it is, "
        "and an encouragement tied to the situation.",
        {"situation": _string("The user's situation in their words, e.g. 'I failed my driving test again.'")},
        ["situation"],
    ),
    "sticker_respond": _tool(
        "retrieve_stickers",
        "Find stickers (small pictures made of text) that match a mood or theme.",
        {
            "tag": _string("The main mood or theme, e.g. 'comforting', 'happy', 'proud'."),
            "subject": _string("Optional subject, e.g. 'cat', 'bear', 'person'."),
            "alternative_descriptions": _string("Optional extra words, e.g. 'cute hug'."),
            "style": _string("Optional style, e.g. 'kaomoji', 'ascii-art', 'minimalist'."),
            "topk": {
                "type": "integer",
                "default": 1,
                "description": "How many stickers to return (default 1).",
            },
        },
        ["tag"],
    ),
    "schedule_manager": _tool(
        "schedule_api",
        "Manage the user's schedule: add, delete, update, query or list entries. add/delete/update return "
        "[success, message]; query/get_all return a list of entries.",
        {
            "operation": _string("What to do.", enum=["add", "delete", "update", "query", "get_all"]),
            "time": _string("Start time as YYYY-MM-DD HH:MM; required to add."),
            "location": _string("Where; required to add."),
            "event": _string("What; required to add; a keyword for query."),
            "duration": _string("How long, e.g. '2 hours'; required to add."),
            "schedule_id": _string(
                "Entry id such as sch_1; required to delete or update.", pattern=r"^sch_\d+$"
            ),
        },
        ["operation"],
        allOf=SCHEDULE_OPERATION_RULES,
    ),
    "medical_appointment": _tool(
        "medical_appointment_operation",
        "Book, query, modify or cancel medical appointments. Returns whether it worked and the details.",
        {
            "operation": _string("What to do.", enum=["book", "query", "modify", "cancel"]),
            "user_name": _string("Patient's name."),
            "user_phone": _string("Patient's phone number."),
            "user_id": _string("Patient's ID number (optional)."),
            "illness_description": _string("Symptoms or reason for the visit; used when booking."),
            "desired_date": _string("Wanted date as YYYY-MM-DD."),
            "appointment_id": _string("Appointment id; for query, modify and cancel."),
            "status": _string("pending, confirmed or cancelled; for query."),
            "hospital": _string("Hospital name; for query."),
            "department": _string("Department name; for query."),
        },
        ["operation", "desired_date"],
    ),
    "online_shopping": _tool(
        "shopping_assistant_api",
        "Suggest a product for a need and place a mock order: product details, then an order confirmation.",
        {
            "item_type": _string("Category, e.g. 'Home Goods'."),
            "item_name": _string("What to buy, e.g. 'weighted blanket'."),
            "item_features": _strings("Wanted features, e.g. ['washable', 'single bed size']."),
        },
        ["item_type", "item_name", "item_features"],
    ),
    "plan_assistant": _tool(
        "generate_plan",
        "Write a concrete, step-by-step action plan for a goal.",
        {
            "plan": _string("The goal, e.g. 'prepare for my first marathon'."),
            "theme": _string("Kind of plan, e.g. 'study plan'."),
            "style": _string("Tone, e.g. 'casual' or 'formal'."),
            "additional_requirements": _string("Constraints such as budget or timeline."),
        },
        ["plan"],
    ),
    "role_play": _tool(
        "roleplay_agent",
        "Speak as a character, in a given relationship and style, in reply to the user.",
        {
            "name": _string("The character's name."),
            "ip": _string("The story or universe the character comes from."),
            "user_input": _string("What the user says to the character."),
            "relationship": _string("The character's relationship to the user, e.g. 'old friend'."),
            "style": _string("How the character speaks, e.g. 'gentle'."),
            "user_name": _string("How the character should address the user."),
        },
        ["name", "user_input"],
    ),
}


def load_definitions(toolenv: Path | None = None) -> dict[str, dict[str, Any]]:
    """Definitions keyed by tool folder: ours, or a ComPASS toolenv's official files where present."""
    definitions = copy.deepcopy(OUR_DEFINITIONS)
    if toolenv is None:
        return definitions
    for tool in TOOLS:
        official = toolenv / tool.folder / "definition.json"
        if official.is_file():
            definition = _checked_definition(load_json(official), tool.function, official)
            if tool.folder == "schedule_manager":
                definition["parameters"].setdefault("allOf", SCHEDULE_OPERATION_RULES)
            definitions[tool.folder] = definition
    return definitions


def _checked_definition(definition: Any, function: str, path: Path) -> dict[str, Any]:
    """An official definition.json: an object naming the tool's function, with an object of parameters."""
    if not isinstance(definition, dict):
        raise InputError(path, None, "expected a JSON object (a tool definition)")
    if definition.get("name") != function:
        raise InputError(path, "name", f"expected {function!r}, the function of this tool folder")
    if not isinstance(definition.get("parameters"), dict):
        raise InputError(path, "parameters", "expected a JSON object (the parameters' JSON Schema)")
    return definition


def openai_tools(definitions: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The definitions as an OpenAI `tools` list, one function per tool."""
    return [{"type": "function", "function": definitions[tool.folder]} for tool in TOOLS]
