"""Table-2-style numbers for chosen runs, a tab per breakdown, the report's plots, and the CSV export."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import (
    DataTable,
    Header,
    Label,
    Select,
    SelectionList,
    Static,
    TabbedContent,
    TabPane,
)

from compass_tui.app.compass_node import CompassNode
from compass_tui.app.widgets.check_list import CheckList
from compass_tui.app.widgets.compass_footer import CompassFooter
from compass_tui.app.widgets.figure_plot import FigurePlot
from compass_tui.records import list_run_ids
from compass_tui.report import BREAKDOWNS
from compass_tui.safe_text import printable
from compass_tui.wording import counted

TABLE_TABS = ("systems", *BREAKDOWNS)
Choices = tuple[tuple[str, ...], str, str]  # runs, score source, tab


@dataclass
class ReportReady(Message):
    choices: Choices
    rows: list[dict] = field(default_factory=list)
    error: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class TriageReady(Message):
    choices: Choices
    rows: list[dict] = field(default_factory=list)
    status: str = ""


@dataclass
class WhatIfReady(Message):
    choices: Choices
    table: Any = None  # compass_tui.app.what_if_rows.WhatIfTable
    error: str | None = None


@dataclass
class FiguresReady(Message):
    choices: Choices
    figures: list = field(default_factory=list)
    error: str | None = None


class ReportScreen(CompassNode, Screen):
    HELP = """### Report
