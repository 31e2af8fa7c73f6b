"""Blind, balanced human-evaluation studies, as in the ComPASS paper's human study.

A study draws items, (persona, situation) pairs with a finished response in every compared
system, and has every annotator rate every item's responses (fully crossed). Systems are
shown under blinded ids (S1..Sn) in positions balanced by a cyclic Latin square; the map
from blinded id to system is kept in the design and never leaves it.

    studies/<name>/study.json      the design (atomic write, never overwritten)

Annotators work either in the shared data dir (annotations under scope `study:<name>`) or
on a self-contained pack file, saving to an append-only journal beside it
(`<pack>.scores.jsonl`) that `merge` brings into the store. `agreement` compares the human
mean with the LLM judge and measures agreement among humans; `export`/`import_csv` move
scores through tidy CSV.

Positions are 1-based: position 1 is the response shown first.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import math
import os
import re
import warnings
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from compass_tui import csvio
from compass_tui.annotations import TABLE, Annotation, item_id, load_annotations, now_iso, shard_path
from compass_tui.errors import InputError, NotFoundError
from compass_tui.jsonio import atomic_write_json, dumps, fsync_directory, load_json, loads_strict
from compass_tui.records import load_judgements, load_records, load_run_meta, system_id
from compass_tui.rubric import DEFINITIONS, LEVELS, RUBRIC_VERSION, SCORE_RANGE, valid_score
from compass_tui.store import Store
from compass_tui.vocab import DIMENSION_KEYS, DIMENSIONS

STUDY_FORMAT = "compass-tui/study@1"
PACK_FORMAT = "compass-tui/study-pack@1"
JOURNAL_SUFFIX = ".scores.jsonl"
STRATIFY_FIELDS: dict[str, str] = {"scenario": "scenario_type", "emotion": "emotion", "persona": "persona_id"}
BOOTSTRAP_RESAMPLES = 2000
UNKNOWN = "unknown"
_SIMPLE_NAME_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,62}[A-Za-z0-9])?$")
_TOOL_CALL_FIELDS = ("tool_folder_name", "function_name", "param")
_TOOL_RESULT_FIELDS = ("tool_folder_name", "function_name", "ok", "result")

WIDE_COLUMNS: tuple[str, ...] = (
    "annotator",
    "item_id",
    "persona_id",
    "situation_index",
    "scenario_type",
    "emotion",
    "system",
    "blinded_id",
    "position",
    *DIMENSION_KEYS,
    "comment",
    "flag",
    "skipped",
    "seconds",
    "rubric_version",
    "seed",
    "timestamp",
)
LONG_COLUMNS: tuple[str, ...] = (
    "annotator",
    "item_id",
    "persona_id",
    "situation_index",
    "scenario_type",
    "emotion",
    "system",
    "blinded_id",
    "position",
    "dimension",
    "score",
    "comment",
    "flag",
    "skipped",
    "seconds",
    "rubric_version",
    "seed",
    "timestamp",
)
CSV_HEADERS = {"wide": WIDE_COLUMNS, "long": LONG_COLUMNS}


# ---------------------------------------------------------------------------------------------- names and files


def study_scope(name: str) -> str:
    """The annotation scope that holds a study's scores."""
    return f"study:{name}"


def study_path(store: Store, name: str) -> Path:
    return store.path("studies", name, "study.json")


def journal_path(pack_path: str | Path) -> Path:
    """Where an annotator's scores for a pack are journalled: `x.pack.json` -> `x.pack.scores.jsonl`."""
    pack_path = Path(pack_path)
    return pack_path.with_name(pack_path.name.removesuffix(".json") + JOURNAL_SUFFIX)


def list_studies(store: Store) -> list[str]:
    base = store.path("studies")
    if not base.is_dir():
        return []
    return sorted(path.name for path in base.iterdir() if (path / "study.json").is_file())


def load_study(store: Store, name: str) -> dict[str, Any]:
    """The design of a study, or NotFoundError."""
    _check_simple_name(name, "study")
    path = study_path(store, name)
    if not path.is_file():
        known = ", ".join(list_studies(store)) or "none yet"
        raise NotFoundError(None, None, f"no study {name!r} (studies: {known})")
    design = load_json(path)
    if not isinstance(design, dict) or design.get("format") != STUDY_FORMAT:
        raise InputError(path, "format", f"not a compass-tui study design (expected {STUDY_FORMAT})")
    return design


