"""Fixtures of the core tests: the suite-wide ones in tests/conftest.py, and the repository root."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]
