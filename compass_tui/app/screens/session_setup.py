"""Before stepping: the setting, 1-4 models to run or existing runs to compare, and blind mode."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, SelectionList, Static

from compass_tui.app.compass_node import CompassNode
from compass_tui.app.widgets.check_list import CheckBox, CheckList
from compass_tui.app.widgets.compass_footer import CompassFooter
from compass_tui.config import BASELINE_MODEL
from compass_tui.persona import Persona
from compass_tui.records import list_run_ids, load_run_meta
from compass_tui.run_meta import RunMeta
from compass_tui.safe_text import printable
from compass_tui.session import MAX_COLUMNS, Column, Session, SetupChoice, last_setup, remember_setup
from compass_tui.vocab import SETTINGS


class SessionSetupScreen(CompassNode, ModalScreen[None]):
    HELP = """### Start a session
Pick the **setting** (profile, history, empathetic, hybrid) and up to four **systems**: models to run
now (the offline `baseline` needs no key) and/or **existing runs** that already hold this persona.
For hybrid, pick two models: the first chooses the tool, the second writes the reply.
**Blind mode** hides the names and shuffles the columns per situation with the seed shown."""
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="setup.cancel"),
        Binding("ctrl+s", "start", "Start", id="setup.start"),
    ]

    def __init__(self, persona: Persona):
        super().__init__()
        self.persona = persona

    def compose(self) -> ComposeResult:
        settings = self.app.ctx.settings
        last = last_setup(self.app.ctx.store, self.persona.id)
        runs = [
            (f"{run} ({', '.join(meta.models)} · {meta.setting})", run)
            for run, meta in self._runs_with_persona()
        ]
        with Vertical(classes="dialog"):
            yield Label(
                Text(
                    f"Step through {printable(self.persona.display_name)}'s "
                    f"{len(self.persona.situations)} situations"
                ),
                classes="pane-title",
            )
            with VerticalScroll(
                classes="dialog-body", can_focus=False
            ):  # scrolls; title and buttons stay in view
                yield Select(
                    [(name, name) for name in SETTINGS],
                    value=last.setting if last.setting in SETTINGS else "profile",
                    allow_blank=False,
                    id="setting",
                )
                yield Label("Models to run (up to 4):")
                yield CheckList(
                    *[(name, name, name in last.models) for name in settings.model_names()], id="models"
                )
                yield Static("", id="setup-hint", classes="muted")
                if runs:
                    yield Label("Existing runs to compare:")
                    yield CheckList(*[(label, run, run in last.runs) for label, run in runs], id="runs")
                with Horizontal(classes="options"):
                    yield CheckBox("Blind mode", last.blind, id="blind")
                    yield Label("seed", classes="field-label")
                    yield Input(value=str(last.seed), id="seed", type="integer", max_length=9)
            yield Static("", id="setup-error", classes="error-text")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Start", id="start", variant="primary")
        yield CompassFooter()

    def on_mount(self) -> None:
        self._say("#setup-error", "")
        self._hint()

    @on(SelectionList.SelectedChanged, "#models")
    def _hint(self) -> None:
        """A one-line hint when LLMs are configured but none is ticked: only the baseline would run."""
        models = self.query_one("#models", SelectionList)
        llms = [name for name in self.app.ctx.settings.model_names() if name != BASELINE_MODEL]
        ticked = set(models.selected) - {BASELINE_MODEL}
        hint = ""
        if llms and not ticked:
            hint = f"No LLM ticked: only the offline baseline runs. Configured: {', '.join(llms)}."
        self._say("#setup-hint", hint)

    def _say(self, selector: str, text: str) -> None:
        """An empty line takes no row: at 80x24 the whole dialog fits without scrolling its title away."""
        line = self.query_one(selector, Static)
        line.update(text)
        line.display = bool(text)

    def _runs_with_persona(self) -> list[tuple[str, RunMeta]]:
        store = self.app.ctx.store
        found = []
        for run_id in list_run_ids(store):
            if run_id.startswith("tui-"):
                continue
            meta = load_run_meta(store, run_id)
            if self.persona.id in meta.personas:
                found.append((run_id, meta))
        return found

    def session(self) -> Session:
        setting = self.query_one("#setting", Select).value
        assert isinstance(setting, str)  # allow_blank=False: always one of SETTINGS
        ticked = list(self.query_one("#models", SelectionList).selected)
        models = list(ticked)
        runs = list(self.query_one("#runs", SelectionList).selected) if self.query("#runs") else []
        if setting == "hybrid":
            if len(models) != 2:
                raise ValueError("hybrid needs exactly two models: the tool chooser, then the responder")
            models = [f"{models[0]}+{models[1]}"]
        own = Session.run_id_for(self.persona, setting)
        columns = [Column(own, model) for model in models]
        store = self.app.ctx.store
        for run_id in runs:
            meta = load_run_meta(store, run_id)
            columns += [Column(run_id, model, meta.setting) for model in meta.models]
        if not columns:
            raise ValueError("choose at least one model or run")
        if len(columns) > MAX_COLUMNS:
            raise ValueError(f"at most {MAX_COLUMNS} systems side by side (you chose {len(columns)})")
        seed_text = self.query_one("#seed", Input).value or "0"
        blind = self.query_one("#blind", Checkbox).value
        choice = SetupChoice(
            setting, list(self.query_one("#models", SelectionList).selected), runs, blind, int(seed_text)
        )
        remember_setup(self.app.ctx.store, self.persona.id, choice)
        return Session(
            self.persona,
            setting,
            columns,
            generate_models=models,
            blind=blind,
            seed=int(seed_text),
        )

    @on(Button.Pressed, "#start")
    def action_start(self) -> None:
        from compass_tui.app.screens.stepper import StepperScreen

        try:
            session = self.session()
        except ValueError as error:
            self._say("#setup-error", str(error))
            return
        self.dismiss()
        self.app.push_screen(StepperScreen(session))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss()
