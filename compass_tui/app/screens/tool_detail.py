"""The tool call and the tool result of one column in full, over the stepper or the annotator."""

from __future__ import annotations

from rich.console import Group
from rich.rule import Rule
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from compass_tui.app.widgets.compass_footer import CompassFooter
from compass_tui.app.widgets.result_card import result_view, tool_call_view
from compass_tui.interaction_record import InteractionRecord


class ToolDetailScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,d", "close", "Close", id="tool_detail.close"),
    ]
    HELP = (
        "### Tool call and result\n"
        "The call the system made and what the tool gave back, in full. `d` or `escape` closes."
    )

    def __init__(self, title: str, record: InteractionRecord):
        super().__init__()
        self.title_text = title
        self.record = record

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="tool-detail", classes="dialog") as pane:
            pane.border_title = self.title_text
            yield Static(
                Group(
                    Rule("tool call", style="dim"),
                    tool_call_view(self.record.tool_call),
                    Rule("tool result", style="dim"),
                    result_view(self.record.tool_result),
                )
            )
        yield CompassFooter()

    def action_close(self) -> None:
        self.dismiss(None)
