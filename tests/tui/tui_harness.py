"""What the TUI tests share: an isolated app, a stub companion model, and ways to wait for and read the screen.

Imported by the TUI tests; their fixtures (`tui`, `companion`, `stub`) are in tests/tui/conftest.py.
Every app runs on a tmp data dir ($COMPASS_TUI_HOME) and a tmp config file ($COMPASS_TUI_CONFIG), never the
user's own, with cursor blink off so screenshots do not depend on when they are taken.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from rich.console import Console

from compass_tui import paths
from compass_tui.judge import JUDGE_SYSTEM
from compass_tui.store import Store
from compass_tui.vocab import DIMENSION_KEYS
from tools.stub_llm import Reply, StubLLM, error, text, tool_call

TODAY = date(2025, 3, 14)
PERSONA = "adam-kerr"
# A path that is not a model: tool searches fall back to lexical at once, instead of loading
# sentence-transformers (tens of seconds) or depending on an embedding cache.
NO_EMBEDDING_MODEL = "/nonexistent-embedding-model"
STUB_REPLY = "That sounds like a lot to carry. A strength card might help you see what you already do well."
JUDGE_SCORES = {
    "empathy": 4,
    "helpfulness": 3,
    "preference": 5,
    "informativeness": 2,
    "fluency": 5,
    "safety": 4,
}


class Companion:
    """A stub responder that acts like a tool-using companion model; judge requests get JUDGE_SCORES.

    Models listed in `failures` answer every call with that HTTP status instead.
    """

    def __init__(self, failures: dict[str, int] | None = None):
        self.failures = dict(failures or {})
        self.judge_scores: dict[str, object] = dict(JUDGE_SCORES)

    def __call__(self, body: dict) -> Reply:
        model = body.get("model", "")
        if model in self.failures:
            status = self.failures[model]
            return error(status, "invalid api key" if status == 401 else "the upstream model crashed")
        if body["messages"][0]["content"] == JUDGE_SYSTEM:
            return text(
                json.dumps(
                    {
                        key: {"score": self.judge_scores[key], "rationale": f"{key} seen"}
                        for key in DIMENSION_KEYS
                    }
                )
            )
        if "tools" in body:
            return tool_call("strengthcard", {"situation": "a hard week"})
        return text(STUB_REPLY)


@dataclass
class TuiEnv:
    """The tmp data dir and config file of one test, and how to build apps on them."""

    data_dir: Path
    config_path: Path
    lines: list[str] = field(default_factory=list)

    def configure(
        self,
        models: dict[str, str] | None = None,
        stub: StubLLM | None = None,
        *,
        judge: str | None = None,
        concurrency: int = 8,
        max_retries: int = 0,
    ) -> None:
        """Write the tmp config: stub models by name -> litellm model string, all served by `stub`."""
        lines = [
            f'embedding_model = "{NO_EMBEDDING_MODEL}"',
            f"concurrency = {concurrency}",
            f"max_retries = {max_retries}",
        ]
        if judge:
            lines.append(f'judge_model = "{judge}"')
        for name, model in (models or {}).items():
            assert stub is not None, "stub models need the StubLLM that serves them"
            lines += [
                f"[models.{name}]",
                f'model = "{model}"',
                f'api_base = "{stub.base_url}"',
                "timeout = 10",
            ]
        self.lines = lines
        self.config_path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    @property
    def store(self) -> Store:
        return Store(self.data_dir)

    def app(self, pack: Path | None = None, today: date | None = TODAY):
        """A CompassApp on this env, with cursor blink off."""
        from compass_tui.app.app import CompassApp
        from compass_tui.workspace import Context

        app = CompassApp(Context(), pack=pack, today=today)
        app.CURSOR_BLINK = False
        return app


def make_env(data_dir: Path) -> TuiEnv:
    env = TuiEnv(data_dir, Path(paths.config_file()))
    env.configure()
    return env


# ------------------------------------------------------------------------------------------------ reading the screen


def screen_text(app) -> str:
    """The current screen (with the screens and notifications under and over it) as plain text."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        record=True,
        color_system="truecolor",
        legacy_windows=False,
        safe_box=False,
    )
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()


