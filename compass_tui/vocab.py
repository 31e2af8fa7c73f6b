"""The fixed vocabulary of ComPASS: tools, scenario types, emotions, score dimensions."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ToolName:
    folder: str
    function: str
    label: str


TOOLS: tuple[ToolName, ...] = (
    ToolName("music_recommendation", "query_music", "Music"),
    ToolName("joke_recommendation", "search_jokes", "Jokes"),
    ToolName("film_recommendation", "search_movies", "Films"),
    ToolName("story_recommender", "retrieve_story", "Stories"),
    ToolName("psyweb_recommender", "psychology_websites_recommender", "Psychology pages"),
    ToolName("strength_card", "strengthcard", "Strength cards"),
    ToolName("sticker_respond", "retrieve_stickers", "Stickers"),
    ToolName("schedule_manager", "schedule_api", "Schedule"),
    ToolName("medical_appointment", "medical_appointment_operation", "Medical appointments"),
    ToolName("online_shopping", "shopping_assistant_api", "Shopping"),
    ToolName("plan_assistant", "generate_plan", "Plans"),
    ToolName("role_play", "roleplay_agent", "Role play"),
)
TOOL_FOLDERS: tuple[str, ...] = tuple(tool.folder for tool in TOOLS)
FOLDER_BY_FUNCTION: dict[str, str] = {tool.function: tool.folder for tool in TOOLS}
TOOL_BY_FOLDER: dict[str, ToolName] = {tool.folder: tool for tool in TOOLS}


def tool_folder(name: str) -> str | None:
    """The tool folder for a folder or function name, or None when it is neither."""
    if name in TOOL_BY_FOLDER:
        return name
    return FOLDER_BY_FUNCTION.get(name)


@dataclass(frozen=True)
class ScenarioType:
    key: str
    compass_key: str
    label: str


SCENARIO_TYPES: tuple[ScenarioType, ...] = (
    ScenarioType("work_study", "Work/Study_scenario", "Work/Study"),
    ScenarioType("health", "Health_scenario", "Health"),
    ScenarioType("family", "Family_scenario", "Family"),
    ScenarioType("social", "Social_scenario", "Social"),
    ScenarioType("leisure", "Leisure_scenario", "Leisure"),
)
SCENARIO_KEYS: tuple[str, ...] = tuple(s.key for s in SCENARIO_TYPES)
SCENARIO_BY_KEY: dict[str, ScenarioType] = {s.key: s for s in SCENARIO_TYPES}
SCENARIO_BY_COMPASS_KEY: dict[str, ScenarioType] = {s.compass_key: s for s in SCENARIO_TYPES}


def scenario_key(name: str) -> str | None:
    """Our key for a scenario type given as key, ComPASS key or label (case-insensitive)."""
    wanted = name.strip().lower()
    for scenario in SCENARIO_TYPES:
        names = (
            scenario.key,
            scenario.compass_key.lower(),
            scenario.label.lower(),
            scenario.compass_key.removesuffix("_scenario").lower(),
        )
        if wanted in names:
            return scenario.key
    return None


# EmpatheticDialogues' 32 labels without "disgusted": the 31 that ComPASS uses.
EMOTIONS: tuple[str, ...] = (
    "afraid",
    "angry",
    "annoyed",
    "anticipating",
    "anxious",
    "apprehensive",
    "ashamed",
    "caring",
    "confident",
    "content",
    "devastated",
    "disappointed",
    "embarrassed",
    "excited",
    "faithful",
    "furious",
    "grateful",
    "guilty",
    "hopeful",
    "impressed",
    "jealous",
    "joyful",
    "lonely",
    "nostalgic",
    "prepared",
    "proud",
    "sad",
    "sentimental",
    "surprised",
    "terrified",
    "trusting",
)
# Labels found in the published test set that are not among the 31, and the label they stand for.
EMOTION_ALIASES: dict[str, str] = {"envious": "jealous"}

POSITIVE_EMOTIONS = frozenset(
    {
        "anticipating",
        "caring",
        "confident",
        "content",
        "excited",
        "faithful",
        "grateful",
        "hopeful",
        "impressed",
        "joyful",
        "prepared",
        "proud",
        "trusting",
        "surprised",
    }
)


@dataclass(frozen=True)
class Dimension:
    key: str
    short: str
    label: str


# The paper's table order, used everywhere in this program.
DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("empathy", "Emp", "Empathy"),
    Dimension("helpfulness", "Help", "Helpfulness"),
    Dimension("preference", "Pref", "Preference alignment"),
    Dimension("informativeness", "Info", "Informativeness"),
    Dimension("fluency", "Flu", "Fluency"),
    Dimension("safety", "Safe", "Safety"),
)
DIMENSION_KEYS: tuple[str, ...] = tuple(d.key for d in DIMENSIONS)
DIMENSION_BY_KEY: dict[str, Dimension] = {d.key: d for d in DIMENSIONS}

SETTINGS: tuple[str, ...] = ("profile", "history", "empathetic", "hybrid")
BIG_FIVE: tuple[str, ...] = ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism")
LEVELS: tuple[str, ...] = ("low", "medium", "high")
BACKGROUND_ASPECTS: dict[str, str] = {
    "hobbies": "Hobbies",
    "health_status": "Health Status",
    "family_environment": "Family Environment",
    "living_habits": "Living Habits",
    "growth_experience": "Growth Experience",
}
DEMOGRAPHIC_FIELDS: tuple[str, ...] = (
    "age",
    "gender",
    "firstname",
    "lastname",
    "address",
    "phone",
    "education",
    "career",
    "income",
)
