"""Storage names: every user-given name (run, annotator, scope, study, persona id) maps to one file
name, and two different names never share one, on case-sensitive and case-insensitive filesystems.

Lower-case ASCII letters, digits, '_', '-', '@', '+' and '.' stay as they are (a leading '.' does not, so no
name is hidden or '..'). An upper-case letter becomes '^' and the letter ("Ann" -> "^ann"); any
other byte of the UTF-8 text becomes '%XX' with upper-case hex ("pilot/a" -> "pilot%2Fa",
"Ann Lee" -> "^ann%20^lee"). The empty name is '%'. A name whose encoding would pass
MAX_STORAGE_CHARS is cut and ends in '~' and a hash of the whole name. Decoding reverses all but
the cut (whose full name each record keeps anyway).
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

MAX_STORAGE_CHARS = 160  # file names stop at 255 bytes; shards add ".json.lock" and temp suffixes
_KEPT = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789_-.@+")
_ENCODED_RE = re.compile(r"^(?:[a-z0-9_.@+-]|\^[a-z]|%[0-9A-F]{2})+$")


@lru_cache(maxsize=4096)  # every saved record asks for its shard's name
def storage_name(name: str) -> str:
    if name == "":
        return "%"
    parts = []
    for position, byte in enumerate(name.encode("utf-8")):
        if byte in _KEPT and not (position == 0 and byte == ord(".")):
            parts.append(chr(byte))
        elif ord("A") <= byte <= ord("Z"):
            parts.append("^" + chr(byte).lower())
        else:
            parts.append(f"%{byte:02X}")
    encoded = "".join(parts)
    if len(encoded) <= MAX_STORAGE_CHARS:
        return encoded
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:16]
    head = encoded[: MAX_STORAGE_CHARS - 17]
    head = head[: head.rfind("%")] if "%" in head[-2:] else head  # never cut an escape in two
    return f"{head.rstrip('^')}~{digest}"


def name_from_storage(encoded: str) -> str | None:
    """The name a storage name was made from; None for a cut name or a name of the old scheme."""
    if encoded == "%":
        return ""
    if not _ENCODED_RE.match(encoded):
        return None
    raw = bytearray()
    position = 0
    while position < len(encoded):
        char = encoded[position]
        if char == "^":
            raw += encoded[position + 1].upper().encode()
            position += 2
        elif char == "%":
            raw.append(int(encoded[position + 1 : position + 3], 16))
            position += 3
        else:
            raw += char.encode()
            position += 1
    try:
        name = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return name if storage_name(name) == encoded else None


def legacy_storage_name(text: str) -> str:
    """The lossy file name of store format 1 ("openai/gpt-4o" -> "openai_gpt-4o"), read only to migrate."""
    cleaned = re.sub(r"[^A-Za-z0-9_.@+-]", "_", text).strip("._") or "_"
    return cleaned[:120]
