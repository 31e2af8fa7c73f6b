"""Self-contained annotation packs: the items, blinded responses and rubric one annotator rates."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from compass_tui.annotations import item_id
from compass_tui.errors import InputError, NotFoundError
from compass_tui.interaction_record import InteractionRecord
from compass_tui.jsonio import dumps, load_json, write_output_text
from compass_tui.records import load_records, system_id
from compass_tui.rubric import DEFINITIONS, LEVELS, RUBRIC_VERSION, SCORE_RANGE
from compass_tui.store import Store
from compass_tui.study.design import (
    TOOL_CALL_FIELDS,
    TOOL_RESULT_FIELDS,
    load_study,
    pack_file_name,
    study_personas,
)
from compass_tui.study.models import (
    DesignItem,
    PackItem,
    PackPersona,
    PackResponse,
    PackRubric,
    PackSituation,
    RubricDimension,
    StudyDesign,
    StudyPack,
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
    design.check_annotator(annotator)
    responses = _study_responses(store, design)
    personas = study_personas(store, design)
    items = design.items_by_id
    pack = StudyPack(
        study=name,
        fingerprint=design.fingerprint(),
        annotator=annotator,
        rubric=_pack_rubric(),
        items=[
            _pack_item(
                order,
                items[entry.item_id],
                entry.systems,
                design.systems,
                responses,
                personas[items[entry.item_id].persona_id],
            )
            for order, entry in enumerate(design.assignments[annotator], 1)
        ],
    )
    path = Path(dest) / pack_file_name(name, annotator) if Path(dest).is_dir() else Path(dest)
    write_output_text(path, dumps(pack.to_document(), indent=2) + "\n", "--out")
    return path


def _study_responses(store: Store, design: StudyDesign) -> dict[tuple[str, str], InteractionRecord]:
    """(system, item id) -> finished record, for the study's systems and items."""
    wanted_items = {item.item_id for item in design.items}
    wanted_systems = set(design.systems.values())
    responses = {}
    for run in design.runs:
        for record in (r for r in load_records(store, run) if r.has_response):
            key = (system_id(run, record.model), item_id(record.persona_id, record.situation_index))
            if key[0] in wanted_systems and key[1] in wanted_items:
                responses[key] = record
    for system in wanted_systems:
        lost = sorted(item for item in wanted_items if (system, item) not in responses)
        if lost:
            raise NotFoundError(
                None, None, f"the response of a study system to item {lost[0]} is gone from its run"
            )
    return responses


def _pack_rubric() -> PackRubric:
    dimensions = [
        RubricDimension(
            d.key,
            d.short,
            d.label,
            DEFINITIONS[d.key],
            {str(score): LEVELS[d.key][score] for score in range(5, 0, -1)},
        )
        for d in DIMENSIONS
    ]
    return PackRubric(RUBRIC_VERSION, list(SCORE_RANGE), dimensions)


def _pack_item(
    order: int,
    item: DesignItem,
    display: list[str],
    systems: dict[str, str],
    responses: dict[tuple[str, str], InteractionRecord],
    persona,
) -> PackItem:
    if not 0 <= item.situation_index < len(persona.situations):
        raise InputError(None, item.item_id, f"persona {persona.id!r} no longer has this situation")
    situation = persona.situations[item.situation_index]
    scenario_type = item.scenario_type
    preference = persona.tool_preferences.for_scenario(scenario_type).text if scenario_type else ""
    return PackItem(
        order=order,
        item_id=item.item_id,
        persona_id=item.persona_id,
        situation_index=item.situation_index,
        persona=PackPersona(
            persona.display_name,
            persona.demographic.age,
            persona.demographic.career,
            persona.personality_description,
            preference,
        ),
        situation=PackSituation(
            situation.scenario, item.utterance or situation.utterance, item.emotion, scenario_type
        ),
        responses=[
            _pack_response(position, blinded, responses[(systems[blinded], item.item_id)])
            for position, blinded in enumerate(display, 1)
        ],
    )


def _pack_response(position: int, blinded: str, record: InteractionRecord) -> PackResponse:
    tool_result = _pick(record.tool_result, TOOL_RESULT_FIELDS)
    if tool_result is not None:
        tool_result["error"] = _compact_error((record.tool_result or {}).get("error"))
    return PackResponse(
        blinded,
        position,
        _pick(record.tool_call.to_document() if record.tool_call else None, TOOL_CALL_FIELDS),
        tool_result,
        record.response,
    )


def _compact_error(error: Any) -> dict[str, Any] | None:
    """A tool error without the text of a failed tool, which can quote the tool model's name."""
    if not isinstance(error, dict):
        return None
    if error.get("code") == "tool_failed":
        return {"code": "tool_failed", "message": "the tool failed"}
    return {name: error.get(name) for name in ("code", "message", "parameter")}


def _pick(record: dict[str, Any] | None, fields: tuple[str, ...]) -> dict[str, Any] | None:
    return {name: record[name] for name in fields if name in record} if isinstance(record, dict) else None


def load_pack(path: str | Path) -> StudyPack:
    """Read and check a pack; InputError (one line, naming the field) if it is not a well-formed study pack."""
    path = Path(path)
    return StudyPack.from_document(load_json(path), path)


@lru_cache(maxsize=8)
def _cached_pack(path: str, mtime_ns: int, size: int) -> StudyPack:
    return load_pack(path)


def pack_for_journal(pack_path: Path) -> StudyPack:
    stat = pack_path.stat() if pack_path.exists() else None
    if stat is None:
        raise InputError(pack_path, None, "no such file")
    return _cached_pack(str(pack_path), stat.st_mtime_ns, stat.st_size)
