"""One error type for bad input: it names the file and the field, and prints as one line."""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """Bad input from a file or the command line. The CLI prints `str(error)` and exits 2."""

    def __init__(self, source: str | Path | None, field: str | None, message: str, line: int | None = None):
        self.source = str(source) if source is not None else None
        self.field = field
        self.message = message
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        """'FILE:LINE: field: message'; from the command line (no file), 'field: message'."""
        where = [self.source + (f":{self.line}" if self.line is not None else "")] if self.source else []
        where += [self.field] if self.field else []
        return ": ".join([*where, self.message])


class NotFoundError(InputError):
    """A named thing (persona, run, model, study) that does not exist."""


def field_path(parts: tuple | list) -> str:
    """Render a location such as ('situations', 3, 'emotion') as 'situations[3].emotion'."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


class BusyError(Exception):
    """Something another live process holds (a run being written). The CLI prints it in one line, exit 1."""
