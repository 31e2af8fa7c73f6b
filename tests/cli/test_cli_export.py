"""`compass-tui export`: session scores as CSV; a corrupt run file is a one-line error, a deleted run is not."""

from __future__ import annotations

import shutil

from compass_tui.annotations import Annotation, save_annotation
from compass_tui.records import META_TABLE, run_meta_path, run_records_path, system_id
from compass_tui.report import SESSION_SCOPE
from compass_tui.store import Store


def _scored_run(store: Store, run_id: str) -> None:
    store.upsert(run_meta_path(run_id), META_TABLE, "meta", {"run_id": run_id, "setting": "profile"})
    scores = dict.fromkeys(
        ("empathy", "helpfulness", "preference", "informativeness", "fluency", "safety"), 4
    )
    save_annotation(
        store,
        Annotation(SESSION_SCOPE, "me", "adam-kerr", 0, system_id(run_id, "baseline"), scores=scores),
    )


def test_a_corrupt_run_file_is_one_line_naming_it(cli, data_dir, tmp_path):
    store = Store(data_dir)
    _scored_run(store, "r1")
    records = store.path(run_records_path("r1", "adam-kerr"))
    records.parent.mkdir(parents=True, exist_ok=True)
    records.write_text('{"interactions": {"1": ', encoding="utf-8")
    code, out, err = cli("export", "--out", tmp_path / "scores.csv")
    assert code == 2, (out, err)
    assert len(err.strip().splitlines()) == 1 and str(records) in err
    assert not (tmp_path / "scores.csv").exists()


def test_a_deleted_run_still_exports_its_scores(cli, data_dir, tmp_path):
    store = Store(data_dir)
    _scored_run(store, "r1")
    shutil.rmtree(store.path("runs/r1"))
    code, _, err = cli("export", "--out", tmp_path / "scores.csv")
    assert code == 0, err
    assert "me" in (tmp_path / "scores.csv").read_text(encoding="utf-8-sig")
