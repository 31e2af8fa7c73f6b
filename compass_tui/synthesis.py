"""Personas synthesised by an LLM along the paper's stages (§3), one call per stage, each stage validated.

Stages, in order: demographic → big_five → personality → background → tool_preferences → scenarios →
utterances. An answer that fails its stage's checks is sent back with the error, up to MAX_ATTEMPTS
answers; after that the persona is recorded as failed, with every answer kept, and the others go on.

Every stage is saved as it arrives, in `synthesis/<job>/<n>.json` (TinyDB; tables "stages", "state"
and "failures"), and the job's parameters in `synthesis/<job>/job.json`. The job id comes from model,
seed, count and mix, so running the same command again resumes: finished stages are never asked
again, finished personas are skipped, and a failed persona is retried from its failed stage.
A finished persona is saved into the library with `origin: {"source": "synthesised", model, seed, job}`.

Near-duplicates: the background texts of this job's personas are compared with each other and with the
library's by cosine similarity of sentence embeddings (EMBEDDING_THRESHOLD), or of TF-IDF vectors when
no embedding model loads (LEXICAL_THRESHOLD); pairs at or above the threshold are reported.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel, ValidationError

from compass_tui import synthesis_prompts as prompts
from compass_tui.errors import InputError
from compass_tui.jsonio import loads_strict
from compass_tui.names import storage_name
from compass_tui.persona import (
    Background,
    BigFive,
    Demographic,
    Persona,
    ToolPreference,
    persona_from_dict,
    validation_message,
)
from compass_tui.records import now_iso
from compass_tui.vocab import BACKGROUND_ASPECTS, EMOTIONS, SCENARIO_KEYS, scenario_key

if TYPE_CHECKING:
    from compass_tui.config import ModelConfig, Settings
    from compass_tui.library import PersonaLibrary
    from compass_tui.store import Store
    from compass_tui.tools.embeddings import Embedder

STAGES: tuple[str, ...] = (
    "demographic",
    "big_five",
    "personality",
    "background",
    "tool_preferences",
    "scenarios",
    "utterances",
)
MAX_ATTEMPTS = 3
SITUATION_COUNT = 15
DEFAULT_MIX: dict[str, int] = {key: 3 for key in SCENARIO_KEYS}  # the benchmark's: 3 of each type
MAX_COUNT = 1000
EMBEDDING_THRESHOLD = 0.90  # cosine of all-MiniLM-L6-v2 (or the configured model's) embeddings
LEXICAL_THRESHOLD = 0.80  # cosine of TF-IDF vectors (unigrams and bigrams)
ORIGIN = "synthesised"
STAGES_TABLE, STATE_TABLE, FAILURES_TABLE, JOB_TABLE = "stages", "state", "failures", "job"

_AGE_BANDS = ((8, 12), (13, 17), (18, 24), (25, 34), (35, 44), (45, 54), (55, 64), (65, 74), (75, 90))
_GENDERS = ("woman", "man", "woman", "man", "non-binary person")
_REGIONS = (
    "East Asia",
    "South Asia",
    "South-East Asia",
    "the Middle East",
    "North Africa",
    "West Africa",
    "East Africa",
    "Southern Africa",
    "Western Europe",
    "Eastern Europe",
    "Northern Europe",
    "Southern Europe",
    "North America",
    "Central America or the Caribbean",
    "South America",
    "Oceania",
)
_SETTINGS = ("a big city", "a small town", "a village or the countryside", "a suburb")
_FENCE_RE = re.compile(r"^\s*```[a-zA-Z]*\s*\n?(.*?)\n?```\s*$", re.DOTALL)


class StageInvalid(ValueError):
    """A stage's answer that fails its checks; the message goes back to the model."""


# --- the plan -------------------------------------------------------------------------------------


