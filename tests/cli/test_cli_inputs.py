"""Hardened inputs: regular files only, a size limit, typed result files, and no raw control characters out."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest
from test_cli_personas import compass_user, write_json

from compass_tui import inputs

HOSTILE_NAME = "Ines\x1b[2J\x1b]0;pwned\x07"


@pytest.fixture(autouse=True)
def default_limit():
    """Loading settings sets the process-wide input limit; put the default back for the next test."""
    yield
    inputs.set_max_input_mb(inputs.DEFAULT_MAX_INPUT_MB)


def run_within(cli, seconds: float, *argv) -> tuple[int, str, str]:
    """The `cli` runner in a thread that must finish within `seconds`."""
    result: list[tuple[int, str, str]] = []
    thread = threading.Thread(target=lambda: result.append(cli(*argv)), daemon=True)
    started = time.monotonic()
    thread.start()
    thread.join(seconds)
    assert result, f"{' '.join(map(str, argv))} still running after {time.monotonic() - started:.1f} s"
    return result[0]


def release(fifo: Path) -> None:
    """Give a reader blocked on the FIFO its end of file, so that a failing test leaves no thread behind."""
    try:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:  # no reader: nothing is blocked
        pass


@pytest.fixture
def fifo(tmp_path: Path):
    path = tmp_path / "results.json"
    os.mkfifo(path)
    yield path
    release(path)


@pytest.fixture
def zero_link(tmp_path: Path) -> Path:
    path = tmp_path / "zero.json"
    path.symlink_to("/dev/zero")
    return path


@pytest.mark.parametrize("command", [("personas", "import"), ("runs", "import")])
@pytest.mark.parametrize(
    ("special", "kind"), [("fifo", "a FIFO"), ("zero_link", "a character device"), ("dir", "a directory")]
)
def test_a_file_that_is_not_regular_is_refused_at_once(
    cli, data_dir, tmp_path, request, command, special, kind
):
    path = tmp_path if special == "dir" else request.getfixturevalue(special)
    cli(*command, tmp_path / "missing.json")  # imports the command's modules, outside the timing
    code, out, err = run_within(cli, 1.0, *command, path)
    assert (code, out) == (2, "")
    assert err == f"compass-tui: {path}: not a regular file ({kind})\n"


def test_a_file_over_the_configured_limit_is_refused_naming_it_and_the_limit(
    cli, data_dir, tmp_path, monkeypatch
):
    source = write_json(tmp_path / "users.json", {"0": compass_user()})
    assert 1100 < source.stat().st_size < 10_000
    monkeypatch.setenv("COMPASS_TUI_MAX_INPUT_MB", "0.001")
    code, out, err = cli("personas", "import", source)
    assert (code, out) == (2, "")
    assert err == (
        f"compass-tui: {source}: file is {source.stat().st_size:,} bytes, "
        "over the 0.001 MiB limit (setting max_input_mb)\n"
    )
    monkeypatch.delenv("COMPASS_TUI_MAX_INPUT_MB")
    Path(os.environ["COMPASS_TUI_CONFIG"]).write_text("max_input_mb = 0.01\n", encoding="utf-8")
    assert cli("personas", "import", source)[0] == 0
    Path(os.environ["COMPASS_TUI_CONFIG"]).write_text("max_input_mb = 0.001\n", encoding="utf-8")
    code, _, err = cli("personas", "validate", source)
    assert code == 2 and "over the 0.001 MiB limit" in err


def test_a_limit_that_is_not_a_positive_number_is_a_settings_error(cli, data_dir, monkeypatch):
    monkeypatch.setenv("COMPASS_TUI_MAX_INPUT_MB", "0")
    code, _, err = cli("personas", "list")
    assert code == 2 and err.startswith("compass-tui: ") and "max_input_mb" in err and err.count("\n") == 1


# ------------------------------------------------------------------------------------------ runs import: typed fields


@pytest.fixture
def imported_user(cli, data_dir, tmp_path) -> dict:
    user = compass_user()
    assert cli("personas", "import", write_json(tmp_path / "users.json", {"0": user}))[0] == 0
    return user


@pytest.mark.parametrize(
    ("interaction", "field", "message"),
    [
        ({"utterance": 7}, "user_interactions.0[0].utterance", "expected text or null, got a number (7)"),
        (
            {"user_utterance": ["hi"]},
            "user_interactions.0[0].user_utterance",
            "expected text or null, got a list",
        ),
        ({"scenario": {"x": 1}}, "user_interactions.0[0].scenario", "expected text or null, got an object"),
        ({"tool_call": 3}, "user_interactions.0[0].tool_call", "got a number (3)"),
        ({"success": "yes"}, "user_interactions.0[0].success", "expected true/false or null, got text"),
        ({"tool_call_all": False}, "user_interactions.0[0].tool_call_all", "got true/false"),
        ({"1": "reply"}, "user_interactions.0[0].1", "expected an object or null, got text"),
        ({"1": {"generated_feedback": 5}}, "user_interactions.0[0].1.generated_feedback", "got a number (5)"),
        ({"user_feedback": 1}, "user_interactions.0[0].user_feedback", "got a number (1)"),
        (
            {"tool_call": {"1": {"tool_call": {}, "execute_success": "true"}}},
            "user_interactions.0[0].tool_call.1.execute_success",
            "expected true/false or null, got text",
        ),
        (
            {"tool_call": {"1": {"generated_feedback": ["a"]}}},
            "user_interactions.0[0].tool_call.1.generated_feedback",
            "got a list",
        ),
        ("just text", "user_interactions.0[0]", "expected an object, got text"),
    ],
)
def test_runs_import_of_a_wrong_type_is_one_line_naming_file_record_and_field(
    cli, data_dir, tmp_path, imported_user, interaction, field, message
):
    path = write_json(tmp_path / "results.json", {"user_interactions": {"0": [interaction]}})
    code, out, err = cli("runs", "import", path)
    assert (code, out) == (2, "")
    assert err.startswith(f"compass-tui: {path}: {field}: ") and message in err
    assert err.count("\n") == 1
    assert not (data_dir / "runs").exists()


def test_runs_import_of_a_list_of_users_is_one_line(cli, data_dir, tmp_path):
    path = write_json(tmp_path / "results.json", {"user_interactions": [{"utterance": 7}]})
    code, _, err = cli("runs", "import", path)
    assert code == 2
    assert err == (
        f"compass-tui: {path}: user_interactions: expected an object of users keyed by id, got a list\n"
    )


# ------------------------------------------------------------------------------------- control characters are shown


def test_a_persona_name_with_escape_sequences_is_printed_escaped(cli, data_dir, tmp_path):
    source = write_json(tmp_path / "users.json", {"0": compass_user(HOSTILE_NAME)})
    assert cli("personas", "import", source)[0] == 0
    outputs = [
        cli("personas", "list")[1],
        cli("personas", "list", "--filter", "pwned")[1],
        cli("personas", "show", "compass-0")[1],
        cli("personas", "list", "--filter", "pwned", "--json")[1],
        cli("personas", "show", "compass-0", "--json")[1],
    ]
    for out in outputs:
        assert "pwned" in out
        assert not any(char in out for char in "\x1b\x07\x9b"), out
    assert "\\x" in outputs[0] and "\\x" in outputs[1]  # escapes, folded at the column width
    assert "Ines\\x1b[2J\\x1b]0;pwned\\x07 Okafor (compass-0)" in outputs[2]
    assert json.loads(outputs[3])[0]["name"].startswith(HOSTILE_NAME)
