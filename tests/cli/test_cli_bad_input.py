"""A careless user's input across the command line: one line naming the file and field (or option),
exit 2, no crash log, and nothing written or changed."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from run_support import write_baseline_run
from test_cli_personas import compass_user, write_json

from compass_tui import inputs
from compass_tui.records import run_meta_path
from compass_tui.store import Store

UNWRITABLE = Path("/proc/compass-tui-test")  # /proc refuses new files, even to root


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


# ------------------------------------------------------------------------------------------ runs import


@pytest.fixture
def imported_user(cli, data_dir, tmp_path) -> None:
    assert cli("personas", "import", write_json(tmp_path / "users.json", {"0": compass_user()}))[0] == 0


def results_file(path: Path, interactions: list[dict]) -> Path:
    return write_json(path, {"user_interactions": {"0": interactions}})


def reply(utterance: str) -> dict:
    step = {"tool_call": {}, "generated_feedback": '{"feedback": "ok"}', "execute_success": True}
    return {"user_utterance": utterance, "tool_call": {"1": step}}


def test_importing_into_a_run_made_by_run_is_refused_and_leaves_it_unchanged(
    cli, data_dir, tmp_path, imported_user
):
    write_baseline_run(data_dir, "R", "adam-kerr", {0})
    meta = Store(data_dir).path(run_meta_path("R"))
    before = meta.read_bytes()
    path = results_file(tmp_path / "results.json", [reply("hi")])
    result = cli("runs", "import", path, "--name", "R")
    assert_bad_input(result, data_dir, "--name: run 'R' exists with prompt_source 'compass-tui'")
    assert meta.read_bytes() == before


def test_more_interactions_than_situations_is_refused_naming_the_first_extra(
    cli, data_dir, tmp_path, imported_user
):
    path = results_file(tmp_path / "results.json", [reply(f"turn {n}") for n in range(3)])
    result = cli("runs", "import", path)
    assert_bad_input(result, data_dir, f"{path}: user_interactions.0[2]: reads as situation 2 of persona")
    assert not (data_dir / "runs").exists()


@pytest.mark.parametrize("users", [{}, {"0": []}])
def test_a_file_without_interactions_is_refused(cli, data_dir, tmp_path, imported_user, users):
    path = write_json(tmp_path / "results.json", {"user_interactions": users})
    assert_bad_input(cli("runs", "import", path), data_dir, f"{path}: user_interactions: no interactions")
    assert not (data_dir / "runs").exists()


# ------------------------------------------------------------------------------------------ outputs


needs_proc = pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs Linux's /proc")


@needs_proc
@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (("export", "--out", UNWRITABLE), "--out"),
        (("personas", "export", UNWRITABLE.with_suffix(".json")), "DEST"),
    ],
)
def test_an_output_that_cannot_be_written_is_bad_input(cli, data_dir, argv, option):
    assert_bad_input(cli(*argv), data_dir, f"{argv[-1]}: {option}: cannot write: ")


def test_an_export_to_a_folder_is_bad_input(cli, data_dir, tmp_path):
    assert_bad_input(cli("export", "--out", tmp_path), data_dir, f"{tmp_path}: --out: is a folder")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["compass-tui.toml", "data"]


@needs_proc
def test_a_study_pack_and_export_that_cannot_be_written_are_bad_input(cli, data_dir):
    write_baseline_run(data_dir, "A", "adam-kerr", {0, 1})
    write_baseline_run(data_dir, "B", "adam-kerr", {0, 1})
    created = cli("study", "create", "S", "--runs", "A,B", "--sample", "2", "--annotators", "a")
    assert created[0] == 0, created[2]
    pack = cli("study", "pack", "S", "--annotator", "a", "--out", UNWRITABLE)
    assert_bad_input(pack, data_dir, f"{UNWRITABLE}: --out: cannot write: ")
    table = cli("study", "export", "S", "--format", "long", "--out", UNWRITABLE)
    assert_bad_input(table, data_dir, f"{UNWRITABLE}: --out: cannot write: ")


@needs_proc
def test_figures_into_a_folder_that_cannot_be_written_are_bad_input(cli, data_dir):
    pytest.importorskip("matplotlib")
    write_baseline_run(data_dir, "R", "adam-kerr", {0})
    result = cli("report", "R", "--figures", "/proc")
    assert result[0] == 2, result[2]
    assert "/proc: --figures: not a writable directory" in result[2]
    assert not (data_dir / "logs").exists()


def test_exporting_the_scores_of_an_unknown_run_is_bad_input(cli, data_dir, tmp_path):
    out = tmp_path / "scores.csv"
    assert_bad_input(cli("export", "--out", out, "--runs", "nope"), data_dir, "no run 'nope'")
    assert not out.exists()


# ------------------------------------------------------------------------------------------ unknown personas


def test_resetting_the_tools_of_an_unknown_persona_is_bad_input(cli, data_dir):
    assert_bad_input(cli("tools", "reset", "--persona", "nope"), data_dir, "no persona 'nope'")
    assert not (data_dir / "tool_state").exists()


def test_listing_the_variants_of_an_unknown_persona_is_bad_input(cli, data_dir):
    write_baseline_run(data_dir, "R", "adam-kerr", {0})
    assert_bad_input(cli("variants", "list", "R", "--persona", "nope"), data_dir, "no persona 'nope'")
    assert cli("variants", "list", "R", "--persona", "adam-kerr")[0] == 0


# ------------------------------------------------------------------------------------------ tool data


def toolenv(root: Path, folder: str, definition: str) -> Path:
    """A ComPASS-shaped toolenv whose only definition.json is `definition`."""
    for name in ("music_recommendation", "schedule_manager", folder):
        (root / name).mkdir(parents=True, exist_ok=True)
    (root / folder / "definition.json").write_text(definition, encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("folder", "definition", "field", "message"),
    [
        ("music_recommendation", "[1, 2]", "", "expected a JSON object"),
        ("music_recommendation", '{"name": "search_music"}', "name: ", "expected 'query_music'"),
        ("schedule_manager", '{"name": "schedule_api"}', "parameters: ", "expected a JSON object"),
    ],
)
def test_a_malformed_definition_json_is_bad_input_before_a_run_starts(
    cli, data_dir, tmp_path, folder, definition, field, message
):
    root = toolenv(tmp_path / "toolenv", folder, definition)
    path = root / folder / "definition.json"
    result = cli("--tool-data", root, "run", "--personas", "adam-kerr", "--name", "R")
    assert_bad_input(result, data_dir, f"{path}: {field}{message}")
    assert not (data_dir / "runs").exists()


def test_a_tool_data_folder_with_a_broken_catalogue_is_bad_input_before_a_run_starts(
    cli, data_dir, tmp_path, repo_root
):
    folder = tmp_path / "tool_data"
    folder.mkdir()
    for catalogue in (repo_root / "tool_data").glob("*.json"):
        (folder / catalogue.name).write_bytes(catalogue.read_bytes())
    write_json(folder / "jokes.json", [{"title": "no other field"}])
    result = cli("--tool-data", folder, "run", "--personas", "adam-kerr", "--name", "R")
    assert_bad_input(result, data_dir, f"{folder / 'jokes.json'}: [0].")
    assert not (data_dir / "runs").exists()
    called = cli("--tool-data", folder, "tools", "call", "search_jokes", "--params", '{"description": "x"}')
    assert_bad_input(called, data_dir, f"{folder / 'jokes.json'}: [0].")


# ------------------------------------------------------------------------------------------ data dir and TUI start


def test_a_data_dir_that_is_a_file_is_bad_input(cli, data_dir, tmp_path, monkeypatch):
    not_a_dir = write_json(tmp_path / "data.json", {})
    monkeypatch.setenv("COMPASS_TUI_HOME", str(not_a_dir))
    assert_bad_input(cli("runs", "list"), data_dir, f"{not_a_dir}: data dir: not a directory")
    assert not_a_dir.read_text(encoding="utf-8") == "{}"


@needs_proc
def test_an_internal_error_with_an_unusable_data_dir_is_still_one_line(cli, data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("COMPASS_TUI_HOME", str(UNWRITABLE))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    code, _, err = cli("run", "--personas", "adam-kerr", "--name", "R")
    log = tmp_path / "compass-tui-crash.log"
    assert code == 1
    assert err.startswith("compass-tui: internal error: ") and err.endswith(f"(details in {log})\n")
    assert err.count("\n") == 1 and "Traceback" in log.read_text(encoding="utf-8")


@pytest.mark.parametrize("config", ["concurrency = \n", None])
def test_the_tui_does_not_start_on_a_config_file_that_is_not_toml(data_dir, tmp_path, repo_root, config):
    path = Path(os.environ["COMPASS_TUI_CONFIG"])
    if config is None:
        path.unlink()
    else:
        path.write_text(config, encoding="utf-8")
    started = subprocess.run(
        [sys.executable, "-m", "compass_tui"],
        cwd=tmp_path,
        env=os.environ | {"PYTHONPATH": str(repo_root)},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (started.returncode, started.stdout) == (2, "")
    assert started.stderr.startswith(f"compass-tui: {path}: ") and started.stderr.count("\n") == 1


# ------------------------------------------------------------------------------------------ personas import


def test_importing_a_persona_of_our_format_says_what_it_is(cli, data_dir, repo_root):
    ours = repo_root / "personas" / "adam-kerr.json"
    assert_bad_input(cli("personas", "import", ours), data_dir, f"{ours}: format: a compass-tui persona")
    assert not (data_dir / "personas").exists()


@pytest.mark.parametrize("command", ["import", "validate"])
def test_an_empty_user_id_is_bad_input(cli, data_dir, tmp_path, command):
    path = write_json(tmp_path / "users.json", {"": compass_user()})
    assert_bad_input(cli("personas", command, path), data_dir, f'{path}: [""]: a user id must not be empty')
    assert not (data_dir / "personas").exists()


# ------------------------------------------------------------------------------------------ report


def test_a_run_listed_twice_in_a_report_is_bad_input(cli, data_dir):
    write_baseline_run(data_dir, "R", "adam-kerr", {0})
    assert_bad_input(cli("report", "R", "R", "--format", "csv"), data_dir, "RUN: run 'R' is listed twice")
    assert cli("report", "R", "--format", "csv")[0] == 0


@pytest.mark.parametrize("samples", ["0", "101", "99999999999999999999999"])
def test_judge_samples_out_of_range_are_bad_input_before_any_call(cli, data_dir, samples):
    write_baseline_run(data_dir, "R", "adam-kerr", {0})
    result = cli("judge", "R", "--judge-model", "judge", "--samples", samples)
    assert_bad_input(result, data_dir, "--samples: must be from 1 to 100")


@pytest.mark.parametrize("extra", [["--empathy", "3"], ["--commit"]])
def test_skip_with_scores_or_commit_is_bad_input_and_saves_nothing(cli, data_dir, extra):
    write_baseline_run(data_dir, "R", "adam-kerr", {0})
    target = ["score", "R", "--model", "baseline", "--persona", "adam-kerr", "--situation", "1"]
    code, _, err = cli(*target, "--skip", *extra)
    assert code == 2 and err.count("\n") == 1 and "--skip" in err and extra[0] in err
    code, out, _ = cli("export", "--out", str(data_dir / "scores.csv"))
    assert code == 0
    assert (data_dir / "scores.csv").read_text(encoding="utf-8-sig").count("\n") == 1  # the header alone
