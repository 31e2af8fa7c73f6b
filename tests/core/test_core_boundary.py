"""The core never pulls in the TUI, and the CLI entry point stays light.

Each module outside compass_tui/app (the core, and the CLI) is imported in a fresh
interpreter, which then reports the modules it ended up with. `compass_tui.__main__` is left out: importing it
runs the program.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "compass_tui"
HEAVY = ("litellm", "sentence_transformers", "torch")
LAYERS = ("compass_tui.cli", "compass_tui.app")
WATCHED = ("textual", *HEAVY, *LAYERS)
NOT_IMPORTABLE_SAFELY = {"compass_tui.__main__"}


def core_modules() -> list[str]:
    files = [path for path in PACKAGE.rglob("*.py") if "app" not in path.relative_to(PACKAGE).parts[:1]]
    names = {
        ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__") for path in files
    }
    return sorted(names - NOT_IMPORTABLE_SAFELY)


def imported_after(statement: str) -> dict[str, bool]:
    """Run `statement` in a fresh interpreter; which of WATCHED are in sys.modules afterwards."""
    probe = f"import json, sys\n{statement}\nprint(json.dumps({{m: m in sys.modules for m in {WATCHED!r}}}))"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert done.returncode == 0, f"{statement!r} failed:\n{done.stderr}"
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def imports_by_module() -> dict[str, dict[str, bool]]:
    """Every core module imported on its own, two interpreters at a time."""
    modules = core_modules()
    with ThreadPoolExecutor(max_workers=2) as pool:
        found = pool.map(lambda module: imported_after(f"import {module}"), modules)
        return dict(zip(modules, found))


def test_the_module_list_covers_the_core():
    modules = core_modules()
    assert {
        "compass_tui",
        "compass_tui.store",
        "compass_tui.tools.search",
        "compass_tui.cli",
        "compass_tui.cli.annotate",
        "compass_tui.cli.serve",
    } <= set(modules)
    assert not any(module.startswith("compass_tui.app") for module in modules)
    assert len(modules) >= 40


@pytest.mark.slow
def test_no_core_module_imports_textual(imports_by_module):
    offenders = sorted(module for module, loaded in imports_by_module.items() if loaded["textual"])
    assert offenders == []


@pytest.mark.slow
def test_no_core_module_imports_heavy_libraries_at_import_time(imports_by_module):
    offenders = {
        module: [name for name in HEAVY if loaded[name]] for module, loaded in imports_by_module.items()
    }
    assert {module: names for module, names in offenders.items() if names} == {}


@pytest.mark.slow
def test_no_core_module_loads_the_cli_or_the_tui(imports_by_module):
    core = {module: loaded for module, loaded in imports_by_module.items() if not module.startswith(LAYERS)}
    offenders = {module: [name for name in LAYERS if loaded[name]] for module, loaded in core.items()}
    assert {module: names for module, names in offenders.items() if names} == {}
    assert "compass_tui.workspace" in core


def test_the_probe_sees_a_layer_import():
    assert imported_after("import compass_tui.cli")["compass_tui.cli"] is True


def test_the_cli_entry_and_its_parser_stay_light():
    loaded = imported_after("import compass_tui.cli")
    assert not any(loaded[name] for name in HEAVY), loaded
    with_parser = imported_after("import compass_tui.cli\ncompass_tui.cli.build_parser()")
    assert not any(with_parser[name] for name in ("textual", *HEAVY, "compass_tui.app")), with_parser


def test_the_probe_sees_an_import():
    assert imported_after("import textual.app")["textual"] is True
