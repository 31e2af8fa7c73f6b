"""How a failed litellm call becomes one `LLMError`: its kind, whether it is worth retrying, the HTTP
status, any Retry-After, and a single redacted line of message."""

from __future__ import annotations

import json
import re
import time
from types import ModuleType
from typing import Any, Literal

from compass_tui.redaction import redact

ErrorKind = Literal[
    "auth", "rate_limit", "timeout", "server", "bad_request", "connection", "empty", "not_found", "other"
]

_MAX_MESSAGE_LENGTH = 400
_LITELLM_MESSAGE_PREFIX = re.compile(r"^(?:litellm\.\w+:\s*|\w+(?:Error|Exception)\s*[:\-]\s*)+")


class LLMError(Exception):
    """A completion that failed for good. `str(error)` is one redacted line naming the model and the kind."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        retryable: bool,
        status: int | None = None,
        attempts: int = 1,
        model: str | None = None,
        retry_after_s: float | None = None,
    ):
        self.kind = kind
        self.message = _one_line(redact(message))
        self.retryable = retryable
        self.status = status
        self.attempts = attempts
        self.model = model
        self.retry_after_s = retry_after_s
        super().__init__(self.message)

    def __str__(self) -> str:
        head = f"{self.model}: {self.kind}" if self.model else self.kind
        if self.status is not None:
            head += f" (HTTP {self.status})"
        if self.attempts > 1:
            head += f" after {self.attempts} attempts"
        return f"{head}: {self.message}"


def classify(litellm: ModuleType, exc: Exception, model: str, attempt: int) -> LLMError:
    kind, retryable, status = _kind_of(litellm, exc)
    message = _clean_message(exc)
    if kind == "server" and _is_unparseable_body(exc):
        # litellm reports a 200 with a broken body as a made-up HTTP 500.
        status, message = None, f"the response body is not valid JSON ({message})"
    return LLMError(
        kind,
        message,
        retryable=retryable,
        status=status,
        attempts=attempt,
        model=model,
        retry_after_s=_retry_after_s(exc) if retryable else None,
    )


def _is_unparseable_body(exc: Exception) -> bool:
    return any(isinstance(link, json.JSONDecodeError) for link in _exception_chain(exc))


def _kind_of(litellm: ModuleType, exc: Exception) -> tuple[ErrorKind, bool, int | None]:
    errors = litellm.exceptions
    chain = _exception_chain(exc)
    if isinstance(exc, errors.Timeout) or any(isinstance(link, TimeoutError) for link in chain):
        return "timeout", True, None
    status = _http_status(exc)
    if isinstance(exc, (errors.AuthenticationError, errors.PermissionDeniedError)) or status in (401, 403):
        return "auth", False, status
    if isinstance(exc, errors.RateLimitError) or status == 429:
        return "rate_limit", True, status
    if isinstance(exc, errors.NotFoundError) or status == 404:
        return "not_found", False, status
    if _is_transport_failure(chain):
        return "connection", True, None
    if status == 408:
        return "timeout", True, status
    if isinstance(
        exc, (errors.InternalServerError, errors.ServiceUnavailableError, errors.BadGatewayError)
    ) or (status is not None and status >= 500):
        return "server", True, status
    if isinstance(exc, errors.BadRequestError) or (status is not None and 400 <= status < 500):
        return "bad_request", False, status
    # Includes litellm's APIConnectionError without a network cause: litellm wraps its own bugs in it.
    return "other", False, status


def _http_status(exc: Exception) -> int | None:
    import openai

    if isinstance(exc, openai.APIConnectionError):  # litellm gives these a made-up 500 (or 408)
        return None
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


def _is_transport_failure(chain: list[BaseException]) -> bool:
    """A real network failure somewhere in the cause chain, not litellm's same-named wrapper."""
    import httpx
    import openai

    transport_errors = (openai.APIConnectionError, httpx.TransportError, ConnectionError)
    return any(
        isinstance(link, transport_errors) and not type(link).__module__.startswith("litellm")
        for link in chain
    )


def _exception_chain(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    link: BaseException | None = exc
    while link is not None and link not in chain:
        chain.append(link)
        link = link.__cause__ or link.__context__
    return chain


def _retry_after_s(exc: Exception) -> float | None:
    """Seconds from a Retry-After (or OpenAI's retry-after-ms) header on the failed response."""
    for headers in _response_headers(exc):
        try:
            if headers.get("retry-after-ms") is not None:
                return max(0.0, float(headers["retry-after-ms"]) / 1000)
            if headers.get("retry-after") is not None:
                return _parse_retry_after(headers["retry-after"])
        except (TypeError, ValueError):
            continue
    return None


def _response_headers(exc: Exception) -> list[Any]:
    import httpx

    candidates = [
        getattr(exc, "litellm_response_headers", None),
        getattr(getattr(exc, "response", None), "headers", None),
        getattr(exc, "headers", None),
    ]
    return [httpx.Headers(headers) for headers in candidates if headers]


def _parse_retry_after(value: str) -> float:
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())


def _clean_message(exc: Exception) -> str:
    message = str(getattr(exc, "message", None) or exc) or type(exc).__name__
    return _LITELLM_MESSAGE_PREFIX.sub("", message.strip()) or message


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE_LENGTH else text[: _MAX_MESSAGE_LENGTH - 1] + "…"
