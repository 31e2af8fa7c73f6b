"""F1 / ?: help for the focused part of the screen, then the keys that apply here."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Markdown

from compass_tui.app.widgets.compass_footer import CompassFooter

GENERAL_HELP = """### compass-tui
Every action is in the command palette (`ctrl+p`); the footer shows the keys that apply right now.
`ctrl+t` switches light and dark, `ctrl+q` quits. Scores are saved the moment you change them."""


def help_for(widget: Widget | None, screen: Screen) -> str:
    """The HELP text of the focused widget or its nearest ancestor that has one, else the screen's."""
    node: DOMNode | None = widget
    while node is not None:
        text = getattr(type(node), "HELP", None)
        if isinstance(text, str) and text.strip():
            return text
        node = node.parent
    return getattr(type(screen), "HELP", None) or GENERAL_HELP


def keys_here(screen: Screen) -> str:
    """The enabled keys with a description: the screen's own first, then its widgets' and the app's (not
    Textual's generic scroll keys, which every scrolling pane has)."""
    from textual.app import App

    own = {binding.action for binding in type(screen).BINDINGS if isinstance(binding, Binding)}

    def rank(active) -> int:
        if active.node is screen and active.binding.action in own:
            return 0
        return 1 if isinstance(active.node, App) else 2

    lines = ["### Keys here", "| key | action |", "|---|---|"]
    seen = set()
    for active in sorted(screen.active_bindings.values(), key=rank):
        binding = active.binding
        ours = binding.id is not None or isinstance(active.node, App)  # not a widget's scroll keys
        if ours and binding.description and binding.action not in seen and active.enabled:
            seen.add(binding.action)
            display = screen.app.get_key_display(binding)
            lines.append(f"| `{display}` | {binding.description} |")
    return "\n".join(lines)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,question_mark,q", "close", "Close", id="help.close")]

    def __init__(self, focused: Widget | None, screen: Screen):
        super().__init__()
        self.text = f"{help_for(focused, screen)}\n\n{keys_here(screen)}\n\n{GENERAL_HELP}"

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            with VerticalScroll(id="help-body"):
                yield Markdown(self.text)
        yield CompassFooter()

    def action_close(self) -> None:
        self.dismiss()
