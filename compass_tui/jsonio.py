"""Strict JSON in, durable JSON out.

Reading rejects what Python's json module lets through but a store must never hold:
NaN and infinities, and strings with lone surrogates. Writing is atomic: a temp file
is fsynced, renamed over the target, and the directory is fsynced.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from compass_tui.errors import InputError, field_path
from compass_tui.inputs import read_input_bytes


class _NonFinite:
    def __init__(self, token: str):
        self.token = token


def load_json(path: str | Path, *, max_bytes: int | None = None) -> Any:
    """Parse a JSON file strictly, or raise InputError naming the file, field and line.

    The file must be a regular file within the input limit (see compass_tui.inputs).
    """
    return loads_strict(read_input_bytes(path, max_bytes=max_bytes), source=path)


def loads_strict(raw: bytes | str, *, source: str | Path | None = None) -> Any:
    """Parse JSON text strictly (see `check_clean`), or raise InputError naming the source, field and line."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise InputError(source, None, f"not UTF-8 text (byte {error.start})") from None
        may_hold_surrogates = _SURROGATE_ESCAPE_RE.search(raw) is not None
    else:
        may_hold_surrogates = _SURROGATE_ESCAPE_RE.search(raw) is not None or not _encodes(raw)
    suspicious: list[str] = []
    try:
        data = json.loads(
            raw,
            parse_constant=lambda token: _non_finite(token, suspicious),
            parse_float=lambda text: _checked_float(text, suspicious),
        )
    except json.JSONDecodeError as error:
        raise InputError(
            source, None, f"invalid JSON: {error.msg} (column {error.colno})", line=error.lineno
        ) from None
    except RecursionError:
        raise InputError(source, None, "invalid JSON: nested too deeply") from None
    except ValueError as error:  # an integer of more than 4,300 digits
        raise InputError(source, None, f"invalid JSON: {error}".split(";")[0]) from None
    # Walking every value costs more than parsing; do it only when the text can hold something to report.
    if suspicious or may_hold_surrogates:
        check_clean(data, source=source)
    return data


# Strictly decoded UTF-8 cannot hold a surrogate, so a lone one can only come from a \uD800-\uDFFF escape.
_SURROGATE_ESCAPE_RE = re.compile(r"\\u[dD][89a-fA-F]")


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _non_finite(token: str, suspicious: list[str]) -> _NonFinite:
    suspicious.append(token)
    return _NonFinite(token)


def _checked_float(text: str, suspicious: list[str]) -> float:
    value = float(text)
    if not math.isfinite(value):
        suspicious.append(text)
    return value


def check_clean(data: Any, *, source: str | Path | None = None, path: tuple = ()) -> None:
    """Raise InputError at the first non-finite number or lone surrogate in `data`."""
    stack: list[tuple[tuple, Any]] = [(path, data)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                _check_text(key, source, where, is_key=True)
                stack.append((where + (key,), item))
        elif isinstance(value, list):
            stack.extend((where + (index,), item) for index, item in enumerate(value))
        elif isinstance(value, str):
            _check_text(value, source, where)
        elif isinstance(value, _NonFinite):
            raise InputError(source, field_path(where) or None, f"{value.token} is not a valid number")
        elif isinstance(value, float) and not math.isfinite(value):
            raise InputError(source, field_path(where) or None, "number is out of range (infinite)")


def _check_text(text: str, source, where: tuple, is_key: bool = False) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        what = "key" if is_key else "text"
        raise InputError(
            source,
            field_path(where) or None,
            f"{what} holds a lone surrogate (\\u{ord(text[error.start]):04x}) at character {error.start}",
        ) from None


def dumps(data: Any, *, indent: int | None = 2) -> str:
    """Serialise strictly: NaN or a lone surrogate raises ValueError instead of writing bad JSON."""
    return json.dumps(data, indent=indent, ensure_ascii=False, allow_nan=False)


# fdatasync flushes the data and the size, all a reader of the renamed file needs; the directory fsync
# after the rename makes the new name durable. It saves a metadata flush per write where it exists.
_sync_data = getattr(os, "fdatasync", os.fsync)


def _default_file_mode() -> int:
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


# mkstemp makes 0600 files; written files get the mode a plain open() would give them.
_FILE_MODE = _default_file_mode()


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write `text` to `path` so that a crash leaves either the old file or the new one, whole."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: str | Path, encoded: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), _FILE_MODE)
            handle.write(encoded)
            handle.flush()
            _sync_data(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    fsync_directory(path.parent)


def atomic_write_json(path: str | Path, data: Any, *, indent: int | None = 2) -> None:
    atomic_write_text(path, dumps(data, indent=indent) + "\n")


def write_output_text(path: str | Path, text: str, option: str) -> None:
    """A file the user named (`option` names where): written atomically, or one InputError line."""
    if Path(path).is_dir():
        raise InputError(path, option, "is a folder, not a file")
    try:
        atomic_write_text(path, text)
    except OSError as error:
        raise InputError(path, option, f"cannot write: {error.strerror or error}") from None


def fsync_directory(directory: str | Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
