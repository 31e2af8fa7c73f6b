"""What the stepper and the annotator share: keyboard scoring of side-by-side responses, saved on every change."""

from __future__ import annotations

import time
from datetime import datetime

from rich.console import Group
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Static

from compass_tui.annotations import Annotation
from compass_tui.app.compass_node import CompassNode
from compass_tui.app.widgets.model_column import ModelColumn, ScorePanel
from compass_tui.interaction_record import InteractionRecord
from compass_tui.rubric import DEFINITIONS, LEVELS
from compass_tui.vocab import DIMENSIONS

SCORING_BINDINGS: list[BindingType] = [
    Binding("n,right_square_bracket,pagedown", "step(1)", "Next", id="scoring.next"),
    Binding("p,left_square_bracket,pageup", "step(-1)", "Previous", id="scoring.previous"),
    Binding("1", "score(1)", "Score", key_display="1-5", id="scoring.score1"),
    Binding("2", "score(2)", "Score 2", show=False, id="scoring.score2"),
    Binding("3", "score(3)", "Score 3", show=False, id="scoring.score3"),
    Binding("4", "score(4)", "Score 4", show=False, id="scoring.score4"),
    Binding("5", "score(5)", "Score 5", show=False, id="scoring.score5"),
    Binding("0", "score(0)", "Clear score", show=False, id="scoring.clear"),
    Binding("up", "dimension(-1)", "Previous dimension", show=False, id="scoring.up"),
    Binding("down", "dimension(1)", "Next dimension", show=False, id="scoring.down"),
    Binding("left", "column(-1)", "Previous column", show=False, id="scoring.left"),
    Binding("right", "column(1)", "Next column", show=False, id="scoring.right"),
    Binding("enter", "commit", "Commit", id="scoring.commit"),
    Binding("c", "comment", "Comment", id="scoring.comment"),
    Binding("f", "flag", "Flag", id="scoring.flag"),
    Binding("s", "skip", "Skip", id="scoring.skip"),
    Binding("d", "details", "Details", id="scoring.details"),
]
NEEDS_A_FINISHED_RECORD = frozenset({"score", "commit"})
NEEDS_A_RECORD = NEEDS_A_FINISHED_RECORD | {"comment", "flag", "skip", "details"}
COMPACT_BELOW_ROWS = 32  # below this many rows the header and the rubric give their lines to the columns


def _has_scores(annotation: Annotation | None) -> bool:
    return annotation is not None and any(annotation.scores.values())


def _saved_key(annotation: Annotation) -> tuple:
    return annotation.persona_id, annotation.situation_index, annotation.system, annotation.variant


