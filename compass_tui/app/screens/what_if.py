"""What if the user had said something else? The current utterance, open for editing."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static, TextArea

from compass_tui.app.widgets.compass_footer import CompassFooter
from compass_tui.safe_text import printable


class WhatIfDialog(ModalScreen[str | None]):
    BINDINGS = [
        Binding("ctrl+s", "generate", "Generate", id="what_if.generate"),
        Binding("escape", "cancel", "Cancel", id="what_if.cancel"),
    ]
    HELP = """### What if…
Edit what the user says in this situation and press `ctrl+s`: every system of the session answers
the edited words, and the answers are kept as a *what-if variant* of the situation, beside the
original (which is never changed). In the stepper, `v` switches between the original and its
variants; a variant is scored like the original, under its own key. `escape` cancels."""

    def __init__(self, text: str, original: str):
        super().__init__()
        self.text, self.original = text, original

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="what-if-dialog"):
            yield Label("What if the user had said… (ctrl+s generates, escape cancels)")
            yield TextArea(self.text, id="what-if-text", soft_wrap=True, show_line_numbers=False)
            yield Static(
                Text.assemble(("original: ", "bold"), (printable(self.original, multiline=True), "italic")),
                id="what-if-original",
            )
        yield CompassFooter()

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_generate(self) -> None:
        self.dismiss(self.query_one(TextArea).text)

    def action_cancel(self) -> None:
        self.dismiss(None)
