"""Lexical search: our query scoring must give exactly what scikit-learn's TfidfVectorizer.transform gives."""

from __future__ import annotations

import numpy as np
import pytest

from compass_tui.tools.search import LexicalIndex, SearchEngine

QUERIES = [
    "I failed my exam again and feel useless",
    "calm calm calm piano music for sleeping",  # a repeated term: sublinear tf
    "feel good comedy film feel good",  # a repeated bigram
    "zxqv unknownword",  # nothing in the vocabulary
    "",
    "the and of",  # stop words only
    "Jazz, JAZZ! jazz?",  # case and punctuation go through the same analyzer
]


def sklearn_scores(index: LexicalIndex, texts: list[str], query: str) -> np.ndarray:
    matrix = index._vectorizer.transform(texts)
    return (matrix @ index._vectorizer.transform([query]).T).toarray().ravel()


@pytest.fixture(scope="module")
def catalogue_indexes(catalogue_indexes_of) -> list:
    return catalogue_indexes_of(SearchEngine(None, None, "lexical"))


@pytest.mark.parametrize("query", QUERIES)
def test_query_scores_equal_scikit_learns_on_every_bundled_catalogue(catalogue_indexes, query):
    for catalogue in catalogue_indexes:
        catalogue.build()
        ours = catalogue._lexical.scores(query)
        assert ours.shape == (len(catalogue.texts),)
        np.testing.assert_allclose(
            ours,
            sklearn_scores(catalogue._lexical, catalogue.texts, query),
            atol=1e-12,
            err_msg=f"{catalogue.name}: {query!r}",
        )


def test_the_best_match_comes_first():
    index = LexicalIndex(["a quiet lake at dawn", "loud rock concert", "rainy afternoon reading"])
    scores = index.scores("a loud concert tonight")
    assert int(np.argmax(scores)) == 1 and scores[0] == scores[2] == 0.0
