"""Hand-made runs, judgements and scores for the triage, overall-agreement and judge-diagnostics tests.

One run of two models over the bundled persona adam-kerr, written straight into a store in the shapes
of compass_tui.records; judgements carry the content hashes `select_judgements` checks.
"""

from __future__ import annotations

from pathlib import Path

from compass_tui.annotations import Annotation, save_annotation
from compass_tui.judge import judged_content
from compass_tui.judgements import dimension_summary
from compass_tui.library import PersonaLibrary
from compass_tui.records import (
    INTERACTIONS_TABLE,
    JUDGEMENTS_TABLE,
    META_TABLE,
    interaction_key,
    judgement_path,
    run_meta_path,
    run_records_path,
)
from compass_tui.report import SESSION_SCOPE
from compass_tui.store import Store
from compass_tui.vocab import DIMENSION_KEYS

PERSONA = "adam-kerr"
RUN = "tri"
MODELS = ("acme/m-a", "zeta/m-b")
JUDGE = "judge/j1"


def persona():
    return PersonaLibrary(Path("/nonexistent")).get(PERSONA)


def full(score: int | None, **overrides: int | None) -> dict[str, int | None]:
    return {key: overrides.get(key, score) for key in DIMENSION_KEYS}


def record(model: str, index: int, status: str = "done", response: str | None = None) -> dict:
    situation = persona().situations[index]
    return {
        "key": interaction_key(model, PERSONA, index),
        "run_id": RUN,
        "model": model,
        "persona_id": PERSONA,
        "situation_index": index,
        "setting": "profile",
        "status": status,
        "scenario_type": situation.scenario_type,
        "emotion": situation.emotion_label,
        "utterance": situation.utterance,
        "scored": True,
        "tool_call": {
            "tool_folder_name": "joke_recommendation",
            "function_name": "search_jokes",
            "param": {},
        },
        "tool_result": {"ok": True, "result": [f"joke {index}"], "error": None},
        "response": None if status != "done" else (response or f"{model} answers situation {index}."),
    }


def write_run(store: Store, items: int, errored=(), responses: dict | None = None) -> list[dict]:
    """The run's records: every model on situations 0..items-1; (model, index) in `errored` failed."""
    store.upsert(
        run_meta_path(RUN),
        META_TABLE,
        "meta",
        {"run_id": RUN, "name": RUN, "setting": "profile", "models": list(MODELS), "personas": [PERSONA]},
    )
    records = [
        record(
            model,
            index,
            "error" if (model, index) in errored else "done",
            (responses or {}).get((model, index)),
        )
        for model in MODELS
        for index in range(items)
    ]
    with store.transaction(run_records_path(RUN, PERSONA)) as database:
        database.table(INTERACTIONS_TABLE).insert_multiple(records)
    return records


def judgement(rec: dict, scores: dict | None = None, samples: list[dict] | None = None) -> dict:
    """A judgement of the record's current content: summary `scores`, or the summary of K `samples`
    (each a dimension -> score dict)."""
    record_hash, persona_hash = judged_content(persona(), rec)
    document = {
        "key": f"{rec['model']}|{PERSONA}|{rec['situation_index']}|{JUDGE}|h1",
        "record_hash": record_hash,
        "persona_hash": persona_hash,
        "run_id": RUN,
        "model": rec["model"],
        "persona_id": PERSONA,
        "situation_index": rec["situation_index"],
        "judge_model": JUDGE,
        "prompt_hash": "h1",
        "prompt_kind": "ours",
        "valid": True,
        "created_at": "2025-01-01T00:00:00.000+00:00",
    }
    if samples is not None:
        kept = [{"scores": s, "valid": None not in s.values(), "flags": []} for s in samples]
        summary = dimension_summary(kept)
        return document | {"scores": summary["scores"], "spread": summary["spread"], "samples": kept}
    return document | {"scores": dict(scores or {})}


def write_judgements(store: Store, judgements: list[dict]) -> None:
    with store.transaction(judgement_path(RUN, PERSONA)) as database:
        database.table(JUDGEMENTS_TABLE).insert_multiple(judgements)


def score(
    store: Store,
    scope: str,
    annotator: str,
    index: int,
    system: str,
    scores: dict,
    committed: bool = True,
    skipped: bool = False,
) -> None:
    annotation = Annotation(scope, annotator, PERSONA, index, system, scores=dict(scores))
    annotation.committed, annotation.skipped = committed, skipped
    save_annotation(store, annotation)


def session_system(model: str) -> str:
    return f"{RUN}::{model}"


SESSION = SESSION_SCOPE
