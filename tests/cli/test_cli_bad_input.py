"""A careless user's input across the command line: one line naming the file and field (or option),
exit 2, no crash log, and nothing written or changed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from run_support import write_baseline_run

from compass_tui import inputs


@pytest.fixture(autouse=True)
def default_limit():
    """Loading settings sets the process-wide input limit; put the default back for the next test."""
    yield
    inputs.set_max_input_mb(inputs.DEFAULT_MAX_INPUT_MB)


def assert_bad_input(result: tuple[int, str, str], data_dir: Path, *parts: str) -> None:
    code, out, err = result
    assert (code, out) == (2, ""), err
    assert err.startswith("compass-tui: ") and err.count("\n") == 1, err
    for part in parts:
        assert part in err
    assert not (data_dir / "logs").exists()


# ------------------------------------------------------------------------------------------ settings


@pytest.mark.parametrize("value", ["inf", "nan", "-inf"])
def test_an_infinite_input_limit_in_the_environment_is_bad_input(cli, data_dir, monkeypatch, value):
    monkeypatch.setenv("COMPASS_TUI_MAX_INPUT_MB", value)
    assert_bad_input(cli("personas", "list"), data_dir, "environment: max_input_mb: ")


def test_an_infinite_input_limit_in_the_config_is_bad_input(cli, data_dir):
    config = Path(os.environ["COMPASS_TUI_CONFIG"])
    config.write_text("max_input_mb = inf\n", encoding="utf-8")
    assert_bad_input(cli("personas", "list"), data_dir, f"{config}: max_input_mb: ")


@pytest.mark.parametrize("variable", ["COMPASS_TUI_MODELS", "COMPASS_TUI_KEYMAP"])
def test_a_variable_that_is_not_json_is_bad_input_naming_it(cli, data_dir, monkeypatch, variable):
    monkeypatch.setenv(variable, "{not json")
    assert_bad_input(cli("models", "list"), data_dir, f"environment: {variable}: not valid JSON")


def test_a_configured_model_named_baseline_is_refused(cli, data_dir):
    config = Path(os.environ["COMPASS_TUI_CONFIG"])
    config.write_text('[models.baseline]\nmodel = "openai/gpt-4o-mini"\n', encoding="utf-8")
    assert_bad_input(cli("models", "list"), data_dir, f"{config}: models.baseline: ")


def test_the_baseline_as_judge_is_refused_without_listing_it_as_configured(cli, data_dir):
    write_baseline_run(data_dir, "R", "adam-kerr", {0})
    code, _, err = cli("judge", "R", "--judge-model", "baseline")
    assert code == 2
    assert "models.baseline: the offline baseline is not an LLM; configured LLMs: none" in err


# ------------------------------------------------------------------------------------------ run


def test_a_model_given_twice_is_refused_before_the_run_starts(cli, data_dir):
    result = cli("run", "--personas", "adam-kerr", "--models", "baseline,baseline", "--name", "R")
    assert_bad_input(result, data_dir, "--models: 'baseline' is given more than once")
    assert not (data_dir / "runs").exists()
