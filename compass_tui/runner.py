"""Batch runs: many systems × personas × situations, concurrent, resumable, never repeating a finished item.

`execute_run` is a coroutine for its own event loop: the CLI calls it with asyncio.run, the TUI
runs it in a thread (`RunThread`) so that litellm's CPU cost never stalls the interface.
Store writes go through one writer thread in group commits, so durable saves never block the
loop either. Each step's record is queued as it happens; an item counts as finished once its
final record is on disk. Rerunning the same plan continues it: finished items are skipped,
interrupted ones resume from their last saved step, and errored ones are tried again.
"""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from compass_tui.config import BASELINE_MODEL, ModelConfig, Settings
from compass_tui.errors import InputError
from compass_tui.interaction_record import InteractionRecord, RecordError, as_record
from compass_tui.model_calls import FatalModelError, ModelCalls
from compass_tui.persona import Persona
from compass_tui.pipeline import Interaction, System, persona_as_shown, run_interaction
from compass_tui.prompts import PromptSet
from compass_tui.records import (
    INTERACTIONS_TABLE,
    META_TABLE,
    new_record,
    now_iso,
    record_location,
    record_step,
    run_lock,
    run_meta_path,
    run_records_path,
    run_variants_path,
)
from compass_tui.run_meta import RunMeta
from compass_tui.run_progress import RunProgress
from compass_tui.run_writer import RunWriter
from compass_tui.store import Store
from compass_tui.tools.environment import ToolEnvironment
from compass_tui.user_simulator import SimulatorError, history_line, simulate_feedback
from compass_tui.variants import HISTORY_REFUSED, Variant, persona_saying
from compass_tui.vocab import SETTINGS

HISTORY_SCORED_TAIL = 3


@dataclass
class RunPlan:
    run_id: str
    setting: str
    systems: list[System]
    personas: list[Persona]
    prompts: PromptSet
    concurrency: int = 8
    history_enabled: bool = True
    simulator: ModelConfig | None = None
    simulator_name: str = "rule"
    today: date = field(default_factory=date.today)
    only_situations: set[int] | None = None  # run just these situations (not in the history setting)
    max_retries: int = 4
    simulator_fallback: bool = False  # a failing LLM simulator falls back to the rule instead of erring
    fidelity: str = "clean"  # "official": prompts filled as ComPASS's scripts fill them (prompts.fidelity)
    variant: Variant | None = None  # a what-if: its one situation asked with these words, saved apart

    def __post_init__(self) -> None:
        if self.variant is None:
            return
        if self.setting == "history":
            raise InputError(None, "--setting", HISTORY_REFUSED)
        persona = next(p for p in self.personas if p.id == self.variant.persona_id)
        self.personas = [persona_saying(persona, self.variant)]
        self.only_situations = {self.variant.situation_index}

    def meta(self) -> RunMeta:
        return RunMeta.for_run(
            run_id=self.run_id,
            name=self.run_id,
            setting=self.setting,
            models=[s.name for s in self.systems],
            personas=[p.id for p in self.personas],
            history=self.history_enabled if self.setting == "history" else None,
            prompt_source=self.prompts.source,
            prompt_hash=self.prompts.hash,
            fidelity=self.fidelity,
            simulator=self.simulator_name if self.setting == "history" else None,
            simulator_fallback=self._fallback_label(),
            today=self.today.isoformat(),
            source="compass-tui",
        )

    def _fallback_label(self) -> str | None:
        if self.setting != "history" or self.simulator is None:
            return None
        return "rule" if self.simulator_fallback else "none"


ProgressCallback = Callable[[RunProgress, dict[str, Any] | None], None]


