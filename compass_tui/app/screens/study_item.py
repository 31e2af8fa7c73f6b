"""One study item in the stepper, read-only, for the study's owner: every system's response, each
annotator's scores, the judge's scores and reasons, and the persona's preference badge; n/p step through
the rows of the triage ranking it was opened from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Header, Static

from compass_tui.app.screens.stepper import StepperScreen
from compass_tui.app.widgets.compass_footer import CompassFooter
from compass_tui.app.widgets.model_column import ModelColumn
from compass_tui.app.widgets.study_scores import StudyScorePanel
from compass_tui.persona import Persona
from compass_tui.safe_text import printable
from compass_tui.session import MAX_COLUMNS, Column, Session
from compass_tui.study import StudyItem, StudyItemSystem
from compass_tui.vocab import DIMENSION_KEYS, SCENARIO_BY_KEY

# Everything that would write, generate or change what is compared: never offered here.
WRITING_ACTIONS = frozenset(
    {"score", "commit", "comment", "flag", "skip", "generate", "cancel_generation", "judge", "what_if"}
    | {"toggle_variant", "step"}
)


@dataclass(frozen=True)
class TriageCursor:
    """Where the item was opened from: a triage ranking's entries (compass_tui.triage) and the row shown.
    `follow` moves the triage's own highlight along."""

    study: str
    entries: tuple[Any, ...]
    position: int
    dimension: str | None = None
    follow: Callable[[int], None] | None = None

    @property
    def entry(self) -> Any:
        return self.entries[self.position]

    def can_step(self, delta: int) -> bool:
        return 0 <= self.position + delta < len(self.entries)

    def stepped(self, delta: int) -> TriageCursor:
        return replace(self, position=self.position + delta)


@dataclass
class StudyItemReady(Message):
    item: Any  # compass_tui.study.StudyItem
    persona: Any
    system: str
    dimension: str | None
    reveal: bool
    error: str | None = None
    cursor: TriageCursor | None = None


def read_study_item(ctx, cursor: TriageCursor, reveal: bool) -> StudyItemReady:
    """The cursor's entry read through the core (compass_tui.study.study_item), as the message to post."""
    from compass_tui.errors import InputError
    from compass_tui.study import study_item

    entry = cursor.entry
    try:
        item = study_item(ctx.store, cursor.study, entry.item_id)
        persona = ctx.library.get(item.persona_id)
    except InputError as error:
        return StudyItemReady(None, None, entry.system, cursor.dimension, reveal, str(error), cursor)
    return StudyItemReady(item, persona, entry.system, cursor.dimension, reveal, cursor=cursor)


