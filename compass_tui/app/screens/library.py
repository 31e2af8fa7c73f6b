"""The first screen: the persona library with a filter and a detail view."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Header, Input, OptionList, Static
from textual.widgets.option_list import Option

from compass_tui import paths
from compass_tui.app.compass_node import CompassNode
from compass_tui.app.messages import LibraryLoaded
from compass_tui.app.widgets.compass_footer import CompassFooter
from compass_tui.app.widgets.persona_detail import PersonaDetail
from compass_tui.library_index import ListedPersona, files_stamp, read_index, write_index
from compass_tui.safe_text import printable
from compass_tui.wording import counted

if TYPE_CHECKING:  # pydantic (via the persona model) loads with the library, after the first frame
    from compass_tui.library import PersonaEntry


class PersonaList(OptionList):
    HELP = """### Persona list
Bundled personas, the ComPASS test set once imported (`compass-tui personas import FILE`), and
personas you wrote. ⚠ marks a persona that needs a look (unclear preferences, a file that fails
validation). Type `/` to filter by id or name; `enter` opens the stepper."""
    BINDINGS = [
        Binding("enter", "select", "Step through", id="library.list_step")
    ]  # shown, unlike OptionList's


class LibraryScreen(CompassNode, Screen):
    BINDINGS = [
        Binding("slash", "focus_filter", "Filter", show=False, id="library.filter"),
        Binding("enter", "open_stepper", "Step through", id="library.step", priority=False),
        Binding("e", "edit", "Edit", id="library.edit"),
        Binding("n", "new", "New", id="library.new"),
        Binding("d", "duplicate", "Copy", id="library.duplicate"),
        Binding("m", "synthesise", "From model…", id="library.synthesise"),
        Binding("r", "report", "Report", id="library.report"),
        Binding("s", "studies", "Studies", id="library.studies"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="library.clear"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[PersonaEntry] = []
        self.listed: list[ListedPersona] = []  # what the list shows; from the index until the files are read

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="library-body"):
            with Vertical(id="persona-list-pane"):
                yield Input(placeholder="/ filter by id or name", id="persona-filter")
                yield PersonaList(id="persona-list")
            yield PersonaDetail(id="persona-detail")
        yield Static("Loading personas…", id="library-status")
        yield CompassFooter()

    def on_mount(self) -> None:
        self.query_one(PersonaList).focus()
        early = self.app.ctx.early_data_dir()
        listed = read_index(early, self._folders(early)) if early is not None else None
        if listed is not None:  # the names at once, from the index; the files are read after the first paint
            self.listed = listed
            self._fill_list()
        self.call_after_refresh(self.load_library)

    @staticmethod
    def _folders(data_dir: Path) -> list[Path]:
        return [paths.bundled_personas_dir(), data_dir / "personas"]

    @work(thread=True, exclusive=True, group="library", description="Loading personas", exit_on_error=False)
    def load_library(self) -> None:
        stamp = files_stamp(self._folders(self.app.ctx.data_dir))
        library = self.app.ctx.library
        library.refresh()
        entries = library.entries()
        write_index(self.app.ctx.data_dir, stamp, entries)
        self.post_message(LibraryLoaded(entries))

    def on_library_loaded(self, message: LibraryLoaded) -> None:
        from compass_tui.library_index import ListedPersona

        self.entries = message.entries
        self.listed = [ListedPersona.of(entry) for entry in self.entries]
        self._fill_list()
        counts = {
            kind: sum(1 for e in self.entries if e.kind == kind)
            for kind in ("bundled", "imported", "authored")
        }
        broken = sum(1 for e in self.entries if e.persona is None)
        status = (
            f"{counted(len(self.entries), 'persona')} · {counts['bundled']} bundled · {counts['imported']} imported · "
            f"{counts['authored']} authored" + (f" · {broken} need fixing" if broken else "")
        )
        self.query_one("#library-status", Static).update(status + f" · data: {self.app.ctx.data_dir}")

    def _fill_list(self, keep: str | None = None) -> None:
        wanted = self.query_one("#persona-filter", Input).value.strip().lower()
        option_list = self.query_one(PersonaList)
        keep = keep or self.selected_id
        option_list.clear_options()
        shown = [e for e in self.listed if not wanted or wanted in e.id.lower() or wanted in e.name.lower()]
        option_list.add_options([Option(_label(entry), id=entry.id) for entry in shown])
        if shown:
            ids = [e.id for e in shown]
            option_list.highlighted = ids.index(keep) if keep in ids else 0
        else:
            self.query_one(PersonaDetail).show(None)

    @property
    def selected_id(self) -> str | None:
        option_list = self.query_one(PersonaList)
        if option_list.highlighted is None or option_list.option_count == 0:
            return None
        return option_list.get_option_at_index(option_list.highlighted).id

    @property
    def selected(self) -> PersonaEntry | None:
        selected_id = self.selected_id
        return next((e for e in self.entries if e.id == selected_id), None)

    @on(OptionList.OptionHighlighted, "#persona-list")
    def _show_highlighted(self) -> None:
        self.query_one(PersonaDetail).show(self.selected)
        self.refresh_bindings()

    @on(OptionList.OptionSelected, "#persona-list")
    def _open_selected(self) -> None:
        self.action_open_stepper()

    @on(Input.Changed, "#persona-filter")
    def _filter(self) -> None:
        self._fill_list()

    @on(Input.Submitted, "#persona-filter")
    def _filter_done(self) -> None:
        self.query_one(PersonaList).focus()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in ("open_stepper", "duplicate"):
            entry = self.selected
            return entry is not None and entry.persona is not None
        if action == "edit":
            return self.selected is not None
        if action == "clear_filter":
            return bool(self.query_one("#persona-filter", Input).value)
        return True

    def action_focus_filter(self) -> None:
        self.query_one("#persona-filter", Input).focus()

    def action_clear_filter(self) -> None:
        self.query_one("#persona-filter", Input).value = ""
        self.query_one(PersonaList).focus()

    def action_open_stepper(self) -> None:
        from compass_tui.app.screens.session_setup import SessionSetupScreen

        entry = self.selected
        if entry is not None and entry.persona is not None:
            self.app.push_screen(SessionSetupScreen(entry.persona))

    def action_edit(self) -> None:
        entry = self.selected
        if entry is not None:
            self._open_editor(entry, duplicate=False)

    def action_duplicate(self) -> None:
        entry = self.selected
        if entry is not None:
            self._open_editor(entry, duplicate=True)

    def action_new(self) -> None:
        self._open_editor(None, duplicate=False)

    def action_synthesise(self) -> None:
        from compass_tui.app.screens.synthesis_dialog import SynthesisDialog

        def synthesised(persona_id: str | None) -> None:
            if persona_id:
                self.app.ctx.library.refresh()
                self.load_library()
                self._open_editor(self.app.ctx.library.get_entry(persona_id), duplicate=False)

        self.app.push_screen(SynthesisDialog(), synthesised)

    def _open_editor(self, entry: PersonaEntry | None, duplicate: bool) -> None:
        from compass_tui.app.screens.editor import EditorScreen

        def saved(persona_id: str | None) -> None:
            if persona_id:
                self.app.ctx.library.refresh()
                self.load_library()
                self.notify(f"Saved {persona_id}")

        self.app.push_screen(EditorScreen(entry, duplicate=duplicate), saved)

    def action_report(self) -> None:
        from compass_tui.app.screens.report import ReportScreen

        self.app.push_screen(ReportScreen())

    def action_studies(self) -> None:
        from compass_tui.app.screens.study_triage import StudyTriageScreen

        self.app.push_screen(StudyTriageScreen())


def _label(entry: ListedPersona) -> Text:
    if entry.broken:
        return Text.assemble(("⚠ ", "red"), (printable(entry.id), "bold red"), ("  cannot load", "red"))
    mark = ("⚠ ", "yellow") if entry.warned else ("  ", "")
    kind = {"bundled": "", "imported": " ·cb", "authored": " ·you"}[entry.kind]
    return Text.assemble(
        mark,
        (printable(entry.name), "bold"),
        f" {entry.age}",
        (f"{kind}\n  {printable(entry.career[:30])}", "dim"),
    )
