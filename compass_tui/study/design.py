"""A study's design: names, items drawn from runs, blinded systems and balanced positions.

The design lives at `studies/<name>/study.json` (atomic write, never overwritten). Systems are shown
under blinded ids (S1..Sn) in positions balanced by a cyclic Latin square; the map from blinded id to
system is kept in the design and never leaves it. Positions are 1-based.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

from compass_tui.annotations import item_id
from compass_tui.errors import InputError, NotFoundError
from compass_tui.interaction_record import InteractionRecord
from compass_tui.jsonio import atomic_write_json, load_json
from compass_tui.names import name_from_storage, storage_name
from compass_tui.records import load_records, load_run_meta, now_iso, system_id
from compass_tui.rubric import RUBRIC_VERSION
from compass_tui.store import Store
from compass_tui.study.models import Assignment, DesignItem, Stratum, StudyDesign
from compass_tui.vocab import DIMENSION_KEYS

JOURNAL_SUFFIX = ".scores.jsonl"
STRATIFY_FIELDS: dict[str, str] = {"scenario": "scenario_type", "emotion": "emotion", "persona": "persona_id"}
UNKNOWN = "unknown"
_SIMPLE_NAME_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,62}[A-Za-z0-9])?$")
TOOL_CALL_FIELDS = ("tool_folder_name", "function_name", "param")
TOOL_RESULT_FIELDS = ("tool_folder_name", "function_name", "ok", "result")

_RESPONSE_COLUMNS = (
    "annotator",
    "item_id",
    "persona_id",
    "situation_index",
    "scenario_type",
    "emotion",
    "system",
    "blinded_id",
    "position",
)
_ANNOTATION_COLUMNS = ("comment", "flag", "skipped", "seconds", "rubric_version", "seed", "timestamp")
WIDE_COLUMNS: tuple[str, ...] = (*_RESPONSE_COLUMNS, *DIMENSION_KEYS, *_ANNOTATION_COLUMNS)
LONG_COLUMNS: tuple[str, ...] = (*_RESPONSE_COLUMNS, "dimension", "score", *_ANNOTATION_COLUMNS)
CSV_HEADERS = {"wide": WIDE_COLUMNS, "long": LONG_COLUMNS}


# ---------------------------------------------------------------------------------------------- names and files


def study_scope(name: str) -> str:
    """The annotation scope that holds a study's scores."""
    return f"study:{name}"


def study_path(store: Store, name: str) -> Path:
    return store.path("studies", storage_name(name), "study.json")


def pack_file_name(name: str, annotator: str) -> str:
    return f"{storage_name(name)}-{storage_name(annotator)}.pack.json"


def default_pack_path(store: Store, name: str, annotator: str) -> Path:
    return study_path(store, name).parent / "packs" / pack_file_name(name, annotator)


def journal_path(pack_path: str | Path) -> Path:
    """Where an annotator's scores for a pack are journalled: `x.pack.json` -> `x.pack.scores.jsonl`."""
    pack_path = Path(pack_path)
    return pack_path.with_name(pack_path.name.removesuffix(".json") + JOURNAL_SUFFIX)


def list_studies(store: Store) -> list[str]:
    base = store.path("studies")
    if not base.is_dir():
        return []
    names = (name_from_storage(path.name) for path in base.iterdir() if (path / "study.json").is_file())
    return sorted(name for name in names if name is not None)


def load_study(store: Store, name: str) -> StudyDesign:
    """The design of a study, or NotFoundError."""
    _check_simple_name(name, "study")
    path = study_path(store, name)
    if not path.is_file():
        known = ", ".join(list_studies(store)) or "none yet"
        raise NotFoundError(None, None, f"no study {name!r} (studies: {known})")
    return StudyDesign.from_document(load_json(path), path)


def study_personas(store: Store, design: StudyDesign, *, skip_missing: bool = False) -> dict[str, Any]:
    """The study's personas as the library has them now, by id. One the library cannot give is bad
    input, or with `skip_missing` left out (its judgements are then matched on the record alone)."""
    from compass_tui.library import PersonaLibrary

    library = PersonaLibrary(store.root)
    personas = {}
    for persona_id in dict.fromkeys(item.persona_id for item in design.items):
        try:
            personas[persona_id] = library.get(persona_id)
        except InputError:
            if not skip_missing:
                raise
    return personas


