"""The tool environment: one entry point that takes a tool call and always returns a result record.

    record = await environment.call(raw_call, ToolContext(persona=persona, scope=run_id))

The record is a plain dict, saved as-is in run records:

    {"tool_folder_name", "function_name", "params", "form", "ok", "result", "error",
     "validation": {"valid", "strict_valid", "normalisations", "errors"},
     "mode", "search", "changes", "notes", "latency_ms"}

A call that is unknown, malformed, invalid or refers to a missing id comes back with
ok=False and a structured `error` naming the parameter; nothing here raises for bad calls.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compass_tui import paths
from compass_tui.config import ModelConfig
from compass_tui.persona import Persona
from compass_tui.store import Store
from compass_tui.tools.calls import CallProblem, parse_call, validate_params
from compass_tui.tools.data import ToolData
from compass_tui.tools.definitions import load_definitions, openai_tools
from compass_tui.tools.embeddings import Embedder, EmbeddingUnavailable
from compass_tui.tools.generative import OFFLINE, llm_result, offline_result
from compass_tui.tools.retrieval import RetrievalTools
from compass_tui.tools.search import Progress, SearchEngine
from compass_tui.tools.stateful import StatefulTools, ToolFailure

RETRIEVAL_FUNCTIONS = {
    "music_recommendation": "query_music",
    "film_recommendation": "search_movies",
    "joke_recommendation": "search_jokes",
    "story_recommender": "retrieve_story",
    "psyweb_recommender": "psychology_websites_recommender",
    "strength_card": "strengthcard",
    "sticker_respond": "retrieve_stickers",
}


@dataclass
class ToolContext:
    persona: Persona | None = None
    scope: str = "cli"

    @property
    def persona_id(self) -> str:
        return self.persona.id if self.persona else "_nobody"

    def patient(self) -> dict[str, str]:
        if self.persona is None:
            return {}
        return {"name": self.persona.display_name, "phone": self.persona.demographic.phone}


class ToolEnvironment:
    def __init__(
        self,
        data: ToolData,
        engine: SearchEngine,
        store: Store,
        tool_model: ModelConfig | None = None,
        tool_model_name: str | None = None,
    ):
        self.data = data
        self.engine = engine
        self.definitions = load_definitions(data.toolenv)
        self.retrieval = RetrievalTools(data, engine)
        self.stateful = StatefulTools(store, data)
        self.tool_model = tool_model
        self.tool_model_name = tool_model_name
        self._openai_tools = openai_tools(self.definitions)

    @classmethod
    def create(
        cls,
        store: Store,
        *,
        tool_data: Path | None = None,
        embedding_model: str | None = None,
        search_mode: str = "auto",
        cache_dir: Path | None = None,
        tool_model: ModelConfig | None = None,
        tool_model_name: str | None = None,
    ) -> ToolEnvironment:
        embedder = None if search_mode == "lexical" else Embedder(embedding_model, cache_dir)
        prebuilt = paths.bundled_tool_data_dir() / "embeddings" if tool_data is None else None
        engine = SearchEngine(embedder, cache_dir, search_mode, prebuilt_dir=prebuilt)
        return cls(ToolData(tool_data), engine, store, tool_model, tool_model_name)

    def openai_tools(self) -> list[dict[str, Any]]:
        """The same list on every call: it is sent with every stage-1 request, and nothing may change it."""
        return self._openai_tools

    async def call(self, raw_call: Any, context: ToolContext) -> dict[str, Any]:
        started = time.perf_counter()
        call = parse_call(raw_call)
        record: dict[str, Any] = {
            "tool_folder_name": call.folder,
            "function_name": call.function,
            "params": call.params,
            "form": call.form,
            "ok": False,
            "result": None,
            "error": None,
            "validation": None,
            "mode": None,
            "search": None,
            "changes": [],
            "notes": [],
        }
        if call.problem is None:
            assert call.folder is not None  # a call without a problem names its tool
            validation = validate_params(call.folder, call.params, self.definitions[call.folder])
            record["validation"] = validation.as_dict()
            record["params"] = validation.params
            if validation.valid:
                await self._run(call.folder, validation.params, context, record)
            else:
                record["error"] = validation.errors[0].as_dict()
        else:
            record["error"] = call.problem.as_dict()
        record["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
        return record

    def call_blocking(self, raw_call: Any, context: ToolContext) -> dict[str, Any]:
        return asyncio.run(self.call(raw_call, context))

    async def _run(self, folder: str, params: dict[str, Any], context: ToolContext, record: dict) -> None:
        try:
            if folder in RETRIEVAL_FUNCTIONS:
                method = getattr(self.retrieval, RETRIEVAL_FUNCTIONS[folder])
                if self.engine.mode == "lexical":  # about a millisecond: cheaper here than a thread hop
                    result, notes, search_mode = method(params)
                else:  # may load the model, and encodes the query
                    result, notes, search_mode = await asyncio.to_thread(method, params)
                if search_mode == "lexical" and self.engine.fallback_reason:
                    notes = [*notes, f"lexical search instead of semantic: {self.engine.fallback_reason}"]
                record.update(result=result, notes=notes, mode="retrieval", search=search_mode)
            elif folder == "schedule_manager":
                result, changes = await asyncio.to_thread(
                    self.stateful.schedule_api, params, context.scope, context.persona_id
                )
                record.update(result=result, changes=changes, mode="stateful")
            elif folder == "medical_appointment":
                result, changes = await asyncio.to_thread(
                    self.stateful.medical_appointment_operation,
                    params,
                    context.scope,
                    context.persona_id,
                    context.patient(),
                )
                record.update(result=result, changes=changes, mode="stateful")
            else:
                await self._generate(folder, params, record)
            record["ok"] = True
        except ToolFailure as failure:
            record["error"] = failure.problem.as_dict()
        except EmbeddingUnavailable as error:
            record["error"] = CallProblem("tool_failed", f"semantic search unavailable: {error}").as_dict()
        except Exception as error:  # the tool itself broke; the run records it and goes on
            record["error"] = CallProblem("tool_failed", f"{type(error).__name__}: {error}").as_dict()

    async def _generate(self, folder: str, params: dict[str, Any], record: dict) -> None:
        if self.tool_model is None:
            record.update(result=offline_result(folder, params), mode=OFFLINE)
            return
        result, usage = await llm_result(folder, params, self.tool_model)
        record.update(result=result, mode=f"llm:{self.tool_model_name or self.tool_model.model}", usage=usage)

    def reset_state(self, scope: str, persona_id: str) -> None:
        self.stateful.reset(scope, persona_id)

    def warm_up(self, on_progress: Progress | None = None) -> dict[str, str]:
        return self.retrieval.warm_up(on_progress)
