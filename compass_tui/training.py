"""Tool-use training data from runs (`compass-tui export-training`).

One training example per chosen interaction: the stage-1 prompt the agent had (system prompt; the
user message with the persona context and the utterance), its tool call, the tool result as stage 2
was given it, and its reply. The prompt is the one stored in the record; a record that stores none
(the offline baseline) has it rebuilt with the pipeline's own functions, which is possible only for
a run made with our prompts. Interactions are chosen by score (`--min-score`, the mean of the six
dimensions from one source, read with the same rule as `report`) and by pass (`--require-pass`);
every interaction left out is refused with a reason, and counted.
"""

from __future__ import annotations

import hashlib
import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compass_tui.errors import InputError
from compass_tui.interaction_record import InteractionRecord, stored_value
from compass_tui.jsonio import atomic_write_json, atomic_write_text
from compass_tui.judgements import ItemKey, Judgement, ScoreSource, item_key
from compass_tui.pipeline import persona_as_shown, shown_tool_result
from compass_tui.prompts import as_json, our_prompts
from compass_tui.records import load_records, load_run_meta, now_iso
from compass_tui.report import score_selection
from compass_tui.run_meta import RunMeta
from compass_tui.store import Store
from compass_tui.tools.definitions import openai_tools
from compass_tui.user_simulator import history_line
from compass_tui.vocab import DIMENSION_KEYS

FORMATS = ("openai", "sharegpt", "jsonl")
SOURCES = ("judge", "human")
MANIFEST_FORMAT = "compass-tui/training-manifest@1"
RECORD_FORMAT = "compass-tui/training@1"
MANIFEST_SUFFIX = ".manifest.json"
REASONS = (
    "errored",
    "no_response",
    "no_tool_call",
    "unknown_tool",
    "prompt_unknown",
    "tool_failed",
    "no_score",
    "incomplete_score",
    "below_min_score",
)


@dataclass(frozen=True)
class TrainingFilter:
    min_score: float | None = None
    source: str = "judge"
    judge_model: str | None = None
    judge_prompt: str | None = None
    require_pass: bool = False

    @property
    def reads_scores(self) -> bool:
        return self.min_score is not None

    def describe(self) -> str:
        """The filter as the options that set it, for messages."""
        parts = [f"--min-score {self.min_score:g} --source {self.source}"] if self.reads_scores else []
        parts += ["--require-pass"] if self.require_pass else []
        return " ".join(parts) or "no filter"

    def as_dict(self) -> dict[str, Any]:
        return {
            "min_score": self.min_score,
            "source": self.source,
            "judge_model": self.judge_model,
            "judge_prompt": self.judge_prompt,
            "require_pass": self.require_pass,
        }


@dataclass(frozen=True)
class Refusal:
    run_id: str
    model: str
    persona_id: str
    situation_index: int
    reason: str  # one of REASONS
    detail: str

    def line(self) -> str:
        where = f"{self.run_id}/{self.model}/{self.persona_id}/situation {self.situation_index + 1}"
        return f"{where}: {self.detail}"


@dataclass
class Example:
    record: InteractionRecord
    messages: list[dict[str, Any]]  # OpenAI chat messages: system, user, tool call, tool result, reply
    prompt_origin: str  # "stored" (the record's own prompt) or "rebuilt"
    scores: dict[str, float | None] | None
    score_mean: float | None
    judge: dict[str, str | None]


@dataclass
class TrainingSet:
    runs: list[str]
    examples: list[Example] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    judges: dict[str, dict[str, str | None]] = field(default_factory=dict)  # run -> judge model, prompt

    @property
    def considered(self) -> int:
        return len(self.examples) + len(self.refusals)

    def refused_by_reason(self) -> dict[str, int]:
        counts = {reason: 0 for reason in REASONS}
        for refusal in self.refusals:
            counts[refusal.reason] += 1
        return {reason: n for reason, n in counts.items() if n}


def collect(
    store: Store,
    run_ids: list[str],
    personas: dict[str, Any],
    definitions: dict[str, dict[str, Any]],
    chosen: TrainingFilter,
    with_scores: bool = False,
) -> TrainingSet:
    """Every record of the runs, each made an example or refused; scores are read for the filter,
    or with `with_scores` to carry them. A run without a single response is bad input."""
    if chosen.source not in SOURCES:
        raise InputError(None, "--source", f"choose one of {', '.join(SOURCES)}")
    training = TrainingSet(list(dict.fromkeys(run_ids)))
    for run_id in training.runs:
        meta = load_run_meta(store, run_id)
        records = load_records(store, run_id)
        if not any(_has_response(record) for record in records):
            raise InputError(None, "RUN", f"run {run_id!r} has no responses to export")
        scores: dict[ItemKey, Judgement] = {}
        if chosen.reads_scores or with_scores:
            selection = score_selection(
                store,
                run_id,
                records,
                personas,
                ScoreSource(chosen.source, chosen.judge_model, chosen.judge_prompt),
            )
            scores = selection.by_item
            training.judges[run_id] = {
                "judge_model": selection.judge_model,
                "judge_prompt": selection.prompt_label,
            }
        for record in records:
            outcome = _example(record, meta, records, personas, definitions, chosen, scores)
            if isinstance(outcome, Refusal):
                training.refusals.append(outcome)
            else:
                outcome.judge = training.judges.get(run_id, {})
                training.examples.append(outcome)
    return training


