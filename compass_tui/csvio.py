"""CSV files that open safely in a spreadsheet and read back exactly.

Written as UTF-8 with a BOM (so Excel picks the encoding) and CRLF line ends, atomically.
Text cells that a spreadsheet would run as a formula (OWASP "CSV injection": a leading
= + - @ tab or carriage return) get a leading single quote; reading strips it again.
Numbers are written as numbers and never quoted. Reading checks the header exactly.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compass_tui.errors import InputError
from compass_tui.inputs import read_input_text
from compass_tui.jsonio import write_output_text

FORMULA_STARTS = frozenset("=+-@\t\r")
QUOTE = "'"
BOM = "\ufeff"


def neutralise(text: str) -> str:
    """Prefix a quote when a spreadsheet would read `text` as a formula.

    Text that already starts with quotes before a formula character gets one more, so
    `unneutralise(neutralise(t)) == t` for every string.
    """
    return QUOTE + text if text.lstrip(QUOTE)[:1] in FORMULA_STARTS else text


def unneutralise(text: str) -> str:
    """Undo `neutralise`."""
    if text.startswith(QUOTE) and text[1:].lstrip(QUOTE)[:1] in FORMULA_STARTS:
        return text[1:]
    return text


def cell(value: Any) -> Any:
    """A value as a CSV cell: None is empty, booleans are true/false, text is neutralised, numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return value
    return neutralise(str(value))


def write_csv(path: str | Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Write `rows` under `header` atomically (UTF-8 with BOM, CRLF) to the --out file; the row count."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    count = 0
    for row in rows:
        writer.writerow([cell(value) for value in row])
        count += 1
    write_output_text(path, BOM + buffer.getvalue(), "--out")
    return count


@dataclass
class CsvTable:
    kind: str
    header: list[str]
    rows: list[tuple[int, dict[str, str]]]  # (line the row starts on, cells by column, un-neutralised)


def read_csv(path: str | Path, headers: Mapping[str, Sequence[str]]) -> CsvTable:
    """Read a CSV whose header is exactly one of `headers` (kind -> columns, any order).

    Raises InputError naming the file and the missing or extra columns, or the line of a malformed row.
    """
    path = Path(path)
    text = read_input_text(path)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise InputError(path, None, "empty file; expected a header row")
        kind = _match_header(path, header, headers)
        rows = []
        start = reader.line_num + 1
        for values in reader:
            if values:
                rows.append((start, _row_cells(path, start, header, values)))
            start = reader.line_num + 1
    except csv.Error as error:
        raise InputError(path, None, f"malformed CSV: {error}", line=reader.line_num) from None
    return CsvTable(kind, header, rows)


def _match_header(path: Path, header: list[str], headers: Mapping[str, Sequence[str]]) -> str:
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise InputError(path, None, f"duplicate columns: {', '.join(duplicates)}", line=1)
    found = set(header)
    for kind, columns in headers.items():
        if found == set(columns):
            return kind
    kind, columns = min(headers.items(), key=lambda entry: len(found ^ set(entry[1])))
    missing = [name for name in columns if name not in found]
    extra = [name for name in header if name not in set(columns)]
    parts = ([f"missing columns: {', '.join(missing)}"] if missing else []) + (
        [f"unexpected columns: {', '.join(extra)}"] if extra else []
    )
    raise InputError(path, None, f"not a {kind} file: {'; '.join(parts)}", line=1)


def _row_cells(path: Path, line: int, header: list[str], values: list[str]) -> dict[str, str]:
    if len(values) != len(header):
        raise InputError(path, None, f"row has {len(values)} cells; the header has {len(header)}", line=line)
    return {name: unneutralise(value) for name, value in zip(header, values)}
