"""Judgement records: the content they were made for, their per-dimension summary, and the one rule
that picks which judgements a report, a study, the CLI and the TUI read.

A judgement belongs to one item (model, persona, situation), one judge model, one prompt (hash) and
one content: a hash of the record's utterance, tool call, tool result and response, and one of the
persona as the judge reads it. A judgement whose content no longer matches its record is stale: it
is never served from the cache and never read into a table, only counted.

`Judgement` is a stored judgement read into a typed value (the fields of compass_tui.records'
docstring); the judge writes the stored dict, and every reader goes through `Judgement.from_document`.
"""

from __future__ import annotations

import hashlib
import json
import re
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from compass_tui.errors import InputError, NotFoundError
from compass_tui.interaction_record import InteractionRecord, as_record
from compass_tui.vocab import DIMENSION_KEYS
from compass_tui.wording import counted

if TYPE_CHECKING:
    from compass_tui.store import Store

ItemKey = tuple[str, str, int]  # (model, persona id, situation index)


def _digest(document: Any) -> str:
    text = json.dumps(document, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def record_hash(stored: Mapping[str, Any]) -> str:
    """What the judge sees of a record: the utterance, the tool call, the tool result and the response."""
    record = as_record(stored)
    tool_result = record.tool_result or {}
    shown_result = {key: tool_result.get(key) for key in ("ok", "result", "error")} if tool_result else None
    seen = [record.utterance, record.emotion, record.scenario_type, record.tool_call_document]
    return _digest([*seen, shown_result, record.response or ""])


def persona_hash(persona_view: str, scenario: str, emotion: str) -> str:
    """The persona and situation as the judge reads them (`persona_view`: the persona's text)."""
    return _digest([persona_view, scenario, emotion])


def item_key(document: Mapping[str, Any]) -> ItemKey:
    return (document["model"], document["persona_id"], document["situation_index"])


def judgement_key(record: InteractionRecord, judge_model: str, prompt_hash: str, content: str) -> str:
    """Item, judge, prompt and content; a what-if variant's item is `<index>~<variant id>`."""
    model, persona_id, index = record.item
    variant = record.variant_id
    item = f"{index}~{variant}" if variant else str(index)
    return f"{model}|{persona_id}|{item}|{judge_model}|{prompt_hash}|{content}"


def content_hash(record_content: str, persona_content: str) -> str:
    return _digest([record_content, persona_content])


@dataclass(frozen=True)
class Judgement:
    """One stored judgement of one item. `scores` and `spread` are per dimension over the valid samples
    (None where every sample left the dimension flagged); `samples` are the K judged answers."""

    model: str
    persona_id: str
    situation_index: int
    scores: dict[str, float | None]
    judge_model: str | None = None
    judge_config: dict[str, Any] | None = None  # the judge's model string and sampling settings
    prompt_hash: str | None = None
    prompt_kind: str | None = None
    run_id: str | None = None
    rubric_version: str | None = None
    record_hash: str | None = None
    persona_hash: str | None = None
    spread: dict[str, float | None] = field(default_factory=dict)
    rationales: dict[str, str] = field(default_factory=dict)
    samples: list[dict[str, Any]] = field(default_factory=list)
    valid: bool = False
    flags: list[str] = field(default_factory=list)
    error: str | None = None
    created_at: str | None = None

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> Judgement:
        def mapping(name: str) -> dict:
            value = document.get(name)
            return dict(value) if isinstance(value, Mapping) else {}

        return cls(
            model=document["model"],
            persona_id=document["persona_id"],
            situation_index=document["situation_index"],
            scores=mapping("scores"),
            judge_model=document.get("judge_model"),
            judge_config=mapping("judge_config") or None,
            prompt_hash=document.get("prompt_hash"),
            prompt_kind=document.get("prompt_kind"),
            run_id=document.get("run_id"),
            rubric_version=document.get("rubric_version"),
            record_hash=document.get("record_hash"),
            persona_hash=document.get("persona_hash"),
            spread=mapping("spread"),
            rationales=mapping("rationales"),
            samples=list(document.get("samples") or []),
            valid=bool(document.get("valid")),
            flags=list(document.get("flags") or []),
            error=document.get("error"),
            created_at=document.get("created_at"),
        )

    @classmethod
    def of_scores(cls, key: ItemKey, scores: dict[str, float | None]) -> Judgement:
        """Scores from elsewhere (the mean of humans' scores) in a judgement's shape, with no judge."""
        model, persona_id, index = key
        return cls(model, persona_id, index, scores)

    @property
    def key(self) -> ItemKey:
        return (self.model, self.persona_id, self.situation_index)

    @property
    def prompt_label(self) -> str:
        """'ours:1a2b3c4d' or 'official:…': which prompt scored, short enough for a table cell."""
        return f"{self.prompt_kind or 'ours'}:{str(self.prompt_hash or '?')[:8]}"

    @property
    def sample_count(self) -> int:
        return len(self.samples)

    def score(self, key: str) -> float | None:
        return self.scores.get(key)

    def sample_scores(self, key: str) -> list[float]:
        """Each sample's score on one dimension (the summary's where no samples are kept)."""
        values = [(sample.get("scores") or {}).get(key) for sample in self.samples] or [self.scores.get(key)]
        return [float(value) for value in values if value is not None]

    def first_answer(self) -> str | None:
        """The judge's first answer to the first sample: the one answer ComPASS's script would have read."""
        if not self.samples:
            return None
        attempts = self.samples[0].get("attempt_log") or [{"raw": self.samples[0].get("raw")}]
        return attempts[0].get("raw")


def read_judgements(store: Store, run_id: str) -> list[Judgement]:
    """Every stored judgement of a run that names its item."""
    from compass_tui.records import load_judgements

    return [Judgement.from_document(j) for j in load_judgements(store, run_id) if _names_item(j)]


def _names_item(document: Mapping[str, Any]) -> bool:
    return all(name in document for name in ("model", "persona_id", "situation_index"))


# ----- one judged sample and the summary over K samples -------------------------------------------


def dimension_summary(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Per dimension: the mean and spread over the samples that gave it a valid score, and how many
    samples gave it none (flagged). A dimension's flag never touches the other five."""
    means: dict[str, float | None] = {}
    spread: dict[str, float | None] = {}
    valid_counts: dict[str, int] = {}
    flagged_counts: dict[str, int] = {}
    for key in DIMENSION_KEYS:
        values = [s["scores"][key] for s in samples if (s.get("scores") or {}).get(key) is not None]
        means[key] = round(statistics.fmean(values), 4) if values else None
        spread[key] = round(statistics.stdev(values), 4) if len(values) > 1 else (0.0 if values else None)
        valid_counts[key] = len(values)
        flagged_counts[key] = len(samples) - len(values)
    return {"scores": means, "spread": spread, "valid_counts": valid_counts, "flagged_counts": flagged_counts}


def official_total(raw: str) -> int | None:
    """ComPASS's evaluation.py reading of one judge answer: the first {...} span, its "score" list,
    each value int()-ed and clamped to 1-5, summed. None where that script would raise."""
    match = re.search(r"\{.*\}", raw, re.DOTALL)
    if not match:
        return None
    try:
        listed = json.loads(match.group())["score"]
        return sum(max(1, min(5, int(value))) for value in listed)
    except (ValueError, TypeError, KeyError, IndexError):
        return None


# ----- which judgements a table reads --------------------------------------------------------------


@dataclass
class JudgeSelection:
    """The judgements one table reads, all by one judge with one prompt, each for its item's current content."""

    judge_model: str | None
    prompt_hash: str | None
    prompt_label: str | None
    by_item: dict[ItemKey, Judgement] = field(default_factory=dict)
    stale_items: list[ItemKey] = field(default_factory=list)  # judged, but only as they were before

    @property
    def stale(self) -> int:
        return len(self.stale_items)

    @property
    def provenance(self) -> str:
        if self.judge_model is None:
            return "no judge"
        return f"{self.judge_model} · {self.prompt_label}"


def stale_note(stale_items: int) -> str | None:
    """Items whose every judgement is of their response or persona as it was: not read, not hidden."""
    if not stale_items:
        return None
    were = "was" if stale_items == 1 else "were"
    return (
        f"{counted(stale_items, 'item')} {were} judged only before the response or persona changed: "
        "those judgements are not used (rerun judge)"
    )


@dataclass(frozen=True)
class ScoreSource:
    """Which scores a table or a figure reads: humans' or a judge's, and which judge and prompt."""

    source: str = "judge"
    judge_model: str | None = None
    judge_prompt: str | None = None

    def __post_init__(self) -> None:
        if self.source not in ("judge", "human"):
            raise InputError(None, "--source", "choose judge or human")


def select_judgements(
    judgements: Iterable[Mapping[str, Any] | Judgement],
    current: Mapping[ItemKey, tuple[str, str | None]],
    judge_model: str | None = None,
    judge_prompt: str | None = None,
    scope: str = "this run",
) -> JudgeSelection:
    """The one rule: one judge (`--judge-model`, or the only one), one prompt (`--judge-prompt`: 'ours',
    'official' or a hash prefix, or the only one), and per item the judgement of the record's current
    content (`current`: item -> (record hash, persona hash or None where the persona is not known)).
    Mixing judges or prompts is refused in one line; so is asking for one that did not judge."""
    usable = [j for j in map(_as_judgement, judgements) if j is not None and j.judge_model]
    judges = sorted({j.judge_model for j in usable if j.judge_model})
    if judge_model is not None and judge_model not in judges:
        raise NotFoundError(
            None, "--judge-model", f"no judgements by {judge_model!r} in {scope} (judges: {_listed(judges)})"
        )
    if judge_model is None and len(judges) > 1:
        raise InputError(
            None, "--judge-model", f"{scope} was judged by {', '.join(judges)}; choose one with --judge-model"
        )
    chosen = judge_model or (judges[0] if judges else None)
    if chosen is None:
        if judge_prompt is not None:
            raise NotFoundError(None, "--judge-prompt", f"no judgements in {scope}")
        return JudgeSelection(None, None, None)
    by_judge = [j for j in usable if j.judge_model == chosen]
    prompt = _chosen_prompt(by_judge, judge_prompt, chosen, scope)
    selection = JudgeSelection(chosen, prompt.prompt_hash, prompt.prompt_label)
    for judgement in by_judge:
        if judgement.prompt_hash != selection.prompt_hash:
            continue
        key = judgement.key
        if key not in current:  # an item this table does not read (a cold start, a deleted record)
            continue
        if _is_current(judgement, current[key]):
            selection.by_item[key] = judgement
        else:
            selection.stale_items.append(key)
    selection.stale_items = [key for key in selection.stale_items if key not in selection.by_item]
    _refuse_mixed_configs(selection, scope)
    return selection


def describe_judge_config(config: Mapping[str, Any] | None) -> str:
    if not config:
        return "a configuration not recorded (judged before compass-tui recorded it)"
    settings = ", ".join(
        f"{name} {value}" for name, value in config.items() if name != "model" and value is not None
    )
    return f"{config.get('model')}" + (f" ({settings})" if settings else "")


def _refuse_mixed_configs(selection: JudgeSelection, scope: str) -> None:
    """One judge name that stood for two models or sampling settings would mix two judges in a row."""
    configs = sorted({describe_judge_config(j.judge_config) for j in selection.by_item.values()})
    if len(configs) > 1:
        raise InputError(
            None,
            "--judge-model",
            f"{scope} was judged by {selection.judge_model} as {len(configs)} different configurations "
            f"({'; '.join(configs)}); scores from different judges are not mixed: "
            f"rerun `compass-tui judge` with {selection.judge_model} to judge every item alike",
        )


def _as_judgement(document: Mapping[str, Any] | Judgement) -> Judgement | None:
    """A stored judgement as a Judgement; None for one without scores or without an item."""
    if isinstance(document, Judgement):
        return document
    if not isinstance(document.get("scores"), dict) or not _names_item(document):
        return None
    return Judgement.from_document(document)


def _chosen_prompt(judgements: list[Judgement], wanted: str | None, judge: str, scope: str) -> Judgement:
    by_hash = {j.prompt_hash: j for j in judgements}
    if wanted is not None:
        matches = [
            j
            for h, j in by_hash.items()
            if wanted in (j.prompt_kind, j.prompt_label) or str(h).startswith(wanted)
        ]
        if len(matches) != 1:
            known = _listed(sorted(j.prompt_label for j in by_hash.values()))
            problem = "matches no prompt" if not matches else "matches several prompts"
            raise NotFoundError(
                None, "--judge-prompt", f"{wanted!r} {problem} of {judge} in {scope} (prompts: {known})"
            )
        return matches[0]
    if len(by_hash) > 1:
        labels = ", ".join(sorted(j.prompt_label for j in by_hash.values()))
        raise InputError(
            None,
            "--judge-prompt",
            f"{scope} was judged by {judge} with {len(by_hash)} different prompts ({labels}); "
            "scores from different prompts are not mixed: choose one with --judge-prompt",
        )
    return next(iter(by_hash.values()))


def _is_current(judgement: Judgement, content: tuple[str, str | None]) -> bool:
    if judgement.record_hash != content[0]:
        return False
    return content[1] is None or judgement.persona_hash == content[1]


def _listed(names: list[str]) -> str:
    return ", ".join(names) or "none"


SELECTED_JUDGE = ScoreSource()  # the judge's scores, from the judge and prompt the one rule selects