def check_selection(training: TrainingSet, chosen: TrainingFilter) -> None:
    """An empty selection is bad input, named by its filter."""
    if training.examples:
        return
    counts = ", ".join(f"{n} {reason}" for reason, n in training.refused_by_reason().items())
    raise InputError(
        None,
        "filter",
        f"nothing passes the filter ({chosen.describe()}): "
        f"{training.considered} interactions considered, refused: {counts}",
    )


def _has_response(record: InteractionRecord) -> bool:
    return record.status == "done" and bool(record.response)


def _example(
    record: InteractionRecord,
    meta: RunMeta,
    records: list[InteractionRecord],
    personas: dict[str, Any],
    definitions: dict[str, dict[str, Any]],
    chosen: TrainingFilter,
    scores: dict[ItemKey, Judgement],
) -> Example | Refusal:
    def refuse(reason: str, detail: str) -> Refusal:
        return Refusal(record.run_id, record.model, record.persona_id, record.situation_index, reason, detail)

    if record.status == "error":
        stage, kind = (record.error.stage, record.error.kind) if record.error else (None, None)
        return refuse("errored", f"ended in error ({stage}: {kind})")
    if not _has_response(record):
        return refuse("no_response", f"no response (status {record.status})")
    if not record.tool_call or record.tool_result is None:
        return refuse("no_tool_call", "no tool call")
    if record.tool_folder not in definitions:
        return refuse("unknown_tool", f"unknown tool {record.tool_folder!r}")
    prompt, origin = stage1_prompt(record, meta, records, personas)
    if prompt is None:
        return refuse("prompt_unknown", origin)
    if chosen.require_pass and not record.tool_ran:
        return refuse("tool_failed", f"the tool call did not run ({(record.tool_result or {}).get('error')})")
    judged = scores.get(item_key(record))
    mean = _mean(judged)
    if chosen.min_score is not None:
        if judged is None:
            return refuse("no_score", f"no {chosen.source} score")
        missing = [key for key in DIMENSION_KEYS if judged.score(key) is None]
        if missing:
            return refuse("incomplete_score", f"the {chosen.source} score has none for {', '.join(missing)}")
        if mean is not None and round(mean, 9) < chosen.min_score:
            return refuse("below_min_score", f"mean score {mean:.3f} is below {chosen.min_score:g}")
    messages = [*prompt, *_tool_turns(record, definitions)]
    return Example(record, messages, origin, judged.scores if judged else None, mean, {})


def _mean(judged: Judgement | None) -> float | None:
    """The mean of the six dimension scores; None unless all six have one."""
    values = [judged.score(key) if judged else None for key in DIMENSION_KEYS]
    return None if None in values else statistics.fmean(v for v in values if v is not None)


def stage1_prompt(
    record: InteractionRecord, meta: RunMeta, records: list[InteractionRecord], personas: dict[str, Any]
) -> tuple[list[dict[str, Any]] | None, str]:
    """(the system and user messages the agent chose its tool from, "stored" or "rebuilt"), or
    (None, why they cannot be known)."""
    stored = record.stage1.messages if record.stage1 else None
    if stored:
        if [message.get("role") for message in stored] != ["system", "user"]:
            return None, "the stored stage-1 prompt is not a system and a user message"
        return [{"role": m["role"], "content": m["content"]} for m in stored], "stored"
    prompts = our_prompts()
    if meta.prompt_hash != prompts.hash:
        return None, "the stage-1 prompt is not stored and the run's prompts are not ours to rebuild"
    persona = personas.get(record.persona_id)
    if persona is None:
        return None, f"the stage-1 prompt is not stored and persona {record['persona_id']!r} is not known"
    shown = persona_as_shown(persona, record.setting)
    history = _history_text(record, meta, records)
    return prompts.tool_selection(shown, record.utterance, history, "", native=True), "rebuilt"


def _history_text(record: InteractionRecord, meta: RunMeta, records: list[InteractionRecord]) -> str:
    """The earlier turns as the history setting shows them (the runner's `history_line`)."""
    if record.setting != "history" or meta.history is False:
        return "None"
    earlier = [
        r
        for r in records
        if (r.model, r.persona_id) == (record.model, record.persona_id)
        and r.situation_index < record.situation_index
    ]
    return "\n".join(history_line(r) for r in earlier) or "None"


def call_id(record: InteractionRecord) -> str:
    """A stable id for the tool call, unique per interaction."""
    key = "|".join(str(part) for part in (record.run_id, *item_key(record)))
    return "call_" + hashlib.sha256(key.encode()).hexdigest()[:24]


