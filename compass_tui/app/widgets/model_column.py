"""One system's column in the stepper: tool call, tool result, response, preference badge, and its scores."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.console import Group, RenderableType
from rich.markdown import Markdown
from rich.rule import Rule
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import LoadingIndicator, Static

from compass_tui.annotations import Annotation
from compass_tui.app.widgets.persona_detail import stance_badge
from compass_tui.interaction_record import Feedback, InteractionRecord, stored_value
from compass_tui.judgements import Judgement
from compass_tui.tools.summary import call_summary, result_summary
from compass_tui.vocab import DIMENSIONS


@dataclass(frozen=True)
class JudgeScores:
    """What the reveal shows of one judgement: per dimension a score, or None where it stayed flagged."""

    scores: dict[str, float | None]
    source: str  # "judge-model · ours:1a2b3c4d"
    rationales: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, judgement: Judgement, source: str) -> JudgeScores:
        rationales = {k: str(v) for k, v in judgement.rationales.items() if v}
        return cls(dict(judgement.scores), source, rationales)


class ScorePanel(Widget, can_focus=True):
    """Six dimensions; 1-5 scores the highlighted one, ↑/↓ move, enter commits."""

    HELP = """### Scoring
`1`–`5` set the highlighted dimension and move to the next; `↑`/`↓` move between dimensions,
`←`/`→` (or `tab`) between columns (`←`/`→` keep the dimension; a column or item not yet scored starts
at Empathy), `0` clears. The rubric for the highlighted dimension is shown at the bottom. `c` comments,
`f` flags, `s` skips. When all six are set, `enter` commits: only then are the judge's scores shown
beside yours, so they cannot anchor you. Every change is saved at once."""

    cursor: reactive[int] = reactive(0)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.annotation: Annotation | None = None
        self.judge: JudgeScores | None = None
        self.status = ""

    def show(self, annotation: Annotation | None, judge: JudgeScores | None, status: str = "") -> None:
        self.annotation, self.judge, self.status = annotation, judge, status
        self.refresh(layout=True)  # a revealed judge adds the line naming it

    def render(self) -> RenderableType:
        grid = Table.grid(padding=(0, 1), expand=True)
        grid.add_column(width=1)
        grid.add_column(width=5)
        grid.add_column(ratio=1)
        grid.add_column(justify="right")
        annotation = self.annotation
        judge = self.judge if annotation and annotation.committed else None
        for index, dimension in enumerate(DIMENSIONS):
            value = annotation.scores.get(dimension.key) if annotation else None
            marker = "▸" if index == self.cursor and self.has_focus else " "
            dots = Text("●" * (value or 0), style="bold green") + Text("○" * (5 - (value or 0)), style="dim")
            score = Text(f" {value}" if value else " ·", style="bold" if value else "dim")
            style = "reverse" if index == self.cursor and self.has_focus else ""
            judged = self._judged(judge, dimension.key)
            grid.add_row(marker, Text(dimension.short, style=style), dots + score, judged)
        grid.add_row("", "", self._status_line(), "")
        if judge is not None:
            grid.add_row("", "", Text(f"judge: {judge.source}", style="cyan dim"), "")
            why = judge.rationales.get(DIMENSIONS[self.cursor].key)
            if why:
                grid.add_row("", "", Text(f"why ({DIMENSIONS[self.cursor].short}): {why}", style="cyan"), "")
        return grid

    @staticmethod
    def _judged(judge: JudgeScores | None, key: str) -> Text:
        if judge is None:
            return Text("")
        value = judge.scores.get(key)
        if value is None:
            return Text("judge ⚑ flagged", style="bold yellow")
        return Text(f"judge {value:.1f}", style="cyan")

    def _status_line(self) -> Text:
        annotation = self.annotation
        text = Text()
        if annotation is None:
            return Text("not scored", style="dim")
        if annotation.flag:
            text.append("⚑ flagged ", style="bold yellow")
        if annotation.skipped:
            text.append("skipped ", style="bold magenta")
        if annotation.comment:
            text.append(f"“{annotation.comment[:30]}” ", style="italic")
        if annotation.committed:
            text.append("committed ", style="bold green")
        elif annotation.complete:
            text.append("enter to commit ", style="yellow")
        text.append(self.status, style="green")
        return text

    def watch_cursor(self) -> None:
        self.refresh()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()


class ModelColumn(Vertical):
    """Shows one system's answer for the current situation."""

    HELP = """### A system's column
At the top, one or two lines sum up the **tool call** and its **result** (`d` shows both in full
for the focused column).
Below them the **response** you score, always in view (long ones scroll in their own area), a badge
saying whether the chosen tool is liked, neutral or disliked by this persona in this kind of
situation, and the scores. `g` generates missing responses for this situation, `G` for all."""

    def __init__(self, column_id: str, panel: type[ScorePanel] = ScorePanel) -> None:
        super().__init__(id=column_id)
        self.record: InteractionRecord | None = None
        self.panel_type = panel

    def compose(self) -> ComposeResult:
        yield Static(classes="column-summary", id="summary")
        yield Static(Rule("response", style="dim"), classes="column-rule")
        with VerticalScroll(classes="column-response"):
            yield Static(id="response")
        yield LoadingIndicator()
        yield Static(classes="column-status", id="column-status")
        yield self.panel_type()

    def on_mount(self) -> None:
        self.query_one(LoadingIndicator).display = False

    def set_title(self, title: str) -> None:
        self.border_title = title

    def show_record(
        self,
        record: InteractionRecord | None,
        stance: str | None,
        generating: bool,
        empty_note: str = "No response yet. Press g to generate.",
    ) -> None:
        self.record = record
        self.query_one(LoadingIndicator).display = generating
        response = self.query_one("#response", Static)
        status = self.query_one("#column-status", Static)
        summary = self.query_one("#summary", Static)
        if record is None:
            summary.update(Text(empty_note if not generating else "", style="dim"))
            response.update("")
            status.update("generating…" if generating else "")
            return
        summary.update(_summary(record))
        response.update(self._response(record))
        badge = stance_badge(stance) if stance else Text("")
        status.update(badge + Text(f"  {record.status}", style="dim") + _not_scored(record))

    @staticmethod
    def _response(record: InteractionRecord):
        parts: list[Any] = []
        if record.response:
            parts.append(Markdown(record.response))
        elif record.error:
            error = record.error
            parts.append(Text(f"✗ {error.stage}: {error.kind}: {error.message}", style="bold red"))
        else:
            parts.append(Text("…", style="dim"))
        if record.feedback:
            parts.append(_feedback(record.feedback))
        return Group(*parts)


