"""Prompts for the two-stage agent, the empathetic baseline and the user simulator.

Ours are the default. `--prompt-dir DIR` loads ComPASS's official template files instead
(laid out like `prompts/history-based`: system_tool_selection.txt, user_tool_selection.txt,
system_feedback_generation.txt, user_feedback.txt; for the profile setting, user_tool_selection_pos.txt
and user_feedback_ver1.0.txt are read instead where the folder has them, with <tool_defs>, <persona>, <utterance>,
<history>, <user_utterance>, <tool_call>, <tool_results> placeholders); a sibling
`user-simulator/` folder supplies the official simulator prompt. With `fidelity="official"`
(`run --fidelity official`) they are filled as the official scripts fill them
(`compass_tui/fidelity.py`); otherwise with our own values. Every run stores the hash of the
prompts it used, which covers the fidelity.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compass_tui.errors import InputError
from compass_tui.inputs import read_input_text
from compass_tui.persona import Persona
from compass_tui.vocab import BACKGROUND_ASPECTS, SCENARIO_TYPES

OURS = "compass-tui"

TOOL_SELECTION_SYSTEM = (
    "You are a caring companion who supports people through the ups and downs of daily life. "
    "Besides talking, you can act through tools: find music, films, jokes, stories, psychology pages, "
    "strength cards or stickers; manage a schedule or medical appointments; shop; write plans; or speak as a character."
)
TOOL_SELECTION_USER = """Someone has just told you something. Decide which ONE tool call would help them most right now.

First work out which kind of situation this is: Work/Study, Health, Family, Social or Leisure. Then prefer a tool
this person likes in that kind of situation, avoid the ones they dislike, and fill the tool's parameters from
what they said and who they are. Required parameters must be present and values must follow the definitions.

## Who they are
{persona}

## What they said
{utterance}

## Earlier in this conversation
{history}

{format_instructions}"""
JSON_FORMAT_INSTRUCTIONS = """Answer with JSON only, no other text:
{"scenario": "<Work/Study | Health | Family | Social | Leisure>",
 "tool_folder_name": "<tool folder>", "function_name": "<function>", "param": {<parameters>}}

## Tools
{tool_defs}"""
NATIVE_FORMAT_INSTRUCTIONS = "Call exactly one of the functions you have been given."

RESPONSE_SYSTEM = (
    "You are a warm, perceptive companion. You speak to the person directly, like a friend who listens well."
)
RESPONSE_USER = """You chose a tool for the person below and it has run. Write your reply to them.

Build the reply around what the tool returned: they cannot see it, so bring across the useful content itself
(the song and artist, the film, the full joke or story, the link, the appointment details, the plan...),
leaving out ids and scores. Say which kind of tool you used. Fit the reply to their feelings and situation,
keep it natural and kind, and keep it under 250 words. Plain text or light Markdown.

## Who they are
{persona}

## What they said
{utterance}

## The tool call
{tool_call}

## What the tool returned
{tool_result}"""

EMPATHETIC_SYSTEM = RESPONSE_SYSTEM
EMPATHETIC_USER = """Reply to the person below with empathy and care, in under 200 words. You have no tools:
just listen, reflect their feelings, and offer support that fits who they are.

## Who they are
{persona}

## What they said
{utterance}"""

SIMULATOR_SYSTEM = "You check whether a tool suits a user's stated preferences."
SIMULATOR_USER = """Here is what a user says about the tools they like and dislike in this kind of situation,
what they said, and the tool the assistant used. If the user's preferences say they like this tool here, answer
"Like". If they dislike it, or do not mention it, answer "Dislike".

## Their preferences for this kind of situation
{preference}

## What they said
{utterance}

## The tool used
{tool}

