"""The LLM judge: six scores with a rationale each, validated, never clamped, cached, resumable.

Differences from ComPASS's judge script, on purpose:
- every score is validated per dimension; a missing score, a 0 or 6, 4.5, "4", true, null or text
  flags that dimension of that sample (five or seven scores flag all six: their order is lost),
  never clamped, and the other dimensions stand;
- an answer with any flag is asked again with the reasons attached; every answer is kept;
- one rationale per dimension (our prompt);
- each sample is saved the moment it arrives, keyed by (item, judge model, prompt hash, content
  hash): the content is what the judge reads, so a changed response is judged again;
  so an interrupted judging resumes without paying twice; a call the provider fails for good is
  not a sample, so a rerun asks for exactly the samples still missing;
- persona, utterance, tool result and response are untrusted: our prompt fences them in blocks
  whose delimiters are neutralised inside the content, and only the validated JSON is read.

`--judge-prompt FILE` takes ComPASS's eval_prompt.txt ({persona}, {scenario}, {utterance},
{tool_call}); its score list is mapped to our dimensions in the order the prompt itself states.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from compass_tui.config import ModelConfig
from compass_tui.errors import InputError
from compass_tui.interaction_record import InteractionRecord
from compass_tui.judge_prompt import (
    JUDGE_SYSTEM,
    MAX_ATTEMPTS,
    JudgePrompt,
    load_judge_prompt,
    neutralise,
    official_score_order,
)
from compass_tui.judgements import (
    ItemKey,
    content_hash,
    dimension_summary,
    item_key,
    judgement_key,
    persona_hash,
    record_hash,
)
from compass_tui.model_calls import FATAL_KINDS
from compass_tui.persona import Persona
from compass_tui.prompts import persona_text
from compass_tui.records import JUDGEMENTS_TABLE, judgement_location, now_iso
from compass_tui.rubric import RUBRIC_VERSION
from compass_tui.store import Store
from compass_tui.vocab import DIMENSION_KEYS

__all__ = [
    "JUDGE_SYSTEM",
    "JudgePrompt",
    "load_judge_prompt",
    "neutralise",
    "official_score_order",
]


def judged_persona(persona: Persona, record: InteractionRecord) -> Persona:
    """The persona as the judge must read it: for a what-if variant, saying the variant's words."""
    if not record.variant:
        return persona
    from compass_tui.variants import Variant, persona_saying

    return persona_saying(persona, Variant.of_record(record))


def judged_content(persona: Persona, record: InteractionRecord) -> tuple[str, str]:
    """(record hash, persona hash) of what the judge reads for this record."""
    situation = persona.situations[record.situation_index]
    return record_hash(record), persona_hash(persona_text(persona), situation.scenario, situation.emotion)


def current_contents(
    records: list[InteractionRecord], personas: dict[str, Persona]
) -> dict[ItemKey, tuple[str, str | None]]:
    """item -> the content its judgement must match; the persona part only where the persona is known."""
    contents: dict[ItemKey, tuple[str, str | None]] = {}
    for record in records:
        persona = personas.get(record.persona_id)
        if persona is not None and record.situation_index < len(persona.situations):
            contents[item_key(record)] = judged_content(persona, record)
        else:
            contents[item_key(record)] = (record_hash(record), None)
    return contents


def judge_config(model: ModelConfig) -> dict[str, Any]:
    """What makes a judge's answers what they are: the model string and its sampling settings
    (not where it is served or how long we wait). A cached judgement is served only for the same."""
    return {
        "model": model.model,
        "temperature": model.temperature,
        "max_tokens": model.max_tokens,
        "reasoning_effort": model.reasoning_effort,
    }


def cached_for(cached: Mapping[str, Any] | None, config: dict[str, Any]) -> Mapping[str, Any]:
    """A cached judgement if it was made by this judge configuration, else nothing."""
    return cached if cached and cached.get("judge_config") == config else {}


def key_for(record: InteractionRecord, persona: Persona, judge_model: str, prompt: JudgePrompt) -> str:
    return judgement_key(record, judge_model, prompt.hash, content_hash(*judged_content(persona, record)))