def study_fingerprint(design: dict[str, Any]) -> str:
    """A hash of the whole design. The design holds a random nonce, so the hash reveals nothing of the blinding."""
    canonical = json.dumps(design, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


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
) -> dict[str, Any]:
    """Draw a stratified sample of shared items, blind the systems, balance positions, and save the design.

    Every (run, model) pair of the listed runs is one system. Returns the design; its "warnings"
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
    design = {
        "format": STUDY_FORMAT,
        "name": name,
        "created_at": now_iso(),
        "seed": seed,
        "nonce": os.urandom(16).hex(),
        "runs": runs,
        "stratify": stratify,
        "sample": sample,
        "systems": blinded,
        "blinded_ids": list(blinded),
        "annotators": annotators,
        "items": [_item_summary(shared[item]) for item in chosen],
        "strata": strata,
        "assignments": _assignments(chosen, list(blinded), annotators, rng),
        "rubric_version": RUBRIC_VERSION,
        "warnings": ["only one system: positions and blinding have no effect"] if len(blinded) == 1 else [],
    }
    atomic_write_json(study_path(store, name), design)
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


def _is_finished(record: dict[str, Any]) -> bool:
    response = record.get("response")
    return (
        record.get("status") == "done"
        and isinstance(response, str)
        and bool(response.strip())
        and record.get("scored", True) is not False
    )


def _finished_by_system(store: Store, runs: list[str]) -> dict[str, dict[str, dict[str, Any]]]:
    """system -> item id -> the finished record, for every (run, model) of the runs."""
    finished: dict[str, dict[str, dict[str, Any]]] = {}
    for run in runs:
        meta = load_run_meta(store, run)
        records = load_records(store, run)
        for model in dict.fromkeys([*meta.get("models", []), *(record["model"] for record in records)]):
            finished[system_id(run, model)] = {}
        for record in filter(_is_finished, records):
            finished[system_id(run, record["model"])][
                item_id(record["persona_id"], record["situation_index"])
            ] = record
    if not finished:
        raise InputError(None, "--runs", "the runs hold no models")
    return finished


def _shared_items(finished: dict[str, dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
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


def _item_sort_key(record: dict[str, Any]) -> tuple[str, int]:
    return record["persona_id"], record["situation_index"]


def _stratum(record: dict[str, Any], stratify: list[str]) -> tuple[str, ...]:
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
    shared: dict[str, dict[str, Any]], sample: int, stratify: list[str], rng
) -> tuple[list[str], list[dict[str, Any]]]:
    strata: dict[tuple[str, ...], list[str]] = {}
    for item in sorted(shared, key=lambda item: _item_sort_key(shared[item])):
        strata.setdefault(_stratum(shared[item], stratify), []).append(item)
    quotas = largest_remainder(sample, {key: len(items) for key, items in strata.items()})
    chosen: list[str] = []
    report = []
    for key in sorted(strata):
        members = strata[key]
        picked = rng.choice(len(members), size=quotas[key], replace=False)
        chosen.extend(members[index] for index in sorted(picked))
        report.append({"values": dict(zip(stratify, key)), "available": len(members), "drawn": quotas[key]})
    return sorted(chosen, key=lambda item: _item_sort_key(shared[item])), report


def _blind(systems: list[str], rng) -> dict[str, str]:
    """Blinded id -> system, by a seeded permutation."""
    order = rng.permutation(len(systems))
    return {f"S{position + 1}": systems[index] for position, index in enumerate(order)}


def _item_summary(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "item_id": item_id(record["persona_id"], record["situation_index"]),
        "persona_id": record["persona_id"],
        "situation_index": record["situation_index"],
        "scenario_type": record.get("scenario_type"),
        "emotion": record.get("emotion"),
        "utterance": record.get("utterance"),
    }


def latin_row(blinded_ids: list[str], row: int) -> list[str]:
    """Row `row` of the cyclic Latin square over the blinded ids: the display order of one item."""
    return [blinded_ids[(row + column) % len(blinded_ids)] for column in range(len(blinded_ids))]


def _assignments(
    items: list[str], blinded_ids: list[str], annotators: list[str], rng
) -> dict[str, list[dict]]:
    """Per annotator: every item (fully crossed), in a seeded order, systems in Latin-square display order.

    Item i gets row (i + annotator index), so within one annotator the rows cycle through the
    items and each system takes each position equally often, give or take one.
    """
    assignments = {}
    for offset, annotator in enumerate(annotators):
        rows = [
            {"item_id": item, "systems": latin_row(blinded_ids, index + offset)}
            for index, item in enumerate(items)
        ]
        assignments[annotator] = [rows[index] for index in rng.permutation(len(rows))]
    return assignments


def design_positions(design: dict[str, Any]) -> dict[str, dict[str, dict[str, int]]]:
    """annotator -> item id -> blinded id -> display position (1-based)."""
    return {
        annotator: {
            entry["item_id"]: {blinded: position for position, blinded in enumerate(entry["systems"], 1)}
            for entry in entries
        }
        for annotator, entries in design["assignments"].items()
    }


def _check_annotator(
    design: dict[str, Any], annotator: str, source: str | Path | None = None, line: int | None = None
) -> None:
    if annotator not in design["annotators"]:
        raise InputError(
            source,
            "annotator",
            f"{annotator!r} is not an annotator of study {design['name']!r} "
            f"(annotators: {', '.join(design['annotators'])})",
            line=line,
        )


# ---------------------------------------------------------------------------------------------- packs


def write_pack(store: Store, name: str, annotator: str, dest: str | Path) -> Path:
    """Write one annotator's self-contained, blinded pack; `dest` is a file or an existing directory.

    The pack holds the rubric and, per assigned item in order, the persona summary, the situation
    and each blinded system's tool call, compact tool result and response. No run or model names,
    no judge scores.
    """
    design = load_study(store, name)
    _check_annotator(design, annotator)
    responses = _study_responses(store, design)
    personas = _study_personas(store, design)
    items = {item["item_id"]: item for item in design["items"]}
    pack = {
        "format": PACK_FORMAT,
        "study": name,
        "fingerprint": study_fingerprint(design),
        "annotator": annotator,
        "rubric": _pack_rubric(),
        "items": [
            _pack_item(
                order,
                items[entry["item_id"]],
                entry["systems"],
                design["systems"],
                responses,
                personas[items[entry["item_id"]]["persona_id"]],
            )
            for order, entry in enumerate(design["assignments"][annotator], 1)
        ],
    }
    path = _pack_destination(Path(dest), name, annotator)
    atomic_write_json(path, pack)
    return path


def _pack_destination(dest: Path, name: str, annotator: str) -> Path:
    return dest / f"{name}-{annotator}.pack.json" if dest.is_dir() else dest


def _study_responses(store: Store, design: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(system, item id) -> finished record, for the study's systems and items."""
    wanted_items = {item["item_id"] for item in design["items"]}
    wanted_systems = set(design["systems"].values())
    responses = {}
    for run in design["runs"]:
        for record in filter(_is_finished, load_records(store, run)):
            key = (system_id(run, record["model"]), item_id(record["persona_id"], record["situation_index"]))
            if key[0] in wanted_systems and key[1] in wanted_items:
                responses[key] = record
    for system in wanted_systems:
        lost = sorted(item for item in wanted_items if (system, item) not in responses)
        if lost:
            raise NotFoundError(
                None, None, f"the response of a study system to item {lost[0]} is gone from its run"
            )
    return responses


