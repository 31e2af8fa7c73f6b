"""The footer of every screen and dialog."""

from __future__ import annotations

from textual import events
from textual.widgets import Footer

PALETTE_HINT_FROM_COLUMNS = 100  # narrower, the screen's own keys need the room (ctrl+p still works)


class CompassFooter(Footer):
    """Compact, and without the palette hint on a narrow terminal, so that at 80 columns a screen's keys fit."""

    def __init__(self) -> None:
        super().__init__(compact=True)

    def on_resize(self, event: events.Resize) -> None:
        wide = event.size.width >= PALETTE_HINT_FROM_COLUMNS
        if wide != self.show_command_palette:
            self.show_command_palette = wide
            self.refresh(recompose=True)
