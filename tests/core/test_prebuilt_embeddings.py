"""The bundled catalogues ship their embeddings for the bundled model: a fresh install's first semantic
search loads the model and builds no index, and a changed catalogue or model is never served them."""

from __future__ import annotations

from pathlib import Path

import pytest

from compass_tui import paths
from compass_tui.store import Store
from compass_tui.tools.embeddings import Embedder
from compass_tui.tools.environment import ToolEnvironment
from compass_tui.tools.search import SearchEngine

PREBUILT = paths.bundled_tool_data_dir() / "embeddings"


def test_every_bundled_catalogue_has_its_index_for_the_bundled_model(catalogue_indexes_of):
    engine = SearchEngine(Embedder(), None, "embedding", prebuilt_dir=PREBUILT)
    shipped = {path.name for path in PREBUILT.glob("*.npy")}
    expected = {
        f"{index.name}-{engine.corpus_key(index.texts)}.npy" for index in catalogue_indexes_of(engine)
    }
    assert shipped == expected, "run `make embeddings` after changing tool_data/"


def test_a_changed_catalogue_or_model_gets_another_key(tmp_path: Path, catalogue_indexes_of):
    bundled = SearchEngine(Embedder(), None, "embedding")
    other_model = SearchEngine(Embedder(tmp_path), None, "embedding")
    music = catalogue_indexes_of(bundled)[0]
    key = bundled.corpus_key(music.texts)
    assert bundled.corpus_key([*music.texts[:-1], music.texts[-1] + " changed"]) != key
    assert other_model.corpus_key(music.texts) != key


@pytest.mark.slow
def test_a_fresh_install_loads_the_model_and_builds_no_index(tmp_path: Path):
    cache = tmp_path / "cache"
    env = ToolEnvironment.create(Store(tmp_path / "data"), search_mode="embedding", cache_dir=cache)
    statuses: list[str] = []
    modes = env.warm_up(statuses.append)
    assert set(modes.values()) == {"embedding"}
    assert statuses == ["loading embeddings…"]  # no "building … index" line: every index was shipped
    assert not list(cache.glob("embeddings/*.npy"))
    top, _ = env.retrieval.music_index.top("calm piano for a rainy evening", 3)
    assert len(top) == 3
