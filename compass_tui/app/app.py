"""The compass-tui application: screens on top of the core, one error path, nothing heavy before the first frame."""

from __future__ import annotations

import signal
from datetime import date
from pathlib import Path

from textual import events
from textual.app import App
from textual.binding import Binding
from textual.command import Hit, Hits, Provider
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from compass_tui.app.messages import WorkFailed
from compass_tui.errors import InputError
from compass_tui.workspace import Context

TERMINAL_CHECK_S = 2.0


class ActionsProvider(Provider):
    """The command palette lists every action that applies on the current screen, with its key."""

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        seen: set[str] = set()
        # self.screen is the screen the palette was opened from; self.app.screen is the palette itself
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if not binding.description or binding.action in seen or not active.enabled:
                continue
            seen.add(binding.action)
            label = f"{binding.description}  ({binding.key_display or self.app.get_key_display(binding)})"
            score = matcher.match(label)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(label),
                    self._runner(active.node, binding.action),
                    help=binding.tooltip or None,
                )

    def _runner(self, node, action: str):
        async def run() -> None:
            await self.app.run_action(action, node)

        return run


class CompassApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "compass-tui"
    SUB_TITLE = "ComPASS evaluation workbench"
    COMMANDS = App.COMMANDS | {ActionsProvider}
    BINDINGS = [
        Binding("f1", "help", "Help", id="app.help"),
        Binding("question_mark", "help", "Help", show=False, id="app.help_alt"),
        Binding("ctrl+t", "toggle_theme", "Light/dark", show=False, id="app.theme"),
        Binding("ctrl+q", "quit", "Quit", show=False, id="app.quit", priority=True),
    ]
    CURSOR_BLINK = True  # tests turn this off so that screenshots do not depend on the blink phase

    def __init__(
        self, ctx: Context, *, pack: Path | None = None, today: date | None = None, study: str | None = None
    ):
        """`today` fixes the date the baseline and the tools treat as today (None: the real date); `study`
        opens that study's triage over the library (the owner's view; never with a pack)."""
        super().__init__()
        self.ctx = ctx
        self.pack = pack
        self.study = None if pack is not None else study
        self.today = today
        self.bad_settings: InputError | None = None

    def on_mount(self) -> None:
        self._stop_cleanly_on_signals()
        self._leave_when_the_terminal_goes()
        self.call_after_refresh(self._apply_settings)
        if self.study is not None:
            from compass_tui.app.screens.study_triage import StudyTriageScreen

            self.push_screen(StudyTriageScreen(self.study))

    def get_default_screen(self) -> Screen:
        """The first screen is the app's default one, so the start's first frame draws it (a pushed screen
        waits for a second frame: the app mounts inside a batch update)."""
        if self.pack is not None:
            from compass_tui.app.screens.annotator import AnnotatorScreen

            return AnnotatorScreen(self.pack)
        from compass_tui.app.screens.library import LibraryScreen

        return LibraryScreen()

    def _apply_settings(self) -> None:
        """Theme and keymap come from the settings, read after the first frame (pydantic takes a while to import).
        Settings that are bad input close the app; `run_app` raises their error once the terminal is back."""
        try:
            settings = self.ctx.settings
        except InputError as error:
            self.bad_settings = error
            self.exit(return_code=2)
            return
        _ = self.ctx.store  # opening it migrates an old data dir, with a note
        for note in self.ctx.notes:
            self.notify(note, title="Data dir")
        if settings.theme in self.available_themes:
            self.theme = settings.theme
        if settings.keymap:
            from compass_tui.app.keymap import unknown_binding_ids

            for binding_id in unknown_binding_ids(settings.keymap, type(self)):
                self.notify(
                    f"keymap: no binding has the id {binding_id!r} (F1 lists the ids)", severity="warning"
                )
            self.set_keymap(settings.keymap)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if not self.CURSOR_BLINK and hasattr(event.widget, "cursor_blink"):
            event.widget.cursor_blink = False

    def _stop_cleanly_on_signals(self) -> None:
        """Every save is committed as it happens; a closed SSH session only needs the terminal restored."""
        import asyncio

        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGHUP):
            try:
                loop.add_signal_handler(signum, self.exit)
            except (NotImplementedError, RuntimeError, ValueError):
                pass

    def _leave_when_the_terminal_goes(self) -> None:
        """A closed terminal sends SIGHUP only to its session leader. Under `make run`, make keeps it to
        itself and stays alive, and we would read end-of-file forever on a spinning input thread; so ask
        the terminal every few seconds, and leave once it has gone (every save is already on disk)."""
        import sys

        stdin = sys.__stdin__
        if self.is_headless or stdin is None or not stdin.isatty():
            return
        try:
            import termios
        except ImportError:  # not a Unix terminal
            return
        descriptor = stdin.fileno()

        def check() -> None:
            try:
                termios.tcgetattr(descriptor)
            except (termios.error, OSError):
                self.exit()

        self.set_interval(TERMINAL_CHECK_S, check)

    def action_help(self) -> None:
        from compass_tui.app.screens.help import HelpScreen

        self.push_screen(HelpScreen(self.focused, self.screen))

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    def on_work_failed(self, message: WorkFailed) -> None:
        self.notify(
            f"{message.what}: {message.error}", title="Something went wrong", severity="error", timeout=10
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            self.post_message(
                WorkFailed(event.worker.description or event.worker.name, f"{type(error).__name__}: {error}")
            )


def run_app(ctx: Context, pack: Path | None = None, study: str | None = None) -> int:
    app = CompassApp(ctx, pack=pack, study=study)
    app.run()
    if app.bad_settings is not None:
        raise app.bad_settings
    return app.return_code or 0
