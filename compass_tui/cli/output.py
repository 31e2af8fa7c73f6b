"""Printing for the CLI: rich tables for people, `--json` for scripts."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from compass_tui.safe_text import printable

console = Console(highlight=False, soft_wrap=False)
error_console = Console(stderr=True, highlight=False)


# json escapes C0 controls itself; DEL and the C1 controls (CSI is \x9b) only occur inside strings.
_UNESCAPED_CONTROL_RE = re.compile("[\x7f-\x9f]")


def print_json(data: Any) -> None:
    text = json.dumps(data, indent=2, ensure_ascii=False)
    sys.stdout.write(_UNESCAPED_CONTROL_RE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n")


def safe(value: Any) -> str:
    """A user-given value to embed in a rich markup string: control characters and markup escaped."""
    return escape(printable(str(value)))


def print_table(title: str | None, columns: Iterable[str], rows: Iterable[Iterable[Any]]) -> None:
    """Cells are plain text: control characters are escaped and [brackets] are never markup."""
    columns = list(columns)
    cells = [["" if cell is None else printable(str(cell), multiline=True) for cell in row] for row in rows]
    table = Table(
        title=None if title is None else Text(printable(title), style="italic"),
        title_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    for index, column in enumerate(columns):
        widest = max([len(column)] + [len(row[index]) for row in cells])
        table.add_column(column, overflow="fold", min_width=min(widest, 7))
    for row in cells:
        table.add_row(*(Text(cell) for cell in row))
    console.print(table)


def emit(args, data: Any, render) -> None:
    """JSON for --json, otherwise the human rendering."""
    if getattr(args, "json", False):
        print_json(data)
    else:
        render(data)
