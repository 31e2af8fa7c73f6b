"""A synthesis job's plan: the model, count, seed and scenario mix, the job id they give, where its
stages are saved, and the starting points the seed draws for each persona."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from compass_tui.errors import InputError
from compass_tui.names import storage_name
from compass_tui.vocab import EMOTIONS, SCENARIO_KEYS, scenario_key

if TYPE_CHECKING:
    from compass_tui.config import ModelConfig, Settings
    from compass_tui.store import Store


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


def job_lock_path(job: str) -> str:
    return f"synthesis/{storage_name(job)}/writer.lock"


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