Answer with JSON only: {{"output": "Like"}} or {{"output": "Dislike"}}"""

WITHHELD = "(Not shown in this setting: learn what they like from the conversation so far.)"


@dataclass
class PromptSet:
    source: str
    tool_system: str
    tool_user: str
    response_system: str
    response_user: str
    simulator_system: str = SIMULATOR_SYSTEM
    simulator_user: str = SIMULATOR_USER
    official: bool = False
    fidelity: str = "clean"  # "official": filled as ComPASS's scripts fill them
    layout: str = ""  # official templates: which script's file names they were read under

    @property
    def hash(self) -> str:
        parts = [
            self.tool_system,
            self.tool_user,
            self.response_system,
            self.response_user,
            self.simulator_system,
            self.simulator_user,
        ]
        if self.fidelity != "clean":  # clean hashes stay what they were before fidelities existed
            parts.append(f"fidelity={self.fidelity}")
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]

    @property
    def official_simulator(self) -> bool:
        return self.simulator_user != SIMULATOR_USER

    def messages(self, system: str, user: str) -> list[dict[str, str]]:
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    def tool_selection(
        self, persona_text: str, utterance: str, history: str, tool_defs: str, native: bool
    ) -> list[dict[str, str]]:
        if self.official:
            user = _fill_angle(
                self.tool_user,
                tool_defs=tool_defs,
                persona=persona_text,
                utterance=utterance,
                history=history,
            )
        else:
            instructions = (
                NATIVE_FORMAT_INSTRUCTIONS
                if native
                else JSON_FORMAT_INSTRUCTIONS.replace("{tool_defs}", tool_defs)
            )
            user = self.tool_user.format(
                persona=persona_text, utterance=utterance, history=history, format_instructions=instructions
            )
        return [{"role": "system", "content": self.tool_system}, {"role": "user", "content": user}]

    def response(
        self, persona_text: str, utterance: str, tool_call: str, tool_result: str
    ) -> list[dict[str, str]]:
        if self.official:
            user = _fill_angle(
                self.response_user,
                persona=persona_text,
                user_utterance=utterance,
                tool_call=tool_call,
                tool_results=tool_result,
            )
        else:
            user = self.response_user.format(
                persona=persona_text, utterance=utterance, tool_call=tool_call, tool_result=tool_result
            )
        return [{"role": "system", "content": self.response_system}, {"role": "user", "content": user}]

    def simulator(self, preference: str, scenario: str, utterance: str, tool: str) -> list[dict[str, str]]:
        if self.official:
            user = _fill_angle(
                self.simulator_user,
                perfer=preference,
                scenario=scenario,
                utterance=utterance,
                tool_result=tool,
            )
        else:
            user = self.simulator_user.format(preference=preference, utterance=utterance, tool=tool)
        return [{"role": "system", "content": self.simulator_system}, {"role": "user", "content": user}]


def empathetic_messages(persona_text: str, utterance: str) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": EMPATHETIC_SYSTEM},
        {"role": "user", "content": EMPATHETIC_USER.format(persona=persona_text, utterance=utterance)},
    ]


def our_prompts() -> PromptSet:
    return PromptSet(OURS, TOOL_SELECTION_SYSTEM, TOOL_SELECTION_USER, RESPONSE_SYSTEM, RESPONSE_USER)


HISTORY_LAYOUT = "history-based"
PROFILE_LAYOUT = "profile-based"
# The template names each official script reads: the history scripts read prompts/history-based; the
# profile script (inference_respond.py:129-163) reads the same system files and two user templates of
# its own, which the public release does not include.
_OFFICIAL_FILES = {
    HISTORY_LAYOUT: {
        "tool_system": "system_tool_selection.txt",
        "tool_user": "user_tool_selection.txt",
        "response_system": "system_feedback_generation.txt",
        "response_user": "user_feedback.txt",
    },
    PROFILE_LAYOUT: {
        "tool_system": "system_tool_selection.txt",
        "tool_user": "user_tool_selection_pos.txt",
        "response_system": "system_feedback_generation.txt",
        "response_user": "user_feedback_ver1.0.txt",
    },
}
PROFILE_SETTINGS = ("profile", "hybrid")


def prompt_layout(directory: Path, setting: str) -> str:
    """The profile script's own files where the folder has one and the setting is theirs; otherwise
    the history-based files."""
    own_files = set(_OFFICIAL_FILES[PROFILE_LAYOUT].values()) - set(_OFFICIAL_FILES[HISTORY_LAYOUT].values())
    if setting in PROFILE_SETTINGS and any((Path(directory) / name).exists() for name in own_files):
        return PROFILE_LAYOUT  # the loader names a file of the pair that is missing
    return HISTORY_LAYOUT


def load_prompt_dir(directory: Path, fidelity: str = "clean", setting: str = "history") -> PromptSet:
    """ComPASS's official templates from a folder laid out like prompts/history-based, or, for the
    profile setting, like the profile script's prompt folder."""
    directory = Path(directory)
    layout = prompt_layout(directory, setting)
    texts: dict[str, str] = {}
    for field, name in _OFFICIAL_FILES[layout].items():
        path = directory / name
        if not path.exists():
            raise InputError(directory, name, "missing prompt file")
        texts[field] = read_input_text(path)
    simulator_dir = directory.parent / "user-simulator"
    if (simulator_dir / "user_prompt_perfer.txt").exists():
        texts["simulator_user"] = read_input_text(simulator_dir / "user_prompt_perfer.txt")
        system = simulator_dir / "system_prompt_perfer.txt"
        texts["simulator_system"] = read_input_text(system) if system.exists() else SIMULATOR_SYSTEM
    return PromptSet(source=str(directory), official=True, fidelity=fidelity, layout=layout, **texts)