class ScoringScreen(CompassNode, Screen):
    """Subclasses say how many items there are, which annotation sits at each position, and how to save it."""

    HELP = ScorePanel.HELP
    BINDINGS = SCORING_BINDINGS

    def __init__(self) -> None:
        super().__init__()
        self.index = 0
        self.seconds: dict[int, float] = {}
        self.shown_since = time.monotonic()
        self.saved_at: dict[tuple, str] = {}  # per annotation (a what-if variant's is its own)

    # ----- what subclasses provide --------------------------------------------------------------

    @property
    def item_count(self) -> int:
        raise NotImplementedError

    def annotation_at(self, position: int) -> Annotation:
        raise NotImplementedError

    def save(self, annotation: Annotation) -> None:
        raise NotImplementedError

    def render_item(self) -> None:
        raise NotImplementedError

    def render_position(self, position: int) -> None:
        raise NotImplementedError

    def render_scores(self, position: int) -> None:
        """Redraw only the ScorePanel of a column (a score key must not re-render the response above it)."""
        raise NotImplementedError

    # ----- shared behaviour ---------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.height < COMPACT_BELOW_ROWS, "-compact")

    def focused_column(self) -> ModelColumn | None:
        focused = self.focused
        return next(
            (node for node in (focused.ancestors if focused else []) if isinstance(node, ModelColumn)), None
        )

    def focused_record(self) -> InteractionRecord | None:
        column = self.focused_column()
        return column.record if column is not None else None

    def action_details(self) -> None:
        """The focused column's tool call and tool result in full, over the screen."""
        from compass_tui.app.screens.tool_detail import ToolDetailScreen

        column = self.focused_column()
        if column is not None and column.record is not None:
            self.app.push_screen(ToolDetailScreen(str(column.border_title or ""), column.record))

    def seconds_on_item(self) -> float:
        return self.seconds.get(self.index, 0.0) + (time.monotonic() - self.shown_since)

    def save_status(self, position: int) -> str:
        return self.saved_at.get(_saved_key(self.annotation_at(position)), "")

    def focused_panel(self) -> ScorePanel | None:
        return self.focused if isinstance(self.focused, ScorePanel) else None

    def focused_position(self) -> int | None:
        panel = self.focused_panel()
        return None if panel is None else list(self.query(ScorePanel)).index(panel)

    def on_descendant_focus(self) -> None:
        self.render_rubric()

    def _change(self, edit) -> None:
        position = self.focused_position()
        if position is None:
            return
        annotation = self.annotation_at(position)
        actions_before = (annotation.complete, annotation.committed)
        edit(annotation)
        annotation.seconds = self.seconds_on_item()
        try:
            self.save(annotation)
        except Exception as error:  # never claim a save that did not happen
            self.saved_at[_saved_key(annotation)] = "NOT SAVED"
            self.notify(f"Could not save: {error}", severity="error", timeout=15)
        else:
            self.saved_at[_saved_key(annotation)] = f"saved ✓ {datetime.now():%H:%M:%S}"
        self.render_scores(position)
        self.render_rubric()
        if (annotation.complete, annotation.committed) != actions_before:  # `enter` may now commit, or not
            self.refresh_bindings()  # (it rebuilds the footer: too costly for every key)

    def action_score(self, value: int) -> None:
        panel = self.focused_panel()
        if panel is None:
            return
        dimension = DIMENSIONS[panel.cursor].key
        self._change(lambda annotation: annotation.set_score(dimension, value or None))
        if value and panel.cursor < len(DIMENSIONS) - 1:
            panel.cursor += 1
            self.render_rubric()

    def action_dimension(self, delta: int) -> None:
        panel = self.focused_panel()
        if panel is not None:
            panel.cursor = (panel.cursor + delta) % len(DIMENSIONS)
            self.render_rubric()

    def action_column(self, delta: int) -> None:
        panels = list(self.query(ScorePanel))
        panel = self.focused_panel()
        current = panels.index(panel) if panel in panels else 0
        target = panels[(current + delta) % len(panels)]
        if panel is not None:  # the same dimension, to compare it across columns; Empathy in an unscored one
            target.cursor = panel.cursor if _has_scores(target.annotation) else 0
        target.focus()

    def action_commit(self) -> None:
        self._change(lambda annotation: setattr(annotation, "committed", True))

    def action_flag(self) -> None:
        self._change(lambda annotation: setattr(annotation, "flag", not annotation.flag))

    def action_skip(self) -> None:
        self._change(lambda annotation: setattr(annotation, "skipped", not annotation.skipped))

    def action_comment(self) -> None:
        from compass_tui.app.screens.comment import CommentDialog

        position = self.focused_position()
        if position is None:
            return

        def done(text: str | None) -> None:
            if text is not None:
                self._change(lambda annotation: setattr(annotation, "comment", text))

        self.app.push_screen(CommentDialog(self.annotation_at(position).comment), done)

    def action_step(self, delta: int) -> None:
        target = self.index + delta
        if 0 <= target < self.item_count:
            self.go_to(target)

    def go_to(self, target: int) -> None:
        self.seconds[self.index] = self.seconds_on_item()
        self.shown_since = time.monotonic()
        self.index = target
        self.render_item()
        for panel in self.query(ScorePanel):  # a new item not yet scored starts at Empathy
            if not _has_scores(panel.annotation):
                panel.cursor = 0
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "step":
            return 0 <= self.index + parameters[0] < self.item_count
        if action in NEEDS_A_RECORD:  # nothing to judge yet: no score may be saved for it
            record = self.focused_record()
            if record is None or (action in NEEDS_A_FINISHED_RECORD and not record.finished):
                return False
        if action == "commit":
            position = self.focused_position()
            if position is None:
                return False
            annotation = self.annotation_at(position)
            return annotation.complete and not annotation.committed
        return True

    def render_rubric(self) -> None:
        panel = self.focused_panel()
        dimension = DIMENSIONS[panel.cursor if panel else 0]
        value = panel.annotation.scores.get(dimension.key) if panel and panel.annotation else None
        lines = [
            Text.assemble(
                (f"{dimension.short:<5}", "bold"),
                (f"{dimension.label}: ", "bold"),
                DEFINITIONS[dimension.key],
                no_wrap=True,
                overflow="ellipsis",
            )
        ]
        compact = self.app.size.height < 32
        levels = ([value] if value else []) if compact else list(range(5, 0, -1))
        for level in levels:
            style = "bold reverse" if level == value else ""
            lines.append(
                Text.assemble(
                    (f"  {level}  ", "bold"),
                    (LEVELS[dimension.key][level], style),
                    no_wrap=True,
                    overflow="ellipsis",
                )
            )
        self.query_one("#rubric-bar", Static).update(Group(*lines))
