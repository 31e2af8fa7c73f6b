"""Counts in words, shared by the CLI and the TUI."""

from __future__ import annotations


def counted(count: int, singular: str, plural: str | None = None) -> str:
    """'1 run', '2 runs', '0 studies'."""
    return f"{count} {singular if count == 1 else plural or singular + 's'}"
