"""Printing for the CLI: rich tables for people, `--json` for scripts."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

console = Console(highlight=False, soft_wrap=False)
error_console = Console(stderr=True, highlight=False)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def print_table(title: str | None, columns: Iterable[str], rows: Iterable[Iterable[Any]]) -> None:
    columns = list(columns)
    cells = [["" if cell is None else str(cell) for cell in row] for row in rows]
    table = Table(
        title=title,
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
        table.add_row(*row)
    console.print(table)


def emit(args, data: Any, render) -> None:
    """JSON for --json, otherwise the human rendering."""
    if getattr(args, "json", False):
        print_json(data)
    else:
        render(data)
