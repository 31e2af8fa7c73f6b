"""A one-line comment on a response."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from compass_tui.app.widgets.compass_footer import CompassFooter


class CommentDialog(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="comment.cancel")]
    HELP = "### Comment\nType a note about this response and press `enter` to save it; `escape` cancels."

    def __init__(self, current: str):
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Comment on this response (enter saves, escape cancels)")
            yield Input(value=self.current, id="comment-input")
        yield CompassFooter()

    @on(Input.Submitted, "#comment-input")
    def _save(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)
