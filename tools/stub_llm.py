"""A small OpenAI-compatible chat server for tests and benchmarks.

`StubLLM` serves `POST /v1/chat/completions` and `GET /v1/models` on 127.0.0.1 from a
background thread with its own event loop, so synchronous tests and other event loops can
talk to it over real HTTP. Replies come from per-model scripts, else from a responder:

    with StubLLM(latency=0.05) as stub:
        stub.script("stub-a", [error(429, retry_after=0.1), text("hello")])
        ...  # point a client at stub.base_url

`python -m tools.stub_llm --port 8000 --latency 0.2` runs it in the foreground.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

DEFAULT_HOST = "127.0.0.1"
_SHUTDOWN_GRACE_S = 1.0


@dataclass(frozen=True)
class Reply:
    """One answer from the stub. Build it with text(), tool_call(), error(), hang(), malformed() or empty()."""

    content: str | None = None
    tool_name: str | None = None
    tool_arguments: dict | str | None = None
    status: int = 200
    error_message: str | None = None
    retry_after: float | None = None
    delay_s: float | None = None  # None: the stub's default latency
    malformed: bool = False


Responder = Callable[[dict], Reply]


def text(content: str) -> Reply:
    return Reply(content=content)


def tool_call(name: str, arguments: dict | str) -> Reply:
    """A native function call; a str is sent verbatim as the arguments (it need not be valid JSON)."""
    return Reply(tool_name=name, tool_arguments=arguments)


def error(status: int, message: str = "stub error", retry_after: float | None = None) -> Reply:
    """An HTTP error in OpenAI's error format, with a Retry-After header when retry_after is given."""
    return Reply(status=status, error_message=message, retry_after=retry_after)


def hang(seconds: float, content: str = "OK") -> Reply:
    """Sleep `seconds` before answering, to provoke client timeouts."""
    return Reply(content=content, delay_s=seconds)


def malformed() -> Reply:
    """HTTP 200 whose body is not valid JSON."""
    return Reply(malformed=True)


def empty() -> Reply:
    """HTTP 200 with empty content and no tool calls."""
    return Reply(content="")


def default_responder(request_body: dict) -> Reply:
    return text("OK")


class StubLLM:
    """An OpenAI-compatible chat server on a background thread; see the module docstring."""

    def __init__(
        self,
        responder: Responder | None = None,
        latency: float = 0.0,
        *,
        host: str = DEFAULT_HOST,
        port: int = 0,
    ):
        self.responder: Responder = responder or default_responder
        self.latency = latency
        self.host = host
        self.port = port
        self.requests: list[dict] = []
        self._scripts: dict[str, deque[Reply]] = {}
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def script(self, model: str, replies: list[Reply]) -> None:
        """Queue replies for the next calls naming `model` (an "openai/" prefix is ignored)."""
        model = model.removeprefix("openai/")
        with self._lock:
            self._scripts.setdefault(model, deque()).extend(replies)

    def start(self) -> StubLLM:
        if self._thread is not None:
            raise RuntimeError("StubLLM already started")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="stub-llm", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start_site(), self._loop).result(timeout=10)
        return self

    def stop(self) -> None:
        if self._thread is None or self._loop is None:
            return
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
        self._thread = self._loop = self._runner = None

    def __enter__(self) -> StubLLM:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    async def _start_site(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat_completions)
        app.router.add_get("/v1/models", self._models)
        # handler_cancellation: a client that gave up (timeout) must not keep a hang() sleeping.
        self._runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=_SHUTDOWN_GRACE_S
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    def _next_reply(self, body: dict) -> Reply:
        with self._lock:
            self.requests.append(body)
            queued = self._scripts.get(body.get("model", ""))
            if queued:
                return queued.popleft()
        return self.responder(body)

    async def _chat_completions(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return _error_response(400, "request body is not valid JSON")
        if not isinstance(body, dict):
            return _error_response(400, "request body must be a JSON object")
        try:
            reply = self._next_reply(body)
        except Exception as exc:  # a broken responder is a test bug: say so over HTTP
            return _error_response(500, f"responder failed: {exc!r}")
        delay_s = self.latency if reply.delay_s is None else reply.delay_s
        if delay_s > 0:
            await asyncio.sleep(delay_s)
        if reply.status != 200:
            return _error_response(reply.status, reply.error_message or "stub error", reply.retry_after)
        if reply.malformed:
            return web.Response(
                text='{"id": "chatcmpl-broken", "choices": [', content_type="application/json"
            )
        return web.json_response(_completion(body, reply))

    async def _models(self, request: web.Request) -> web.Response:
        with self._lock:
            names = sorted({"stub", *self._scripts})
        data = [{"id": name, "object": "model", "created": 0, "owned_by": "compass-tui"} for name in names]
        return web.json_response({"object": "list", "data": data})


def _completion(body: dict, reply: Reply) -> dict:
    tool_calls = None
    if reply.tool_name is not None:
        arguments = reply.tool_arguments
        tool_calls = [
            {
                "id": f"call_{uuid.uuid4().hex[:24]}",
                "type": "function",
                "function": {
                    "name": reply.tool_name,
                    "arguments": arguments if isinstance(arguments, str) else json.dumps(arguments or {}),
                },
            }
        ]
    prompt_tokens = _word_count(json.dumps(body.get("messages", [])))
    completion_tokens = _word_count(reply.content or "") + (1 if tool_calls else 0)
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "stub"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply.content, "tool_calls": tool_calls},
                "finish_reason": "tool_calls" if tool_calls else "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def _word_count(text: str) -> int:
    return len(text.split())


def _error_response(status: int, message: str, retry_after: float | None = None) -> web.Response:
    headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else None
    payload = {"error": {"message": message, "type": _error_type(status), "code": str(status)}}
    return web.json_response(payload, status=status, headers=headers)


def _error_type(status: int) -> str:
    if status in (401, 403):
        return "authentication_error"
    if status == 429:
        return "rate_limit_error"
    if status >= 500:
        return "server_error"
    return "invalid_request_error"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tools.stub_llm",
        description="Serve an OpenAI-compatible stub chat API that answers 'OK'.",
    )
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds to wait before each answer")
    args = parser.parse_args(argv)
    with StubLLM(latency=args.latency, host=args.host, port=args.port) as stub:
        print(f"stub LLM at {stub.base_url} (latency {args.latency:g} s); Ctrl-C stops it", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
