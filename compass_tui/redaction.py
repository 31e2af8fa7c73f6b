"""Keeping API keys out of every message, log line and stored response.

A key is removed by value (the configured key variables, and any environment variable whose name
looks secret: *_API_KEY, *_TOKEN, ...) and by shape (sk-..., Bearer ..., ?key=...).
"""

from __future__ import annotations

import os
import re
import threading
from typing import Any

REDACTED = "[REDACTED]"
_MIN_SECRET_LENGTH = 6  # shorter env values are too likely to occur in ordinary text
_SECRET_ENV_NAME = re.compile(r"(?:API_?KEY|_KEY|_TOKEN|_SECRET|PASSWORD)$", re.IGNORECASE)
_KEY_SHAPES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bsk-[A-Za-z0-9_\-]{8,}"), REDACTED),
    (re.compile(r"\bAIza[0-9A-Za-z_\-]{20,}"), REDACTED),
    (re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=\-]+", re.IGNORECASE), rf"\1 {REDACTED}"),
    (
        re.compile(
            r"\b((?:x-)?api[_-]?key|access[_-]?token|auth[_-]?token)([\"']?\s*[=:]\s*[\"']?)[^\s\"'&,;}]+",
            re.IGNORECASE,
        ),
        rf"\1\2{REDACTED}",
    ),
    (re.compile(r"([?&](?:key|token|sig)=)[^&\s\"']+", re.IGNORECASE), rf"\1{REDACTED}"),
)
_key_env_names: set[str] = set()
_key_env_lock = threading.Lock()


def redact(text: str) -> str:
    """Remove API keys: the values of configured key variables and secret-looking environment
    variables (*_API_KEY, *_TOKEN, ...), and anything shaped like a key (sk-..., Bearer ..., ?key=...)."""
    return _redact_text(text, secret_values())


def remember_key_env(name: str | None) -> None:
    if name:
        with _key_env_lock:
            _key_env_names.add(name)


def secret_values() -> list[str]:
    with _key_env_lock:
        names = set(_key_env_names)
    names.update(name for name in os.environ if _SECRET_ENV_NAME.search(name))
    values = {os.environ.get(name, "") for name in names}
    return sorted((value for value in values if len(value) >= _MIN_SECRET_LENGTH), key=len, reverse=True)


def _redact_text(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    for pattern, replacement in _KEY_SHAPES:
        text = pattern.sub(replacement, text)
    return text


def redact_data(data: Any, secrets: list[str]) -> Any:
    if isinstance(data, str):
        return _redact_text(data, secrets)
    if isinstance(data, dict):
        return {key: redact_data(value, secrets) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [redact_data(item, secrets) for item in data]
    return data