def _study_personas(store: Store, design: dict[str, Any]) -> dict[str, Any]:
    from compass_tui.library import PersonaLibrary

    library = PersonaLibrary(store.root)
    personas = {}
    for persona_id in dict.fromkeys(item["persona_id"] for item in design["items"]):
        personas[persona_id] = library.get(persona_id)
    return personas


def _pack_rubric() -> dict[str, Any]:
    return {
        "version": RUBRIC_VERSION,
        "scale": list(SCORE_RANGE),
        "dimensions": [
            {
                "key": d.key,
                "short": d.short,
                "label": d.label,
                "definition": DEFINITIONS[d.key],
                "levels": {str(score): LEVELS[d.key][score] for score in range(5, 0, -1)},
            }
            for d in DIMENSIONS
        ],
    }


def _pack_item(
    order: int,
    item: dict[str, Any],
    display: list[str],
    systems: dict[str, str],
    responses: dict[tuple[str, str], dict[str, Any]],
    persona,
) -> dict[str, Any]:
    if not 0 <= item["situation_index"] < len(persona.situations):
        raise InputError(None, item["item_id"], f"persona {persona.id!r} no longer has this situation")
    situation = persona.situations[item["situation_index"]]
    scenario_type = item["scenario_type"]
    preference = persona.tool_preferences.for_scenario(scenario_type).text if scenario_type else ""
    return {
        "order": order,
        "item_id": item["item_id"],
        "persona_id": item["persona_id"],
        "situation_index": item["situation_index"],
        "persona": {
            "name": persona.display_name,
            "age": persona.demographic.age,
            "career": persona.demographic.career,
            "personality_description": persona.personality_description,
            "tool_preference": preference,
        },
        "situation": {
            "scenario": situation.scenario,
            "utterance": item["utterance"] or situation.utterance,
            "emotion": item["emotion"],
            "scenario_type": scenario_type,
        },
        "responses": [
            _pack_response(position, blinded, responses[(systems[blinded], item["item_id"])])
            for position, blinded in enumerate(display, 1)
        ],
    }


def _pack_response(position: int, blinded: str, record: dict[str, Any]) -> dict[str, Any]:
    tool_result = _pick(record.get("tool_result"), _TOOL_RESULT_FIELDS)
    if tool_result is not None:
        tool_result["error"] = _compact_error(record["tool_result"].get("error"))
    return {
        "blinded_id": blinded,
        "position": position,
        "tool_call": _pick(record.get("tool_call"), _TOOL_CALL_FIELDS),
        "tool_result": tool_result,
        "response": record["response"],
    }


def _compact_error(error: Any) -> dict[str, Any] | None:
    """A tool error without the text of a failed tool, which can quote the tool model's name."""
    if not isinstance(error, dict):
        return None
    if error.get("code") == "tool_failed":
        return {"code": "tool_failed", "message": "the tool failed"}
    return {name: error.get(name) for name in ("code", "message", "parameter")}


def _pick(record: dict[str, Any] | None, fields: tuple[str, ...]) -> dict[str, Any] | None:
    return {name: record[name] for name in fields if name in record} if isinstance(record, dict) else None


def load_pack(path: str | Path) -> dict[str, Any]:
    """Read and check a pack; InputError (one line) if it is not a well-formed study pack."""
    path = Path(path)
    pack = load_json(path)
    if not isinstance(pack, dict) or pack.get("format") != PACK_FORMAT:
        raise InputError(path, "format", f"not a compass-tui study pack (expected {PACK_FORMAT})")
    for name, kind in (("study", str), ("fingerprint", str), ("annotator", str), ("items", list)):
        if not isinstance(pack.get(name), kind):
            raise InputError(path, name, "missing or of the wrong type")
    for index, item in enumerate(pack["items"]):
        _check_pack_item(path, index, item)
    return pack


def _check_pack_item(path: Path, index: int, item: Any) -> None:
    where = f"items[{index}]"
    if (
        not isinstance(item, dict)
        or not isinstance(item.get("item_id"), str)
        or not isinstance(item.get("responses"), list)
    ):
        raise InputError(path, where, "an item needs an item_id and a list of responses")
    for number, response in enumerate(item["responses"]):
        if (
            not isinstance(response, dict)
            or not isinstance(response.get("blinded_id"), str)
            or not isinstance(response.get("position"), int)
        ):
            raise InputError(
                path, f"{where}.responses[{number}]", "a response needs a blinded_id and a position"
            )


def _pack_positions(pack: dict[str, Any]) -> dict[str, dict[str, dict[str, int]]]:
    """Like `design_positions`, for the pack's one annotator."""
    return {
        pack["annotator"]: {
            item["item_id"]: {r["blinded_id"]: r["position"] for r in item["responses"]}
            for item in pack["items"]
        }
    }


@lru_cache(maxsize=8)
def _cached_pack(path: str, mtime_ns: int, size: int) -> dict[str, Any]:
    return load_pack(path)


def _pack_for_journal(pack_path: Path) -> dict[str, Any]:
    stat = pack_path.stat() if pack_path.exists() else None
    if stat is None:
        raise InputError(pack_path, None, "no such file")
    return _cached_pack(str(pack_path), stat.st_mtime_ns, stat.st_size)


# ---------------------------------------------------------------------------------------------- pack journals


def append_pack_score(pack_path: str | Path, annotation: Annotation) -> Annotation:
    """Durably append one save to the pack's journal (fsynced); returns the annotation as saved.

    The annotation must be for this pack's study (scope `study:<name>`), annotator, items and
    blinded systems; its blinded_id and position are set from the pack.
    """
    pack_path = Path(pack_path)
    pack = _pack_for_journal(pack_path)
    positions = _pack_positions(pack)
    _check_scores(annotation.scores, pack_path, None)
    _check_assigned(annotation, study_scope(pack["study"]), positions, pack_path, None)
    annotation.blinded_id = annotation.system
    annotation.position = positions[annotation.annotator][_item_of(annotation)][annotation.system]
    annotation.revision += 1
    annotation.updated_at = now_iso()
    line = dumps(
        annotation.as_record() | {"study": pack["study"], "fingerprint": pack["fingerprint"]}, indent=None
    )
    _append_line(journal_path(pack_path), line + "\n")
    return annotation


