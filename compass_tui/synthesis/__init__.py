"""Personas synthesised by an LLM along the paper's stages (§3), one call per stage, each stage validated.

Stages, in order: demographic → big_five → personality → background → tool_preferences → scenarios →
utterances. An answer that fails its stage's checks is sent back with the error, up to MAX_ATTEMPTS
answers; after that the persona is recorded as failed, with every answer kept, and the others go on.

Every stage is saved as it arrives, in `synthesis/<job>/<n>.json` (TinyDB; tables "stages", "state"
and "failures"), and the job's parameters in `synthesis/<job>/job.json`. The job id comes from model,
seed, count and mix, so running the same command again resumes: finished stages are never asked
again, finished personas are skipped, and a failed persona is retried from its failed stage.
A finished persona is saved into the library with `origin: {"source": "synthesised", model, seed, job}`.

Modules: `plan` (parameters, job id, paths, the seed's draws), `stages` (prompts, checks, assembly),
`duplicates` (near-duplicate backgrounds), `job` (running and resuming, one process per job).
"""

from compass_tui.synthesis.duplicates import (
    EMBEDDING_THRESHOLD,
    LEXICAL_THRESHOLD,
    DuplicatePair,
    DuplicateReport,
    background_parts,
    near_duplicates,
)
from compass_tui.synthesis.job import Failure, Progress, SynthesisEvent, SynthesisResult, synthesise
from compass_tui.synthesis.plan import (
    DEFAULT_MIX,
    FAILURES_TABLE,
    JOB_TABLE,
    MAX_ATTEMPTS,
    MAX_COUNT,
    ORIGIN,
    SITUATION_COUNT,
    STAGES,
    STAGES_TABLE,
    STATE_TABLE,
    SynthesisPlan,
    job_id,
    job_path,
    load_plan,
    mix_text,
    parse_mix,
    persona_brief,
    persona_path,
    suggested_emotions,
)
from compass_tui.synthesis.stages import (
    StageInvalid,
    assemble,
    check_background,
    check_big_five,
    check_demographic,
    check_personality,
    check_scenarios,
    check_stage,
    check_tool_preferences,
    check_utterances,
    parse_answer,
    persona_id,
    stage_prompt,
)

__all__ = [
    "DEFAULT_MIX",
    "EMBEDDING_THRESHOLD",
    "FAILURES_TABLE",
    "JOB_TABLE",
    "LEXICAL_THRESHOLD",
    "MAX_ATTEMPTS",
    "MAX_COUNT",
    "ORIGIN",
    "SITUATION_COUNT",
    "STAGES",
    "STAGES_TABLE",
    "STATE_TABLE",
    "DuplicatePair",
    "DuplicateReport",
    "Failure",
    "Progress",
    "StageInvalid",
    "SynthesisEvent",
    "SynthesisPlan",
    "SynthesisResult",
    "assemble",
    "background_parts",
    "check_background",
    "check_big_five",
    "check_demographic",
    "check_personality",
    "check_scenarios",
    "check_stage",
    "check_tool_preferences",
    "check_utterances",
    "job_id",
    "job_path",
    "load_plan",
    "mix_text",
    "near_duplicates",
    "parse_answer",
    "parse_mix",
    "persona_brief",
    "persona_id",
    "persona_path",
    "stage_prompt",
    "suggested_emotions",
    "synthesise",
]
