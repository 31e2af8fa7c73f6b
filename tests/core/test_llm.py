"""compass_tui.llm over real HTTP, through real litellm, against the stub server. litellm is never mocked."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from compass_tui.config import ModelConfig
from compass_tui.llm import LLMError, acomplete, redact, uses_native_tools
from tools.stub_llm import StubLLM, empty, error, hang, malformed, text, tool_call

KEY_ENV = "COMPASS_TUI_TEST_STUB_KEY"
KEY_VALUE = "sk-test-never-leak-0123456789abcdef"
MODEL = "openai/stub-a"
TIMEOUT_S = 0.3
FAST_BACKOFF = {"backoff_base": 0.01, "backoff_max": 0.5}
HELLO = [{"role": "user", "content": "hello"}]
SEARCH_TOOL = {
    "type": "function",
    "function": {
        "name": "search_products",
        "description": "Search the shop.",
        "parameters": {
            "type": "object",
            "properties": {"query": {"type": "string"}, "max_price": {"type": "number"}},
        },
    },
}
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def stub():
    with StubLLM() as server:
        yield server


@pytest.fixture
def config(stub, monkeypatch) -> ModelConfig:
    monkeypatch.setenv(KEY_ENV, KEY_VALUE)
    return ModelConfig(model=MODEL, api_base=stub.base_url, api_key_env=KEY_ENV, timeout=TIMEOUT_S)


async def complete(config: ModelConfig, **options):
    return await acomplete(config, HELLO, **{**FAST_BACKOFF, **options})


async def failure(config: ModelConfig, **options) -> LLMError:
    with pytest.raises(LLMError) as caught:
        await complete(config, **options)
    return caught.value


async def test_plain_text(stub, config):
    stub.script(MODEL, [text("Hello there")])
    result = await complete(config)
    assert result.text == "Hello there"
    assert result.tool_calls == []
    assert result.attempts == 1
    assert result.prompt_tokens and result.completion_tokens == 2
    assert result.cost_usd is None  # litellm has no price for a stub model
    assert result.latency_s > 0
    assert result.raw["choices"][0]["message"]["content"] == "Hello there"
    assert stub.requests[-1]["model"] == "stub-a"
    assert stub.requests[-1]["messages"] == HELLO


async def test_config_options_reach_the_request(stub):
    config = ModelConfig(
        model=MODEL,
        api_base=stub.base_url,
        temperature=0.2,
        max_tokens=64,
        reasoning_effort="low",
        timeout=TIMEOUT_S,
    )
    await complete(config, json_mode=True)
    body = stub.requests[-1]
    assert (body["temperature"], body["max_tokens"], body["reasoning_effort"]) == (0.2, 64, "low")
    assert body["response_format"] == {"type": "json_object"}


async def test_native_tool_call_has_dict_arguments(stub, config):
    stub.script(MODEL, [tool_call("search_products", {"query": "tent", "max_price": 120})])
    result = await complete(config, tools=[SEARCH_TOOL], tool_choice="auto")
    assert [(call["name"], call["arguments"]) for call in result.tool_calls] == [
        ("search_products", {"query": "tent", "max_price": 120})
    ]
    assert result.tool_calls[0]["id"]
    assert stub.requests[-1]["tools"] == [SEARCH_TOOL]
    assert stub.requests[-1]["tool_choice"] == "auto"


async def test_tool_call_arguments_that_are_not_json_stay_a_string(stub, config):
    stub.script(MODEL, [tool_call("search_products", "{query: tent")])
    result = await complete(config, tools=[SEARCH_TOOL])
    assert result.tool_calls[0]["arguments"] == "{query: tent"


@pytest.mark.slow
async def test_rate_limit_is_retried_after_retry_after(stub, config):
    await complete(config)  # litellm's one-off setup
    stub.script(MODEL, [text("OK")])
    started = time.perf_counter()
    await complete(config)
    one_call = time.perf_counter() - started
    stub.script(MODEL, [error(429, "slow down", retry_after=0.3), text("OK")])
    started = time.perf_counter()
    result = await complete(config)
    assert result.attempts == 2
    assert len(stub.requests) == 4
    elapsed = time.perf_counter() - started
    # waits the 0.3 s asked for, and not the much longer default backoff: relative to one plain call
    assert 0.28 <= elapsed < 0.3 + 10 * one_call + 1.0


async def test_server_errors_are_retried(stub, config):
    stub.script(MODEL, [error(500), error(503), text("OK")])
    result = await complete(config)
    assert (result.text, result.attempts) == ("OK", 3)


@pytest.mark.slow
async def test_timeout_is_retried_then_reported(stub, config):
    stub.script(MODEL, [hang(3), hang(3)])
    started = time.perf_counter()
    err = await failure(config, max_retries=1)
    assert (err.kind, err.attempts, err.retryable) == ("timeout", 2, True)
    assert len(stub.requests) == 2
    # config.timeout applied, not litellm's 600 s: the hangs last 3 s each, so the whole must end well before 6
    assert time.perf_counter() - started < 2 * 3


@pytest.mark.parametrize(
    ("status", "kind"), [(401, "auth"), (403, "auth"), (404, "not_found"), (400, "bad_request")]
)
async def test_client_errors_are_not_retried(stub, config, status, kind):
    stub.script(MODEL, [error(status, "nope"), text("never reached")])
    err = await failure(config)
    assert (err.kind, err.status, err.attempts, err.retryable) == (kind, status, 1, False)
    assert len(stub.requests) == 1
    assert "\n" not in str(err) and MODEL in str(err)


async def test_malformed_body_is_retried(stub, config):
    stub.script(MODEL, [malformed(), text("OK")])
    assert (await complete(config)).attempts == 2
    stub.script(MODEL, [malformed()] * 3)
    err = await failure(config, max_retries=2)
    assert (err.kind, err.attempts) == ("server", 3)
    assert "not valid JSON" in str(err)


async def test_empty_reply_is_retried_then_reported(stub, config):
    stub.script(MODEL, [empty(), empty(), empty()])
    err = await failure(config, max_retries=2)
    assert (err.kind, err.attempts) == ("empty", 3)
    assert len(stub.requests) == 3


async def test_allow_empty_returns_the_empty_reply(stub, config):
    stub.script(MODEL, [empty()])
    result = await complete(config, allow_empty=True)
    assert not result.text and result.tool_calls == [] and result.attempts == 1


async def test_connection_refused_is_retried(config):
    closed_port = ModelConfig(model=MODEL, api_base="http://127.0.0.1:9/v1", timeout=TIMEOUT_S)
    err = await failure(closed_port, max_retries=1)
    assert (err.kind, err.attempts, err.status) == ("connection", 2, None)


async def test_missing_key_variable_fails_before_any_request(monkeypatch):
    monkeypatch.delenv("COMPASS_TUI_TEST_UNSET_KEY", raising=False)
    config = ModelConfig(model="openai/gpt-4o-mini", api_key_env="COMPASS_TUI_TEST_UNSET_KEY")
    err = await failure(config)
    assert (err.kind, err.attempts) == ("auth", 0)
    assert "COMPASS_TUI_TEST_UNSET_KEY" in str(err)


async def test_api_key_never_appears_in_errors_or_raw(stub, config):
    stub.script(MODEL, [error(401, f"Incorrect API key provided: {KEY_VALUE}")])
    err = await failure(config)
    assert KEY_VALUE not in str(err) and KEY_VALUE not in repr(err.args)
    stub.script(MODEL, [text(f"your key is {KEY_VALUE}, header Authorization: Bearer abc.def-123")])
    raw = json.dumps((await complete(config)).raw)
    assert KEY_VALUE not in raw and "abc.def-123" not in raw


def test_redact_removes_key_shapes():
    leaky = "key sk-proj-AbCdEf1234567890 then Bearer eyJhbGciOi.x-y and https://x.test/v1?key=AIzaSecret&alt=json"
    cleaned = redact(leaky)
    for secret in ("sk-proj-AbCdEf1234567890", "eyJhbGciOi.x-y", "AIzaSecret"):
        assert secret not in cleaned
    assert cleaned.startswith("key [REDACTED] then Bearer [REDACTED]")
    assert "alt=json" in cleaned


def test_importing_the_module_imports_neither_litellm_nor_textual():
    code = (
        "import sys, compass_tui.llm, tools.stub_llm; "
        "print(sorted(m for m in ('litellm', 'textual', 'openai') if m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    output = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        check=True,
        timeout=60,
    ).stdout
    assert output.strip() == "[]"


def test_uses_native_tools(stub):
    def decide(**fields) -> bool:
        return uses_native_tools(ModelConfig(**{"model": MODEL, **fields}))

    assert decide(tool_calling="native", model="no-such-provider/model") is True
    assert decide(tool_calling="json", model="openai/gpt-4o-mini") is False
    assert decide(model="openai/gpt-4o-mini") is True  # litellm knows it
    assert decide(api_base=stub.base_url) is True  # unknown model behind an OpenAI-compatible server
    assert decide(model="no-such-provider/model") is False


@pytest.mark.slow
async def test_many_concurrent_calls_overlap(stub, config):
    # The shared 0.3 s timeout is tuned for the retry tests; on a loaded 2-core machine fifty
    # 0.2 s calls can queue past it and retry, so this test allows each call its serial budget.
    patient = config.model_copy(update={"timeout": 10.0})
    await complete(patient)  # first call pays litellm's one-off setup
    stub.latency = 0.2
    started = time.perf_counter()
    results = await asyncio.gather(*(complete(patient) for _ in range(50)))
    elapsed = time.perf_counter() - started
    assert [result.text for result in results] == ["OK"] * 50
    assert all(result.attempts == 1 for result in results)
    serial = 50 * 0.2
    assert elapsed < serial / 2, f"50 calls of 0.2 s took {elapsed:.1f} s: they are not running concurrently"


async def test_event_loop_in_another_thread(stub, config):
    stub.latency = 0.1
    outcome: dict[str, object] = {}

    def other_thread() -> None:
        try:
            outcome["text"] = asyncio.run(complete(config)).text
        except Exception as exc:  # reported by the assertion below
            outcome["error"] = exc

    worker = threading.Thread(target=other_thread)
    worker.start()
    here = await complete(config)
    await asyncio.to_thread(worker.join, 30)
    assert outcome == {"text": "OK"} and here.text == "OK"