Choose runs on the left and whose scores to use (the LLM judge or humans, never mixed). The table
has the paper's Table 2 columns: who scored each row (the judge model and prompt, or humans), items
finished and errors, tool-call pass rate (errors count as failures), Distinct-1/2 (ComPASS's
variant), the six dimensions (means with their own n, ⚑ for items the judge left flagged, † for a
mean over one item; `compass-tui report --format md` adds 95 % bootstrap intervals), Avg (the mean of
the six means), and the preference acceptable/optimal rates. The tabs break each system down by tool,
scenario type, emotion and persona (`report --by`), Plots draws the report's figures
(`report --figures DIR` writes them as SVG and PDF), and Triage ranks the chosen runs'
responses by |human mean − judge| (`report RUN --source human --vs judge`); Enter opens one in the
stepper, with your scores, the judge's and its rationale, and the preference badge. What-if lists each
what-if variant's systems as rows of their own, each with its n, never pooled into Systems
(`report RUN --variants`; `w` in the stepper makes a variant). `]` and `[` move between the tabs.
`e` exports the human scores as CSV; `t` the chosen runs' interactions as tool-use training data
(`compass-tui export-training`)."""
    BINDINGS = [
        Binding("e", "export", "Export CSV", id="report.export"),
        Binding("t", "export_training", "Export training data", id="report.export_training", show=False),
        Binding("r", "refresh", "Refresh", id="report.refresh"),
        Binding("]", "tab(1)", "Next tab", id="report.next_tab"),
        Binding("[", "tab(-1)", "Previous tab", id="report.previous_tab", show=False),
        Binding("escape", "back", "Back", id="report.back"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        runs = list_run_ids(self.app.ctx.store)
        with Horizontal(id="report-controls"):
            with Vertical():
                yield Label("Runs")
                yield CheckList(*[(run, run, i < 4) for i, run in enumerate(runs)], id="report-runs")
            with Vertical():
                yield Label("Scores from")
                yield Select(
                    [("LLM judge", "judge"), ("human scores", "human")],
                    value="human",
                    allow_blank=False,
                    id="report-source",
                )
        with TabbedContent(id="report-tabs"):
            for tab in TABLE_TABS:
                with TabPane("Systems" if tab == "systems" else f"By {tab}", id=f"tab-{tab}"):
                    yield DataTable(id=f"report-table-{tab}", zebra_stripes=True, cursor_type="row")
            with TabPane("Plots", id="tab-plots"):
                yield Select[int]([], prompt="figure", id="report-figure", allow_blank=True)
                yield FigurePlot(id="report-plot")
            with TabPane("Triage", id="tab-triage"):
                yield DataTable(id="report-table-triage", zebra_stripes=True, cursor_type="row")
            with TabPane("What-if", id="tab-whatif"):
                yield DataTable(id="report-table-whatif", zebra_stripes=True, cursor_type="row")
                yield Static("", id="report-whatif-words", classes="muted")
        yield Static("", id="report-status", classes="muted")
        yield CompassFooter()

    def on_mount(self) -> None:
        self._shown: Choices | None = None
        self._figures: list = []
        self._what_if = None
        self.action_refresh()

    @on(SelectionList.SelectedChanged, "#report-runs")
    @on(Select.Changed, "#report-source")
    @on(TabbedContent.TabActivated, "#report-tabs")
    def _choices_changed(self) -> None:
        if self._choices() != self._shown:  # the lists also announce their first selection after mount
            self.action_refresh()

    def _choices(self) -> Choices:
        runs = tuple(self.query_one("#report-runs", SelectionList).selected)
        source = str(self.query_one("#report-source", Select).value)
        tab = (self.query_one("#report-tabs", TabbedContent).active or "tab-systems").removeprefix("tab-")
        return runs, source, tab

    def action_refresh(self) -> None:
        choices = self._shown = self._choices()
        self.query_one("#report-status", Static).update("computing…" if choices[0] else "choose runs")
        if not choices[0]:
            return
        if choices[2] == "plots":
            self.draw_figures(choices)
        elif choices[2] == "triage":
            self.rank_disagreements(choices)
        elif choices[2] == "whatif":
            self.compute_what_if(choices)
        else:
            self.compute(choices)

    @work(
        thread=True, exclusive=True, group="report", description="Computing the report", exit_on_error=False
    )
    def compute(self, choices: Choices) -> None:
        from compass_tui.errors import InputError
        from compass_tui.judgements import ScoreSource
        from compass_tui.report import build_report
        from compass_tui.report_format import table2_cells

        runs, source, tab = choices
        ctx = self.app.ctx
        try:
            by = next((breakdown for breakdown in BREAKDOWNS if breakdown == tab), None)  # "systems": None
            report = build_report(ctx.store, list(runs), ctx.personas_by_id(), ScoreSource(source), by=by)
        except InputError as error:
            self.post_message(ReportReady(choices, error=str(error)))
            return
        cells = table2_cells(report, intervals=False, compact=True)
        self.post_message(ReportReady(choices, cells, notes=report.notes))

    @work(
        thread=True, exclusive=True, group="report", description="Computing what-if rows", exit_on_error=False
    )
    def compute_what_if(self, choices: Choices) -> None:
        from compass_tui.app.what_if_rows import what_if_table
        from compass_tui.errors import InputError

        runs, source, _ = choices
        ctx = self.app.ctx
        try:
            table = what_if_table(ctx.store, list(runs), ctx.personas_by_id(), source)
        except InputError as error:
            self.post_message(WhatIfReady(choices, error=str(error)))
            return
        self.post_message(WhatIfReady(choices, table))

    def on_what_if_ready(self, message: WhatIfReady) -> None:
        if message.choices != self._shown:
            return
        self._what_if = message.table
        rows = message.table.rows if message.table else []
        fill_table(self.query_one("#report-table-whatif", DataTable), rows)
        status = message.error or message.table.status
        self.query_one("#report-status", Static).update(status if rows or message.error else "0 what-if rows")
        self._show_words()

    @on(DataTable.RowHighlighted, "#report-table-whatif")
    def _show_words(self) -> None:
        """The highlighted variant's whole words; with no variants, how to make one."""
        from compass_tui.app.what_if_rows import NO_VARIANTS

        table, what_if = self.query_one("#report-table-whatif", DataTable), self._what_if
        if what_if is None or not what_if.rows:
            text = NO_VARIANTS if what_if is not None else ""
        else:
            text = f"words: {printable(what_if.texts[min(table.cursor_row, len(what_if.texts) - 1)])}"
        self.query_one("#report-whatif-words", Static).update(text)

    @work(thread=True, exclusive=True, group="report", description="Drawing the figures", exit_on_error=False)
    def draw_figures(self, choices: Choices) -> None:
        from compass_tui.errors import InputError
        from compass_tui.judgements import ScoreSource
        from compass_tui.plot_data import report_figures

        runs, source, _ = choices
        ctx = self.app.ctx
        try:
            figures = report_figures(ctx.store, list(runs), ctx.personas_by_id(), ScoreSource(source))
        except InputError as error:
            self.post_message(FiguresReady(choices, error=str(error)))
            return
        self.post_message(FiguresReady(choices, figures))

    @work(
        thread=True, exclusive=True, group="report", description="Ranking disagreements", exit_on_error=False
    )
    def rank_disagreements(self, choices: Choices) -> None:
        from compass_tui.errors import InputError
        from compass_tui.triage import session_disagreements

        ctx = self.app.ctx
        entries, unranked, judges, problems = [], 0, set(), []
        for run_id in choices[0]:
            try:
                triage = session_disagreements(ctx.store, run_id, ctx.personas_by_id())
            except InputError as error:
                problems.append(error.message)
                continue
            entries += triage.by_gap
            unranked += sum(triage.not_ranked_gap.values())
            if triage.judge_model:
                judges.add(f"{run_id}: {triage.judge_model} · {triage.judge_prompt}")
        entries.sort(key=lambda e: (-(e.gap or 0), e.run_id or "", e.persona_id, e.situation_index, e.system))
        rows = [triage_row(rank, entry) for rank, entry in enumerate(entries, 1)]
        parts = [f"{len(rows)} responses by |human mean − judge| (mean over the dimensions)"]
        parts += [f"judge {', '.join(sorted(judges))}" if judges else "no judge scores"]
        parts += [f"not ranked: {unranked} (no judge or no final human score)"] if unranked else []
        parts += problems + (["Enter opens one in the stepper"] if rows else [])
        self.post_message(TriageReady(choices, rows, " · ".join(parts)))

    def on_triage_ready(self, message: TriageReady) -> None:
        if message.choices != self._shown:
            return
        shown = [{k: v for k, v in row.items() if not k.startswith("_")} for row in message.rows]
        keys = [f"{row['run']}|{row['_persona']}|{row['_situation']}|{row['model']}" for row in message.rows]
        fill_table(self.query_one("#report-table-triage", DataTable), shown, keys)
        self.query_one("#report-status", Static).update(message.status)

    @on(DataTable.RowSelected, "#report-table-triage")
    def _open_in_stepper(self, event: DataTable.RowSelected) -> None:
        from compass_tui.app.screens.stepper import StepperScreen
        from compass_tui.records import load_run_meta
        from compass_tui.session import Column, Session

        run_id, persona_id, situation, model = str(event.row_key.value).split("|", 3)
        ctx = self.app.ctx
        setting = load_run_meta(ctx.store, run_id).setting
        stepper = StepperScreen(Session(ctx.library.get(persona_id), setting, [Column(run_id, model)]))
        stepper.index = int(situation)
        self.app.push_screen(stepper)

    def on_report_ready(self, message: ReportReady) -> None:
        if message.choices != self._shown:  # a thread worker outlives its cancellation: a stale answer
            return
        cells = [{k: "—" if v is None else v for k, v in row.items()} for row in message.rows]
        fill_table(self.query_one(f"#report-table-{message.choices[2]}", DataTable), cells)
        marks = any(
            isinstance(v, str) and any(m in v for m in ("⚑", "±", " n"))
            for r in message.rows
            for v in r.values()
        )
        legend = ["nN: a dimension's own n · ⚑ flagged · ± judge spread"] if marks else []
        noun = "system" if message.choices[2] == "systems" else "row"
        status = message.error or " · ".join([counted(len(message.rows), noun), *message.notes, *legend])
        self.query_one("#report-status", Static).update(status)

    def on_figures_ready(self, message: FiguresReady) -> None:
        if message.choices != self._shown:
            return
        self._figures = message.figures
        picker = self.query_one("#report-figure", Select)
        wanted = picker.value if isinstance(picker.value, int) else 0
        picker.set_options([(figure.title, index) for index, figure in enumerate(message.figures)])
        if message.figures:
            picker.value = min(wanted, len(message.figures) - 1)
        self._show_figure()
        self.query_one("#report-status", Static).update(message.error or f"{len(message.figures)} figures")

    @on(Select.Changed, "#report-figure")
    def _show_figure(self) -> None:
        value = self.query_one("#report-figure", Select).value
        figure = self._figures[value] if isinstance(value, int) and value < len(self._figures) else None
        self.query_one(FigurePlot).show(figure)

    def action_tab(self, step: int) -> None:
        tabs = self.query_one("#report-tabs", TabbedContent)
        names = [*(f"tab-{tab}" for tab in TABLE_TABS), "tab-plots", "tab-triage", "tab-whatif"]
        tabs.active = names[(names.index(tabs.active or names[0]) + step) % len(names)]

    def action_export(self) -> None:
        from compass_tui.app.screens.export_dialog import ExportDialog

        self.app.push_screen(ExportDialog(list(self.query_one("#report-runs", SelectionList).selected)))

    def action_export_training(self) -> None:
        from compass_tui.app.screens.training_dialog import TrainingExportDialog

        self.app.push_screen(
            TrainingExportDialog(list(self.query_one("#report-runs", SelectionList).selected))
        )

    def action_back(self) -> None:
        self.app.pop_screen()


def triage_row(rank: int, entry) -> dict[str, str]:
    """One ranked response as table cells; `_`-keys say which item to open."""
    return {
        "#": str(rank),
        "run": entry.run_id or "",
        "persona": entry.persona_id,
        "situation": str(entry.situation_index + 1),
        "model": entry.model or entry.system,
        "|human − judge|": f"{entry.gap:.2f}",
        "dims": str(entry.gap_dimensions),
        "annotators": str(entry.annotators),
        "_persona": entry.persona_id,
        "_situation": str(entry.situation_index),
    }


def fill_table(table: DataTable, rows: list[dict[str, str]], keys: list[str] | None = None) -> None:
    """Columns as wide as their widest cell, set at once: the widths never wait for a later refresh."""
    table.clear(columns=True)
    if not rows:
        return
    for label in rows[0]:
        table.add_column(label, width=max(len(label), *(len(str(row[label])) for row in rows)), key=label)
    for index, row in enumerate(rows):
        table.add_row(*row.values(), key=keys[index] if keys else None)