def _tool_turns(record: InteractionRecord, definitions: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    call = record.tool_call
    identifier = call_id(record)
    function = {
        "name": definitions[record.tool_folder or ""]["name"],
        "arguments": json.dumps((call.param if call else None) or {}, ensure_ascii=False),
    }
    return [
        {
            "role": "assistant",
            "tool_calls": [{"id": identifier, "type": "function", "function": function}],
        },
        {
            "role": "tool",
            "tool_call_id": identifier,
            "content": as_json(shown_tool_result(record.tool_result or {})),
        },
        {"role": "assistant", "content": record.response},
    ]


# ----- the three formats ----------------------------------------------------------------------------


def openai_line(example: Example, tools: list[dict[str, Any]]) -> dict[str, Any]:
    """OpenAI's chat fine-tuning format with tool calls and the function definitions."""
    return {"messages": example.messages, "tools": tools}


def sharegpt_line(example: Example, tools: list[dict[str, Any]]) -> dict[str, Any]:
    """LLaMA-Factory's ShareGPT format: system apart, then human / function_call / observation / gpt."""
    system, user, call, result, reply = example.messages
    function = call["tool_calls"][0]["function"]
    called = {"name": function["name"], "arguments": json.loads(function["arguments"])}
    return {
        "conversations": [
            {"from": "human", "value": user["content"]},
            {"from": "function_call", "value": json.dumps(called, ensure_ascii=False)},
            {"from": "observation", "value": result["content"]},
            {"from": "gpt", "value": reply["content"]},
        ],
        "system": system["content"],
        "tools": json.dumps([tool["function"] for tool in tools], ensure_ascii=False),
    }


def jsonl_line(example: Example, source: str) -> dict[str, Any]:
    """Our flat record: where the interaction comes from, its messages, the call and its scores."""
    record = example.record
    return {
        "format": RECORD_FORMAT,
        "run_id": record.run_id,
        "model": record.model,
        "persona_id": record.persona_id,
        "situation_index": record.situation_index,
        "setting": record.setting,
        "scenario_type": record.scenario_type,
        "emotion": record.emotion,
        "messages": example.messages,
        "prompt_origin": example.prompt_origin,
        "tool_call": stored_value(record.tool_call),
        "tool_ran": record.tool_ran,
        "scores": example.scores,
        "score_mean": example.score_mean,
        "source": source if example.scores is not None else None,
        "judge_model": example.judge.get("judge_model"),
        "judge_prompt": example.judge.get("judge_prompt"),
    }


def render_lines(training: TrainingSet, fmt: str, definitions: dict[str, dict[str, Any]], source: str) -> str:
    """The examples as JSON Lines in `fmt`."""
    if fmt not in FORMATS:
        raise InputError(None, "--format", f"choose one of {', '.join(FORMATS)}")
    tools = openai_tools(definitions)
    lines = []
    for example in training.examples:
        if fmt == "openai":
            line = openai_line(example, tools)
        elif fmt == "sharegpt":
            line = sharegpt_line(example, tools)
        else:
            line = jsonl_line(example, source)
        lines.append(json.dumps(line, ensure_ascii=False, allow_nan=False))
    return "".join(line + "\n" for line in lines)


def manifest(training: TrainingSet, fmt: str, chosen: TrainingFilter, output: str) -> dict[str, Any]:
    """What was exported from where, with which filter and judge, and what was left out and why."""
    return {
        "format": MANIFEST_FORMAT,
        "output": output,
        "export_format": fmt,
        "runs": training.runs,
        "filter": chosen.as_dict(),
        "judges": training.judges,
        "counts": {
            "considered": training.considered,
            "written": len(training.examples),
            "refused": len(training.refusals),
            "refused_by_reason": training.refused_by_reason(),
        },
        "prompt_origin": {
            origin: sum(1 for example in training.examples if example.prompt_origin == origin)
            for origin in ("stored", "rebuilt")
        },
        "created_at": now_iso(),
    }


def check_destination(path: Path) -> None:
    """Refuse an output that cannot be written, before any work is done."""
    for target in (path, manifest_path(path)):
        if target.is_dir():
            raise InputError(target, "--out", "is a folder, not a file")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(path, "--out", f"cannot write: {parent} is not a folder")


def manifest_path(out: Path) -> Path:
    return Path(f"{out}{MANIFEST_SUFFIX}")


def write_training(
    training: TrainingSet, fmt: str, chosen: TrainingFilter, definitions: dict[str, dict[str, Any]], out: Path
) -> dict[str, Any]:
    """Write the examples in `fmt` to `out` and the manifest beside it, each atomically; the manifest."""
    text = render_lines(training, fmt, definitions, chosen.source)
    written = manifest(training, fmt, chosen, str(out))
    try:
        atomic_write_text(out, text)
        atomic_write_json(manifest_path(out), written)
    except OSError as error:
        raise InputError(out, "--out", f"cannot write: {error.strerror or error}") from None
    return written
