"""Self-contained annotation packs: the items, blinded responses and rubric one annotator rates."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from compass_tui.annotations import item_id
from compass_tui.errors import InputError, NotFoundError
from compass_tui.jsonio import atomic_write_json, load_json
from compass_tui.names import storage_name
from compass_tui.records import load_records, system_id
from compass_tui.rubric import DEFINITIONS, LEVELS, RUBRIC_VERSION, SCORE_RANGE
from compass_tui.store import Store
from compass_tui.study.design import (
    PACK_FORMAT,
    TOOL_CALL_FIELDS,
    TOOL_RESULT_FIELDS,
    check_annotator,
    is_finished,
    load_study,
    study_fingerprint,
)
from compass_tui.vocab import DIMENSIONS

# ---------------------------------------------------------------------------------------------- packs


def write_pack(store: Store, name: str, annotator: str, dest: str | Path) -> Path:
    """Write one annotator's self-contained, blinded pack; `dest` is a file or an existing directory.

    The pack holds the rubric and, per assigned item in order, the persona summary, the situation
    and each blinded system's tool call, compact tool result and response. No run or model names,
    no judge scores.
    """
    design = load_study(store, name)
    check_annotator(design, annotator)
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
    return dest / f"{storage_name(name)}-{storage_name(annotator)}.pack.json" if dest.is_dir() else dest


def _study_responses(store: Store, design: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(system, item id) -> finished record, for the study's systems and items."""
    wanted_items = {item["item_id"] for item in design["items"]}
    wanted_systems = set(design["systems"].values())
    responses = {}
    for run in design["runs"]:
        for record in filter(is_finished, load_records(store, run)):
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
    tool_result = _pick(record.get("tool_result"), TOOL_RESULT_FIELDS)
    if tool_result is not None:
        tool_result["error"] = _compact_error(record["tool_result"].get("error"))
    return {
        "blinded_id": blinded,
        "position": position,
        "tool_call": _pick(record.get("tool_call"), TOOL_CALL_FIELDS),
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


def pack_positions(pack: dict[str, Any]) -> dict[str, dict[str, dict[str, int]]]:
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


def pack_for_journal(pack_path: Path) -> dict[str, Any]:
    stat = pack_path.stat() if pack_path.exists() else None
    if stat is None:
        raise InputError(pack_path, None, "no such file")
    return _cached_pack(str(pack_path), stat.st_mtime_ns, stat.st_size)