def parse_mix(text: str | None) -> dict[str, int]:
    """`--scenario-mix`: `work_study=4,health=2,...` (keys or labels; missing types are 0) or five
    counts in the order work_study,health,family,social,leisure. The counts must add up to 15."""
    if text is None or not text.strip():
        return dict(DEFAULT_MIX)
    parts = [part.strip() for part in text.split(",") if part.strip()]
    mix = dict.fromkeys(SCENARIO_KEYS, 0)
    if all("=" not in part for part in parts):
        if len(parts) != len(SCENARIO_KEYS):
            raise _bad_mix(f"give five counts ({','.join(SCENARIO_KEYS)}) or TYPE=N pairs")
        pairs = list(zip(SCENARIO_KEYS, parts))
    else:
        pairs = [tuple(part.split("=", 1)) if "=" in part else (part, "") for part in parts]  # type: ignore[misc]
    for name, count in pairs:
        key = scenario_key(name)
        if key is None:
            raise _bad_mix(f"{name!r} is not a scenario type ({', '.join(SCENARIO_KEYS)})")
        if not count.strip().isdigit():
            raise _bad_mix(f"{name}: {count!r} is not a count")
        mix[key] = int(count)
    if sum(mix.values()) != SITUATION_COUNT:
        raise _bad_mix(f"the counts add up to {sum(mix.values())}, not {SITUATION_COUNT}")
    return mix


def _bad_mix(message: str) -> InputError:
    return InputError(None, "--scenario-mix", message)


def mix_text(mix: dict[str, int]) -> str:
    return ",".join(f"{key}={mix.get(key, 0)}" for key in SCENARIO_KEYS)


def job_id(model_name: str, seed: int, count: int, mix: dict[str, int]) -> str:
    """The same command gives the same job (and so resumes it)."""
    suffix = "" if mix == DEFAULT_MIX else "-m" + ".".join(str(mix[key]) for key in SCENARIO_KEYS)
    return f"{model_name}-s{seed}-n{count}{suffix}"


@dataclass
class SynthesisPlan:
    model_name: str  # the name in compass-tui.toml
    model: ModelConfig
    count: int
    seed: int = 0
    mix: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_MIX))

    def __post_init__(self) -> None:
        if not 1 <= self.count <= MAX_COUNT:
            raise InputError(None, "--count", f"must be between 1 and {MAX_COUNT}")
        if self.seed < 0:
            raise InputError(None, "--seed", "must be 0 or more")

    @property
    def job(self) -> str:
        return job_id(self.model_name, self.seed, self.count, self.mix)

    def describe(self) -> dict[str, Any]:
        return {
            "job": self.job,
            "model": self.model_name,
            "count": self.count,
            "seed": self.seed,
            "mix": self.mix,
        }


def job_path(job: str) -> str:
    return f"synthesis/{storage_name(job)}/job.json"


def persona_path(job: str, index: int) -> str:
    return f"synthesis/{storage_name(job)}/{index}.json"


def load_plan(store: Store, job: str, settings: Settings) -> SynthesisPlan:
    """The plan of an existing job, for `--resume JOB`."""
    saved = store.get(job_path(job), JOB_TABLE, "job") if store.path(job_path(job)).is_file() else None
    if saved is None:
        raise InputError(None, "--resume", f"no synthesis job {job!r} in {store.root / 'synthesis'}")
    return SynthesisPlan(
        model_name=saved["model"],
        model=settings.model(saved["model"]),
        count=saved["count"],
        seed=saved["seed"],
        mix=saved["mix"],
    )


def persona_brief(seed: int, index: int) -> dict[str, str]:
    """The starting points of persona `index` (1-based): drawn from the seed, so a job is reproducible."""
    rng = random.Random(f"{seed}:{index}")
    low, high = rng.choice(_AGE_BANDS)
    return {
        "age": f"between {low} and {high}",
        "gender": rng.choice(_GENDERS),
        "lives in": f"{rng.choice(_SETTINGS)} in {rng.choice(_REGIONS)}",
    }


def suggested_emotions(seed: int, index: int, count: int) -> list[str]:
    return random.Random(f"{seed}:{index}:emotions").sample(list(EMOTIONS), count)


