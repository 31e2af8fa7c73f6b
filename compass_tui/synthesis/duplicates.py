"""Near-duplicate personas: cosine similarity of their background texts, by sentence embeddings
(EMBEDDING_THRESHOLD) or, when no embedding model loads, by TF-IDF vectors (LEXICAL_THRESHOLD)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from compass_tui.persona import Persona

if TYPE_CHECKING:
    from compass_tui.library import PersonaLibrary
    from compass_tui.tools.embeddings import Embedder

EMBEDDING_THRESHOLD = 0.90  # cosine of all-MiniLM-L6-v2 (or the configured model's) embeddings
LEXICAL_THRESHOLD = 0.80  # cosine of TF-IDF vectors (unigrams and bigrams)


@dataclass
class DuplicatePair:
    first: str
    second: str
    similarity: float


@dataclass
class DuplicateReport:
    mode: str  # "embedding" | "lexical"
    detail: str
    threshold: float
    compared: int  # personas whose backgrounds were compared
    pairs: list[DuplicatePair] = field(default_factory=list)


def background_parts(persona: Persona) -> list[str]:
    """The five background aspects (embedded one by one: the model reads 128 word pieces at most)."""
    return [text for text in persona.background.model_dump().values() if text.strip()]


def near_duplicates(
    texts: dict[str, list[str]], focus: set[str], embedder: Embedder | None
) -> DuplicateReport:
    """Pairs of backgrounds at or above the threshold, at least one of them in `focus`, most similar first."""
    ids = [persona for persona, parts in texts.items() if any(part.strip() for part in parts)]
    matrix, mode, detail = _similarities([texts[persona] for persona in ids], embedder)
    threshold = EMBEDDING_THRESHOLD if mode == "embedding" else LEXICAL_THRESHOLD
    pairs = [
        DuplicatePair(ids[i], ids[j], round(float(matrix[i, j]), 4))
        for i in range(len(ids))
        for j in range(i + 1, len(ids))
        if (ids[i] in focus or ids[j] in focus) and matrix[i, j] >= threshold
    ]
    pairs.sort(key=lambda pair: -pair.similarity)
    return DuplicateReport(mode, detail, threshold, len(ids), pairs)


def _similarities(texts: list[list[str]], embedder: Embedder | None) -> tuple[np.ndarray, str, str]:
    """Cosine similarities: of the mean of each text's part embeddings, else of TF-IDF over the whole text."""
    from compass_tui.tools.embeddings import EmbeddingUnavailable
    from compass_tui.tools.search import LexicalIndex

    size = len(texts)
    if size < 2:
        return np.zeros((size, size)), "lexical", "fewer than two backgrounds to compare"
    reason = "no embedding model"
    if embedder is not None:
        try:
            vectors = embedder.encode([part for parts in texts for part in parts])
        except EmbeddingUnavailable as error:
            reason = str(error)
        else:
            owners = np.repeat(np.arange(size), [len(parts) for parts in texts])
            means = np.vstack([vectors[owners == row].mean(axis=0) for row in range(size)])
            means /= np.linalg.norm(means, axis=1, keepdims=True)
            return means @ means.T, "embedding", f"cosine of {embedder.model_id} embeddings, aspect by aspect"
    whole = [" ".join(parts) for parts in texts]
    try:
        index = LexicalIndex(whole)
    except ValueError:  # nothing but stop words
        return np.zeros((size, size)), "lexical", "no words to compare"
    return np.vstack([index.scores(text) for text in whole]), "lexical", f"TF-IDF cosine ({reason})"


def library_duplicates(
    library: PersonaLibrary, focus: set[str], embedder: Embedder | None
) -> DuplicateReport:
    library.refresh()
    texts = {entry.id: background_parts(entry.persona) for entry in library.entries() if entry.persona}
    return near_duplicates(texts, focus, embedder)
