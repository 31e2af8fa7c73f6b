"""Create, duplicate or edit a persona: every field, pickers for emotions and tools, inline validation."""

from __future__ import annotations

import copy
import json
from typing import Any

from pydantic import ValidationError
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Header, Input, Label, Select, SelectionList, Static, TextArea

from compass_tui.app.compass_node import CompassNode
from compass_tui.app.widgets.compass_footer import CompassFooter
from compass_tui.app.widgets.situation_fold import SituationFold
from compass_tui.errors import InputError, field_path
from compass_tui.inputs import read_input_bytes
from compass_tui.jsonio import load_json
from compass_tui.library import PersonaEntry
from compass_tui.persona import PERSONA_FORMAT, Persona, persona_to_dict
from compass_tui.preferences import parse_preference_text
from compass_tui.vocab import BACKGROUND_ASPECTS, BIG_FIVE, DEMOGRAPHIC_FIELDS, LEVELS, SCENARIO_TYPES, TOOLS

NEW_PERSONA: dict[str, Any] = {
    "format": PERSONA_FORMAT,
    "id": "new-persona",
    "name": "",
    "demographic": {"age": 30, "gender": "", "firstname": "", "lastname": ""},
    "big_five": {trait: "medium" for trait in BIG_FIVE},
    "personality_description": "",
    "background": {},
    "tool_preferences": {s.key: {"text": "", "liked": [], "disliked": []} for s in SCENARIO_TYPES},
    "situations": [{"scenario_type": "work_study", "emotion": "anxious", "scenario": "", "utterance": ""}],
}


def widget_id(path: tuple) -> str:
    """The form widget for a model location, e.g. ('situations', 2, 'emotion') -> 'situations-2-emotion'."""
    return "-".join(str(part) for part in path)