def resolve_systems(names: list[str], setting: str, settings: Settings) -> list[System]:
    """Systems from --models: model names, or A+B pairs (tool by A, response by B) for hybrid."""
    if setting not in SETTINGS:
        raise InputError(None, "--setting", f"unknown setting {setting!r}; choose {', '.join(SETTINGS)}")
    if setting == "hybrid" and names and all("+" not in name for name in names):
        if len(names) != 2:
            raise InputError(None, "--models", "hybrid takes pairs TOOL+RESPONSE, or exactly two models")
        names = [f"{names[0]}+{names[1]}"]
    systems = []
    for name in names:
        if names.count(name) > 1:
            raise InputError(None, "--models", f"{name!r} is given more than once")
        tool_name, _, response_name = name.partition("+")
        if setting == "hybrid" and not response_name:
            raise InputError(None, "--models", f"{name!r}: hybrid systems are written TOOL+RESPONSE")
        tool_model = _model(tool_name, settings)
        response_model = _model(response_name or tool_name, settings)
        if (tool_model is None) != (response_model is None):
            raise InputError(None, "--models", f"{name!r}: the baseline cannot be paired with an LLM")
        systems.append(System(name, tool_model, response_model))
    if not systems:
        raise InputError(None, "--models", "no models given")
    return systems


def _model(name: str, settings: Settings) -> ModelConfig | None:
    return None if name == BASELINE_MODEL else settings.model(name)


def check_keys(systems: list[System]) -> None:
    """A missing API key is reported once, before any call is made."""
    for system in systems:
        for model in (system.tool_model, system.response_model):
            if model is not None and model.api_key_env and not model.api_key():
                raise InputError(
                    None,
                    f"models.{system.name}",
                    f"environment variable {model.api_key_env} is not set (it holds this model's API key)",
                )


RESUME_MUST_MATCH = ("setting", "history", "prompt_hash")


def check_resumable(store: Store, plan: RunPlan) -> None:
    """The one-line error of a --name whose run was made otherwise, before anything is printed or written."""
    existing = store.get(run_meta_path(plan.run_id), META_TABLE, "meta")
    if existing is not None:
        stored = RunMeta.from_document(existing, run_meta_path(plan.run_id))
        plan.meta().merged_into(stored, RESUME_MUST_MATCH)


def prepare_run(store: Store, plan: RunPlan) -> dict[str, dict[str, Any]]:
    """Create or check the run's metadata; returns the records already saved, by key."""

    def merged(existing: dict[str, Any] | None) -> dict[str, Any]:  # under the shard's lock: no model is lost
        stored = None if existing is None else RunMeta.from_document(existing, run_meta_path(plan.run_id))
        meta = replace(plan.meta(), created_at=now_iso())
        meta = meta.merged_into(stored, RESUME_MUST_MATCH)
        return replace(meta, status="running", updated_at=now_iso()).to_document()

    store.modify(run_meta_path(plan.run_id), META_TABLE, "meta", merged)
    saved: dict[str, dict[str, Any]] = {}
    shard = run_variants_path if plan.variant else run_records_path
    for persona in plan.personas:
        for record in store.all(shard(plan.run_id, persona.id), INTERACTIONS_TABLE):
            saved[record["key"]] = record
    return saved


@dataclass
class _Run:
    """What every item of one run shares while it executes."""

    plan: RunPlan
    env: ToolEnvironment
    saved: dict[str, dict[str, Any]]
    writer: RunWriter
    semaphore: asyncio.Semaphore
    progress: RunProgress
    report: ProgressCallback
    calls: ModelCalls
    shown_personas: dict[str, str] = field(default_factory=dict)

    def shown_persona(self, persona: Persona) -> str:
        """Worked out once per persona: its 15 situations show the agent the same text."""
        if persona.id not in self.shown_personas:
            self.shown_personas[persona.id] = persona_as_shown(persona, self.plan.setting)
        return self.shown_personas[persona.id]

    async def save(self, record: dict[str, Any]) -> None:
        """Queue the record of each step as it happens; `_one` waits until the finished item is durable.

        A crash can lose a step written a moment before, and the item redoes that step on resume; an
        item counts as finished only once it is on disk, so a finished item is never asked again.
        """
        self.writer.save_record(self.plan.run_id, record)


_frozen_runs = 0
_frozen_lock = threading.Lock()


@contextmanager
def long_lived_objects_frozen() -> Iterator[None]:
    """Keep what exists before a run (litellm's modules and price tables, the catalogues, the personas:
    some 0.5 M objects) out of the cyclic collector's full passes while it runs. Each full pass over
    them costs about 0.2 s of CPU, and a batch run triggers one every few hundred interactions.
    Nested and concurrent runs share the freeze; the last one out lifts it."""
    global _frozen_runs
    with _frozen_lock:
        if _frozen_runs == 0:
            gc.freeze()
        _frozen_runs += 1
    try:
        yield
    finally:
        with _frozen_lock:
            _frozen_runs -= 1
            if _frozen_runs == 0:
                gc.unfreeze()