def stand_in_note(prompts: PromptSet, setting: str) -> str | None:
    """What a profile run with the history-based templates is, said where it starts."""
    if not prompts.official or setting not in PROFILE_SETTINGS or prompts.layout != HISTORY_LAYOUT:
        return None
    missing = ", ".join(_OFFICIAL_FILES[PROFILE_LAYOUT][field] for field in ("tool_user", "response_user"))
    return (
        f"{prompts.source} has no {missing} (the profile script's templates, not in the public release): "
        "the history-based templates stand in for them, so these are not the paper's profile prompts"
    )


def _fill_angle(template: str, **values: str) -> str:
    for name, value in values.items():
        template = template.replace(f"<{name}>", value)
    return template


def persona_text(persona: Persona) -> str:
    """The persona as the agent sees it in the profile setting."""
    d = persona.demographic
    lines = [
        f"Name: {persona.display_name}; age {d.age}; {d.gender}; {d.career}; "
        f"education: {d.education}; income: {d.income}.",
        f"Personality: {persona.personality_description}",
        "Big Five: " + ", ".join(f"{k} {v}" for k, v in persona.big_five.model_dump().items()) + ".",
    ]
    background = persona.background.model_dump()
    lines += [f"{BACKGROUND_ASPECTS[key]}: {value}" for key, value in background.items() if value]
    lines.append("Tool preferences:")
    lines += [f"- {s.label}: {persona.tool_preferences.for_scenario(s.key).text}" for s in SCENARIO_TYPES]
    return "\n".join(lines)


def as_json(value: Any) -> str:
    """Compact: models read it as well as indented JSON, for fewer tokens."""
    return json.dumps(value, ensure_ascii=False, default=str)


_FENCE_RE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


def extract_json(text: str) -> Any:
    """The first JSON value in a model's text: fenced or bare. Raises ValueError with the reason."""
    if text is None or not text.strip():
        raise ValueError("empty reply")
    candidates = [match.group(1) for match in _FENCE_RE.finditer(text)] + [text]
    reason = "nothing that looks like JSON"
    for candidate in candidates:
        candidate = candidate.strip()
        try:
            return json.loads(candidate)
        except json.JSONDecodeError:
            pass
        start = min((i for i in (candidate.find("{"), candidate.find("[")) if i >= 0), default=-1)
        if start >= 0:
            try:
                value, _ = json.JSONDecoder().raw_decode(candidate[start:])
                return value
            except json.JSONDecodeError as error:
                reason = str(error)
    raise ValueError(f"no valid JSON in the reply ({reason})")