class EditorScreen(CompassNode, Screen[str | None]):
    HELP = """### Persona editor
Every field of a persona. Tool preferences: write the text, then tick the liked and disliked tools (or
press *Read from text* to fill them from the text; unclear tools are reported, never guessed).
Situations can be added, removed and moved. `ctrl+s` validates and saves to the persona file; fields
with problems are marked in red and listed at the top. `esc` closes; with unsaved changes it asks first,
and a second `esc` closes without saving."""
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="editor.save"),
        Binding("ctrl+n", "add_situation", "Add situation", id="editor.add"),
        Binding("escape", "close", "Close", id="editor.close"),
    ]

    def __init__(self, entry: PersonaEntry | None, duplicate: bool = False):
        super().__init__()
        self.entry = entry
        self.raw_error: InputError | None = None
        self.document = self._initial_document(entry, duplicate)
        self._opened_state: Any = None
        self._warned_state: Any = None

    def _initial_document(self, entry: PersonaEntry | None, duplicate: bool) -> dict[str, Any]:
        if entry is None:
            return copy.deepcopy(NEW_PERSONA)
        if entry.persona is not None:
            document = persona_to_dict(entry.persona)
        else:
            try:
                loaded = load_json(entry.path)
                document = loaded if isinstance(loaded, dict) else {}
            except InputError as error:
                self.raw_error = error
                document = {}
            document = _merge_defaults(document)
        if duplicate:
            document["id"] = f"{document['id']}-copy"
            document.pop("origin", None)
        return document

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="editor-errors")
        with VerticalScroll(id="editor-form"):
            if self.raw_error is not None and self.entry is not None:  # only a file read can fail
                yield Label(f"The file is not valid JSON ({self.raw_error}); fix it here and save.")
                yield TextArea(
                    _raw_text(self.entry.path),
                    id="raw-json",
                    language="json",
                )
            else:
                yield from self._profile_fields()
                yield from self._preference_fields()
                yield Label("Situations", classes="pane-title")
                opened = {0} | self._situations_with_problems()
                situations = self.document["situations"]
                yield Vertical(
                    *[SituationFold(i, s, expanded=i in opened) for i, s in enumerate(situations)],
                    id="situations",
                )
                yield Button("Add situation", id="add-situation")
        yield CompassFooter()

    def _row(self, label: str, widget: Widget) -> Horizontal:
        return Horizontal(Label(label, classes="field-label"), widget, classes="field-row")

    def _profile_fields(self):
        d = self.document
        yield Label("Profile", classes="pane-title")
        yield self._row("id", Input(d.get("id", ""), id="id"))
        for name in DEMOGRAPHIC_FIELDS:
            value = d["demographic"].get(name, "")
            yield self._row(
                name, Input(str(value), id=f"demographic-{name}", type="integer" if name == "age" else "text")
            )
        for trait in BIG_FIVE:
            yield self._row(
                trait,
                Select(
                    [(level, level) for level in LEVELS],
                    value=d["big_five"].get(trait, "medium"),
                    allow_blank=False,
                    id=f"big_five-{trait}",
                ),
            )
        yield Label("Personality description")
        yield TextArea(d.get("personality_description", ""), id="personality_description")
        for key, label in BACKGROUND_ASPECTS.items():
            yield Label(label)
            yield TextArea(d.get("background", {}).get(key, ""), id=f"background-{key}")

    def _preference_fields(self):
        tools = [(tool.folder, tool.folder) for tool in TOOLS]
        yield Label("Tool preferences", classes="pane-title")
        for scenario in SCENARIO_TYPES:
            preference = self.document["tool_preferences"].get(scenario.key, {})
            yield Label(f"{scenario.label}: what they say")
            yield TextArea(preference.get("text", ""), id=f"tool_preferences-{scenario.key}-text")
            with Horizontal(classes="field-row"):
                yield SelectionList[str](
                    *[(t, v, v in preference.get("liked", [])) for t, v in tools],
                    id=f"tool_preferences-{scenario.key}-liked",
                )
                yield SelectionList[str](
                    *[(t, v, v in preference.get("disliked", [])) for t, v in tools],
                    id=f"tool_preferences-{scenario.key}-disliked",
                )
            ambiguous = preference.get("ambiguous") or []
            note = (
                f"unclear in the text: {', '.join(ambiguous)}"
                if ambiguous
                else "left: liked · right: disliked"
            )
            yield Horizontal(
                Static(note, classes="muted"),
                Button("Read from text", id=f"parse-{scenario.key}"),
                classes="field-row",
            )

    def _situations_with_problems(self) -> set[int]:
        if self.entry is None or self.entry.persona is not None:
            return set()
        return {
            index
            for location, _ in _validated(self.document)[1]
            if (index := _situation_index(location)) is not None
        }

    # ----- reading the form back ---------------------------------------------------------------

    def collect(self) -> dict[str, Any]:
        if self.query("#raw-json"):
            return json.loads(self.query_one("#raw-json", TextArea).text)
        d = copy.deepcopy(self.document)
        d["id"] = self.query_one("#id", Input).value.strip()
        for name in DEMOGRAPHIC_FIELDS:
            value = self.query_one(f"#demographic-{name}", Input).value
            d["demographic"][name] = (
                int(value) if name == "age" and value.strip().lstrip("-").isdigit() else value
            )
        d["name"] = d["demographic"].get("firstname", "")
        d["big_five"] = {trait: self.query_one(f"#big_five-{trait}", Select).value for trait in BIG_FIVE}
        d["personality_description"] = self.query_one("#personality_description", TextArea).text
        d["background"] = {
            key: self.query_one(f"#background-{key}", TextArea).text for key in BACKGROUND_ASPECTS
        }
        for scenario in SCENARIO_TYPES:
            prefix = f"#tool_preferences-{scenario.key}"
            preference = d["tool_preferences"].setdefault(scenario.key, {})
            liked = list(self.query_one(f"{prefix}-liked", SelectionList).selected)
            disliked = list(self.query_one(f"{prefix}-disliked", SelectionList).selected)
            if (liked, disliked) != (preference.get("liked", []), preference.get("disliked", [])):
                preference["confirmed"] = True
                preference["ambiguous"] = [
                    t for t in preference.get("ambiguous", []) if t not in liked + disliked
                ]
            preference.update(
                text=self.query_one(f"{prefix}-text", TextArea).text, liked=liked, disliked=disliked
            )
        d["situations"] = [fold.read() for fold in self.query(SituationFold)]
        return d

    # ----- validation and saving ---------------------------------------------------------------

    def validate(self) -> tuple[Persona | None, list[tuple[tuple, str]]]:
        try:
            document = self.collect()
        except json.JSONDecodeError as error:
            return None, [(("raw-json",), f"invalid JSON at line {error.lineno}: {error.msg}")]
        return _validated(document)

    def mark(self, problems: list[tuple[tuple, str]]) -> None:
        for widget in self.query(".-invalid"):
            widget.remove_class("-invalid")
        lines = []
        for location, message in problems:
            lines.append(f"✗ {field_path(location) or 'persona'}: {message}")
            for depth in range(len(location), 0, -1):
                found = self.query(f"#{widget_id(location[:depth])}")
                if found:
                    found.first().add_class("-invalid")
                    break
            if (index := _situation_index(location)) is not None:
                for fold in self.query(f"#situation-{index}").results(SituationFold):
                    fold.collapsed = False
        self.query_one("#editor-errors", Static).update("\n".join(lines[:8]))

    def on_mount(self) -> None:
        if self.entry is not None and self.entry.persona is None and self.raw_error is None:
            self.mark(self.validate()[1])
        self.call_after_refresh(self._remember_opened_state)

    def _remember_opened_state(self) -> None:
        self._opened_state = self._form_state()

    def _form_state(self) -> Any:
        if self.query("#raw-json"):
            return self.query_one("#raw-json", TextArea).text
        return self.collect()

    def action_save(self) -> None:
        persona, problems = self.validate()
        self.mark(problems)
        if persona is None:
            self.notify("Not saved: fix the fields marked in red.", severity="warning")
            return
        self.app.ctx.library.save(persona)
        self.dismiss(persona.id)

    def action_close(self) -> None:
        """Closes if nothing changed, or nothing more since the unsaved-changes warning."""
        state = self._form_state()
        if state in (self._opened_state, self._warned_state):
            self.dismiss(None)
            return
        self._warned_state = state
        self.notify(
            "Unsaved changes: ctrl+s saves them, esc again closes without saving.", severity="warning"
        )

    # ----- situations and preference parsing -----------------------------------------------------

    async def action_add_situation(self) -> None:
        new = {"scenario_type": "work_study", "emotion": "anxious", "scenario": "", "utterance": ""}
        await self._rebuild_situations(lambda situations: situations.append((new, True)))

    @on(Button.Pressed)
    async def _button(self, event: Button.Pressed) -> None:
        button = event.button.id or ""
        action, _, argument = button.partition("-")
        if button == "add-situation":
            await self.action_add_situation()
        elif action in ("up", "down", "remove"):
            index = int(argument)
            await self._rebuild_situations(lambda situations: _move(situations, index, action))
        elif action == "parse":
            self._parse_preference(argument)

    async def _rebuild_situations(self, change) -> None:
        """`change` edits a list of (situation, expanded) pairs: a moved situation stays open or folded."""
        document = self.collect()
        expanded = [not fold.collapsed for fold in self.query(SituationFold)]
        pairs = list(zip(document["situations"], expanded))
        change(pairs)
        document["situations"] = [situation for situation, _ in pairs]
        self.document = document
        container = self.query_one("#situations", Vertical)
        # Textual 8.2 crashes if it paints a removed TextArea, which a repaint mid-removal does; a batch holds repaints.
        async with container.batch():
            await container.remove_children()
            await container.mount_all(
                [SituationFold(i, situation, open_) for i, (situation, open_) in enumerate(pairs)]
            )

    def _parse_preference(self, scenario_key: str) -> None:
        prefix = f"#tool_preferences-{scenario_key}"
        reading = parse_preference_text(self.query_one(f"{prefix}-text", TextArea).text)
        for side, tools in (("liked", reading.liked), ("disliked", reading.disliked)):
            selection = self.query_one(f"{prefix}-{side}", SelectionList)
            selection.deselect_all()
            for tool in tools:
                selection.select(tool)
        self.document["tool_preferences"][scenario_key]["ambiguous"] = reading.ambiguous
        message = "unclear: " + ", ".join(reading.ambiguous) if reading.ambiguous else "read from the text"
        self.notify(message, severity="warning" if reading.ambiguous else "information")


