# Quick start: `make run` (install + launch the TUI) and `make test` (install + run the suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint typecheck contracts install screenshots embeddings bench clean-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch goes first and pinned: a CPU build of 2.13.0 lies on this machine's disk,
# while an unpinned torch (pulled in by sentence-transformers) is a multi-GB CUDA build.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/compass-tui

LINTED := compass_tui tests benchmarks tools

lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)

typecheck: $(STAMP)
	$(BIN)/mypy

contracts: $(STAMP)
	$(BIN)/lint-imports

test: lint typecheck contracts
	$(BIN)/python -m pytest -q

# the bundled catalogues' embeddings for the bundled model (rerun after changing tool_data/)
embeddings: $(STAMP)
	$(BIN)/python -m tools.prebuild_embeddings

screenshots: $(STAMP)
	$(BIN)/python -m tools.screenshots screenshots

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run_all

clean-venv:
	rm -rf $(VENV)
