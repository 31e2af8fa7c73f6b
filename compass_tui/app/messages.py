"""Messages that workers post to the UI. Workers call the core and post one of these; only handlers touch widgets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message


@dataclass
class LibraryLoaded(Message):
    entries: list[Any]


@dataclass
class RecordUpdated(Message):
    """A run record changed (a step finished). `generation` lets handlers drop results from an older request."""

    record: dict[str, Any]
    generation: int


@dataclass
class RunProgressed(Message):
    run_id: str
    done: int
    total: int
    errors: int
    generation: int


@dataclass
class RunFinished(Message):
    run_id: str
    generation: int
    error: str | None = None
    fatal: dict[str, str] | None = None


@dataclass
class JudgeFinished(Message):
    run_id: str
    judged: int
    invalid: int  # with a flagged dimension
    unscored: int = 0  # without one valid score
    errors: int = 0  # stopped by a provider error


@dataclass
class WorkFailed(Message):
    """The one error path: any failed worker ends up here and is shown as a notification."""

    what: str
    error: str


@dataclass
class ToolsWarming(Message):
    """The tool environment is loading its embedding model or building an index; "" when it is ready."""

    status: str


@dataclass
class SynthesisProgressed(Message):
    """One line of a persona synthesis's progress (compass_tui.synthesis.SynthesisEvent.line)."""

    line: str


@dataclass
class SynthesisFinished(Message):
    """A synthesis ended: its SynthesisResult, or an error, or stopped from the dialog."""

    result: Any
    error: str | None
    stopped: bool = False
