"""Hand-made runs, judgements and scores for the triage, overall-agreement and judge-diagnostics tests.

One run of two models over the bundled persona adam-kerr, written straight into a store in the shapes
of compass_tui.records; judgements carry the content hashes `select_judgements` checks.
"""

from __future__ import annotations

from pathlib import Path

from run_support import insert_judgements, insert_records, situation_record

from compass_tui import study
from compass_tui.annotations import Annotation, save_annotation
from compass_tui.interaction_record import InteractionRecord
from compass_tui.judge import judged_content
from compass_tui.judgements import dimension_summary
from compass_tui.library import PersonaLibrary
from compass_tui.records import META_TABLE, run_meta_path, split_system_id
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
    return situation_record(
        RUN,
        model,
        PERSONA,
        index,
        status=status,
        tool_call={"tool_folder_name": "joke_recommendation", "function_name": "search_jokes", "param": {}},
        tool_result={"ok": True, "result": [f"joke {index}"], "error": None},
        response=None if status != "done" else (response or f"{model} answers situation {index}."),
    )


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
    insert_records(store, RUN, PERSONA, records)
    return records


def judgement(rec: dict, scores: dict | None = None, samples: list[dict] | None = None) -> dict:
    """A judgement of the record's current content: summary `scores`, or the summary of K `samples`
    (each a dimension -> score dict)."""
    record_hash, persona_hash = judged_content(persona(), InteractionRecord.read(rec))
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
    insert_judgements(store, RUN, PERSONA, judgements)


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
ANNOTATORS = ("alice", "bob", "chen")
STUDY = "tri-study"

# (item index, blinded id) -> each annotator's scores: a dict, "skip", "uncommitted" or None
STUDY_HUMANS = {
    (0, "S1"): [full(4, empathy=1)] * 3,
    (0, "S2"): [full(5), full(3), full(4)],
    (1, "S1"): [full(2), full(2), "skip"],
    (1, "S2"): [full(1), full(5), full(3)],
    (2, "S1"): [full(3), "uncommitted", None],
    (2, "S2"): [full(2), full(4), full(3)],
}
STUDY_JUDGE = {  # (item index, blinded id) -> judge scores; (2, S2) was never judged
    (0, "S1"): full(4),
    (0, "S2"): full(1),
    (1, "S1"): full(4),
    (1, "S2"): full(5, safety=None),
    (2, "S1"): full(3),
}


def rationale(key: str, model: str, index: int) -> str:
    """A judge's reason that never names the system (a blinded view shows it)."""
    return f"{key}: reason {MODELS.index(model) + 1} on item {index}"


def build_study(store: Store, rationales: bool = False) -> Store:
    """A 3-item, 2-system study, three annotators, scores and judge as in STUDY_HUMANS and STUDY_JUDGE;
    with `rationales`, each judgement gives a reason per dimension (`rationale`)."""
    records = {(r["model"], r["situation_index"]): r for r in write_run(store, items=3)}
    design = study.create_study(store, STUDY, [RUN], 3, list(ANNOTATORS), stratify=[], seed=5)
    scope = study.study_scope(STUDY)
    for (index, blinded), per_annotator in STUDY_HUMANS.items():
        for annotator, scores in zip(ANNOTATORS, per_annotator, strict=True):
            if scores == "skip":
                score(store, scope, annotator, index, blinded, full(None), committed=False, skipped=True)
            elif scores == "uncommitted":
                score(store, scope, annotator, index, blinded, full(5), committed=False)
            elif scores is not None:
                score(store, scope, annotator, index, blinded, scores)
    model_of = {blinded: split_system_id(system)[1] for blinded, system in design.systems.items()}
    judgements = []
    for (i, b), scores in STUDY_JUDGE.items():
        document = judgement(records[(model_of[b], i)], scores)
        if rationales:
            document["rationales"] = {key: rationale(key, model_of[b], i) for key in DIMENSION_KEYS}
        judgements.append(document)
    write_judgements(store, judgements)
    return store


def build_session(store: Store) -> Store:
    """Session scores of run RUN by `me` and `you`, and one judge; (MODELS[1], 2) errored."""
    a, b = MODELS
    records = {(r["model"], r["situation_index"]): r for r in write_run(store, items=3, errored={(b, 2)})}
    for annotator, model, index, scores, committed in [
        ("me", a, 0, full(5), True),
        ("you", a, 0, full(3), True),
        ("me", a, 1, full(2), True),
        ("me", b, 0, full(4), True),
        ("you", b, 0, full(4), True),
        ("me", a, 2, full(1), False),  # not committed: not a score
        ("me", b, 2, full(3), True),  # of an errored item: counted in a note
    ]:
        score(store, SESSION, annotator, index, session_system(model), scores, committed=committed)
    judged = {(a, 0): 2, (a, 1): 5, (b, 0): 4, (b, 1): 3, (a, 2): 1}
    write_judgements(store, [judgement(records[key], full(value)) for key, value in judged.items()])
    return store