class StudyItemScreen(StepperScreen):
    HELP = """### A study item (read-only)
The study's owner's view of one item from the triage: each system's response under its blinded id
(`v` shows the real run and model), the tool it called with the persona's preference badge, and
below it the annotators' scores and the judge's. `n` and `p` open the next and previous row of the
triage ranking this item came from. Nothing can be scored, generated or changed here; `escape` goes
back to the triage."""
    BINDINGS = [
        Binding("n", "triage_step(1)", "Next row", id="study_item.next"),
        Binding("p", "triage_step(-1)", "Previous row", id="study_item.previous"),
        Binding("v", "reveal", "Reveal/blind", id="study_item.reveal"),
        Binding("escape", "back", "Back", id="study_item.back"),
    ]

    def __init__(
        self,
        persona: Persona,
        item: StudyItem,
        reveal: bool = False,
        system: str | None = None,
        dimension: str | None = None,
        cursor: TriageCursor | None = None,
    ):
        self.item = item
        self.cursor = cursor
        self.shown = _shown_systems(item.systems, system)
        setting = next((s.record.setting for s in self.shown if s.record), "profile")
        super().__init__(Session(persona, setting, [Column(s.run_id, s.model) for s in self.shown]))
        self.index = item.situation_index
        self.reveal = reveal
        self.focus_system = system
        self.dimension = dimension

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="stepper-header")
        with Horizontal(id="columns"):
            for position in range(len(self.shown)):
                yield ModelColumn(f"column-{position}", StudyScorePanel)
        yield Static(id="rubric-bar")
        yield CompassFooter()

    def on_mount(self) -> None:
        """Runs before the stepper's own mount, which loads this item's records (reload_records) and draws it;
        the unit the triage pointed at is focused after that."""
        self.title = f"study {self.item.study} · read-only"
        self.call_after_refresh(self._focus_unit)

    def _focus_unit(self) -> None:
        blinded = [s.blinded_id for s in self.shown]
        position = blinded.index(self.focus_system) if self.focus_system in blinded else 0
        panel = self.query_one(f"#column-{position}", ModelColumn).query_one(StudyScorePanel)
        if self.dimension in DIMENSION_KEYS:
            panel.cursor = DIMENSION_KEYS.index(self.dimension)
        panel.focus()

    def reload_records(self) -> None:
        for system in self.shown:
            if system.record is not None:
                self.records[(system.run_id, system.model, self.index)] = system.record

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in WRITING_ACTIONS:
            return False
        if action == "triage_step":
            return self.cursor is not None and self.cursor.can_step(parameters[0])
        return super().check_action(action, parameters)

    def action_triage_step(self, delta: int) -> None:
        if self.cursor is not None and self.cursor.can_step(delta):
            self.load_row(self.cursor.stepped(delta), self.reveal)

    @work(
        thread=True, exclusive=True, group="study-item", description="Opening the item", exit_on_error=False
    )
    def load_row(self, cursor: TriageCursor, reveal: bool) -> None:
        self.post_message(read_study_item(self.app.ctx, cursor, reveal))

    def on_study_item_ready(self, message: StudyItemReady) -> None:
        """The row stepped to replaces this screen; the triage below highlights it."""
        if message.error or message.cursor is None:
            self.notify(str(message.error), title="Cannot open the item", severity="error", timeout=10)
            return
        cursor = message.cursor
        screen = StudyItemScreen(
            message.persona, message.item, message.reveal, message.system, message.dimension, cursor
        )
        self.app.switch_screen(screen)
        if cursor.follow is not None:
            cursor.follow(cursor.position)

    def _change(self, edit) -> None:
        """Read-only: no edit reaches an annotation, and nothing is saved."""

    def save(self, annotation) -> None:
        raise RuntimeError("a study item in the triage is read-only")

    def action_reveal(self) -> None:
        self.reveal = not self.reveal
        self.render_item()

    def render_header(self) -> None:
        persona, situation, item = self.session.persona, self.situation, self.item
        scenario = SCENARIO_BY_KEY[situation.scenario_type].label if situation.scenario_type else "?"
        judge = f"{item.judge_model} · {item.judge_prompt}" if item.judge_model else "no judge scores"
        more = len(item.systems) - len(self.shown)
        header = Text.assemble(
            (printable(persona.display_name), "bold"),
            (f" · study {printable(item.study)} · {printable(item.item_id)}", "bold"),
            f" · {scenario} · {printable(situation.emotion)}",
            (" · read-only", "bold magenta"),
            "\n",
            (f"annotators: {printable(', '.join(item.annotators))} · judge: {printable(judge)}", "dim"),
            (f" · {more} more systems not shown" if more > 0 else "", "yellow"),
            (self.triage_row(), "cyan"),
            "\n",
            Text(printable(situation.utterance, multiline=True), style="italic"),
        )
        self.query_one("#stepper-header", Static).update(header)

    def triage_row(self) -> str:
        if self.cursor is None:
            return ""
        return f" · triage row {self.cursor.position + 1}/{len(self.cursor.entries)}"

    def render_position(self, position: int) -> None:
        system = self.shown[position]
        widget = self.query_one(f"#column-{position}", ModelColumn)
        title = system.blinded_id + (f" · {system.run_id}::{system.model}" if self.reveal else "")
        widget.set_title(printable(title))
        record = system.record
        widget.show_record(record, self.stance(record), False, "No response in the run for this item.")
        self.render_scores(position)

    def render_scores(self, position: int) -> None:
        panel = self.query_one(f"#column-{position}", ModelColumn).query_one(StudyScorePanel)
        panel.show_study(self.shown[position])


def _shown_systems(systems: list[StudyItemSystem], wanted: str | None) -> list[StudyItemSystem]:
    """At most MAX_COLUMNS systems, the one the triage pointed at always among them."""
    if len(systems) <= MAX_COLUMNS:
        return list(systems)
    chosen = [s for s in systems if s.blinded_id == wanted][:1]
    return chosen + [s for s in systems if s not in chosen][: MAX_COLUMNS - len(chosen)]