# --- checking each stage's answer ------------------------------------------------------------------


def parse_answer(text: str | None) -> dict[str, Any]:
    """The JSON object of an answer (a code fence around it is allowed)."""
    body = (text or "").strip()
    fenced = _FENCE_RE.match(body)
    if fenced:
        body = fenced.group(1)
    try:
        data = loads_strict(body, source="answer")
    except InputError as error:
        raise StageInvalid(f"not valid JSON ({error.message})") from None
    if not isinstance(data, dict):
        raise StageInvalid("the answer must be one JSON object")
    return data


def _validated(model: type[BaseModel], data: Any, where: str = "") -> dict[str, Any]:
    try:
        return model.model_validate(data).model_dump(mode="json")
    except ValidationError as error:
        location, message = validation_message(error)
        raise StageInvalid(f"{where}{location}: {message}" if location or where else message) from None


def _require_text(data: dict[str, Any], keys: tuple[str, ...] | list[str], where: str = "") -> None:
    for key in keys:
        if not str(data.get(key, "")).strip():
            raise StageInvalid(f"{where}{key}: must not be empty")


def check_demographic(data: dict[str, Any]) -> dict[str, Any]:
    checked = _validated(Demographic, data)
    _require_text(checked, ("gender", "firstname", "career"))
    return checked


def check_big_five(data: dict[str, Any]) -> dict[str, Any]:
    return _validated(BigFive, data)


def check_personality(data: dict[str, Any]) -> dict[str, Any]:
    extra = set(data) - {"personality_description"}
    if extra:
        raise StageInvalid(f"{sorted(extra)[0]}: unknown field (only personality_description)")
    text = data.get("personality_description")
    if not isinstance(text, str) or len(text.split()) < 10:
        raise StageInvalid("personality_description: must be a text of at least 10 words")
    return {"personality_description": text.strip()}


def check_background(data: dict[str, Any]) -> dict[str, Any]:
    checked = _validated(Background, data)
    _require_text(checked, list(BACKGROUND_ASPECTS))
    return checked


def check_tool_preferences(data: dict[str, Any]) -> dict[str, Any]:
    checked: dict[str, Any] = {}
    for name, value in data.items():
        key = scenario_key(name)
        if key is None:
            raise StageInvalid(f"{name}: not a scenario type ({', '.join(SCENARIO_KEYS)})")
        preference = _validated(ToolPreference, value, f"{key}.")
        _require_text(preference, ("text",), f"{key}.")
        if not preference["liked"]:
            raise StageInvalid(f"{key}.liked: name at least one liked tool")
        checked[key] = preference
    missing = [key for key in SCENARIO_KEYS if key not in checked]
    if missing:
        raise StageInvalid(f"{missing[0]}: missing (all five scenario types are needed)")
    return {key: checked[key] for key in SCENARIO_KEYS}


def check_scenarios(data: dict[str, Any], mix: dict[str, int]) -> dict[str, Any]:
    situations = data.get("situations")
    wanted = sum(mix.values())
    if not isinstance(situations, list):
        raise StageInvalid("situations: must be a list")
    if len(situations) != wanted:
        raise StageInvalid(f"situations: {len(situations)} given, {wanted} wanted")
    checked = []
    for index, situation in enumerate(situations):
        where = f"situations[{index}]"
        if not isinstance(situation, dict):
            raise StageInvalid(f"{where}: must be an object")
        key = scenario_key(str(situation.get("scenario_type", "")))
        if key is None:
            raise StageInvalid(f"{where}.scenario_type: one of {', '.join(SCENARIO_KEYS)}")
        emotion = str(situation.get("emotion", "")).strip().lower()
        if emotion not in EMOTIONS:
            raise StageInvalid(f"{where}.emotion: {situation.get('emotion')!r} is not one of the 31 emotions")
        _require_text(situation, ("scenario",), f"{where}.")
        checked.append({"scenario_type": key, "emotion": emotion, "scenario": situation["scenario"].strip()})
    counts = Counter(situation["scenario_type"] for situation in checked)
    if any(counts.get(key, 0) != count for key, count in mix.items()):
        got = ", ".join(f"{key}={counts.get(key, 0)}" for key in SCENARIO_KEYS)
        raise StageInvalid(f"situations: the scenario types are {got}; wanted {mix_text(mix)}")
    return {"situations": checked}


