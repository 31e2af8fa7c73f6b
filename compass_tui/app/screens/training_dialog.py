"""Write the chosen runs' interactions as tool-use training data (`compass-tui export-training`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from compass_tui.app.compass_node import CompassNode
from compass_tui.app.widgets.check_list import CheckBox
from compass_tui.app.widgets.compass_footer import CompassFooter
from compass_tui.errors import InputError
from compass_tui.safe_text import printable
from compass_tui.training import FORMATS, SOURCES, TrainingFilter
from compass_tui.wording import counted


class TrainingExported(Message):
    def __init__(self, manifest: dict[str, Any] | None, error: str | None):
        super().__init__()
        self.manifest = manifest
        self.error = error


class TrainingExportDialog(CompassNode, ModalScreen[None]):
    HELP = (
        "### Export training data\nThe chosen runs' interactions as chat-format tool-use training records "
        "(`compass-tui export-training`): OpenAI fine-tuning JSONL, ShareGPT, or our flat jsonl. Min score "
        "keeps items whose mean of the six scores from the source is at least that (blank: no score filter); "
        "require pass keeps items whose tool ran. A manifest with the counts goes beside the file."
    )
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="training.cancel")]

    def __init__(self, runs: list[str]):
        super().__init__()
        self.runs = runs

    def compose(self) -> ComposeResult:
        default = Path.cwd() / "compass-training.jsonl"
        with Vertical(classes="dialog", id="training-dialog"):
            runs = f"{counted(len(self.runs), 'run')}: {', '.join(self.runs) or 'none'}"
            yield Static(f"Export training data of {runs}")
            with VerticalScroll(classes="dialog-body", can_focus=False):
                with Horizontal(classes="options"):
                    yield Label("format", classes="field-label")
                    yield Select([(n, n) for n in FORMATS], value="openai", allow_blank=False, id="format")
                    yield Label("scores from", classes="field-label")
                    yield Select([(n, n) for n in SOURCES], value="judge", allow_blank=False, id="source")
                with Horizontal(classes="options"):
                    yield Label("min score", classes="field-label")
                    yield Input(placeholder="1-5 or blank", id="min-score")
                    yield CheckBox("require pass (the tool ran)", id="require-pass")
                yield Label("write to (the manifest goes beside it as FILE.manifest.json)")
                yield Input(value=str(default), id="training-path")
                yield Static("", id="training-result", classes="-empty")  # scrolls: the buttons stay
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Export", id="export", variant="primary")
        yield CompassFooter()

    @on(Button.Pressed, "#export")
    @on(Input.Submitted)
    def _export(self) -> None:
        try:
            chosen = self._filter()
        except InputError as error:
            self._show(error.message if error.field == "--min-score" else str(error), "red")
            return
        if not self.runs:
            self._show("Choose runs on the report screen first", "red")
            return
        self.query_one("#export", Button).disabled = True
        self._show("Exporting…")
        self.export(chosen, str(self.query_one("#format", Select).value), self._destination())

    def _filter(self) -> TrainingFilter:
        text = self.query_one("#min-score", Input).value.strip()
        try:
            min_score = float(text) if text else None
        except ValueError:
            raise InputError(None, "--min-score", f"min score: {text!r} is not a number") from None
        if min_score is not None and not 1 <= min_score <= 5:
            raise InputError(None, "--min-score", "min score must be a number from 1 to 5")
        source = str(self.query_one("#source", Select).value)
        return TrainingFilter(min_score, source, require_pass=self.query_one("#require-pass", Checkbox).value)

    def _destination(self) -> Path:
        return Path(self.query_one("#training-path", Input).value).expanduser()

    @work(
        thread=True,
        exclusive=True,
        group="training",
        description="Exporting training data",
        exit_on_error=False,
    )
    def export(self, chosen: TrainingFilter, fmt: str, out: Path) -> None:
        from compass_tui.tools.data import ToolData
        from compass_tui.tools.definitions import load_definitions
        from compass_tui.training import check_destination, check_selection, collect, write_training

        ctx = self.app.ctx
        try:
            check_destination(out)
            definitions = load_definitions(ToolData(ctx.tool_data_dir).toolenv)
            personas = ctx.personas_by_id()
            with_scores = chosen.reads_scores or fmt == "jsonl"
            training = collect(ctx.store, self.runs, personas, definitions, chosen, with_scores=with_scores)
            check_selection(training, chosen)
            manifest = write_training(training, fmt, chosen, definitions, out)
        except InputError as error:
            self.post_message(TrainingExported(None, str(error)))
        else:
            self.post_message(TrainingExported(manifest, None))

    def on_training_exported(self, message: TrainingExported) -> None:
        self.query_one("#export", Button).disabled = False
        if message.manifest is None:
            self._show(f"Not written: {message.error}", "red")
            return
        counts = message.manifest["counts"]
        reasons = ", ".join(f"{n} {reason}" for reason, n in counts["refused_by_reason"].items())
        summary = (
            f"Wrote {counts['written']} of {counts['considered']} interactions to {message.manifest['output']}; "
            f"refused {counts['refused']}" + (f" ({reasons})" if reasons else "")
        )
        self._show(summary)
        self.app.notify(summary)

    def _show(self, line: str, style: str = "") -> None:
        result = self.query_one("#training-result", Static)
        result.update(Text(printable(line), style=style))
        result.set_class(not line, "-empty")
        if line:
            self.call_after_refresh(result.scroll_visible)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss()
