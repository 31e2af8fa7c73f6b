"""How a run calls its models: the retry budget, and a gate per model that stops a bad key, an unknown
model or an unreachable endpoint after one item's worth of requests."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from compass_tui.config import ModelConfig


class FatalModelError(Exception):
    """An error that will hit every call of this system (bad key, unknown model): stop its items."""


FATAL_KINDS = ("auth", "not_found")
GATE_WAIT_S = 1.0  # an auth or not-found error comes back before any generation: well within this


@dataclass
class _Gate:
    probing: bool = False
    opened: asyncio.Event = field(default_factory=asyncio.Event)
    fatal: str | None = None
    reached: bool = False  # some call to this model has succeeded
    unreachable_so_far: bool = False  # the first call is retrying connection errors


def unreachable_message(model: ModelConfig) -> str:
    return f"model {model.model} unreachable at {model.api_base or 'its provider URL'}"


class ModelCalls:
    """How a run calls its models: with the settings' retry budget, and a gate per model.

    The first call to each model goes out alone and the others wait for its answer (at most
    GATE_WAIT_S, so a slow first reply costs the run one second, not one reply). If that answer
    says the key is wrong or the model does not exist, the waiting calls raise FatalModelError
    without sending anything: a bad key costs one request, not one per item in flight. While the
    first call retries connection errors the others keep waiting, and if it fails for good the
    model counts as unreachable: an endpoint that is down costs one item's retries, not every item's.
    Create one per run, inside its event loop.
    """

    def __init__(self, max_retries: int = 4):
        self.max_retries = max_retries
        self._gates: dict[tuple, _Gate] = {}
        self._native: dict[tuple, bool] = {}

    def native_tools(self, model: ModelConfig) -> bool:
        """`llm.uses_native_tools`, asked once per model: litellm's model-map lookups cost CPU on every call."""
        from compass_tui.llm import uses_native_tools

        key = (model.model, model.api_base, model.tool_calling)
        if key not in self._native:
            self._native[key] = uses_native_tools(model)
        return self._native[key]

    async def complete(self, model: ModelConfig, messages: list[dict], **options):
        from compass_tui.llm import LLMError, acomplete

        gate = self._gates.setdefault((model.model, model.api_base, model.api_key_env), _Gate())
        probe = not gate.probing
        if probe:
            gate.probing = True
            options["on_retry"] = lambda failure: self._note_retry(gate, failure)
        else:
            await self._wait_for_probe(gate, model)
        if gate.fatal:
            raise FatalModelError(gate.fatal)
        try:
            result = await acomplete(model, messages, max_retries=self.max_retries, **options)
        except LLMError as error:
            if error.kind in FATAL_KINDS:
                gate.fatal = gate.fatal or str(error)
            elif probe and error.kind == "connection" and not gate.reached:
                gate.fatal = gate.fatal or unreachable_message(model)
            raise
        else:
            gate.reached = True
            return result
        finally:
            if probe:
                gate.unreachable_so_far = False
                gate.opened.set()

    @staticmethod
    def _note_retry(gate: _Gate, failure) -> None:
        gate.unreachable_so_far = failure.kind == "connection" and not gate.reached

    @staticmethod
    async def _wait_for_probe(gate: _Gate, model: ModelConfig) -> None:
        while not gate.opened.is_set():
            try:
                await asyncio.wait_for(gate.opened.wait(), timeout=min(model.timeout, GATE_WAIT_S))
            except TimeoutError:
                if not gate.unreachable_so_far:
                    return  # a slow first answer must not hold the whole run back
