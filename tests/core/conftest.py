"""Fixtures of the core tests: the suite-wide ones in tests/conftest.py, the repository root, and the
bundled catalogues' search indexes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def catalogue_indexes_of() -> Callable[..., list]:
    """The seven catalogue indexes of the retrieval tools on the bundled data, for a search engine."""
    from compass_tui.tools.data import ToolData
    from compass_tui.tools.retrieval import RetrievalTools

    def indexes(engine) -> list:
        tools = RetrievalTools(ToolData(), engine)
        return [
            tools.music_index,
            tools.movie_index,
            tools.joke_index,
            tools.story_index,
            tools.psy_index,
            tools.strength_index,
            tools.sticker_index,
        ]

    return indexes
