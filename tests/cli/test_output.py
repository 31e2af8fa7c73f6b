"""The CLI's tables never crop a cell: unfolded into a pipe, split into parts in a narrow terminal."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from compass_tui.cli import output

COLUMNS = ["model", "setting", "n", "Err", "Pass", "execute_succ_rate", "3turn_execute_succ_rate", "D basis"]
ROWS = [["deepseek-chat-v3", "profile", "150", "2", "98.7%", "0.947", "0.987", "official"]]


def printed(monkeypatch, terminal: bool, width: int) -> str:
    sink = io.StringIO()
    console = Console(file=sink, width=width, force_terminal=terminal, color_system=None, highlight=False)
    monkeypatch.setattr(output, "console", console)
    output.print_table("Tool calls", COLUMNS, ROWS, keys=2)
    return sink.getvalue()


@pytest.mark.parametrize("width", [60, 80])
def test_a_narrow_terminal_gets_parts_that_repeat_the_row_names_and_crop_nothing(monkeypatch, width):
    text = printed(monkeypatch, terminal=True, width=width)
    assert max(len(line.rstrip()) for line in text.splitlines()) <= width
    for cell in [*COLUMNS, *ROWS[0]]:
        assert cell in text, cell  # whole: neither cropped nor folded
    parts = text.count("(continued)") + 1
    assert parts > 1 and text.count("deepseek-chat-v3") == parts and text.count("profile") == parts


def test_a_pipe_gets_one_table_as_wide_as_its_cells(monkeypatch):
    text = printed(monkeypatch, terminal=False, width=40)
    assert "(continued)" not in text
    row = next(line for line in text.splitlines() if "deepseek-chat-v3" in line)
    assert all(cell in row for cell in ROWS[0])