def _check_simple_name(name: Any, what: str) -> str:
    if not isinstance(name, str) or not _SIMPLE_NAME_RE.match(name):
        raise InputError(
            None, what, f"{name!r} is not a simple name (letters, digits, '.', '_', '-'; at most 64)"
        )
    return name


# ---------------------------------------------------------------------------------------------- creating a study


def create_study(
    store: Store,
    name: str,
    runs: list[str],
    sample: int,
    annotators: list[str],
    stratify: tuple[str, ...] | list[str] = ("scenario",),
    seed: int = 0,
) -> StudyDesign:
    """Draw a stratified sample of shared items, blind the systems, balance positions, and save the design.

    Every (run, model) pair of the listed runs is one system. Returns the design; its `warnings`
    list says what a researcher should know (e.g. a single system).
    """
    import numpy as np

    _check_simple_name(name, "study")
    annotators = _check_annotators(annotators)
    stratify = _check_stratify(stratify)
    runs = _check_runs(runs)
    if study_path(store, name).exists():
        raise InputError(None, "study", f"study {name!r} already exists; choose another name")
    finished = _finished_by_system(store, runs)
    shared = _shared_items(finished)
    _check_sample(sample, shared, finished)
    rng = np.random.default_rng(seed)
    chosen, strata = _stratified_sample(shared, sample, stratify, rng)
    blinded = _blind(list(finished), rng)
    design = StudyDesign(
        name=name,
        created_at=now_iso(),
        seed=seed,
        nonce=os.urandom(16).hex(),
        runs=runs,
        stratify=stratify,
        sample=sample,
        systems=blinded,
        blinded_ids=list(blinded),
        annotators=annotators,
        items=[_study_item(shared[item]) for item in chosen],
        strata=strata,
        assignments=_assignments(chosen, list(blinded), annotators, rng),
        rubric_version=RUBRIC_VERSION,
        warnings=["only one system: positions and blinding have no effect"] if len(blinded) == 1 else [],
    )
    atomic_write_json(study_path(store, name), design.to_document())
    return design


def _check_annotators(annotators: list[str]) -> list[str]:
    names = [_check_simple_name(name, "--annotators") for name in annotators]
    if not names:
        raise InputError(None, "--annotators", "name at least one annotator")
    folded = Counter(name.lower() for name in names)
    repeated = sorted(name for name, count in folded.items() if count > 1)
    if repeated:
        raise InputError(None, "--annotators", f"names must be unique: {', '.join(repeated)}")
    return names


def _check_stratify(stratify: tuple[str, ...] | list[str]) -> list[str]:
    fields = list(stratify)
    unknown = [name for name in fields if name not in STRATIFY_FIELDS]
    if unknown:
        raise InputError(
            None, "--stratify", f"unknown field {unknown[0]!r}; use {', '.join(STRATIFY_FIELDS)}"
        )
    if len(set(fields)) != len(fields):
        raise InputError(None, "--stratify", "a field is listed twice")
    return fields


def _check_runs(runs: list[str]) -> list[str]:
    runs = [run for run in runs if run]
    if not runs:
        raise InputError(None, "--runs", "name at least one run")
    if len(set(runs)) != len(runs):
        raise InputError(None, "--runs", "a run is listed twice")
    return runs


def _finished_by_system(store: Store, runs: list[str]) -> dict[str, dict[str, InteractionRecord]]:
    """system -> item id -> the finished record, for every (run, model) of the runs."""
    finished: dict[str, dict[str, InteractionRecord]] = {}
    for run in runs:
        meta = load_run_meta(store, run)
        records = load_records(store, run)
        for model in dict.fromkeys([*meta.models, *(record.model for record in records)]):
            finished[system_id(run, model)] = {}
        for record in (r for r in records if r.has_response):
            finished[system_id(run, record.model)][item_id(record.persona_id, record.situation_index)] = (
                record
            )
    if not finished:
        raise InputError(None, "--runs", "the runs hold no models")
    return finished