async def wait_until(pilot, condition: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    """Pause the pilot until condition() is truthy; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await pilot.pause(0.05)


async def wait_for_annotator(pilot, what: str = "the annotator screen", settle: float | None = None):
    """Wait for the annotator screen of an opened pack, then pause `settle` seconds; returns the screen."""
    from compass_tui.app.screens.annotator import AnnotatorScreen

    screen = await wait_until(
        pilot, lambda: isinstance(pilot.app.screen, AnnotatorScreen) and pilot.app.screen, what
    )
    await pilot.pause(settle)
    return screen


async def press_each(pilot, keys: Iterable[str]) -> None:
    for key in keys:
        await pilot.press(key)


# ------------------------------------------------------------------------------------------------ driving the app


async def wait_for_library(pilot, count: int | None = None):
    from compass_tui.app.screens.library import LibraryScreen, PersonaList

    await wait_until(
        pilot,
        lambda: isinstance(pilot.app.screen, LibraryScreen) and pilot.app.screen.entries,
        "the persona library to load",
    )
    option_list = pilot.app.screen.query_one(PersonaList)
    if count is not None:
        await wait_until(pilot, lambda: option_list.option_count == count, f"{count} personas in the list")
    return option_list


async def choose_persona(pilot, persona_id: str) -> None:
    """In the library, filter to one persona with the keyboard and leave the list focused on it."""
    option_list = await wait_for_library(pilot)
    await pilot.press("slash")
    await press_each(pilot, persona_id)
    await pilot.press("enter")
    await wait_until(pilot, lambda: option_list.option_count == 1, f"the filter to leave only {persona_id}")
    assert pilot.app.focused is option_list
    assert pilot.app.screen.selected_id == persona_id


async def open_stepper(
    pilot,
    persona_id: str = PERSONA,
    *,
    models: Iterable[str] = (),
    untick_baseline=False,
    runs: Iterable[int] = (),
    blind: bool = False,
    seed: int | None = None,
):
    """Library -> session setup -> stepper, with the keyboard only. `models` are ticked in the setup's model
    list by name (baseline is ticked already); `runs` are indexes into the existing-runs list."""
    from textual.widgets import Checkbox, Input, SelectionList

    from compass_tui.app.screens.session_setup import SessionSetupScreen
    from compass_tui.app.screens.stepper import StepperScreen

    await choose_persona(pilot, persona_id)
    await pilot.press("enter")
    setup = await wait_until(
        pilot,
        lambda: isinstance(pilot.app.screen, SessionSetupScreen) and pilot.app.screen,
        "the session setup dialog",
    )
    await pilot.press("tab")
    model_list = setup.query_one("#models", SelectionList)
    assert pilot.app.focused is model_list
    names = [model_list.get_option_at_index(i).value for i in range(model_list.option_count)]
    ticked = set(models) | (set() if untick_baseline else {"baseline"})
    await _tick_exactly(pilot, model_list, [index for index, name in enumerate(names) if name in ticked])
    if setup.query("#runs"):
        await pilot.press("tab")
        run_list = setup.query_one("#runs", SelectionList)
        assert pilot.app.focused is run_list
        await _tick_exactly(pilot, run_list, sorted(runs))
    await pilot.press("tab")
    checkbox = pilot.app.focused
    assert isinstance(checkbox, Checkbox)
    if checkbox.value != blind:  # the setup offers the persona's last choice
        await pilot.press("space")
    await pilot.press("tab")
    assert isinstance(pilot.app.focused, Input)
    if seed is not None:
        await pilot.press("ctrl+a", "ctrl+k", *str(seed))
    await pilot.press("ctrl+s")
    return await wait_until(
        pilot, lambda: isinstance(pilot.app.screen, StepperScreen) and pilot.app.screen, "the stepper"
    )


async def _tick_exactly(pilot, selection_list, indexes: list[int]) -> None:
    """Tick exactly these options, with the keyboard, whatever the list offered."""
    for index in range(selection_list.option_count):
        option = selection_list.get_option_at_index(index)
        if (option.value in selection_list.selected) != (index in indexes):
            await press_each(pilot, ["down"] * (index - (selection_list.highlighted or 0)))
            await pilot.press("space")


async def generate(pilot, key: str = "g", timeout: float = 60.0) -> None:
    """Press g (this situation) or G (all) and wait until the run thread has finished."""
    screen = pilot.app.screen
    started = screen.generation
    await pilot.press(key)
    assert screen.generation == started + 1, f"{key} did not start a generation"
    await wait_until(pilot, lambda: screen.run_thread is None, "generation to finish", timeout)
    await pilot.pause()


# ------------------------------------------------------------------------------------------------ widgets as text


def rich_text(renderable, width: int = 110) -> str:
    """A Rich renderable (or a string) as plain text."""
    console = Console(width=width, file=io.StringIO(), record=True, legacy_windows=False, color_system=None)
    console.print(renderable)
    return console.export_text()


def static_text(static, width: int = 110) -> str:
    return rich_text(static.content, width)


def panel_text(panel) -> str:
    """A ScorePanel as it renders now: six dimension rows and its status line."""
    return rich_text(panel.render(), width=60)


def column_view(screen, position: int) -> dict[str, str]:
    """What a stepper or annotator column shows: title, summary line, response, status line, scores, and
    the tool call and result in full as `d` shows them."""
    from compass_tui.app.widgets.model_column import ModelColumn, ScorePanel
    from compass_tui.app.widgets.result_card import result_view, tool_call_view

    column = screen.query_one(f"#column-{position}", ModelColumn)
    record = column.record
    view = {name: static_text(column.query_one(f"#{name}")) for name in ("summary", "response")}
    view["call"] = rich_text(tool_call_view(record.tool_call)) if record else ""  # what `d` shows
    view["result"] = rich_text(result_view(record.tool_result)) if record else ""
    view["status"] = static_text(column.query_one("#column-status"))
    view["title"] = str(column.border_title)
    view["scores"] = panel_text(column.query_one(ScorePanel))
    return view


# ------------------------------------------------------------------------------------------------ form widgets


async def type_text(pilot, text: str) -> None:
    await press_each(pilot, text)


async def focus(pilot, widget) -> None:
    widget.focus()
    await pilot.pause()
    assert pilot.app.focused is widget, f"could not focus {widget!r}"


async def replace_input(pilot, widget, text: str) -> None:
    """Focus an Input, delete its value with the keyboard and type `text`."""
    await focus(pilot, widget)
    await pilot.press("end", "ctrl+u")
    await type_text(pilot, text)
    assert widget.value == text


async def choose_in_select(pilot, select, label: str) -> None:
    """Open a Select with enter, move its overlay's highlight to `label` with the arrows, enter."""
    from textual.widgets._select import SelectOverlay

    await focus(pilot, select)
    await pilot.press("enter")
    overlay = select.query_one(SelectOverlay)
    await wait_until(pilot, lambda: overlay.has_focus, "the select overlay to open", 5)
    labels = [str(overlay.get_option_at_index(i).prompt) for i in range(overlay.option_count)]
    target = labels.index(label)
    current = overlay.highlighted or 0
    await press_each(pilot, ["down" if target > current else "up"] * abs(target - current))
    await pilot.press("enter")
    await pilot.pause()


async def toggle_in_list(pilot, selection_list, value: str) -> None:
    """Move a SelectionList's highlight to the option with `value` and toggle it with space."""
    await focus(pilot, selection_list)
    values = [selection_list.get_option_at_index(i).value for i in range(selection_list.option_count)]
    target, current = values.index(value), selection_list.highlighted or 0
    await press_each(pilot, ["down" if target > current else "up"] * abs(target - current))
    await pilot.press("space")


# ------------------------------------------------------------------------------------------------ data made by the core


async def baseline_run(
    run_id: str,
    setting: str = "profile",
    persona_ids: Iterable[str] = (PERSONA,),
    situations: set[int] | None = None,
) -> None:
    """Run the offline baseline with compass_tui.runner into the current data dir (lexical tool search)."""
    from compass_tui.prompts import our_prompts
    from compass_tui.runner import RunPlan, execute_run, resolve_systems
    from compass_tui.workspace import Context

    ctx = Context()
    plan = RunPlan(
        run_id=run_id,
        setting=setting,
        systems=resolve_systems(["baseline"], setting, ctx.settings),
        personas=[ctx.library.get(persona_id) for persona_id in persona_ids],
        prompts=our_prompts(),
        today=TODAY,
        only_situations=situations,
    )
    progress = await execute_run(plan, ctx.store, ctx.tool_environment(search_mode="lexical"))
    assert progress.errors == 0 and progress.finished == progress.total, progress


def notices(app) -> list[str]:
    """The messages of the notifications currently raised (shown as toasts when notifications are on)."""
    return [notification.message for notification in app._notifications]


# ------------------------------------------------------------------------------------------------ a real terminal


class PtyApp:
    """`python -m compass_tui` in a pseudo-terminal of the given size: type keys, read what it draws."""

    def __init__(self, env: dict[str, str], size: tuple[int, int] = (120, 36), args: Iterable[str] = ()):
        import fcntl
        import os
        import pty
        import struct
        import subprocess
        import sys
        import termios

        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "compass_tui", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env={**os.environ, "TERM": "xterm-256color", **env},
            cwd=Path(__file__).resolve().parents[2],
            start_new_session=True,
        )
        os.close(slave)
        self.output = ""

    def _read(self, timeout: float) -> None:
        import os
        import select

        ready, _, _ = select.select([self.master], [], [], timeout)
        if ready:
            try:
                self.output += os.read(self.master, 65536).decode("utf-8", errors="replace")
            except OSError:  # the process has gone and closed its end
                pass

    def wait_for(self, text: str, timeout: float = 30.0, after: int = 0) -> int:
        """Read until `text` appears after output offset `after`; returns the offset just past it."""
        deadline = time.monotonic() + timeout
        while (found := self.output.find(text, after)) < 0:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise AssertionError(
                    f"{text!r} did not appear within {timeout:g} s; the end of the output: "
                    f"{self.output[-2000:]!r}"
                )
            self._read(0.1)
        return found + len(text)

    def send(self, keys: str) -> int:
        """Write keys to the terminal; returns the output offset before them, for wait_for(after=...)."""
        import os

        self._read(0)
        mark = len(self.output)
        os.write(self.master, keys.encode("utf-8"))
        return mark

    def wait_exit(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            self._read(0.1)
        return self.process.wait(timeout=max(0.1, deadline - time.monotonic()))

    def close(self) -> None:
        import os

        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        os.close(self.master)


BASELINE_RUNS = (
    ("profile-a", "profile"),
    ("empathetic-b", "empathetic"),
    ("profile-c", "profile"),
    ("profile-d", "profile"),
)


async def baseline_runs(count: int, situations: set[int]) -> list[str]:
    """`count` finished baseline runs (profile, empathetic, profile, profile) over the given situations."""
    for run_id, setting in BASELINE_RUNS[:count]:
        await baseline_run(run_id, setting, situations=situations)
    return [run_id for run_id, _ in BASELINE_RUNS[:count]]


def save_session_scores(
    store: Store, run_id: str, scores: dict[int, list[int]], annotator: str = "me"
) -> None:
    """Committed session scores of the baseline on PERSONA's situations, six per situation in DIMENSION_KEYS order."""
    from compass_tui.annotations import Annotation, save_annotation
    from compass_tui.records import system_id
    from compass_tui.report import SESSION_SCOPE

    system = system_id(run_id, "baseline")
    for situation, values in scores.items():
        annotation = Annotation(
            SESSION_SCOPE,
            annotator,
            PERSONA,
            situation,
            system,
            scores=dict(zip(DIMENSION_KEYS, values)),
            committed=True,
        )
        save_annotation(store, annotation)
