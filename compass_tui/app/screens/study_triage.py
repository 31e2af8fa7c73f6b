"""A study's disagreement triage, for its owner: units ranked by |human mean − judge| and by annotator
spread (`compass-tui study disagreements`), blinded unless revealed; Enter opens one read-only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Header, Label, Select, Static, TabbedContent, TabPane

from compass_tui.app.compass_node import CompassNode
from compass_tui.app.screens.report import fill_table
from compass_tui.app.widgets.compass_footer import CompassFooter
from compass_tui.safe_text import printable
from compass_tui.study import list_studies
from compass_tui.vocab import DIMENSIONS

RANKINGS = ("gap", "spread")
ALL_DIMENSIONS = "all"
Choices = tuple[str, str, bool]  # study, dimension (or ALL_DIMENSIONS), reveal


@dataclass
class StudyTriageReady(Message):
    choices: Choices
    triage: Any = None  # compass_tui.triage.Triage
    error: str | None = None


class StudyTriageScreen(CompassNode, Screen):
    HELP = """### Study triage
For the study's owner: every (item, system) unit of a study ranked by |human mean − judge| and, on
the second tab, by the spread among the annotators (sample sd, n − 1), as `compass-tui study
disagreements` ranks them; on one dimension, or on the mean over the six. Under each table,
`shown K of N ranked; not ranked: M (reasons)` counts what could not be ranked. Systems are shown
under their blinded ids; `v` reveals the real run and model (never do this in front of an
annotator). `enter` opens the highlighted unit's item read-only, with every system's response,
each annotator's scores and the judge's with its reasons. `]`/`[` switch rankings, `d` the
dimension."""
    BINDINGS = [
        Binding("enter", "open_item", "Open in stepper", id="study_triage.open", priority=True),
        Binding("]", "ranking(1)", "Other ranking", id="study_triage.next_ranking"),
        Binding("[", "ranking(-1)", "Other ranking", show=False, id="study_triage.previous_ranking"),
        Binding("d", "dimension", "Dimension", id="study_triage.dimension"),
        Binding("v", "reveal", "Reveal/blind", id="study_triage.reveal"),
        Binding("r", "refresh", "Refresh", id="study_triage.refresh"),
        Binding("escape", "back", "Back", id="study_triage.back"),
    ]

    def __init__(self, study: str | None = None) -> None:
        super().__init__()
        self.wanted = study
        self.reveal = False
        self._shown: Choices | None = None
        self.entries: dict[str, list] = {ranking: [] for ranking in RANKINGS}

    def compose(self) -> ComposeResult:
        yield Header()
        studies = list_studies(self.app.ctx.store)
        first = self.wanted if self.wanted in studies else (studies[0] if studies else None)
        dimensions = [("mean over six", ALL_DIMENSIONS)] + [(d.label, d.key) for d in DIMENSIONS]
        with Horizontal(id="study-controls"):
            with Vertical():
                yield Label("Study")
                options = [(printable(name), name) for name in studies]
                yield Select(options, value=first or Select.NULL, id="study-name", prompt="no studies")
            with Vertical():
                yield Label("Dimension")
                yield Select(dimensions, value=ALL_DIMENSIONS, allow_blank=False, id="study-dimension")
            yield Static("", id="study-reveal")
        yield Static("", id="study-heading")
        with TabbedContent(id="study-tabs"):
            with TabPane("By |human mean − judge|", id="tab-gap"):
                yield DataTable(id="study-table-gap", zebra_stripes=True, cursor_type="row")
                yield Static("", id="study-count-gap", classes="study-count")
            with TabPane("By annotator spread", id="tab-spread"):
                yield DataTable(id="study-table-spread", zebra_stripes=True, cursor_type="row")
                yield Static("", id="study-count-spread", classes="study-count")
        yield CompassFooter()

    def on_mount(self) -> None:
        self.title = "study triage"
        self.action_refresh()
        self.query_one("#study-table-gap", DataTable).focus()

    def _choices(self) -> Choices:
        study = self.query_one("#study-name", Select).value
        dimension = str(self.query_one("#study-dimension", Select).value)
        return ("" if study is Select.NULL else str(study)), dimension, self.reveal

    @on(Select.Changed, "#study-name")
    @on(Select.Changed, "#study-dimension")
    def _choices_changed(self) -> None:
        if self._choices() != self._shown:
            self.action_refresh()

    def action_refresh(self) -> None:
        choices = self._shown = self._choices()
        shown = "revealed: the owner's view" if self.reveal else "blinded (v reveals)"
        self.query_one("#study-reveal", Static).update(f"systems {shown}")
        heading = self.query_one("#study-heading", Static)
        if not choices[0]:
            data_dir = self.app.ctx.data_dir
            heading.update(f"no studies in {data_dir}; `compass-tui study create NAME ...` makes one")
            return
        heading.update("ranking…")
        self.rank(choices)

    @work(
        thread=True,
        exclusive=True,
        group="study-triage",
        description="Ranking the study",
        exit_on_error=False,
    )
    def rank(self, choices: Choices) -> None:
        from compass_tui.errors import InputError
        from compass_tui.study import study_disagreements

        study, dimension, reveal = choices
        chosen = None if dimension == ALL_DIMENSIONS else dimension
        try:
            triage = study_disagreements(self.app.ctx.store, study, chosen, reveal=reveal)
        except InputError as error:
            self.post_message(StudyTriageReady(choices, error=str(error)))
            return
        self.post_message(StudyTriageReady(choices, triage))

    def on_study_triage_ready(self, message: StudyTriageReady) -> None:
        from compass_tui.triage_table import gap_table, heading, notes, spread_table

        if message.choices != self._shown:  # a thread worker outlives its cancellation: a stale answer
            return
        triage = message.triage
        lines = [heading(triage), *(f"note: {n}" for n in notes(triage))] if triage else [str(message.error)]
        self.query_one("#study-heading", Static).update(printable("\n".join(lines), multiline=True))
        tables = {} if triage is None else {"gap": gap_table(triage), "spread": spread_table(triage)}
        for ranking in RANKINGS:
            table = tables.get(ranking)
            self.entries[ranking] = table.entries if table else []
            rows = [dict(zip(table.columns, map(printable, row))) for row in table.rows] if table else []
            fill_table(self.query_one(f"#study-table-{ranking}", DataTable), rows)
            count = f"{table.title} · {table.count_line}" if table else ""
            self.query_one(f"#study-count-{ranking}", Static).update(printable(count))
        self.refresh_bindings()

    @property
    def ranking(self) -> str:
        return (self.query_one("#study-tabs", TabbedContent).active or "tab-gap").removeprefix("tab-")

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "open_item":
            table = self.query_one(f"#study-table-{self.ranking}", DataTable)
            return self.focused is table and bool(self.entries[self.ranking])
        if action in ("dimension", "reveal"):
            return bool(self._shown and self._shown[0])
        return True

    def action_ranking(self, step: int) -> None:
        tabs = self.query_one("#study-tabs", TabbedContent)
        names = [f"tab-{ranking}" for ranking in RANKINGS]
        tabs.active = names[(names.index(tabs.active or names[0]) + step) % len(names)]
        self.query_one(f"#study-table-{self.ranking}", DataTable).focus()
        self.refresh_bindings()

    @on(TabbedContent.TabActivated, "#study-tabs")
    def _tab_changed(self) -> None:
        self.refresh_bindings()

    def action_dimension(self) -> None:
        picker = self.query_one("#study-dimension", Select)
        values = [ALL_DIMENSIONS, *(d.key for d in DIMENSIONS)]
        picker.value = values[(values.index(str(picker.value)) + 1) % len(values)]

    def action_reveal(self) -> None:
        self.reveal = not self.reveal
        self.action_refresh()

    def action_open_item(self) -> None:
        table = self.query_one(f"#study-table-{self.ranking}", DataTable)
        entries = self.entries[self.ranking]
        if not entries or table.cursor_row >= len(entries):
            return
        from compass_tui.app.screens.study_item import TriageCursor

        study, dimension, reveal = self._shown or self._choices()
        chosen = None if dimension == ALL_DIMENSIONS else dimension
        cursor = TriageCursor(study, tuple(entries), table.cursor_row, chosen, self._follow(table))
        self.load_item(cursor, reveal)

    def _follow(self, table: DataTable):
        def follow(row: int) -> None:
            table.move_cursor(row=row)

        return follow

    @work(
        thread=True, exclusive=True, group="study-item", description="Opening the item", exit_on_error=False
    )
    def load_item(self, cursor, reveal: bool) -> None:
        from compass_tui.app.screens.study_item import read_study_item

        self.post_message(read_study_item(self.app.ctx, cursor, reveal))

    def on_study_item_ready(self, message) -> None:
        from compass_tui.app.screens.study_item import StudyItemScreen

        if message.error:
            self.notify(message.error, title="Cannot open the item", severity="error", timeout=10)
            return
        screen = StudyItemScreen(
            message.persona, message.item, message.reveal, message.system, message.dimension, message.cursor
        )
        self.app.push_screen(screen)

    def action_back(self) -> None:
        self.app.pop_screen()