def check_utterances(data: dict[str, Any], count: int) -> dict[str, Any]:
    utterances = data.get("utterances")
    if not isinstance(utterances, list) or not all(isinstance(u, str) for u in utterances):
        raise StageInvalid("utterances: must be a list of strings")
    if len(utterances) != count:
        raise StageInvalid(f"utterances: {len(utterances)} given, one per situation ({count}) wanted")
    for index, utterance in enumerate(utterances):
        if not utterance.strip():
            raise StageInvalid(f"utterances[{index}]: must not be empty")
    return {"utterances": [u.strip() for u in utterances]}


def check_stage(stage: str, data: dict[str, Any], stages: dict[str, Any], mix: dict[str, int]) -> dict:
    if stage == "scenarios":
        return check_scenarios(data, mix)
    if stage == "utterances":
        return check_utterances(data, len(stages["scenarios"]["situations"]))
    checks: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
        "demographic": check_demographic,
        "big_five": check_big_five,
        "personality": check_personality,
        "background": check_background,
        "tool_preferences": check_tool_preferences,
    }
    return checks[stage](data)


def stage_prompt(stage: str, stages: dict[str, Any], plan: SynthesisPlan, index: int) -> str:
    if stage == "demographic":
        return prompts.demographic(persona_brief(plan.seed, index))
    if stage == "scenarios":
        emotions = suggested_emotions(plan.seed, index, sum(plan.mix.values()))
        return prompts.scenarios(stages, plan.mix, emotions)
    builders: dict[str, Callable[[dict[str, Any]], str]] = {
        "big_five": prompts.big_five,
        "personality": prompts.personality,
        "background": prompts.background,
        "tool_preferences": prompts.tool_preferences,
        "utterances": prompts.utterances,
    }
    return builders[stage](stages)


# --- the persona ---------------------------------------------------------------------------------


def _slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")


def persona_id(job: str, index: int, demographic: dict[str, Any]) -> str:
    name = "-".join(filter(None, (_slug(demographic["firstname"]), _slug(demographic.get("lastname", "")))))
    tag = hashlib.sha256(job.encode()).hexdigest()[:6]
    return f"{(name or 'synth')[:60]}-{tag}-{index}"


def assemble(plan: SynthesisPlan, index: int, stages: dict[str, Any], source: str) -> Persona:
    demographic = stages["demographic"]
    utterances = stages["utterances"]["utterances"]
    situations = [
        {**situation, "utterance": utterance, "scenario_type_source": "author"}
        for situation, utterance in zip(stages["scenarios"]["situations"], utterances)
    ]
    document = {
        "id": persona_id(plan.job, index, demographic),
        "name": demographic["firstname"],
        "demographic": demographic,
        "big_five": stages["big_five"],
        "personality_description": stages["personality"]["personality_description"],
        "background": stages["background"],
        "tool_preferences": stages["tool_preferences"],
        "situations": situations,
        "origin": {"source": ORIGIN, "model": plan.model_name, "seed": plan.seed, "job": plan.job},
    }
    return persona_from_dict(document, source=source)


# --- near-duplicates ---------------------------------------------------------------------------------


@dataclass
class DuplicatePair:
    first: str
    second: str
    similarity: float


@dataclass
class DuplicateReport:
    mode: str  # "embedding" | "lexical"
    detail: str
    threshold: float
    compared: int  # personas whose backgrounds were compared
    pairs: list[DuplicatePair] = field(default_factory=list)


