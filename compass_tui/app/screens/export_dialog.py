"""Write the human scores of the chosen runs as a spreadsheet-safe CSV."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from compass_tui.annotations import load_annotations
from compass_tui.app.compass_node import CompassNode
from compass_tui.app.widgets.compass_footer import CompassFooter
from compass_tui.export import write_session_csv
from compass_tui.report import SESSION_SCOPE
from compass_tui.wording import counted


class ExportDialog(CompassNode, ModalScreen[None]):
    HELP = (
        "### Export\nThe human scores of the chosen runs, one row per annotator × item × system, "
        "as UTF-8 CSV with a BOM."
    )
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="export.cancel")]

    def __init__(self, runs: list[str]):
        super().__init__()
        self.runs = runs

    def compose(self) -> ComposeResult:
        default = Path.cwd() / "compass-human-scores.csv"
        with Vertical(classes="dialog"):
            yield Label(
                f"Export human scores of {counted(len(self.runs), 'run') if self.runs else 'all runs'} to:"
            )
            yield Input(value=str(default), id="export-path")
            yield Static("", id="export-result")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Export", id="export", variant="primary")
        yield CompassFooter()

    @on(Button.Pressed, "#export")
    @on(Input.Submitted, "#export-path")
    def _export(self) -> None:
        typed = self.query_one("#export-path", Input).value.strip()
        result = self.query_one("#export-result", Static)
        if not typed:
            result.update("[red]Type the file to write, e.g. scores.csv[/]")
            return
        path = Path(typed).expanduser()
        store = self.app.ctx.store
        annotations = [
            a
            for a in load_annotations(store, SESSION_SCOPE)
            if not self.runs or a.system.split("::", 1)[0] in self.runs
        ]
        try:
            count = write_session_csv(store, annotations, path)
        except OSError as error:
            result.update(f"[red]Cannot write {path}: {error.strerror}[/]")
            return
        self.app.notify(f"Wrote {counted(count, 'row')} to {path}")
        self.dismiss()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss()
