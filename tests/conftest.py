"""Fixtures shared by the whole suite: an isolated data dir, the shared ComPASS release, a CLI runner,
and the loopback synthesis model."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from synthesis_support import SynthBot

from compass_tui import paths
from tools.stub_llm import StubLLM


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch) -> Path:
    """An empty data dir set as $COMPASS_TUI_HOME, with an empty config file so the user's own is never read."""
    home = tmp_path / "data"
    home.mkdir()
    config = tmp_path / "compass-tui.toml"
    config.write_text("", encoding="utf-8")
    monkeypatch.setenv(paths.HOME_ENV, str(home))
    monkeypatch.setenv(paths.CONFIG_ENV, str(config))
    return home


@pytest.fixture
def shared_bench() -> Path:
    """The public ComPASS release beside the checkout; the test is skipped when it is absent."""
    bench = paths.shared_compass_bench()
    if bench is None:
        pytest.skip("the shared ComPASS release (../shared/compass-bench) is not present")
    return bench


@pytest.fixture
def shared_test_set(shared_bench: Path) -> Path:
    """ComPASS's persona file, test_set_correct_form.json (skips when absent)."""
    path = shared_bench / "test_set_correct_form.json"
    if not path.is_file():
        pytest.skip(f"{path} is not present")
    return path


CliRunner = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(capsys) -> CliRunner:
    """Run `compass_tui.cli.main(argv)` in-process; returns (exit code, stdout, stderr).

    argparse's exits (--help, --version, usage errors) come back as exit codes too.
    """
    from compass_tui.cli import main

    def run(*argv: str | Path) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            code = main([str(arg) for arg in argv])
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 2)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


@pytest.fixture
def cli_schedule(cli: CliRunner) -> Callable[..., list[dict]]:
    """`tools call schedule_api` get_all for a persona through `cli`; returns the entries (exit 0 checked).

    `options` follow the command; `global_options` (such as --tool-data) precede it.
    """

    def entries(persona: str, *options: str, global_options: tuple[str, ...] = ()) -> list[dict]:
        code, out, err = cli(
            *global_options,
            "tools",
            "call",
            "schedule_api",
            "--params",
            '{"operation": "get_all"}',
            "--persona",
            persona,
            *options,
            "--json",
        )
        assert code == 0, err
        return json.loads(out)["result"]

    return entries


@pytest.fixture
def synth_bot() -> SynthBot:
    """The synthesis stub model's responder (synthesis_support.SynthBot, seed 0)."""
    return SynthBot()


@pytest.fixture
def synth_stub(synth_bot: SynthBot):
    """A loopback StubLLM answering every persona-synthesis stage through `synth_bot`."""
    with StubLLM(synth_bot) as server:
        yield server