async def execute_run(
    plan: RunPlan, store: Store, env: ToolEnvironment, on_progress: ProgressCallback | None = None
) -> RunProgress:
    """Run the plan holding the run's writer lock: a second writer of the same run is refused (BusyError)."""
    with run_lock(store, plan.run_id) as note:
        progress = await _execute_locked(plan, store, env, on_progress)
    if note:
        progress.notes.append(note)
    return progress


async def _execute_locked(
    plan: RunPlan, store: Store, env: ToolEnvironment, on_progress: ProgressCallback | None
) -> RunProgress:
    saved = prepare_run(store, plan)
    if any(not system.is_baseline for system in plan.systems) or plan.simulator is not None:
        from compass_tui.llm import import_litellm

        await asyncio.to_thread(import_litellm)
    only = plan.only_situations

    def per_persona(persona: Persona) -> int:
        return len(only) if only is not None and plan.setting != "history" else len(persona.situations)

    progress = RunProgress(total=len(plan.systems) * sum(per_persona(p) for p in plan.personas))
    run = _Run(
        plan,
        env,
        saved,
        RunWriter(store),
        asyncio.Semaphore(plan.concurrency),
        progress,
        on_progress or (lambda *_: None),
        ModelCalls(plan.max_retries),
    )
    status: str | None = None
    try:
        with long_lived_objects_frozen():
            await asyncio.gather(
                *(_chain(run, system, persona) for system in plan.systems for persona in plan.personas)
            )
    except (asyncio.CancelledError, KeyboardInterrupt):
        status = "interrupted"
        raise
    finally:
        run.writer.close()
        final = status or progress.final_status()
        store.update(
            run_meta_path(plan.run_id), META_TABLE, "meta", {"status": final, "updated_at": now_iso()}
        )
    return progress


async def _chain(run: _Run, system: System, persona: Persona) -> None:
    """One system on one persona. In the history setting the situations run in order; otherwise in parallel."""
    indexes = list(range(len(persona.situations)))
    if run.plan.setting != "history":
        if run.plan.only_situations is not None:
            indexes = [index for index in indexes if index in run.plan.only_situations]
        await asyncio.gather(*(_one(run, system, persona, index, []) for index in indexes))
        return
    previous: list[dict[str, Any]] = []
    for index in indexes:
        record = await _one(run, system, persona, index, previous)
        if record is None:  # the model failed for good: the later turns are not attempted
            for _ in indexes[index + 1 :]:
                run.progress.count_stopped(system.name)
            return
        previous.append(record)


async def _one(
    run: _Run, system: System, persona: Persona, index: int, previous: list[dict[str, Any]]
) -> dict[str, Any] | None:
    plan, progress = run.plan, run.progress
    fresh = _new_record(plan, system, persona, index)
    record = run.saved.get(record_location(plan.run_id, fresh)[1]) or fresh
    resumed = as_record(record)
    if resumed.status == "done" and not _awaits_feedback(plan, resumed):
        progress.skipped += 1
        run.report(progress, None)
        return record
    if system.name in progress.fatal:
        _stop(run, system)
        return None
    item = Interaction(
        system,
        persona,
        index,
        plan.setting,
        plan.run_id,
        plan.prompts,
        run.env,
        plan.today,
        calls=run.calls,
        shown_persona=run.shown_persona(persona),
        variant_id=plan.variant.id if plan.variant else None,
    )
    if plan.setting == "history":
        shown = previous if plan.history_enabled else []
        item.history_text = "\n".join(history_line(r) for r in shown) or "None"
        item.history_records = shown
        item.liked_history, item.disliked_history = _tools_by_feedback(shown)
    async with run.semaphore:
        if system.name in progress.fatal:
            _stop(run, system)
            return None
        try:
            # the reply is saved; only the simulator is asked again
            if _awaits_feedback(plan, as_record(record)):
                record_step(record, status="done", error=None)
            else:
                record = await run_interaction(item, record, run.save)
            if plan.setting == "history" and as_record(record).status == "done":
                await _add_feedback(run, item, record)
        except FatalModelError as error:
            progress.fatal.setdefault(system.name, str(error))
            if _counted_as_error(progress, system, persona, index, record):
                run.report(progress, record)
            else:  # stopped at the gate before sending anything
                _stop(run, system)
            return None
    await run.writer.durable(plan.run_id, record)  # outside the semaphore: the slot goes to the next item
    if not _counted_as_error(progress, system, persona, index, record):
        progress.finished += 1
    run.report(progress, record)
    return record