def _validated(document: dict[str, Any]) -> tuple[Persona | None, list[tuple[tuple, str]]]:
    try:
        return Persona.model_validate(document), []
    except ValidationError as error:
        return None, [(tuple(e["loc"]), e["msg"].removeprefix("Value error, ")) for e in error.errors()]


def _situation_index(location: tuple) -> int | None:
    """The situation a problem's location is in, e.g. ('situations', 2, 'utterance') -> 2."""
    if len(location) > 1 and location[0] == "situations" and isinstance(location[1], int):
        return location[1]
    return None


def _move(situations: list, index: int, action: str) -> None:
    if action == "remove" and len(situations) > 0:
        situations.pop(index)
    elif action == "up" and index > 0:
        situations[index - 1], situations[index] = situations[index], situations[index - 1]
    elif action == "down" and index < len(situations) - 1:
        situations[index + 1], situations[index] = situations[index], situations[index + 1]


def _merge_defaults(document: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(NEW_PERSONA)
    for key, value in document.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    if not isinstance(merged.get("situations"), list):
        merged["situations"] = []
    return merged


def _raw_text(path) -> str:
    """A broken file's text for the raw editor; nothing if it is not a regular file or too large."""
    try:
        return read_input_bytes(path).decode("utf-8", errors="replace")
    except InputError:
        return ""
