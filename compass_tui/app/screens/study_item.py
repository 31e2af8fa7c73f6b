"""One study item in the stepper, read-only, for the study's owner: every system's response, each
annotator's scores, the judge's scores and reasons, and the persona's preference badge."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Footer, Header, Static

from compass_tui.app.screens.stepper import StepperScreen
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


class StudyItemScreen(StepperScreen):
    HELP = """### A study item (read-only)
The study's owner's view of one item from the triage: each system's response under its blinded id
(`v` shows the real run and model), the tool it called with the persona's preference badge, and
below it the annotators' scores and the judge's. Nothing can be scored, generated or changed here;
`escape` goes back to the triage."""
    BINDINGS = [
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
    ):
        self.item = item
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
        yield Footer()

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
        return super().check_action(action, parameters)

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
            "\n",
            Text(printable(situation.utterance, multiline=True), style="italic"),
        )
        self.query_one("#stepper-header", Static).update(header)

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