def _awaits_feedback(plan: RunPlan, record: InteractionRecord) -> bool:
    """A history turn whose reply is saved but whose user feedback is missing or failed."""
    if plan.setting != "history" or record.feedback:
        return False
    failed_stage = record.error.stage if record.error else None
    return record.status == "done" or (record.status == "error" and failed_stage == "simulator")


async def _add_feedback(run: _Run, item: Interaction, record: dict[str, Any]) -> None:
    plan = run.plan
    try:
        feedback = await simulate_feedback(
            item, as_record(record), plan.simulator, plan.simulator_name, plan.simulator_fallback
        )
        record_step(record, feedback=feedback)
    except SimulatorError as error:
        record_step(
            record,
            status="error",
            error=RecordError(stage="simulator", kind=error.kind, message=str(error)),
            finished_at=now_iso(),
        )
    await run.save(record)


def _stop(run: _Run, system: System) -> None:
    run.progress.count_stopped(system.name)
    run.report(run.progress, None)


def _new_record(plan: RunPlan, system: System, persona: Persona, index: int) -> dict[str, Any]:
    situation = persona.situations[index]
    scored = index >= len(persona.situations) - HISTORY_SCORED_TAIL if plan.setting == "history" else True
    return new_record(
        run_id=plan.run_id,
        model=system.name,
        persona_id=persona.id,
        situation_index=index,
        setting=plan.setting,
        scenario_type=situation.scenario_type,
        emotion=situation.emotion_label,
        utterance=situation.utterance,
        scored=scored,
        variant=plan.variant.info() if plan.variant else None,
    )


def _counted_as_error(progress: RunProgress, system: System, persona: Persona, index: int, record) -> bool:
    """Count the record's error, if it ended in one; whether it did."""
    ended = as_record(record)
    if ended.status == "error":
        progress.count_error(system.name, f"{persona.id} #{index + 1}", ended.error or RecordError())
    return ended.status == "error"


def _tools_by_feedback(previous: list[dict[str, Any]]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(liked, disliked): scenario type -> the tools the user liked / disliked there, in turn order."""
    liked: dict[str, list[str]] = {}
    disliked: dict[str, list[str]] = {}
    for record in map(as_record, previous):
        feedback = record.feedback
        if feedback is not None and feedback.label in ("like", "dislike") and record.tool_folder:
            scenario_type = feedback.get("scenario_type") or record.scenario_type or "leisure"
            tools = liked if feedback.label == "like" else disliked
            tools.setdefault(scenario_type, []).append(record.tool_folder)
    return liked, disliked


class RunThread(threading.Thread):
    """Runs a plan on its own event loop in a background thread; `cancel()` stops it cleanly."""

    def __init__(
        self,
        plan: RunPlan,
        store: Store,
        env: ToolEnvironment,
        on_progress: ProgressCallback,
        on_finished: Callable[[RunProgress | None, BaseException | None], None],
    ):
        super().__init__(daemon=True, name=f"run-{plan.run_id}")
        self.plan, self.store, self.env = plan, store, env
        self.on_progress, self.on_finished = on_progress, on_finished
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None

    def run(self) -> None:
        # asyncio.Runner cancels leftover tasks (litellm's logging worker) before closing the loop.
        with asyncio.Runner() as runner:
            self._loop = runner.get_loop()
            try:
                self._task = self._loop.create_task(
                    execute_run(self.plan, self.store, self.env, self.on_progress)
                )
                progress = self._loop.run_until_complete(self._task)
                self.on_finished(progress, None)
            except BaseException as error:  # reported to the UI, which stays up
                self.on_finished(None, error)

    def cancel(self) -> None:
        if self._loop is not None and self._task is not None:
            self._loop.call_soon_threadsafe(self._task.cancel)