def read_pack_scores(pack_path: str | Path) -> list[Annotation]:
    """The annotator's current scores for a pack: the last journal line per item and system wins."""
    pack_path = Path(pack_path)
    pack = _pack_for_journal(pack_path)
    journal = journal_path(pack_path)
    if not journal.exists():
        return []
    entries = _read_journal(journal, pack["fingerprint"], study_scope(pack["study"]), _pack_positions(pack))
    return list(_last_per_key(entries).values())


def _append_line(path: Path, line: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    created = not path.exists()
    with open(path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            _drop_torn_tail(handle)
            handle.write(line.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    if created:
        fsync_directory(path.parent)


def _drop_torn_tail(handle) -> None:
    """Cut a line left half-written by a crash, so the next line starts clean (it was never acknowledged)."""
    handle.seek(0)
    data = handle.read()
    if data and not data.endswith(b"\n"):
        handle.truncate(data.rfind(b"\n") + 1)


def _item_of(annotation: Annotation) -> str:
    return item_id(annotation.persona_id, annotation.situation_index)


def _read_journal(
    path: Path, fingerprint: str, scope: str, positions: dict[str, dict[str, dict[str, int]]]
) -> list[tuple[int, Annotation]]:
    """Every checked (line number, annotation) of a journal; a torn last line is ignored."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise InputError(path, None, f"cannot read: {error.strerror}") from None
    *complete, tail = raw.split(b"\n")
    entries = []
    for number, line in enumerate(complete, 1):
        if line.strip():
            record = _parse_line(line, path, number)
            entries.append((number, _journal_entry(record, path, number, fingerprint, scope, positions)))
    if tail.strip():
        try:
            record = _parse_line(tail, path, len(complete) + 1)
        except InputError:
            return entries  # torn by a crash mid-append: never acknowledged
        entries.append(
            (
                len(complete) + 1,
                _journal_entry(record, path, len(complete) + 1, fingerprint, scope, positions),
            )
        )
    return entries


def _parse_line(line: bytes, path: Path, number: int) -> Any:
    try:
        return loads_strict(line, source=path)
    except InputError as error:
        raise InputError(path, None, f"not a JSON line ({error.message})", line=number) from None


def _journal_entry(
    record: Any,
    path: Path,
    line: int,
    fingerprint: str,
    scope: str,
    positions: dict[str, dict[str, dict[str, int]]],
) -> Annotation:
    if not isinstance(record, dict):
        raise InputError(path, None, "a journal line must be a JSON object", line=line)
    if record.get("fingerprint") != fingerprint:
        raise InputError(
            path, "fingerprint", "these scores belong to another study (fingerprint differs)", line=line
        )
    annotation = _annotation_from_record(record, path, line)
    _check_scores(annotation.scores, path, line)
    _check_assigned(annotation, scope, positions, path, line)
    _check_timestamp(annotation.updated_at, path, line, "updated_at")
    return annotation


def _annotation_from_record(record: dict[str, Any], path: Path, line: int) -> Annotation:
    for name, kind in (
        ("scope", str),
        ("annotator", str),
        ("persona_id", str),
        ("situation_index", int),
        ("system", str),
        ("scores", dict),
    ):
        if not isinstance(record.get(name), kind):
            raise InputError(path, name, "missing or of the wrong type", line=line)
    return Annotation.from_record(record)


def _check_scores(scores: Any, source: str | Path | None, line: int | None) -> None:
    for dimension, value in scores.items():
        if dimension not in DIMENSION_KEYS:
            raise InputError(source, f"scores.{dimension}", "unknown dimension", line=line)
        if value is not None and not valid_score(value):
            raise InputError(source, f"scores.{dimension}", f"score {value!r} is outside 1-5", line=line)


def _check_assigned(
    annotation: Annotation,
    scope: str,
    positions: dict[str, dict[str, dict[str, int]]],
    source: str | Path | None,
    line: int | None,
) -> None:
    if annotation.scope != scope:
        raise InputError(
            source, "scope", f"{annotation.scope!r} is not this study's scope {scope!r}", line=line
        )
    if annotation.annotator not in positions:
        raise InputError(
            source,
            "annotator",
            f"{annotation.annotator!r} is not an annotator of this study "
            f"(annotators: {', '.join(positions)})",
            line=line,
        )
    shown = positions[annotation.annotator].get(_item_of(annotation), {})
    if annotation.system not in shown:
        raise InputError(
            source,
            "system",
            f"{_item_of(annotation)} / {annotation.system} is not assigned to {annotation.annotator}",
            line=line,
        )


def _check_timestamp(text: Any, source: str | Path | None, line: int | None, what: str) -> None:
    try:
        datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise InputError(source, what, f"{text!r} is not an ISO 8601 time", line=line) from None


def _last_per_key(entries: list[tuple[int, Annotation]]) -> dict[tuple[str, str], Annotation]:
    latest: dict[tuple[str, str], Annotation] = {}
    for _, annotation in entries:
        latest[(annotation.annotator, annotation.key)] = annotation
    return latest


# ---------------------------------------------------------------------------------------------- merging


@dataclass
class MergeReport:
    """What a merge or CSV import did. Conflicts keep the newer record and show both."""

    study: str
    files: list[str]
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    missing: dict[str, list[str]] = field(default_factory=dict)

    @property
    def written(self) -> int:
        return (
            self.added
            + self.updated
            + sum(1 for conflict in self.conflicts if conflict["kept"] == "incoming")
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"written": self.written}


def merge(store: Store, name: str, files: list[str | Path]) -> MergeReport:
    """Bring pack journals (or packs with their journal beside them) into the store under `study:<name>`.

    Everything is checked before anything is written: another study's file, an annotator or
    item outside the study, or a score outside 1-5 raises InputError and writes nothing.
    Merging the same file again changes nothing and reports every record as unchanged.
    """
    design = load_study(store, name)
    fingerprint = study_fingerprint(design)
    positions = design_positions(design)
    incoming: list[tuple[str, Annotation]] = []
    for file in files:
        journal = _journal_of(Path(file), fingerprint)
        entries = _read_journal(journal, fingerprint, study_scope(name), positions)
        incoming.extend((str(journal), annotation) for annotation in _last_per_key(entries).values())
    return _apply(store, design, incoming, [str(file) for file in files])


def _journal_of(path: Path, fingerprint: str) -> Path:
    if not path.exists():
        raise InputError(path, None, "no such file")
    if path.name.endswith(JOURNAL_SUFFIX):
        return path
    pack = load_pack(path)
    if pack["fingerprint"] != fingerprint:
        raise InputError(
            path, "fingerprint", f"a pack of another study ({pack['study']!r}, different fingerprint)"
        )
    journal = journal_path(path)
    if not journal.exists():
        raise InputError(path, None, f"no scores beside this pack (expected {journal.name})")
    return journal


def _apply(
    store: Store, design: dict[str, Any], incoming: list[tuple[str, Annotation]], files: list[str]
) -> MergeReport:
    report = MergeReport(design["name"], files)
    current = {(a.annotator, a.key): a for a in load_annotations(store, study_scope(design["name"]))}
    to_write: dict[tuple[str, str], Annotation] = {}
    for source, new in incoming:
        slot = (new.annotator, new.key)
        outcome, kept = _resolve(current.get(slot), new)
        if outcome == "conflict":
            report.conflicts.append(_conflict(current[slot], new, kept, source))
        else:
            setattr(report, outcome, getattr(report, outcome) + 1)
        if kept is new:
            current[slot] = to_write[slot] = new
    for annotation in to_write.values():
        _store_annotation(store, annotation)
    report.missing = missing_items(design, current.values())
    return report


def _resolve(old: Annotation | None, new: Annotation) -> tuple[str, Annotation]:
    """(added | updated | unchanged | conflict, the record to keep). Scores that clash make a conflict."""
    if old is None:
        return "added", new
    if old.as_record() == new.as_record():
        return "unchanged", old
    newer = new if _moment(new.updated_at) > _moment(old.updated_at) else old
    clash = any(
        old.scores.get(key) is not None
        and new.scores.get(key) is not None
        and old.scores[key] != new.scores[key]
        for key in DIMENSION_KEYS
    )
    if clash:
        return "conflict", newer
    return ("updated", new) if newer is new else ("unchanged", old)


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _conflict(old: Annotation, new: Annotation, kept: Annotation, source: str) -> dict[str, Any]:
    def version(annotation: Annotation) -> dict[str, Any]:
        return {
            "scores": annotation.scores,
            "comment": annotation.comment,
            "updated_at": annotation.updated_at,
        }

    return {
        "annotator": new.annotator,
        "item_id": _item_of(new),
        "system": new.system,
        "source": source,
        "kept": "incoming" if kept is new else "stored",
        "stored": version(old),
        "incoming": version(new),
    }


def _store_annotation(store: Store, annotation: Annotation) -> None:
    # Not annotations.save_annotation: that stamps the time of this save, and a merge or an
    # import must keep when the annotator scored (conflicts keep the newer; CSV round trips).
    _check_scores(annotation.scores, None, None)
    store.upsert(
        shard_path(annotation.scope, annotation.annotator, annotation.persona_id),
        TABLE,
        annotation.key,
        annotation.as_record(),
    )


def _is_rated(annotation: Annotation) -> bool:
    return annotation.skipped or annotation.complete


def missing_items(design: dict[str, Any], annotations) -> dict[str, list[str]]:
    """annotator -> items (in their order) with at least one response not yet rated or skipped."""
    rated = {(a.annotator, _item_of(a), a.system) for a in annotations if _is_rated(a)}
    return {
        annotator: [
            entry["item_id"]
            for entry in entries
            if any((annotator, entry["item_id"], s) not in rated for s in entry["systems"])
        ]
        for annotator, entries in design["assignments"].items()
    }


def study_annotations(store: Store, design: dict[str, Any]) -> list[Annotation]:
    """The study's stored annotations that belong to its design (annotator, item and blinded system)."""
    positions = design_positions(design)
    return [
        a
        for a in load_annotations(store, study_scope(design["name"]))
        if a.system in positions.get(a.annotator, {}).get(_item_of(a), {})
    ]


def progress(design: dict[str, Any], annotations: list[Annotation]) -> dict[str, dict[str, Any]]:
    """annotator -> rated and assigned responses, items done, and mean seconds spent per item."""
    missing = missing_items(design, annotations)
    result = {}
    for annotator, entries in design["assignments"].items():
        mine = [a for a in annotations if a.annotator == annotator]
        seconds_by_item: defaultdict[str, float] = defaultdict(float)
        for annotation in mine:
            seconds_by_item[_item_of(annotation)] += annotation.seconds
        item_seconds = list(seconds_by_item.values())
        result[annotator] = {
            "rated": sum(1 for a in mine if _is_rated(a)),
            "assigned": sum(len(e["systems"]) for e in entries),
            "items_done": len(entries) - len(missing[annotator]),
            "items_assigned": len(entries),
            "mean_seconds_per_item": sum(item_seconds) / len(item_seconds) if item_seconds else None,
        }
    return result


# ---------------------------------------------------------------------------------------------- statistics


def icc_two_way_random(ratings) -> tuple[float, float]:
    """ICC(2,1) and ICC(2,k) of an n targets x k raters matrix with no missing values.

    Shrout & Fleiss (1979), "Intraclass correlations: uses in assessing rater reliability",
    Psychological Bulletin 86(2), 420-428, Case 2 (two-way random effects), from the ANOVA
    mean squares BMS (targets), JMS (raters) and EMS (residual):

        ICC(2,1) = (BMS - EMS) / (BMS + (k-1) EMS + k (JMS - EMS) / n)
        ICC(2,k) = (BMS - EMS) / (BMS + (JMS - EMS) / n)
    """
    import numpy as np

    ratings = np.asarray(ratings, dtype=float)
    n, k = ratings.shape
    grand = ratings.mean()
    ss_targets = k * ((ratings.mean(axis=1) - grand) ** 2).sum()
    ss_raters = n * ((ratings.mean(axis=0) - grand) ** 2).sum()
    ss_error = ((ratings - grand) ** 2).sum() - ss_targets - ss_raters
    bms, jms = ss_targets / (n - 1), ss_raters / (k - 1)
    ems = ss_error / ((n - 1) * (k - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        single = (bms - ems) / (bms + (k - 1) * ems + k * (jms - ems) / n)
        average = (bms - ems) / (bms + (jms - ems) / n)
    return float(single), float(average)


def _number(value: Any) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def correlation(x, y, method: str, seed: int, resamples: int = BOOTSTRAP_RESAMPLES) -> dict[str, Any]:
    """Pearson or Spearman r, its p-value and a percentile bootstrap 95% CI over paired units.

    Resamples where r is undefined (a constant resample) are left out of the interval.
    """
    import numpy as np
    from scipy import stats

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return {"r": None, "p": None, "ci": None, "n": len(x), "note": "needs 3+ units and varying scores"}
    point = stats.pearsonr(x, y) if method == "pearson" else stats.spearmanr(x, y)

    def statistic(a, b, axis=-1):
        if method == "spearman":
            a, b = stats.rankdata(a, axis=axis), stats.rankdata(b, axis=axis)
        return stats.pearsonr(a, b, axis=axis).statistic

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = stats.bootstrap(
            (x, y),
            statistic,
            paired=True,
            vectorized=True,
            n_resamples=resamples,
            method="percentile",
            rng=np.random.default_rng(seed),
        )
        low, high = np.nanpercentile(result.bootstrap_distribution, [2.5, 97.5])
    return {
        "r": _number(point.statistic),
        "p": _number(point.pvalue),
        "ci": [_number(low), _number(high)],
        "n": len(x),
    }


def krippendorff_alpha(matrix, level: Literal["nominal", "ordinal", "interval", "ratio"]) -> float | None:
    """Krippendorff's alpha of a coders x units matrix (NaN = not rated), or None when undefined."""
    import krippendorff
    import numpy as np

    matrix = np.asarray(matrix, dtype=float)
    if matrix.shape[0] < 2 or not (np.sum(~np.isnan(matrix), axis=0) >= 2).any():
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _number(krippendorff.alpha(reliability_data=matrix, level_of_measurement=level))
    except (ValueError, ZeroDivisionError):
        return None


def position_effect(scores_by_block: dict[tuple[str, str], dict[int, int]], positions: int) -> dict[str, Any]:
    """Mean score by display position, and a test that position does not matter.

    Blocks are (annotator, item). Friedman's test over complete blocks when there are 3+ positions,
    otherwise Kruskal-Wallis over all scores.
    """
    import numpy as np
    from scipy import stats

    by_position = {
        position: [block[position] for block in scores_by_block.values() if position in block]
        for position in range(1, positions + 1)
    }
    means = {
        str(position): (float(np.mean(values)) if values else None)
        for position, values in by_position.items()
    }
    complete = [
        [block[p] for p in range(1, positions + 1)]
        for block in scores_by_block.values()
        if len(block) == positions
    ]
    test, p_value = None, None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if positions >= 3 and len(complete) >= 2:
                test, p_value = "friedman", stats.friedmanchisquare(*np.array(complete, dtype=float).T).pvalue
            elif positions >= 2 and all(by_position.values()):
                test, p_value = "kruskal", stats.kruskal(*by_position.values()).pvalue
        except ValueError:
            p_value = None
    return {"means": means, "test": test, "p": _number(p_value) if p_value is not None else None}


def agreement(store: Store, name: str, judge_model: str | None = None) -> dict[str, Any]:
    """Human mean against the LLM judge, agreement among annotators, progress and position effects.

    Units are (item, blinded system). Per dimension: Pearson and Spearman with bootstrap 95% CIs
    (2000 resamples of units, seeded by the study seed), Krippendorff's alpha (ordinal and
    interval), ICC(2,k) over units every annotator rated, and the position check.
    """
    design = load_study(store, name)
    annotations = study_annotations(store, design)
    units = [(item["item_id"], blinded) for item in design["items"] for blinded in design["blinded_ids"]]
    judge, judge_scores, judge_note = _judge_scores(store, design, judge_model)
    dimensions = {}
    for key in DIMENSION_KEYS:
        matrix = _rating_matrix(design, annotations, units, key)
        dimensions[key] = _dimension_statistics(design, annotations, units, matrix, key, judge_scores)
    return {
        "study": name,
        "judge_model": judge,
        "judge_available": judge is not None,
        "judge_note": judge_note,
        "units": len(units),
        "annotators": design["annotators"],
        "dimensions": dimensions,
        "progress": progress(design, annotations),
    }


def _rating_matrix(
    design: dict[str, Any], annotations: list[Annotation], units: list[tuple[str, str]], key: str
):
    import numpy as np

    column = {unit: index for index, unit in enumerate(units)}
    row = {annotator: index for index, annotator in enumerate(design["annotators"])}
    matrix = np.full((len(row), len(units)), np.nan)
    for annotation in annotations:
        score = annotation.scores.get(key)
        if score is not None and not annotation.skipped:
            matrix[row[annotation.annotator], column[(_item_of(annotation), annotation.system)]] = score
    return matrix


def _dimension_statistics(design, annotations, units, matrix, key, judge_scores) -> dict[str, Any]:
    import numpy as np

    rated = ~np.isnan(matrix).all(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        human_mean = np.nanmean(matrix, axis=0)
    paired = [
        (human_mean[i], judge_scores[unit][key])
        for i, unit in enumerate(units)
        if rated[i] and unit in judge_scores and judge_scores[unit].get(key) is not None
    ]
    humans, judged = (list(values) for values in zip(*paired)) if paired else ([], [])
    complete = matrix[:, ~np.isnan(matrix).any(axis=0)].T
    icc_single, icc_average = (
        icc_two_way_random(complete)
        if complete.shape[0] >= 2 and complete.shape[1] >= 2
        else (math.nan, math.nan)
    )
    return {
        "rated_units": int(rated.sum()),
        "judged_units": len(paired),
        "human_mean": _number(np.nanmean(matrix)) if rated.any() else None,
        "judge_mean": _number(np.mean(judged)) if judged else None,
        "pearson": correlation(humans, judged, "pearson", design["seed"]) if judge_scores else None,
        "spearman": correlation(humans, judged, "spearman", design["seed"]) if judge_scores else None,
        "alpha_ordinal": krippendorff_alpha(matrix, "ordinal"),
        "alpha_interval": krippendorff_alpha(matrix, "interval"),
        "icc2_1": _number(icc_single),
        "icc2_k": _number(icc_average),
        "icc_units": int(complete.shape[0]),
        "position": position_effect(_position_blocks(design, annotations, key), len(design["blinded_ids"])),
    }


def _position_blocks(
    design, annotations: list[Annotation], key: str
) -> dict[tuple[str, str], dict[int, int]]:
    positions = design_positions(design)
    blocks: dict[tuple[str, str], dict[int, int]] = {}
    for annotation in annotations:
        score = annotation.scores.get(key)
        if score is not None and not annotation.skipped:
            item = _item_of(annotation)
            position = positions[annotation.annotator][item][annotation.system]
            blocks.setdefault((annotation.annotator, item), {})[position] = score
    return blocks


def _judge_scores(
    store: Store, design: dict[str, Any], judge_model: str | None
) -> tuple[str | None, dict[tuple[str, str], dict[str, Any]], str | None]:
    """(judge model, (item, blinded id) -> judge scores, a note when the judge is unavailable)."""
    blinded_of = {system: blinded for blinded, system in design["systems"].items()}
    items = {item["item_id"] for item in design["items"]}
    relevant = []
    for run in design["runs"]:
        for judgement in load_judgements(store, run):
            blinded = blinded_of.get(system_id(run, judgement.get("model", "")))
            item = item_id(judgement.get("persona_id", ""), judgement.get("situation_index", -1))
            if blinded and item in items and isinstance(judgement.get("scores"), dict):
                relevant.append(((item, blinded), judgement))
    counts = Counter(judgement.get("judge_model") for _, judgement in relevant)
    if judge_model is None and not counts:
        return (
            None,
            {},
            "no judge scores for this study's systems and items; judge correlation is unavailable",
        )
    if judge_model is not None and judge_model not in counts:
        known = ", ".join(sorted(str(model) for model in counts)) or "none"
        raise NotFoundError(
            None, "--judge-model", f"no judgements by {judge_model!r} for this study (judges: {known})"
        )
    chosen = judge_model or sorted(counts, key=lambda model: (-counts[model], str(model)))[0]
    best: dict[tuple[str, str], dict[str, Any]] = {}
    for unit, judgement in relevant:
        if judgement.get("judge_model") == chosen and _judgement_rank(judgement) > _judgement_rank(
            best.get(unit)
        ):
            best[unit] = judgement
    return chosen, {unit: judgement["scores"] for unit, judgement in best.items()}, None


def _judgement_rank(judgement: dict[str, Any] | None) -> tuple[bool, str]:
    """Valid judgements before invalid ones, then the latest."""
    if judgement is None:
        return (False, "")
    return (bool(judgement.get("valid", True)), str(judgement.get("created_at", "")))


# ---------------------------------------------------------------------------------------------- CSV


def export(store: Store, name: str, fmt: str, out: str | Path) -> int:
    """Write the study's scores as tidy CSV (`long`: one row per dimension; `wide`: one per response).

    Rows are ordered by annotator, their item order and display position. Returns the row count.
    """
    if fmt not in CSV_HEADERS:
        raise InputError(None, "--format", f"{fmt!r} is not a format; use long or wide")
    design = load_study(store, name)
    records = _export_records(design, study_annotations(store, design))
    rows = _long_rows(records) if fmt == "long" else ([record[c] for c in WIDE_COLUMNS] for record in records)
    return csvio.write_csv(out, CSV_HEADERS[fmt], rows)


def _export_records(design: dict[str, Any], annotations: list[Annotation]) -> list[dict[str, Any]]:
    by_slot = {(a.annotator, _item_of(a), a.system): a for a in annotations}
    items = {item["item_id"]: item for item in design["items"]}
    records = []
    for annotator, entries in design["assignments"].items():
        for entry in entries:
            for position, blinded in enumerate(entry["systems"], 1):
                annotation = by_slot.get((annotator, entry["item_id"], blinded))
                if annotation is not None:
                    records.append(
                        _export_record(design, items[entry["item_id"]], blinded, position, annotation)
                    )
    return records


def _export_record(design, item, blinded: str, position: int, annotation: Annotation) -> dict[str, Any]:
    return {
        "annotator": annotation.annotator,
        "item_id": item["item_id"],
        "persona_id": item["persona_id"],
        "situation_index": item["situation_index"],
        "scenario_type": item["scenario_type"],
        "emotion": item["emotion"],
        "system": design["systems"][blinded],
        "blinded_id": blinded,
        "position": position,
        **{key: annotation.scores.get(key) for key in DIMENSION_KEYS},
        "comment": annotation.comment,
        "flag": annotation.flag,
        "skipped": annotation.skipped,
        "seconds": annotation.seconds,
        "rubric_version": annotation.rubric_version,
        "seed": design["seed"],
        "timestamp": annotation.updated_at,
    }


def _long_rows(records: list[dict[str, Any]]):
    for record in records:
        for key in DIMENSION_KEYS:
            yield [
                key if column == "dimension" else record[key] if column == "score" else record[column]
                for column in LONG_COLUMNS
            ]


def import_csv(store: Store, name: str, path: str | Path) -> MergeReport:
    """Read a long or wide export back into the store (format found from the header).

    The header must match exactly; every row is checked (study, annotator, item, system,
    position, scores 1-5) before anything is written. Existing scores merge as in `merge`.
    """
    design = load_study(store, name)
    path = Path(path)
    table = csvio.read_csv(path, CSV_HEADERS)
    groups: dict[tuple[str, str, str], list[tuple[int, dict[str, str]]]] = {}
    for line, row in table.rows:
        group = groups.setdefault((row["annotator"], row["item_id"], row["blinded_id"]), [])
        if table.kind == "wide" and group:
            raise InputError(
                path,
                None,
                f"a second row for {row['annotator']} / {row['item_id']} / "
                f"{row['blinded_id']} (first on line {group[0][0]})",
                line=line,
            )
        group.append((line, row))
    study = _CsvStudy(design, {item["item_id"]: item for item in design["items"]}, design_positions(design))
    incoming = [(str(path), _csv_annotation(study, path, table.kind, rows)) for rows in groups.values()]
    return _apply(store, design, incoming, [str(path)])


@dataclass
class _CsvStudy:
    design: dict[str, Any]
    items: dict[str, dict[str, Any]]
    positions: dict[str, dict[str, dict[str, int]]]


def _csv_annotation(
    study: _CsvStudy, path: Path, kind: str, rows: list[tuple[int, dict[str, str]]]
) -> Annotation:
    design = study.design
    line, first = rows[0]
    item = _csv_item(study, path, line, first)
    scores = (
        _csv_scores(path, rows)
        if kind == "long"
        else {key: _csv_score(path, line, key, first[key]) for key in DIMENSION_KEYS}
    )
    timestamp = first["timestamp"] or now_iso()
    _check_timestamp(timestamp, path, line, "timestamp")
    return Annotation(
        scope=study_scope(design["name"]),
        annotator=first["annotator"],
        persona_id=item["persona_id"],
        situation_index=item["situation_index"],
        system=first["blinded_id"],
        scores=scores,
        comment=first["comment"],
        flag=_csv_bool(path, line, "flag", first["flag"]),
        skipped=_csv_bool(path, line, "skipped", first["skipped"]),
        seconds=_csv_seconds(path, line, first["seconds"]),
        position=_csv_int(path, line, "position", first["position"]),
        blinded_id=first["blinded_id"],
        rubric_version=first["rubric_version"] or RUBRIC_VERSION,
        created_at=timestamp,
        updated_at=timestamp,
    )


def _csv_item(study: _CsvStudy, path: Path, line: int, row: dict[str, str]) -> dict[str, Any]:
    """The design item of a row, after checking that the row is this study's."""
    design = study.design
    if _csv_int(path, line, "seed", row["seed"]) != design["seed"]:
        raise InputError(
            path, "seed", f"{row['seed']} is not study {design['name']!r}'s seed {design['seed']}", line=line
        )
    _check_annotator(design, row["annotator"], path, line)
    item = study.items.get(row["item_id"])
    if (
        item is None
        or row["persona_id"] != item["persona_id"]
        or _csv_int(path, line, "situation_index", row["situation_index"]) != item["situation_index"]
    ):
        raise InputError(
            path, "item_id", f"{row['item_id']!r} is not an item of study {design['name']!r}", line=line
        )
    if design["systems"].get(row["blinded_id"]) != row["system"]:
        raise InputError(
            path,
            "system",
            f"{row['system']!r} is not blinded as {row['blinded_id']!r} in this study",
            line=line,
        )
    expected = study.positions[row["annotator"]][row["item_id"]][row["blinded_id"]]
    if _csv_int(path, line, "position", row["position"]) != expected:
        raise InputError(
            path, "position", f"{row['position']} is not the design's position {expected}", line=line
        )
    return item


def _csv_scores(path: Path, rows: list[tuple[int, dict[str, str]]]) -> dict[str, int | None]:
    scores: dict[str, int | None] = {key: None for key in DIMENSION_KEYS}
    seen: set[str] = set()
    for line, row in rows:
        dimension = row["dimension"]
        if dimension not in DIMENSION_KEYS or dimension in seen:
            raise InputError(
                path, "dimension", f"{dimension!r} is unknown or repeated for this response", line=line
            )
        seen.add(dimension)
        scores[dimension] = _csv_score(path, line, "score", row["score"])
    return scores


def _csv_score(path: Path, line: int, column: str, text: str) -> int | None:
    if text == "":
        return None
    if not re.fullmatch(r"[0-9]+", text) or not valid_score(int(text)):
        raise InputError(path, column, f"score {text!r} is not a whole number from 1 to 5", line=line)
    return int(text)


def _csv_int(path: Path, line: int, column: str, text: str) -> int:
    if not re.fullmatch(r"-?[0-9]+", text):
        raise InputError(path, column, f"{text!r} is not a whole number", line=line)
    return int(text)


def _csv_bool(path: Path, line: int, column: str, text: str) -> bool:
    values = {"true": True, "false": False, "1": True, "0": False, "": False}
    if text.lower() not in values:
        raise InputError(path, column, f"{text!r} is not true or false", line=line)
    return values[text.lower()]


def _csv_seconds(path: Path, line: int, text: str) -> float:
    try:
        seconds = float(text) if text else 0.0
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0:
        raise InputError(path, "seconds", f"{text!r} is not a number of seconds", line=line)
    return seconds


# ---------------------------------------------------------------------------------------------- summaries


def public_design(design: dict[str, Any], reveal: bool = False) -> dict[str, Any]:
    """The design without what would unblind it (the system map and the nonce), unless `reveal`."""
    if reveal:
        return dict(design)
    return {key: value for key, value in design.items() if key not in ("systems", "nonce")}
