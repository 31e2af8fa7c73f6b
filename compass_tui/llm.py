"""The one place that talks to litellm: an async chat completion that retries, classifies and redacts
(with `compass_tui.redaction`).

litellm takes seconds to import, so it is imported on first use by `import_litellm()`, never when this
module is imported. Every failure surfaces as one `LLMError` whose message is a single redacted line;
API keys never reach error messages or the `raw` response we hand back.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from types import ModuleType
from typing import TYPE_CHECKING, Any

from compass_tui.llm_errors import ErrorKind, LLMError, classify
from compass_tui.redaction import redact, redact_data, remember_key_env, secret_values

if TYPE_CHECKING:
    from compass_tui.config import ModelConfig

__all__ = [
    "ErrorKind",
    "LLMError",
    "LLMResult",
    "accepts_seed",
    "acomplete",
    "import_litellm",
    "redact",
    "uses_native_tools",
]

NO_KEY_PLACEHOLDER = "sk-none"  # OpenAI-compatible servers that need no key still require the field
# Providers whose api_base is, in practice, an OpenAI-compatible server (vLLM, LM Studio, llama.cpp, a proxy).
OPENAI_COMPATIBLE_PROVIDERS = frozenset(
    {
        "openai",
        "hosted_vllm",
        "openai_like",
        "custom_openai",
        "lm_studio",
        "llamafile",
        "litellm_proxy",
        "ollama_chat",
    }
)
_TIMEOUT_GRACE_S = 5.0  # slack for our own guard on top of litellm's per-request timeout
_LITELLM_LOGGERS = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy")

_litellm: ModuleType | None = None
_import_lock = threading.Lock()


@dataclass
class LLMResult:
    """One successful chat completion."""

    text: str | None  # the assistant message's content
    tool_calls: list[
        dict
    ]  # native calls: {"id", "name", "arguments"}; arguments is a dict, or the str if not JSON
    latency_s: float  # wall time of the successful attempt
    prompt_tokens: int | None
    completion_tokens: int | None
    cost_usd: float | None  # litellm.completion_cost when litellm knows the model's price, else None
    attempts: int  # 1 + retries used
    response: Any = field(default=None, repr=False)  # litellm's ModelResponse

    @cached_property
    def raw(self) -> dict:
        """The whole response as a dict, redacted; built on demand, since a batch run never needs it."""
        return redact_data(self.response.model_dump(), secret_values()) if self.response is not None else {}


def import_litellm() -> ModuleType:
    """Import litellm once, configured to stay offline, quiet and free of callbacks. Thread-safe."""
    global _litellm
    if _litellm is not None:
        return _litellm
    with _import_lock:
        if _litellm is None:
            # Without this, importing litellm downloads the model cost map over HTTPS.
            os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
            import litellm

            _quieten(litellm)
            _litellm = litellm
    return _litellm


def _quieten(litellm: Any) -> None:
    litellm.suppress_debug_info = True
    litellm.set_verbose = False
    litellm.telemetry = False
    litellm.turn_off_message_logging = True
    for name in (
        "callbacks",
        "input_callback",
        "success_callback",
        "failure_callback",
        "service_callback",
        "_async_success_callback",
        "_async_failure_callback",
    ):
        setattr(litellm, name, [])
    for name in _LITELLM_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def uses_native_tools(config: ModelConfig) -> bool:
    """Whether to send tools as native function calls (True) or describe them for a JSON reply (False).

    "native" and "json" decide outright. "auto" trusts litellm's model map when it has an opinion; for a
    model it does not know, native calls are assumed only behind an OpenAI-compatible api_base (vLLM,
    LM Studio, llama.cpp, a LiteLLM proxy all accept `tools`); otherwise JSON, which every model can do.
    Imports litellm on first use.
    """
    if config.tool_calling != "auto":
        return config.tool_calling == "native"
    litellm = import_litellm()
    declared = _declared_function_calling(litellm, config.model)
    if declared is not None:
        return declared
    return config.api_base is not None and _provider(litellm, config.model) in OPENAI_COMPATIBLE_PROVIDERS


def accepts_seed(config: ModelConfig) -> bool:
    """Whether litellm sends a `seed` to this model's provider (OpenAI-compatible ones do). Imports litellm."""
    litellm = import_litellm()
    try:
        model, provider, *_ = litellm.get_llm_provider(config.model)
        return "seed" in (
            litellm.get_supported_openai_params(model=model, custom_llm_provider=provider) or []
        )
    except Exception:  # litellm raises for a provider it does not know
        return False


def _declared_function_calling(litellm: ModuleType, model: str) -> bool | None:
    try:
        if litellm.supports_function_calling(model=model):
            return True
        declared = litellm.get_model_info(model).get("supports_function_calling")
    except Exception:  # litellm raises for models missing from its map
        return None
    return None if declared is None else bool(declared)


def _provider(litellm: ModuleType, model: str) -> str | None:
    try:
        return litellm.get_llm_provider(model)[1]
    except Exception:
        return None


