"""Running a synthesis job: each persona's stages asked in order, each saved as it arrives, retried with
the validation error, failures recorded with the model's answers; then the near-duplicate check."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from compass_tui import synthesis_prompts as prompts
from compass_tui.errors import InputError
from compass_tui.records import now_iso, writer_lock
from compass_tui.synthesis.duplicates import DuplicateReport, library_duplicates
from compass_tui.synthesis.plan import (
    FAILURES_TABLE,
    JOB_TABLE,
    MAX_ATTEMPTS,
    STAGES,
    STAGES_TABLE,
    STATE_TABLE,
    SynthesisPlan,
    job_lock_path,
    job_path,
    persona_path,
)
from compass_tui.synthesis.stages import StageInvalid, assemble, check_stage, parse_answer, stage_prompt

if TYPE_CHECKING:
    from compass_tui.library import PersonaLibrary
    from compass_tui.store import Store
    from compass_tui.tools.embeddings import Embedder


@dataclass
class SynthesisEvent:
    """What the progress callback is told. kind: started | retry | stage_done | done | skipped | failed."""

    index: int
    count: int
    kind: str
    stage: str = ""
    attempt: int = 0
    detail: str = ""

    def line(self) -> str:
        head = f"persona {self.index}/{self.count}"
        if self.stage:
            head += f" {self.stage}"
        tail = f" (attempt {self.attempt})" if self.attempt else ""
        return f"{head}: {self.kind}{tail}" + (f": {self.detail}" if self.detail else "")


@dataclass
class Failure:
    index: int
    stage: str
    reason: str
    last_output: str | None = None


@dataclass
class SynthesisResult:
    job: str
    plan: dict[str, Any]
    written: list[str] = field(default_factory=list)  # saved into the library by this call
    already: list[str] = field(default_factory=list)  # finished by an earlier call of the same job
    failed: list[Failure] = field(default_factory=list)
    duplicates: DuplicateReport | None = None
    requests: int = 0  # LLM calls made by this call
    sampling_seed: int | None = None  # the seed sent with every call; None when the provider takes none

    @property
    def personas(self) -> list[str]:
        return self.written + self.already

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.plan,
            "written": self.written,
            "already": self.already,
            "failed": [asdict(failure) for failure in self.failed],
            "duplicates": asdict(self.duplicates) if self.duplicates else None,
            "requests": self.requests,
            "sampling_seed": self.sampling_seed,
        }


class _StageFailed(Exception):
    def __init__(self, stage: str, reason: str, answers: list[str], fatal: bool = False):
        super().__init__(reason)
        self.stage, self.reason, self.answers, self.fatal = stage, reason, answers, fatal


Progress = Callable[[SynthesisEvent], None]


class _Job:
    def __init__(
        self,
        plan: SynthesisPlan,
        store: Store,
        library: PersonaLibrary,
        on_progress: Progress | None,
        max_retries: int,
        sampling_seed: int | None,
    ):
        from compass_tui.model_calls import ModelCalls

        self.sampling_seed = sampling_seed
        self.plan = plan
        self.store = store
        self.library = library
        self.on_progress = on_progress
        self.calls = ModelCalls(max_retries=max_retries)
        self.requests = 0
        self.fatal: str | None = None

    def tell(self, index: int, kind: str, stage: str = "", attempt: int = 0, detail: str = "") -> None:
        if self.on_progress is not None:
            self.on_progress(SynthesisEvent(index, self.plan.count, kind, stage, attempt, detail))

    async def persona(self, index: int) -> tuple[str, str | Failure]:
        """("written" | "already", persona id) or ("failed", Failure)."""
        shard = persona_path(self.plan.job, index)
        exists = self.store.path(shard).is_file()
        state = self.store.get(shard, STATE_TABLE, "state") if exists else None
        if state and state.get("status") == "done":
            self.tell(index, "skipped", detail=f"finished earlier as {state['persona_id']}")
            return "already", state["persona_id"]
        if self.fatal:
            return "failed", Failure(index, "", f"not attempted: {self.fatal}")
        stages = {doc["key"]: doc["output"] for doc in self.store.all(shard, STAGES_TABLE)} if exists else {}
        for stage in STAGES:
            if stage in stages:
                continue
            try:
                output, attempts = await self.stage(index, stage, stages)
            except _StageFailed as failed:
                return "failed", self.record_failure(shard, index, failed)
            self.store.upsert(
                shard, STAGES_TABLE, stage, {"output": output, "attempts": attempts, "at": now_iso()}
            )
            stages[stage] = output
            self.tell(index, "stage_done", stage, attempts)
        return self.finish(shard, index, stages)

    def finish(self, shard: str, index: int, stages: dict[str, Any]) -> tuple[str, str | Failure]:
        try:
            persona = assemble(self.plan, index, stages, str(self.store.path(shard)), self.sampling_seed)
            self.library.save(persona)
        except InputError as error:
            return "failed", self.record_failure(shard, index, _StageFailed("persona", str(error), []))
        self.store.upsert(
            shard, STATE_TABLE, "state", {"status": "done", "persona_id": persona.id, "at": now_iso()}
        )
        self.tell(index, "done", detail=persona.id)
        return "written", persona.id

    async def stage(self, index: int, stage: str, stages: dict[str, Any]) -> tuple[dict[str, Any], int]:
        from compass_tui.llm import LLMError
        from compass_tui.model_calls import FATAL_KINDS, FatalModelError

        messages = [
            {"role": "system", "content": prompts.SYSTEM},
            {"role": "user", "content": stage_prompt(stage, stages, self.plan, index)},
        ]
        answers: list[str] = []
        for attempt in range(1, MAX_ATTEMPTS + 1):
            self.tell(index, "started" if attempt == 1 else "retry", stage, attempt)
            self.requests += 1
            try:
                result = await self.calls.complete(self.plan.model, messages, seed=self.sampling_seed)
            except (LLMError, FatalModelError) as error:
                fatal = isinstance(error, FatalModelError) or error.kind in FATAL_KINDS
                if fatal:
                    self.fatal = self.fatal or str(error)
                raise _StageFailed(stage, str(error), answers, fatal) from None
            answer = result.text or ""
            answers.append(answer)
            try:
                return check_stage(stage, parse_answer(answer), stages, self.plan.mix), attempt
            except StageInvalid as invalid:
                problem = str(invalid)
            messages += [
                {"role": "assistant", "content": answer},
                {"role": "user", "content": prompts.RETRY.format(error=problem)},
            ]
        raise _StageFailed(stage, f"invalid after {MAX_ATTEMPTS} answers: {problem}", answers)

    def record_failure(self, shard: str, index: int, failed: _StageFailed) -> Failure:
        last = failed.answers[-1] if failed.answers else None
        document = {
            "status": "failed",
            "stage": failed.stage,
            "reason": failed.reason,
            "last_output": last,
            "answers": failed.answers,
            "at": now_iso(),
        }
        self.store.upsert(shard, STATE_TABLE, "state", document)
        self.store.upsert(shard, FAILURES_TABLE, f"{document['at']} {failed.stage}", document)
        self.tell(index, "failed", failed.stage, detail=failed.reason)
        return Failure(index, failed.stage, failed.reason, last)


async def synthesise(
    plan: SynthesisPlan,
    store: Store,
    library: PersonaLibrary,
    *,
    embedder: Embedder | None = None,
    on_progress: Progress | None = None,
    concurrency: int = 1,
    max_retries: int = 4,
) -> SynthesisResult:
    """Synthesise (or resume) the plan's personas, then look for near-duplicates among them and the library.

    One process at a time per job: another live synthesis of the same job raises BusyError before any
    request. The seed goes to the model as litellm's `seed` where its provider takes one. An exception
    raised by `on_progress` stops the job; every stage saved until then is kept.
    """
    from compass_tui.llm import accepts_seed

    with writer_lock(store, job_lock_path(plan.job), f"synthesis job {plan.job!r}"):
        sampling_seed = plan.seed if await asyncio.to_thread(accepts_seed, plan.model) else None
        store.upsert(
            job_path(plan.job),
            JOB_TABLE,
            "job",
            {**plan.describe(), "sampling_seed": sampling_seed, "updated_at": now_iso()},
        )
        job = _Job(plan, store, library, on_progress, max_retries, sampling_seed)
        tasks = await _run_personas(job, plan.count, concurrency)
    result = SynthesisResult(plan.job, plan.describe())
    for task in tasks:
        kind, value = task.result()
        if isinstance(value, Failure):
            result.failed.append(value)
        else:
            (result.written if kind == "written" else result.already).append(value)
    result.requests = job.requests
    result.sampling_seed = sampling_seed
    result.duplicates = await asyncio.to_thread(library_duplicates, library, set(result.personas), embedder)
    return result


async def _run_personas(job: _Job, count: int, concurrency: int) -> list[asyncio.Task]:
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(index: int) -> tuple[str, str | Failure]:
        async with gate:
            return await job.persona(index)

    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(index)) for index in range(1, count + 1)]
    except BaseExceptionGroup as group:  # the callback's own exception, not a group, reaches the caller
        raise group.exceptions[0] from None
    return tasks
