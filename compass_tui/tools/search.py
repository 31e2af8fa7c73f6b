"""Ranking catalogue items against a query: by embedding when a model loads, else lexically.

Corpus embeddings are computed once and cached on disk under a key made of the corpus texts
and the model's fingerprint; the bundled catalogues ship theirs for the bundled model
(`tool_data/embeddings/`, rebuilt by `make embeddings`), so a fresh install only loads the model.
Query embeddings are kept in a small LRU cache. If no model loads, every index falls back to
TF-IDF and `SearchEngine.status` says so.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from compass_tui.tools.embeddings import Embedder, EmbeddingUnavailable

Progress = Callable[[str], None]  # a one-line status ("building films index 128/583")
ENCODE_BATCH = 128


@dataclass
class SearchStatus:
    mode: str  # "embedding" | "lexical" | "not loaded"
    detail: str


class LexicalIndex:
    """TF-IDF over the catalogue, fitted by scikit-learn.

    A query is scored without `TfidfVectorizer.transform`, whose input checks cost about 0.5 ms per
    call against microseconds for the arithmetic: the query's terms are weighted exactly as the
    vectorizer would (sublinear tf × idf, L2-normalised) and each term's column of the fitted
    matrix is added in. tests/test_search.py checks the scores against scikit-learn's own.
    """

    def __init__(self, texts: list[str]):
        from sklearn.feature_extraction.text import TfidfVectorizer

        vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, stop_words="english", min_df=1)
        columns = vectorizer.fit_transform(texts).tocsc()
        self._vectorizer = vectorizer
        self._analyze = vectorizer.build_analyzer()
        self._vocabulary: dict[str, int] = vectorizer.vocabulary_
        self._idf: np.ndarray = vectorizer.idf_
        self._column_start, self._rows, self._weights = columns.indptr, columns.indices, columns.data
        self._size = len(texts)

    def scores(self, query: str) -> np.ndarray:
        counts: dict[int, int] = {}
        for term in self._analyze(query):
            column = self._vocabulary.get(term)
            if column is not None:
                counts[column] = counts.get(column, 0) + 1
        if not counts:
            return np.zeros(self._size)
        query_columns = np.fromiter(counts, dtype=np.int64, count=len(counts))
        query_weights = (
            1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
        ) * self._idf[query_columns]
        query_weights /= np.sqrt(query_weights @ query_weights)
        starts, ends = self._column_start[query_columns], self._column_start[query_columns + 1]
        entries = np.concatenate(
            [np.arange(start, end) for start, end in zip(starts.tolist(), ends.tolist())]
        )
        contributions = self._weights[entries] * np.repeat(query_weights, ends - starts)
        return np.bincount(self._rows[entries], weights=contributions, minlength=self._size)


class SearchEngine:
    """Shared by all retrieval tools: one embedder, one cache dir, one mode."""

    def __init__(
        self,
        embedder: Embedder | None,
        cache_dir: Path | None,
        mode: str = "auto",
        prebuilt_dir: Path | None = None,
    ):
        self.embedder = embedder
        self.cache_dir = cache_dir
        self.prebuilt_dir = prebuilt_dir  # embeddings shipped with the bundled catalogues
        self.mode = mode if embedder is not None else "lexical"
        self._query_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        model_missing = embedder is None and mode != "lexical"
        self.fallback_reason: str | None = "no embedding model configured" if model_missing else None

    @property
    def status(self) -> SearchStatus:
        if self.mode == "lexical":
            reason = self.fallback_reason or "lexical search chosen"
            return SearchStatus("lexical", f"lexical search (TF-IDF): {reason}")
        if self.embedder is not None and self.embedder.loaded:
            return SearchStatus("embedding", f"semantic search with {self.embedder.model_id}")
        model_id = self.embedder.model_id if self.embedder is not None else "no model"
        return SearchStatus("not loaded", f"semantic search with {model_id} (loads on first search)")

    def index(self, name: str, texts: list[str]) -> CatalogueIndex:
        return CatalogueIndex(self, name, texts)

    def use_embeddings(self) -> bool:
        if self.mode == "lexical" or self.embedder is None:
            return False
        try:
            self.embedder.load()
        except EmbeddingUnavailable as error:
            if self.mode == "embedding":
                raise
            self.mode = "lexical"
            self.fallback_reason = f"no embedding model loaded ({error})"
            return False
        return True

    def _embedder(self) -> Embedder:
        assert self.embedder is not None, "semantic search runs only with an embedder"
        return self.embedder

    def encode_query(self, query: str) -> np.ndarray:
        query = " ".join(
            query.split()
        )  # tools join empty optional fields with spaces; same text, same vector
        with self._lock:
            cached = self._query_cache.get(query)
            if cached is not None:
                self._query_cache.move_to_end(query)
                return cached
        vector = self._embedder().encode([query])[0]
        with self._lock:
            self._query_cache[query] = vector
            if len(self._query_cache) > 2048:
                self._query_cache.popitem(last=False)
        return vector

    def corpus_key(self, texts: list[str]) -> str:
        """The catalogue's texts and the model's fingerprint: a cached index is used only for both."""
        return hashlib.sha256(
            ("\x1f".join(texts) + "\x1e" + self._embedder().fingerprint()).encode()
        ).hexdigest()[:24]

    def corpus_vectors(self, name: str, texts: list[str], on_progress: Progress | None = None) -> np.ndarray:
        file_name = f"{name}-{self.corpus_key(texts)}.npy"
        for folder in (self.prebuilt_dir, self.cache_dir / "embeddings" if self.cache_dir else None):
            vectors = _load_vectors(folder / file_name, len(texts)) if folder else None
            if vectors is not None:
                return vectors
        vectors = self._encode_in_batches(name, texts, on_progress)
        if self.cache_dir is not None:
            path = self.cache_dir / "embeddings" / file_name
            path.parent.mkdir(parents=True, exist_ok=True)
            temp = path.with_suffix(".tmp.npy")
            np.save(temp, vectors)
            temp.replace(path)
        return vectors

    def _encode_in_batches(self, name: str, texts: list[str], on_progress: Progress | None) -> np.ndarray:
        parts = []
        for start in range(0, len(texts), ENCODE_BATCH):
            if on_progress is not None:
                on_progress(f"building {name} index {start}/{len(texts)}")
            parts.append(self._embedder().encode(texts[start : start + ENCODE_BATCH]))
        return np.concatenate(parts) if parts else np.zeros((0, 0), dtype=np.float32)


def _load_vectors(path: Path, rows: int) -> np.ndarray | None:
    if not path.is_file():
        return None
    try:
        vectors = np.load(path)
    except (OSError, ValueError):
        return None
    return vectors if vectors.shape[0] == rows else None


class CatalogueIndex:
    """Scores for every item of one catalogue; built lazily on the first search."""

    def __init__(self, engine: SearchEngine, name: str, texts: list[str]):
        self.engine = engine
        self.name = name
        self.texts = texts
        self._lock = threading.Lock()
        self._vectors: np.ndarray | None = None
        self._lexical: LexicalIndex | None = None

    def build(self, on_progress: Progress | None = None) -> str:
        """Prepare the index now (for warm-up); returns the mode used."""
        with self._lock:
            if self.engine.use_embeddings():
                if self._vectors is None:
                    self._vectors = self.engine.corpus_vectors(self.name, self.texts, on_progress)
                return "embedding"
            if self._lexical is None:
                self._lexical = LexicalIndex(self.texts)
            return "lexical"

    def scores(self, query: str) -> tuple[np.ndarray, str]:
        mode = self.build()
        if not query.strip():
            return np.zeros(len(self.texts), dtype=np.float32), mode
        if mode == "embedding":
            return self._vectors @ self.engine.encode_query(query), mode
        assert self._lexical is not None  # build() made one for lexical mode
        return self._lexical.scores(query), mode

    def top(
        self, query: str, k: int, candidates: list[int] | None = None, boost: np.ndarray | None = None
    ) -> tuple[list[tuple[int, float]], str]:
        scores, mode = self.scores(query)
        if boost is not None:
            scores = scores + boost
        pool = np.arange(len(self.texts)) if candidates is None else np.asarray(candidates, dtype=int)
        if pool.size == 0:
            return [], mode
        chosen = pool[np.argsort(-scores[pool], kind="stable")[:k]]
        return [(int(i), float(scores[i])) for i in chosen], mode