async def acomplete(
    config: ModelConfig,
    messages: list[dict],
    *,
    tools: list[dict] | None = None,
    tool_choice: str | dict | None = None,
    json_mode: bool = False,
    max_retries: int = 4,
    backoff_base: float = 0.5,
    backoff_max: float = 20.0,
    allow_empty: bool = False,
    on_retry: Callable[[LLMError], None] | None = None,
    seed: int | None = None,
) -> LLMResult:
    """Run one chat completion, retrying transient failures; raise LLMError when it fails for good.

    Retried, with exponential backoff, full jitter and any Retry-After (each wait capped at
    backoff_max): timeouts, 429, 5xx, connection errors, unparseable bodies, and replies with neither
    content nor tool calls (unless allow_empty). Never retried: 400, 401, 403, 404. `seed` is sent as
    litellm's `seed` (check `accepts_seed` first: a provider without one refuses the request).
    Safe to run from many tasks at once and from event loops in other threads.
    """
    remember_key_env(config.api_key_env)
    litellm = _litellm if _litellm is not None else await asyncio.to_thread(import_litellm)
    request = _request_kwargs(config, messages, tools, tool_choice, json_mode)
    if seed is not None:
        request["seed"] = seed
    attempt = 0
    while True:
        attempt += 1
        started = time.perf_counter()
        try:
            async with asyncio.timeout(config.timeout + _TIMEOUT_GRACE_S):
                response = await litellm.acompletion(**request)
        except Exception as exc:
            failure = classify(litellm, exc, config.model, attempt)
        else:
            result = _to_result(litellm, response, time.perf_counter() - started, attempt)
            if allow_empty or not _is_empty(result):
                return result
            failure = LLMError(
                "empty",
                "the model replied with neither content nor tool calls",
                retryable=True,
                attempts=attempt,
                model=config.model,
            )
        if not failure.retryable or attempt > max_retries:
            raise failure from None
        if on_retry is not None:
            on_retry(failure)
        await asyncio.sleep(_backoff_s(attempt - 1, backoff_base, backoff_max, failure.retry_after_s))


def _request_kwargs(
    config: ModelConfig,
    messages: list[dict],
    tools: list[dict] | None,
    tool_choice: str | dict | None,
    json_mode: bool,
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "model": config.model,
        "messages": messages,
        "timeout": config.timeout,  # litellm's default is 600 s
        "num_retries": 0,  # we retry ourselves; this also sets the OpenAI client's max_retries to 0
    }
    api_key = _api_key(config)
    if api_key is not None:
        request["api_key"] = api_key
    optional = {
        "api_base": config.api_base,
        "temperature": config.temperature,
        "max_tokens": config.max_tokens,
        "reasoning_effort": config.reasoning_effort,
        "tool_choice": tool_choice,
    }
    request.update({name: value for name, value in optional.items() if value is not None})
    if tools:
        request["tools"] = tools
        # With tools present litellm probes for MCP gateway tools, which imports the optional `mcp` package.
        request["_skip_mcp_handler"] = True
    if json_mode:
        request["response_format"] = {"type": "json_object"}
    return request


def _api_key(config: ModelConfig) -> str | None:
    api_key = config.api_key()
    if api_key:
        return api_key
    if config.api_base is not None:
        return NO_KEY_PLACEHOLDER
    if config.api_key_env:
        raise LLMError(
            "auth",
            f"environment variable {config.api_key_env} is not set",
            retryable=False,
            attempts=0,
            model=config.model,
        )
    return None  # litellm reads the provider's usual variable, e.g. OPENAI_API_KEY


def _to_result(litellm: ModuleType, response: Any, latency_s: float, attempts: int) -> LLMResult:
    message = response.choices[0].message if response.choices else None
    usage = getattr(response, "usage", None)
    return LLMResult(
        text=getattr(message, "content", None),
        tool_calls=[_tool_call(call) for call in (getattr(message, "tool_calls", None) or [])],
        latency_s=latency_s,
        prompt_tokens=getattr(usage, "prompt_tokens", None),
        completion_tokens=getattr(usage, "completion_tokens", None),
        cost_usd=_cost_usd(litellm, response),
        attempts=attempts,
        response=response,
    )


def _tool_call(call: Any) -> dict:
    return {"id": call.id, "name": call.function.name, "arguments": _parse_arguments(call.function.arguments)}


def _parse_arguments(arguments: str | dict | None) -> dict | str:
    if isinstance(arguments, dict):
        return arguments
    try:
        parsed = json.loads(arguments or "{}")
    except ValueError:
        return arguments or ""
    return parsed if isinstance(parsed, dict) else (arguments or "")


_UNPRICED_MODELS: set[str] = set()


def _cost_usd(litellm: ModuleType, response: Any) -> float | None:
    """litellm's cost for this response; computed once per call, and never retried for an unpriced model."""
    hidden = getattr(response, "_hidden_params", None) or {}
    if isinstance(hidden.get("response_cost"), (int, float)):
        return float(hidden["response_cost"])
    model = str(getattr(response, "model", ""))
    if model in _UNPRICED_MODELS:
        return None
    try:
        return float(litellm.completion_cost(completion_response=response))
    except Exception:  # litellm raises for models it has no price for
        _UNPRICED_MODELS.add(model)
        return None


def _is_empty(result: LLMResult) -> bool:
    return not (result.text and result.text.strip()) and not result.tool_calls


def _backoff_s(retry_index: int, base: float, cap: float, retry_after_s: float | None) -> float:
    """Full jitter (AWS style), raised to the server's Retry-After; every wait is capped at `cap`."""
    jittered = random.uniform(0, min(cap, base * 2**retry_index))
    if retry_after_s is None:
        return jittered
    return max(jittered, min(retry_after_s, cap))