def _shared_items(finished: dict[str, dict[str, InteractionRecord]]) -> dict[str, InteractionRecord]:
    first, *others = finished.values()
    return {item: record for item, record in first.items() if all(item in other for other in others)}


def _check_sample(sample: int, shared: dict[str, Any], finished: dict[str, dict[str, Any]]) -> None:
    if not isinstance(sample, int) or isinstance(sample, bool) or sample < 1:
        raise InputError(None, "--sample", f"{sample!r} is not a positive whole number")
    if sample > len(shared):
        counts = ", ".join(f"{system}: {len(items)}" for system, items in finished.items())
        raise InputError(
            None,
            "--sample",
            f"only {len(shared)} items have a finished response in all "
            f"{len(finished)} systems ({counts}); ask for at most {len(shared)}",
        )


def _item_sort_key(record: InteractionRecord) -> tuple[str, int]:
    return record.persona_id, record.situation_index


def _stratum(record: InteractionRecord, stratify: list[str]) -> tuple[str, ...]:
    return tuple(str(record.get(STRATIFY_FIELDS[name]) or UNKNOWN) for name in stratify)


def largest_remainder(total: int, sizes: dict[Any, int]) -> dict[Any, int]:
    """Split `total` across groups in proportion to `sizes` (Hamilton's largest-remainder method)."""
    population = sum(sizes.values())
    quotas = {key: total * size // population for key, size in sizes.items()}
    remainders = {key: total * size % population for key, size in sizes.items()}
    leftover = total - sum(quotas.values())
    for key in sorted(sizes, key=lambda key: (-remainders[key], -sizes[key], key))[:leftover]:
        quotas[key] += 1
    return quotas


def _stratified_sample(
    shared: dict[str, InteractionRecord], sample: int, stratify: list[str], rng
) -> tuple[list[str], list[Stratum]]:
    strata: dict[tuple[str, ...], list[str]] = {}
    for item in sorted(shared, key=lambda item: _item_sort_key(shared[item])):
        strata.setdefault(_stratum(shared[item], stratify), []).append(item)
    quotas = largest_remainder(sample, {key: len(items) for key, items in strata.items()})
    chosen: list[str] = []
    report: list[Stratum] = []
    for key in sorted(strata):
        members = strata[key]
        picked = rng.choice(len(members), size=quotas[key], replace=False)
        chosen.extend(members[index] for index in sorted(picked))
        report.append(Stratum(dict(zip(stratify, key)), len(members), quotas[key]))
    return sorted(chosen, key=lambda item: _item_sort_key(shared[item])), report


def _blind(systems: list[str], rng) -> dict[str, str]:
    """Blinded id -> system, by a seeded permutation."""
    order = rng.permutation(len(systems))
    return {f"S{position + 1}": systems[index] for position, index in enumerate(order)}


def _study_item(record: InteractionRecord) -> DesignItem:
    return DesignItem(
        item_id(record.persona_id, record.situation_index),
        record.persona_id,
        record.situation_index,
        record.scenario_type,
        record.emotion,
        record.utterance,
    )


def latin_row(blinded_ids: list[str], row: int) -> list[str]:
    """Row `row` of the cyclic Latin square over the blinded ids: the display order of one item."""
    return [blinded_ids[(row + column) % len(blinded_ids)] for column in range(len(blinded_ids))]


def _assignments(
    items: list[str], blinded_ids: list[str], annotators: list[str], rng
) -> dict[str, list[Assignment]]:
    """Per annotator: every item (fully crossed), in a seeded order, systems in Latin-square display order.

    Item i gets row (i + annotator index), so within one annotator the rows cycle through the
    items and each system takes each position equally often, give or take one.
    """
    assignments = {}
    for offset, annotator in enumerate(annotators):
        rows = [Assignment(item, latin_row(blinded_ids, index + offset)) for index, item in enumerate(items)]
        assignments[annotator] = [rows[index] for index in rng.permutation(len(rows))]
    return assignments
