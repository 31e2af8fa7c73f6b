"""New from model…: synthesise personas with an LLM (compass_tui.synthesis) and open the first in the editor."""

from __future__ import annotations

import threading

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from compass_tui.app.compass_node import CompassNode
from compass_tui.app.messages import SynthesisFinished, SynthesisProgressed
from compass_tui.app.widgets.compass_footer import CompassFooter
from compass_tui.errors import InputError
from compass_tui.safe_text import printable


class SynthesisStopped(Exception):
    """Raised from the progress callback when the dialog is closed: the job stops between stages."""


class SynthesisDialog(CompassNode, ModalScreen[str | None]):
    HELP = """### New from model
Writes new personas with a configured model, one call per stage (demographics, Big Five, personality,
background, tool preferences, 15 situations, utterances), each checked and retried with the error.
Every stage is saved as it arrives: the same model, count and seed resume a stopped job
(`compass-tui personas synthesise` does the same). The first new persona opens in the editor."""
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="synthesis.cancel")]

    def __init__(self) -> None:
        super().__init__()
        self._stop = threading.Event()
        self.running = False

    def compose(self) -> ComposeResult:
        models = list(self.app.ctx.settings.models)
        with Vertical(classes="dialog", id="synthesis-dialog"):
            yield Label("New personas from a model", classes="pane-title")
            if models:
                yield Select(
                    [(name, name) for name in models], value=models[0], allow_blank=False, id="model"
                )
            else:
                yield Static("No model is configured: add one under [models.NAME] in compass-tui.toml.")
            with Horizontal(classes="buttons"):
                yield Label("count", classes="field-label")
                yield Input(value="1", id="count", type="integer", max_length=4)
                yield Label("seed", classes="field-label")
                yield Input(value="0", id="seed", type="integer", max_length=9)
            yield Static("", id="synthesis-progress")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Start", id="start", variant="primary", disabled=not models)
        yield CompassFooter()

    @on(Button.Pressed, "#start")
    @on(Input.Submitted)
    def _start(self) -> None:
        if self.running or not self.query("#model"):
            return
        from compass_tui.synthesis import SynthesisPlan

        settings = self.app.ctx.settings
        name = str(self.query_one("#model", Select).value)
        try:
            count = int(self.query_one("#count", Input).value or "0")
            seed = int(self.query_one("#seed", Input).value or "0")
            plan = SynthesisPlan(name, settings.model(name), count, seed)
        except (InputError, ValueError) as error:
            self._show(str(error), "red")
            return
        self.running = True
        self.query_one("#start", Button).disabled = True
        self._show(f"Job {plan.job}: starting…")
        self.synthesise(plan)

    @work(
        thread=True,
        exclusive=True,
        group="synthesis",
        description="Synthesising personas",
        exit_on_error=False,
    )
    def synthesise(self, plan) -> None:
        def progress(event) -> None:
            if self._stop.is_set():
                raise SynthesisStopped
            self.post_message(SynthesisProgressed(event.line()))

        try:
            result = self.app.ctx.synthesise_personas(plan, progress)
        except SynthesisStopped:
            self.post_message(SynthesisFinished(None, None, stopped=True))
        except Exception as error:
            self.post_message(SynthesisFinished(None, f"{type(error).__name__}: {error}"))
        else:
            self.post_message(SynthesisFinished(result, None))

    def on_synthesis_progressed(self, message: SynthesisProgressed) -> None:
        self._show(message.line)

    def on_synthesis_finished(self, message: SynthesisFinished) -> None:
        self.running = False
        result = message.result
        if message.stopped:
            self.app.notify("Synthesis stopped; start the same job again to resume", severity="warning")
            self.dismiss(None)
            return
        if result is None:
            self._show(f"Synthesis failed: {message.error}", "red")
            self.query_one("#start", Button).disabled = False
            return
        failed = "; ".join(f"#{f.index} {f.stage}: {f.reason}" for f in result.failed)
        duplicates = result.duplicates.pairs if result.duplicates else []
        summary = (
            f"{len(result.written)} written, {len(result.already)} finished earlier, {len(result.failed)} failed, "
            f"{len(duplicates)} near-duplicate pair(s)"
        )
        if not result.personas:
            self._show(f"{summary}: {failed}", "red")
            self.query_one("#start", Button).disabled = False
            return
        self.app.notify(summary + (f" ({failed})" if failed else ""))
        self.dismiss(result.personas[0])

    def _show(self, line: str, style: str = "") -> None:
        self.query_one("#synthesis-progress", Static).update(Text(printable(line), style=style))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        if self.running:
            self._stop.set()
            self._show("Stopping after the stage in progress…")
            return
        self.dismiss(None)
