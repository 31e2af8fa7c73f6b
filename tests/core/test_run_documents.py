"""A run's run.json and its records shards are written byte for byte as before the typed records, and
reading a stored document into its type and writing it back changes no byte.

`golden/run/` was written by the code before the typed records (dict-based), from the run below (the
offline baseline on two situations of a bundled persona, and one what-if variant), with the clock fixed.
Set COMPASS_TUI_WRITE_GOLDEN=1 to write it again.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import types
from datetime import date
from pathlib import Path

import pytest

from compass_tui import pipeline, records, runner
from compass_tui.library import PersonaLibrary
from compass_tui.pipeline import System
from compass_tui.prompts import our_prompts
from compass_tui.records import run_meta_path, run_records_path, run_variants_path
from compass_tui.runner import RunPlan, execute_run
from compass_tui.store import Store
from compass_tui.tools import environment
from compass_tui.tools.environment import ToolEnvironment
from compass_tui.variants import make_variant

GOLDEN = Path(__file__).parent / "golden" / "run"
RUN, PERSONA = "golden-run", "adam-kerr"
CLOCK = "2025-01-02T03:04:05.000+00:00"
WHAT_IF = "Actually I just got promoted and I want to celebrate with some music tonight!"
FILES = {
    "run.json": run_meta_path(RUN),
    "records.json": run_records_path(RUN, PERSONA),
    "variants.json": run_variants_path(RUN, PERSONA),
}


@pytest.fixture
def written(tmp_path, monkeypatch) -> Store:
    for module in (records, runner, pipeline):
        monkeypatch.setattr(module, "now_iso", lambda: CLOCK)
    monkeypatch.setattr(environment, "time", types.SimpleNamespace(perf_counter=lambda: 0.0))
    store = Store(tmp_path / "data")
    persona = PersonaLibrary(Path("/nonexistent")).get(PERSONA)
    env = ToolEnvironment.create(store, search_mode="lexical", cache_dir=tmp_path / "cache")

    def run(variant=None) -> None:
        plan = RunPlan(
            RUN,
            "profile",
            [System("baseline")],
            [persona],
            our_prompts(),
            today=date(2025, 3, 14),
            only_situations={1, 4},
            variant=variant,
        )
        progress = asyncio.run(execute_run(plan, store, env))
        assert not progress.failed

    run()
    run(make_variant(persona, 4, WHAT_IF))
    return store


def test_a_run_is_written_byte_for_byte_as_before(written):
    if os.environ.get("COMPASS_TUI_WRITE_GOLDEN"):
        GOLDEN.mkdir(parents=True, exist_ok=True)
        for name, relative in FILES.items():
            shutil.copyfile(written.path(relative), GOLDEN / name)
    for name, relative in FILES.items():
        assert written.path(relative).read_bytes() == (GOLDEN / name).read_bytes(), name


def test_run_meta_read_and_written_again_changes_no_byte(tmp_path):
    from compass_tui.jsonio import dumps
    from compass_tui.run_meta import RunMeta

    stored = json.loads((GOLDEN / "run.json").read_text())["meta"]["1"]
    meta = RunMeta.from_document(stored)
    assert (meta.run_id, meta.models, meta.fidelity, meta.status) == (RUN, ["baseline"], "clean", "finished")
    assert dumps(meta.to_document(), indent=None) == dumps(stored, indent=None)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.pop("setting"), "setting"),
        (lambda d: d.update(models="baseline"), "models"),
        (lambda d: d.update(status=3), "status"),
    ],
)
def test_a_bad_run_json_names_its_file_and_field(tmp_path, change, field):
    from compass_tui.errors import InputError
    from compass_tui.records import load_run_meta

    store = Store(tmp_path)
    document = json.loads((GOLDEN / "run.json").read_text())
    change(document["meta"]["1"])
    path = store.path(run_meta_path(RUN))
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(document))
    with pytest.raises(InputError) as caught:
        load_run_meta(store, RUN)
    assert caught.value.field == field and caught.value.source == str(path)


@pytest.mark.parametrize("name", ["records.json", "variants.json"])
def test_records_read_and_written_again_change_no_byte(name):
    from compass_tui.interaction_record import InteractionRecord, StageCall, VariantInfo
    from compass_tui.jsonio import dumps

    stored = json.loads((GOLDEN / name).read_text())["interactions"]
    for document in stored.values():
        record = InteractionRecord.read(document)
        assert isinstance(record.stage1, StageCall) and record.finished and record.has_response
        assert (record.variant is not None) == (name == "variants.json")
        assert dumps(record.to_document(), indent=None) == dumps(document, indent=None)
        assert dict(record) == document and record["stage2"] == document["stage2"]
    if name == "variants.json":
        assert isinstance(record.variant, VariantInfo) and record.variant.text == WHAT_IF


def test_a_record_without_its_item_names_the_field():
    from compass_tui.errors import InputError
    from compass_tui.interaction_record import InteractionRecord

    document = next(iter(json.loads((GOLDEN / "records.json").read_text())["interactions"].values()))
    document["situation_index"] = "1"
    with pytest.raises(InputError) as caught:
        InteractionRecord.read(document, "records.json")
    assert caught.value.field == "situation_index"


def test_a_record_step_takes_only_the_records_fields_and_stores_typed_parts_as_documents():
    from compass_tui.interaction_record import RecordError
    from compass_tui.records import new_record, record_step

    record = new_record(run_id=RUN, model="m", persona_id=PERSONA, situation_index=0, setting="profile")
    assert list(record)[:6] == ["run_id", "model", "persona_id", "situation_index", "setting", "status"]
    assert record["status"] == "pending" and "variant" not in record
    record_step(record, error=RecordError(stage="response", kind="timeout", message="slow"))
    assert record["error"] == {"stage": "response", "kind": "timeout", "message": "slow"}
    with pytest.raises(ValueError, match="statuss"):
        record_step(record, statuss="done")


def test_a_stage_error_and_the_official_reply_are_written_through_their_types():
    from compass_tui.interaction_record import InteractionRecord, StageError
    from compass_tui.records import new_record, official_step, stage_step

    record = new_record(run_id=RUN, model="m", persona_id=PERSONA, situation_index=0, setting="profile")
    record["stage1"] = stage_step({}, by="m", error=StageError(kind="timeout", message="slow", attempts=None))
    assert record["stage1"]["error"] == {"kind": "timeout", "message": "slow", "attempts": None}
    official_step(record, reply="Tool call failed")
    assert record["official"] == {"tool_call": None, "scenario": None, "reply": "Tool call failed"}
    typed = InteractionRecord.read(record)
    assert isinstance(typed.stage1.error, StageError) and typed.stage1.error.kind == "timeout"
    assert typed.to_document() == record
    with pytest.raises(ValueError, match="replies"):
        official_step(record, replies="x")


def test_the_tool_call_document_is_the_stored_call_and_none_without_one():
    from compass_tui.interaction_record import InteractionRecord, ToolCall

    document = next(iter(json.loads((GOLDEN / "records.json").read_text())["interactions"].values()))
    record = InteractionRecord.read(document)
    assert isinstance(record.tool_call, ToolCall)
    stored = record.tool_call_document
    assert type(stored) is dict and list(stored.items()) == list(document["tool_call"].items())
    assert InteractionRecord.read({**document, "tool_call": None}).tool_call_document is None
