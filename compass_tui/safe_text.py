"""User text made safe to print on a terminal: control characters are shown, never sent."""

from __future__ import annotations

import re

# C0 controls, DEL and C1 controls: ESC starts escape sequences, BEL and C1's CSI/OSC act alone.
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LINES_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str, *, multiline: bool = False) -> str:
    """`text` with each control character written as an escape (ESC as `\\x1b`).

    With `multiline`, newlines and tabs are kept for text meant to span lines.
    """
    pattern = _CONTROL_BUT_LINES_RE if multiline else _CONTROL_RE
    return pattern.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"
