"""One situation in the persona editor, folded to a one-line summary until it is opened."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widget import AwaitMount, Widget
from textual.widgets import Button, Collapsible, Select, TextArea

from compass_tui.vocab import EMOTIONS, SCENARIO_TYPES

RETITLE_AFTER_S = 0.3


def summary(index: int, situation: dict[str, Any]) -> str:
    scenario = next((s.label for s in SCENARIO_TYPES if s.key == situation.get("scenario_type")), "no type")
    said = " ".join(str(situation.get("utterance") or "").split())
    said = said if len(said) <= 70 else said[:69] + "…"
    return f"#{index + 1}  {scenario} · {situation.get('emotion') or 'no emotion'} · {said or 'nothing said yet'}"


class SituationFold(Collapsible):
    """A situation's fields exist only once it has been opened: a 15-situation form in full is hundreds of
    widgets, which Textual styles when the editor opens and lays out again on every keystroke."""

    def __init__(self, index: int, situation: dict[str, Any], expanded: bool):
        self.index = index
        self.situation = situation
        self.has_fields = expanded
        self._retitle_timer: Timer | None = None
        super().__init__(
            *(self._fields() if expanded else ()),
            title=summary(index, situation),
            collapsed=not expanded,
            id=f"situation-{index}",
            classes="situation",
        )

    def watch_collapsed(self, collapsed: bool) -> None:
        if not collapsed and self.is_mounted:
            self.add_fields()

    @on(TextArea.Changed)
    @on(Select.Changed)
    def _edited(self) -> None:
        """The title follows the edits once typing pauses: a new title makes Textual lay out the whole
        screen again."""
        if self._retitle_timer is not None:
            self._retitle_timer.stop()
        self._retitle_timer = self.set_timer(RETITLE_AFTER_S, self._retitle)

    def _retitle(self) -> None:
        self.title = summary(self.index, self.read())

    def add_fields(self) -> AwaitMount | None:
        """Mount the fields if they are not there yet; the result can be awaited."""
        if self.has_fields:
            return None
        self.has_fields = True
        return self.query_one(Collapsible.Contents).mount_all(self._fields())

    def read(self) -> dict[str, Any]:
        """The situation as its fields now show it (as loaded, if it has never been opened)."""
        if not self.has_fields:
            return dict(self.situation)
        prefix = f"#situations-{self.index}"
        scenario_type = self.query_one(f"{prefix}-scenario_type", Select).value
        emotion = self.query_one(f"{prefix}-emotion", Select).value
        source = self.situation.get("scenario_type_source", "author")
        if scenario_type != self.situation.get("scenario_type"):
            source = "user"
        return {
            "scenario_type": None if scenario_type == Select.BLANK else scenario_type,
            "scenario_type_source": source,
            "emotion": "" if emotion == Select.BLANK else emotion,
            "scenario": self.query_one(f"{prefix}-scenario", TextArea).text,
            "utterance": self.query_one(f"{prefix}-utterance", TextArea).text,
        }

    def _fields(self) -> list[Widget]:
        index, situation = self.index, self.situation
        scenario_options = [(s.label, s.key) for s in SCENARIO_TYPES]
        emotion = situation.get("emotion") if situation.get("emotion") in EMOTIONS else Select.BLANK
        return [
            Horizontal(
                Select(
                    scenario_options,
                    value=situation.get("scenario_type") or Select.BLANK,
                    id=f"situations-{index}-scenario_type",
                    prompt="scenario type",
                ),
                Select(
                    [(e, e) for e in EMOTIONS],
                    value=emotion,
                    id=f"situations-{index}-emotion",
                    prompt="emotion",
                ),
                Button("↑", id=f"up-{index}"),
                Button("↓", id=f"down-{index}"),
                Button("✕", id=f"remove-{index}"),
                classes="field-row",
            ),
            TextArea(situation.get("scenario", ""), id=f"situations-{index}-scenario"),
            TextArea(situation.get("utterance", ""), id=f"situations-{index}-utterance"),
        ]