async def judge_record(
    record: InteractionRecord,
    persona: Persona,
    prompt: JudgePrompt,
    model: ModelConfig,
    model_name: str,
    samples: int,
    store: Store,
    cache: dict[str, Any],
    max_retries: int = 4,
) -> dict[str, Any]:
    """Judge one record K times (reusing cached samples) and save the judgement.

    A call that fails for good (the provider is down, a 5xx that outlasts the retries) is not a
    sample: sampling stops, the judgement keeps the samples so far and the error, and a rerun
    asks only for the samples still missing. A bad key (401/403) or an unknown model raises
    FatalJudgeError: every other call would fail the same way.
    """
    from compass_tui.llm import LLMError

    key = key_for(record, persona, model_name, prompt)
    config = judge_config(model)
    done = list(cached_for(cache.get(key), config).get("samples", []))
    messages = prompt.messages(judged_persona(persona, record), record)
    path = judgement_location(record)
    contents = judged_content(persona, record)
    failure: str | None = None
    while len(done) < samples:
        try:
            sample = await _one_sample(model, messages, prompt, max_retries)
        except LLMError as error:
            if error.kind in FATAL_KINDS:
                raise FatalJudgeError(str(error)) from None
            failure = f"llm error: {error}"
            break
        done.append(sample)
        judgement = summarise(record, model_name, config, prompt, done, contents)
        await asyncio.to_thread(store.upsert, path, JUDGEMENTS_TABLE, key, judgement)
    judgement = summarise(record, model_name, config, prompt, done, contents, failure)
    if failure:  # every sample was saved as it came; only the error is new
        await asyncio.to_thread(store.upsert, path, JUDGEMENTS_TABLE, key, judgement)
    return judgement


class FatalJudgeError(Exception):
    """The judge cannot work at all (bad key, unknown model): judging stops at once."""


async def _one_sample(
    model: ModelConfig, messages: list[dict], prompt: JudgePrompt, max_retries: int
) -> dict:
    """One judged sample. An answer with any flag is asked again with the reasons attached, up to
    MAX_ATTEMPTS; every answer is kept in `attempt_log`, and the last one is the sample, its flagged
    dimensions left empty (never clamped). LLMError propagates."""
    from compass_tui.llm import acomplete

    attempt_messages = list(messages)
    attempt_log: list[dict[str, Any]] = []
    cost = 0.0
    for _ in range(MAX_ATTEMPTS):
        result = await acomplete(model, attempt_messages, json_mode=True, max_retries=max_retries)
        text = result.text or ""
        cost += result.cost_usd or 0.0
        try:
            scores, rationales, flags = prompt.parse(text)
        except ValueError as error:
            scores, rationales, flags = {key: None for key in DIMENSION_KEYS}, {}, [f"not JSON: {error}"]
        attempt_log.append({"raw": text, "flags": flags})
        if not flags:
            break
        attempt_messages = messages + [
            {"role": "assistant", "content": text},
            {"role": "user", "content": _retry_request(flags)},
        ]
    return {
        "raw": text,
        "scores": scores,
        "rationales": rationales,
        "valid": not flags,
        "flags": flags,
        "attempts": len(attempt_log),
        "attempt_log": attempt_log,
        "cost_usd": cost,
    }


def _retry_request(flags: list[str]) -> str:
    return (
        f"Your answer could not be used: {'; '.join(flags)}. "
        "Reply with the JSON object only, every score a whole number from 1 to 5."
    )


def summarise(
    record: InteractionRecord,
    judge_model: str,
    config: dict[str, Any],
    prompt: JudgePrompt,
    samples: list[dict],
    contents: tuple[str, str],
    error: str | None = None,
) -> dict[str, Any]:
    summary = dimension_summary(samples)
    complete = [sample for sample in samples if sample["valid"]]
    with_rationales = [sample for sample in samples if sample.get("rationales")]
    return {
        "run_id": record.run_id,
        "model": record.model,
        "persona_id": record.persona_id,
        "situation_index": record.situation_index,
        "judge_model": judge_model,
        "judge_config": config,
        "prompt_hash": prompt.hash,
        "prompt_kind": prompt.kind,
        "rubric_version": RUBRIC_VERSION,
        "record_hash": contents[0],
        "persona_hash": contents[1],
        **({"variant": {"id": record.variant.id, "text": record.variant.text}} if record.variant else {}),
        **summary,
        "rationales": with_rationales[-1]["rationales"] if with_rationales else {},
        "samples": samples,
        "valid": bool(samples) and all(summary["valid_counts"][key] for key in DIMENSION_KEYS),
        "valid_samples": len(complete),
        "flags": sorted({flag for sample in samples for flag in sample["flags"]}),
        "error": error,
        "created_at": now_iso(),
    }