_FEEDBACK_STYLES = {"like": "bold green", "dislike": "bold red"}


def _feedback(feedback: Feedback) -> Text:
    """The simulated user's reaction: its label (none when the text matched no known phrase) and its words."""
    line = Text.assemble(
        (
            f"user feedback: {feedback.label or 'no label'}",
            _FEEDBACK_STYLES.get(feedback.label or "", "bold"),
        ),
        (f" ({feedback.by})", "dim"),
    )
    if feedback.text:
        line.append(f"\n“{feedback.text}”", style="italic")
    return line


def _not_scored(record: InteractionRecord) -> Text:
    """The history setting's cold start: shown, never counted in a table (nor by the official scripts)."""
    return Text("  · warm-up, not scored", style="yellow") if not record.counts else Text("")


def _summary(record: InteractionRecord) -> Text:
    """The tool call and its result in a line or two: what the response was written from."""
    if record.setting == "empathetic":
        return Text("empathetic reply, no tool", style="dim")
    call = record.tool_call
    if not call and record.status in ("done", "error"):  # ended without a call: a pass-rate failure
        return Text.assemble(("🔧 ", ""), ("✗ no tool call", "bold red"))
    result = result_summary(record.tool_result)
    ok = record.tool_ran
    tool, _, params = call_summary(stored_value(call)).partition(" · ")
    return Text.assemble(
        ("🔧 ", ""),
        (tool, "bold"),
        (" → " if result else "", "dim"),
        (result, "green" if ok else "red"),
        (f" · {params}" if params else "", "dim"),
    )
