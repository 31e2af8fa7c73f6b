"""compass_tui.inputs, the one way user files are read, and safe_text.printable, the one way user text is shown."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from compass_tui.errors import InputError
from compass_tui.inputs import read_input_bytes, read_input_text
from compass_tui.safe_text import printable


def test_a_regular_file_within_the_limit_is_read_whole(tmp_path: Path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"\xef\xbb\xbfhello")
    assert read_input_bytes(path, max_bytes=8) == b"\xef\xbb\xbfhello"
    assert read_input_text(path, max_bytes=8) == "hello"
    (tmp_path / "link.txt").symlink_to(path)  # a symlink to a regular file is fine
    assert read_input_text(tmp_path / "link.txt") == "hello"


def test_a_file_one_byte_over_the_limit_is_refused(tmp_path: Path):
    path = tmp_path / "big.json"
    path.write_bytes(b"x" * 1025)
    with pytest.raises(InputError) as caught:
        read_input_bytes(path, max_bytes=1024)
    assert str(caught.value) == (
        f"{path}: file is 1,025 bytes, over the 0.0009766 MiB limit (setting max_input_mb)"
    )


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (lambda path: os.mkfifo(path), "a FIFO"),
        (lambda path: path.symlink_to("/dev/zero"), "a character device"),
        (lambda path: path.mkdir(), "a directory"),
    ],
)
def test_anything_but_a_regular_file_is_refused_in_one_line(tmp_path: Path, make, kind):
    path = tmp_path / "input.json"
    make(path)
    with pytest.raises(InputError) as caught:
        read_input_bytes(path)  # a FIFO opened for reading would block here
    assert str(caught.value) == f"{path}: not a regular file ({kind})"


def test_a_missing_file_is_named(tmp_path: Path):
    with pytest.raises(InputError, match="missing.json: no such file$"):
        read_input_text(tmp_path / "missing.json")


def test_printable_escapes_every_control_character_but_intended_lines():
    hostile = "Ines\x1b[2J\x1b]0;pwned\x07\r\x9b\x7f\x00"
    assert printable(hostile) == "Ines\\x1b[2J\\x1b]0;pwned\\x07\\x0d\\x9b\\x7f\\x00"
    assert printable("one\n\ttwo") == "one\\x0a\\x09two"
    assert printable("one\n\ttwo\r", multiline=True) == "one\n\ttwo\\x0d"
    assert printable("Zoë · 日本 ♥") == "Zoë · 日本 ♥"
