"""Table-2-style numbers for chosen runs, from the judge or from human scores, and the CSV export."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Label, Select, SelectionList, Static

from compass_tui.records import list_run_ids
from compass_tui.vocab import DIMENSIONS


class ReportReady(Message):
    def __init__(
        self,
        choices: tuple[list[str], str],
        rows: list[dict],
        error: str | None = None,
        notes: list[str] | None = None,
    ):
        super().__init__()
        self.choices, self.rows, self.error, self.notes = choices, rows, error, notes or []


class ReportScreen(Screen):
    HELP = """### Report
Choose runs on the left and whose scores to use (the LLM judge or humans, never mixed). The table
has the paper's Table 2 columns: who scored each row (the judge model and prompt, or humans), items
finished and errors, tool-call pass rate (errors count as failures), Distinct-1/2 (ComPASS's
variant), the six dimensions (means with their own n, ⚑ for items the judge left flagged;
`compass-tui report --format md` adds 95 % bootstrap intervals), Avg (the mean of the six means), and
the preference acceptable/optimal rates. `e` exports the human scores as CSV."""
    BINDINGS = [
        Binding("e", "export", "Export CSV", id="report.export"),
        Binding("r", "refresh", "Refresh", id="report.refresh"),
        Binding("escape", "back", "Back", id="report.back"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        runs = list_run_ids(self.app.ctx.store)
        with Horizontal(id="report-controls"):
            with Vertical():
                yield Label("Runs")
                yield SelectionList[str](*[(run, run, i < 4) for i, run in enumerate(runs)], id="report-runs")
            with Vertical():
                yield Label("Scores from")
                yield Select(
                    [("LLM judge", "judge"), ("human scores", "human")],
                    value="human",
                    allow_blank=False,
                    id="report-source",
                )
        yield DataTable(id="report-table", zebra_stripes=True, cursor_type="row")
        yield Static("", id="report-status", classes="muted")
        yield Footer()

    def on_mount(self) -> None:
        self._shown: tuple[list[str], str] | None = None
        table = self.query_one(DataTable)
        table.add_columns(
            "model",
            "setting",
            "run",
            "scored by",
            "n",
            "Err",
            "Pass",
            "D-1",
            "D-2",
            *(d.short for d in DIMENSIONS),
            "Avg",
            "Accept",
            "Optimal",
        )
        self.action_refresh()

    @on(SelectionList.SelectedChanged, "#report-runs")
    @on(Select.Changed, "#report-source")
    def _choices_changed(self) -> None:
        if self._choices() != self._shown:  # the lists also announce their first selection after mount
            self.action_refresh()

    def _choices(self) -> tuple[list[str], str]:
        runs = list(self.query_one("#report-runs", SelectionList).selected)
        return runs, self.query_one("#report-source", Select).value

    def action_refresh(self) -> None:
        runs, source = self._shown = self._choices()
        self.query_one("#report-status", Static).update("computing…" if runs else "choose runs")
        if runs:
            self.compute(runs, source)

    @work(
        thread=True, exclusive=True, group="report", description="Computing the report", exit_on_error=False
    )
    def compute(self, runs: list[str], source: str) -> None:
        from compass_tui.errors import InputError
        from compass_tui.report import build_report
        from compass_tui.report_format import table2_cells

        ctx = self.app.ctx
        personas = {entry.id: entry.persona for entry in ctx.library.entries() if entry.persona}
        try:
            report = build_report(ctx.store, runs, personas, source)
        except InputError as error:
            self.post_message(ReportReady((runs, source), [], str(error)))
            return
        cells = table2_cells(report, intervals=False, compact=True)
        self.post_message(ReportReady((runs, source), cells, notes=report.notes))

    def on_report_ready(self, message: ReportReady) -> None:
        if message.choices != self._shown:  # a thread worker outlives its cancellation: a stale answer
            return
        table = self.query_one(DataTable)
        table.clear()
        for row in message.rows:
            table.add_row(*("—" if value is None else value for value in row.values()))
        marks = any(
            isinstance(v, str) and any(m in v for m in ("⚑", "±", " n"))
            for r in message.rows
            for v in r.values()
        )
        legend = ["nN: a dimension's own n · ⚑ flagged · ± judge spread"] if marks else []
        status = message.error or " · ".join([f"{len(message.rows)} systems", *message.notes, *legend])
        self.query_one("#report-status", Static).update(status)

    def action_export(self) -> None:
        from compass_tui.app.screens.export_dialog import ExportDialog

        self.app.push_screen(ExportDialog(list(self.query_one("#report-runs", SelectionList).selected)))

    def action_back(self) -> None:
        self.app.pop_screen()
