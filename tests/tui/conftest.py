"""Fixtures of the TUI tests: an app environment on the isolated data dir, and the loopback LLM stub."""

from __future__ import annotations

from pathlib import Path

import pytest
from tui_harness import Companion, TuiEnv, make_env

from tools.stub_llm import StubLLM


@pytest.fixture
def tui(data_dir: Path) -> TuiEnv:
    """A TuiEnv on the isolated data dir and config file (no models, lexical tool search)."""
    return make_env(data_dir)


@pytest.fixture
def companion() -> Companion:
    return Companion()


@pytest.fixture
def stub(companion: Companion):
    with StubLLM(companion) as server:
        yield server
