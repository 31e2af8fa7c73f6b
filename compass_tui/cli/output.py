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
from rich.measure import Measurement
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


def print_table(
    title: str | None, columns: Iterable[str], rows: Iterable[Iterable[Any]], keys: int = 1
) -> None:
    """Cells are plain text: control characters are escaped and [brackets] are never markup. The title
    is a paragraph above the table. Written to a file or a pipe, a table is as wide as its cells; in a
    terminal too narrow for it, it is split into parts that each repeat the first `keys` columns (the
    ones naming the row), so no cell is ever cropped."""
    columns = list(columns)
    cells = [["" if cell is None else printable(str(cell), multiline=True) for cell in row] for row in rows]
    if title is not None:
        console.print(Text(printable(title), style="italic"))
    if not console.is_terminal:
        _print_unfolded(_table(columns, cells, range(len(columns))))
        return
    for part, shown in enumerate(_parts(columns, cells, keys)):
        if part:
            console.print(Text("(continued)", style="dim"))
        console.print(_table(columns, cells, shown))


def _table(columns: list[str], cells: list[list[str]], shown: Iterable[int]) -> Table:
    table = Table(header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    shown = list(shown)
    for index in shown:
        table.add_column(columns[index], overflow="fold")
    for row in cells:
        table.add_row(*(Text(row[index]) for index in shown))
    return table


def _parts(columns: list[str], cells: list[list[str]], keys: int) -> list[list[int]]:
    """The columns of each part: the keys, then as many of the others as fit the terminal unfolded."""
    keys = min(keys, len(columns))
    parts: list[list[int]] = [list(range(keys))]
    for index in range(keys, len(columns)):
        if len(parts[-1]) > keys and _width(columns, cells, [*parts[-1], index]) > console.width:
            parts.append(list(range(keys)))
        parts[-1].append(index)
    return parts


def _width(columns: list[str], cells: list[list[str]], shown: list[int]) -> int:
    return _natural_width(_table(columns, cells, shown))


def _natural_width(table: Table) -> int:
    """How wide the table is with no cell folded."""
    return Measurement.get(console, console.options.update_width(100_000), table).maximum


def _print_unfolded(table: Table) -> None:
    width = console.width
    console.width = max(width, _natural_width(table))
    try:
        console.print(table)
    finally:
        console.width = width


def emit(args, data: Any, render) -> None:
    """JSON for --json, otherwise the human rendering."""
    if getattr(args, "json", False):
        print_json(data)
    else:
        render(data)
