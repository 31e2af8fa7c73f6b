"""Reading a user-given file: regular files only, and never more than the `max_input_mb` setting.

A FIFO, a device or a directory is refused from its stat, before it is opened; the open itself is
non-blocking and checked again with fstat, so a file swapped for a FIFO in between cannot hang a read.
"""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path

from compass_tui.errors import InputError

DEFAULT_MAX_INPUT_MB = 64.0
_CHUNK_BYTES = 1 << 20
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)

_max_input_mb = DEFAULT_MAX_INPUT_MB


def set_max_input_mb(megabytes: float) -> None:
    """Set the limit for every later read (load_settings calls this with the `max_input_mb` setting)."""
    global _max_input_mb
    _max_input_mb = megabytes


def max_input_bytes() -> int:
    return round(_max_input_mb * 2**20)


def read_input_bytes(path: str | Path, *, max_bytes: int | None = None) -> bytes:
    """The bytes of a regular file of at most `max_bytes` (default: the setting), or InputError."""
    limit = max_input_bytes() if max_bytes is None else max_bytes
    check_regular_file(path)
    fd = _open_nonblocking(path)
    try:
        size = _checked_size(path, os.fstat(fd))
        if size > limit:
            raise InputError(path, None, too_large_message(size, limit))
        data = _read_at_most(fd, limit + 1)
    except OSError as error:
        raise InputError(path, None, f"cannot read: {error.strerror}") from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise InputError(path, None, too_large_message(len(data), limit, grew=True))
    return data


def read_input_text(path: str | Path, *, max_bytes: int | None = None) -> str:
    """A regular file's UTF-8 text (a byte-order mark is dropped), or InputError."""
    raw = read_input_bytes(path, max_bytes=max_bytes)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(path, None, f"not UTF-8 text (byte {error.start})") from None


def check_toml_file(path: Path) -> None:
    """The config file (COMPASS_TUI_CONFIG) exists and is TOML: cheap, so the TUI checks it before it starts."""
    if not path.exists():
        raise InputError(path, None, "config file not found (set by COMPASS_TUI_CONFIG)")
    text = read_input_text(path, max_bytes=int(DEFAULT_MAX_INPUT_MB * 2**20))
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InputError(path, None, f"invalid TOML: {error}") from None


def check_regular_file(path: str | Path) -> os.stat_result:
    """The stat of `path` (symlinks followed) if it is a regular file; otherwise one InputError line."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise InputError(path, None, "no such file") from None
    except OSError as error:
        raise InputError(path, None, f"cannot read: {error.strerror}") from None
    _checked_size(path, info)
    return info


def too_large_message(size: int, limit: int, grew: bool = False) -> str:
    """ "file is 67,108,865 bytes, over the 64 MiB limit": exact, so a file just over it reads as over it."""
    amount = f"at least {size:,}" if grew else f"{size:,}"
    return f"file is {amount} bytes, over the {limit / 2**20:.4g} MiB limit (setting max_input_mb)"


def _checked_size(path: str | Path, info: os.stat_result) -> int:
    if not stat.S_ISREG(info.st_mode):
        kind = next((name for test, name in _KINDS if test(info.st_mode)), "not a file")
        raise InputError(path, None, f"not a regular file ({kind})")
    return info.st_size


def _open_nonblocking(path: str | Path) -> int:
    try:
        return os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        raise InputError(path, None, f"cannot read: {error.strerror}") from None


def _read_at_most(fd: int, count: int) -> bytes:
    chunks: list[bytes] = []
    remaining = count
    while remaining > 0:
        chunk = os.read(fd, min(remaining, _CHUNK_BYTES))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
