"""The typed study design and pack write the same bytes the dict-based code wrote, and read bad files as
one-line errors naming the file and the field.

`golden/study.json` and `golden/study.pack.json` were written by the code before the typed models, from
the run of tests/triage_support.py, with the clock and the nonce fixed as below.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from triage_support import RUN, write_run

import compass_tui.study.design as design_module
from compass_tui import study
from compass_tui.errors import InputError
from compass_tui.jsonio import atomic_write_json
from compass_tui.store import Store
from compass_tui.study.models import StudyDesign, StudyPack

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture
def golden_store(tmp_path, monkeypatch) -> Store:
    store = Store(tmp_path / "data")
    write_run(store, 6, errored=(4,))
    monkeypatch.setattr(design_module, "now_iso", lambda: "2025-01-02T03:04:05.000+00:00")
    monkeypatch.setattr(design_module.os, "urandom", lambda n: bytes(range(n)))
    return store


def test_a_study_and_its_pack_are_written_byte_for_byte_as_before(golden_store, tmp_path):
    design = study.create_study(
        golden_store, "golden", [RUN], 4, ["alice", "bob"], ["scenario", "emotion"], 3
    )
    pack_path = study.write_pack(golden_store, "golden", "bob", tmp_path / "bob.pack.json")
    assert study.study_path(golden_store, "golden").read_bytes() == (GOLDEN / "study.json").read_bytes()
    assert pack_path.read_bytes() == (GOLDEN / "study.pack.json").read_bytes()
    assert isinstance(design, StudyDesign) and design.items[0].item_id == "adam-kerr#0"


@pytest.mark.parametrize(("model", "name"), [(StudyDesign, "study.json"), (StudyPack, "study.pack.json")])
def test_reading_and_writing_again_changes_no_byte(model, name, tmp_path):
    document = json.loads((GOLDEN / name).read_text())
    atomic_write_json(tmp_path / name, model.from_document(document, name).to_document())
    assert (tmp_path / name).read_bytes() == (GOLDEN / name).read_bytes()


def test_the_fingerprint_is_the_hash_of_the_document_as_stored():
    design = study.load_study(_store_with(GOLDEN / "study.json"), "golden")
    pack = study.load_pack(GOLDEN / "study.pack.json")
    assert design.fingerprint() == pack.fingerprint
    assert design.positions()["bob"] == pack.positions()["bob"]
    assert "systems" not in design.public_document() and "nonce" not in design.public_document()
    assert design.public_document(reveal=True)["systems"] == design.systems


def _store_with(design_file: Path) -> Store:
    import tempfile

    store = Store(Path(tempfile.mkdtemp()))
    path = study.study_path(store, "golden")
    path.parent.mkdir(parents=True)
    path.write_bytes(design_file.read_bytes())
    return store


def _broken(name: str, change) -> dict:
    document = json.loads((GOLDEN / name).read_text())
    change(document)
    return document


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.pop("seed"), "seed"),
        (lambda d: d.update(seed="3"), "seed"),
        (lambda d: d["items"][2].pop("persona_id"), "items[2].persona_id"),
        (lambda d: d["items"][1].update(situation_index=True), "items[1].situation_index"),
        (lambda d: d["assignments"]["bob"][0].update(systems="S1"), "assignments.bob[0].systems"),
        (lambda d: d["strata"][0].pop("drawn"), "strata[0].drawn"),
        (lambda d: d.update(systems={"S1": 1}), "systems"),
        (lambda d: d.update(format="compass-tui/study@0"), "format"),
        (lambda d: d.update(blinded_ids=[]), "blinded_ids"),
        (lambda d: d.update(blinded_ids=d["blinded_ids"] * 2), "blinded_ids"),
        (lambda d: d["assignments"].pop("bob"), "assignments"),
    ],
)
def test_a_bad_design_file_names_its_file_and_field(tmp_path, change, field):
    store = _store_with(GOLDEN / "study.json")
    path = study.study_path(store, "golden")
    path.write_text(json.dumps(_broken("study.json", change)))
    with pytest.raises(InputError) as caught:
        study.load_study(store, "golden")
    assert caught.value.field == field and caught.value.source == str(path)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.pop("fingerprint"), "fingerprint"),
        (lambda d: d["items"][1].pop("responses"), "items[1]"),
        (lambda d: d["items"][0]["responses"][1].pop("position"), "items[0].responses[1]"),
        (lambda d: d["items"][0]["persona"].update(name=None), "items[0].persona.name"),
        (lambda d: d["items"][3]["situation"].pop("utterance"), "items[3].situation.utterance"),
        (lambda d: d["rubric"]["dimensions"][5].pop("levels"), "rubric.dimensions[5].levels"),
        (lambda d: d["items"][0]["responses"][0].update(tool_call=[]), "items[0].responses[0].tool_call"),
    ],
)
def test_a_bad_pack_names_its_file_and_field(tmp_path, change, field):
    path = tmp_path / "bad.pack.json"
    path.write_text(json.dumps(_broken("study.pack.json", change)))
    with pytest.raises(InputError) as caught:
        study.load_pack(path)
    assert caught.value.field == field and caught.value.source == str(path)
