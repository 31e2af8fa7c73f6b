"""What a batch run tells its caller while and after it runs: counts, and failures per model."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from compass_tui.interaction_record import RecordError


@dataclass
class ModelTally:
    """One system's failures in a run: errors by kind, the last message, items not attempted."""

    errors: Counter[str] = field(default_factory=Counter)
    last_message: str | None = None
    stopped: int = 0

    def summary(self, name: str, fatal: str | None) -> str:
        kinds = ", ".join(f"{count} {kind}" for kind, count in self.errors.most_common())
        total = sum(self.errors.values())
        parts = [f"{total} error{'s' if total != 1 else ''}" + (f" ({kinds})" if total else "")]
        if self.stopped:
            parts.append(f"{self.stopped} not attempted")
        if fatal:
            parts.append(f"stopped: {fatal}")
        elif self.last_message:
            parts.append(f"last: {self.last_message}")
        return f"{name}: " + "; ".join(parts)


@dataclass
class RunProgress:
    total: int = 0
    finished: int = 0
    skipped: int = 0
    errors: int = 0
    stopped: int = 0  # items not attempted because their model failed for good (bad key, unknown model)
    started: float = field(default_factory=time.monotonic)
    fatal: dict[str, str] = field(default_factory=dict)
    last_error: str | None = None
    by_model: dict[str, ModelTally] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def done(self) -> int:
        return self.finished + self.skipped + self.errors + self.stopped

    @property
    def failed(self) -> bool:
        """Some item ended in error or was not attempted: the run exits 1."""
        return bool(self.errors or self.stopped)

    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.finished / elapsed if elapsed > 0 else 0.0

    def count_error(self, system: str, where: str, error: RecordError) -> None:
        self.errors += 1
        self.last_error = f"{system} · {where}: {error.message}"
        tally = self.by_model.setdefault(system, ModelTally())
        tally.errors[str(error.kind or "other")] += 1
        tally.last_message = str(error.message)

    def count_stopped(self, system: str) -> None:
        self.stopped += 1
        self.by_model.setdefault(system, ModelTally()).stopped += 1

    def summary_lines(self) -> list[str]:
        """One line per system that had an error or stopped."""
        return [tally.summary(name, self.fatal.get(name)) for name, tally in self.by_model.items()]

    def final_status(self) -> str:
        """finished; finished_with_errors when an item errored or was not attempted; failed when a
        model's fatal error (bad key, unknown model, unreachable) left nothing finished."""
        if not self.failed:
            return "finished"
        if self.fatal and self.finished + self.skipped == 0:
            return "failed"
        return "finished_with_errors"
