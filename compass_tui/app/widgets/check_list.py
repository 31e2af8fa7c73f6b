"""A SelectionList whose ticked options show a check mark and unticked ones an empty box, so the state
never rests on colour alone; and a Checkbox that does the same."""

from __future__ import annotations

from rich.segment import Segment
from textual.strip import Strip
from textual.widgets import Checkbox, SelectionList
from textual.widgets._toggle_button import ToggleButton

TICKED, UNTICKED = "✓", " "


class CheckList(SelectionList[str]):
    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        segments = list(strip)
        if len(segments) < 2 or segments[1].text != ToggleButton.BUTTON_INNER:
            return strip
        option = (segments[1].style.meta if segments[1].style else {}).get("option")
        if option is None:
            return strip
        mark = TICKED if self.get_option_at_index(option).value in self.selected else UNTICKED
        segments[1] = Segment(mark, segments[1].style)
        return Strip(segments, strip.cell_length)


class CheckBox(Checkbox):
    @property
    def _button(self):
        self.BUTTON_INNER = TICKED if self.value else UNTICKED
        return super()._button