def background_parts(persona: Persona) -> list[str]:
    """The five background aspects (embedded one by one: the model reads 128 word pieces at most)."""
    return [text for text in persona.background.model_dump().values() if text.strip()]


def near_duplicates(
    texts: dict[str, list[str]], focus: set[str], embedder: Embedder | None
) -> DuplicateReport:
    """Pairs of backgrounds at or above the threshold, at least one of them in `focus`, most similar first."""
    ids = [persona for persona, parts in texts.items() if any(part.strip() for part in parts)]
    matrix, mode, detail = _similarities([texts[persona] for persona in ids], embedder)
    threshold = EMBEDDING_THRESHOLD if mode == "embedding" else LEXICAL_THRESHOLD
    pairs = [
        DuplicatePair(ids[i], ids[j], round(float(matrix[i, j]), 4))
        for i in range(len(ids))
        for j in range(i + 1, len(ids))
        if (ids[i] in focus or ids[j] in focus) and matrix[i, j] >= threshold
    ]
    pairs.sort(key=lambda pair: -pair.similarity)
    return DuplicateReport(mode, detail, threshold, len(ids), pairs)


def _similarities(texts: list[list[str]], embedder: Embedder | None) -> tuple[np.ndarray, str, str]:
    """Cosine similarities: of the mean of each text's part embeddings, else of TF-IDF over the whole text."""
    from compass_tui.tools.embeddings import EmbeddingUnavailable
    from compass_tui.tools.search import LexicalIndex

    size = len(texts)
    if size < 2:
        return np.zeros((size, size)), "lexical", "fewer than two backgrounds to compare"
    reason = "no embedding model"
    if embedder is not None:
        try:
            vectors = embedder.encode([part for parts in texts for part in parts])
        except EmbeddingUnavailable as error:
            reason = str(error)
        else:
            owners = np.repeat(np.arange(size), [len(parts) for parts in texts])
            means = np.vstack([vectors[owners == row].mean(axis=0) for row in range(size)])
            means /= np.linalg.norm(means, axis=1, keepdims=True)
            return means @ means.T, "embedding", f"cosine of {embedder.model_id} embeddings, aspect by aspect"
    whole = [" ".join(parts) for parts in texts]
    try:
        index = LexicalIndex(whole)
    except ValueError:  # nothing but stop words
        return np.zeros((size, size)), "lexical", "no words to compare"
    return np.vstack([index.scores(text) for text in whole]), "lexical", f"TF-IDF cosine ({reason})"


# --- running a job ---------------------------------------------------------------------------------


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
    ):
        from compass_tui.model_calls import ModelCalls

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
            persona = assemble(self.plan, index, stages, str(self.store.path(shard)))
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
                result = await self.calls.complete(self.plan.model, messages)
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

    An exception raised by `on_progress` stops the job; every stage saved until then is kept.
    """
    store.upsert(job_path(plan.job), JOB_TABLE, "job", {**plan.describe(), "updated_at": now_iso()})
    job = _Job(plan, store, library, on_progress, max_retries)
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(index: int) -> tuple[str, str | Failure]:
        async with gate:
            return await job.persona(index)

    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(index)) for index in range(1, plan.count + 1)]
    except BaseExceptionGroup as group:  # the callback's own exception, not a group, reaches the caller
        raise group.exceptions[0] from None
    result = SynthesisResult(plan.job, plan.describe())
    for task in tasks:
        kind, value = task.result()
        if isinstance(value, Failure):
            result.failed.append(value)
        else:
            (result.written if kind == "written" else result.already).append(value)
    result.requests = job.requests
    result.duplicates = await asyncio.to_thread(_duplicates, library, set(result.personas), embedder)
    return result


def _duplicates(library: PersonaLibrary, focus: set[str], embedder: Embedder | None) -> DuplicateReport:
    library.refresh()
    texts = {entry.id: background_parts(entry.persona) for entry in library.entries() if entry.persona}
    return near_duplicates(texts, focus, embedder)