@dataclass
class JudgeProgress:
    total: int = 0
    judged: int = 0
    cached: int = 0
    invalid: int = 0  # judgements with a flagged dimension
    unscored: int = 0  # of those, judgements without one valid score (the judge's answers did not parse)
    errors: int = 0  # records whose sampling stopped on a provider error; a rerun resumes them

    def count_invalid(self, judgement: Mapping[str, Any]) -> None:
        if not judgement.get("valid"):
            self.invalid += 1
            self.unscored += all(score is None for score in (judgement.get("scores") or {}).values())


def records_to_judge(
    store: Store,
    personas: dict[str, Persona],
    run_id: str,
    samples: int = 1,
    persona_ids: set[str] | None = None,
    official: bool = False,
    variants: bool = False,
) -> list[InteractionRecord]:
    """The finished, scored records of a run, or of its what-if variants (with the official prompt,
    also the failed items the official scripts judge); InputError (before anything is sent) when
    there is nothing to judge."""
    from compass_tui.judge_prompt import judged_by_official_scripts
    from compass_tui.records import load_records, load_variant_records

    if samples < 1:
        raise InputError(None, "--samples", "must be at least 1")
    records = [
        r
        for r in (load_variant_records if variants else load_records)(store, run_id)
        if (r.status == "done" or (official and judged_by_official_scripts(r)))
        and r.counts
        and (persona_ids is None or r.persona_id in persona_ids)
    ]
    if not records:
        what = "what-if variants" if variants else "responses"
        raise InputError(None, "RUN", f"run {run_id!r} has no finished {what} to judge")
    missing = sorted({r.persona_id for r in records} - set(personas))
    if missing:
        raise InputError(
            None, "RUN", f"personas of this run are not in the library: {', '.join(missing[:5])}"
        )
    return records


async def judge_run(
    store: Store,
    personas: dict[str, Persona],
    run_id: str,
    model: ModelConfig,
    model_name: str,
    prompt: JudgePrompt,
    samples: int = 1,
    concurrency: int = 8,
    on_progress=None,
    persona_ids: set[str] | None = None,
    max_retries: int = 4,
    variants: bool = False,
) -> JudgeProgress:
    """Judge every finished, scored record of a run (`variants`: of its what-if variants instead);
    cached samples of the same content are reused, so this resumes. The first record to judge goes
    alone: a bad key then costs one request. Raises FatalJudgeError when the provider refuses the
    key or the model."""
    from compass_tui.llm import import_litellm
    from compass_tui.records import load_judgements, load_variant_judgements

    official = prompt.kind == "official"
    records = records_to_judge(store, personas, run_id, samples, persona_ids, official, variants)
    loaded = (load_variant_judgements if variants else load_judgements)(store, run_id)
    cache = {j["key"]: j for j in loaded}
    progress = JudgeProgress(total=len(records))
    report = on_progress or (lambda _progress: None)
    pending = []
    config = judge_config(model)
    for record in records:
        cached = cached_for(
            cache.get(key_for(record, personas[record.persona_id], model_name, prompt)), config
        )
        if len(cached.get("samples", [])) >= samples:
            progress.cached += 1
            progress.count_invalid(cached)
        else:
            pending.append(record)
    report(progress)
    if not pending:
        return progress
    await asyncio.to_thread(import_litellm)
    semaphore = asyncio.Semaphore(concurrency)

    async def one(record: InteractionRecord) -> None:
        async with semaphore:
            judgement = await judge_record(
                record,
                personas[record.persona_id],
                prompt,
                model,
                model_name,
                samples,
                store,
                cache,
                max_retries,
            )
        progress.judged += 1
        progress.errors += bool(judgement["error"])
        if not judgement["error"]:
            progress.count_invalid(judgement)
        report(progress)

    await one(pending[0])
    await asyncio.gather(*(one(record) for record in pending[1:]))
    return progress
