"""Imported official result files in the stepper, against what the official evaluation scripts count.

Two profile models (the shape `inference_respond.py` writes) and two history models (the shape
`inference_toolinvoc_his.py` writes, with `tool_call_failed` items) of made-up users
(tests/official_support.py) are imported with the CLI and opened side by side in the stepper with the
keyboard. Walking every situation, the items the stepper counts, the failures it marks, the replies
and tool results it shows must agree with the items the official scripts evaluate (run at test time
from ../shared/compass-bench/code) and with the files' own success fields. Skipped when ../shared is
absent.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from official_support import (
    HISTORY_MODELS,
    PROFILE_MODELS,
    UNREADABLE,
    history_file,
    made_up_users,
    profile_file,
    run_official,
    write_json,
)
from tui_harness import column_view, open_stepper, wait_until

SCRIPTS = {"prof": ("profile-based", "evaluation.py"), "his": ("history-based", "evaluation_with_his.py")}
WARM_UP = "warm-up, not scored"
KEPT_AS_TEXT = "note: the tool result is kept as text: it reads as neither JSON nor a Python literal"


def flat(text: str) -> str:
    return " ".join(text.split())


def failed_in_file(interaction: dict) -> bool:
    """The files' own verdict: no tool ran in the best of three attempts."""
    if "tool_call_failed" in interaction or "tool_call_all" in interaction:
        return True
    if "three_execution_success" in interaction:
        return not interaction["three_execution_success"]
    return not interaction["tool_call"]["1"]["3turn_execute_success"]


@pytest.fixture
def imported(tui, cli, shared_bench, tmp_path) -> dict[str, dict]:
    """Per column title ("alpha · prof", "compass · his · history"): its file's interactions and the items
    the official script evaluated."""
    users = made_up_users()
    assert cli("personas", "import", write_json(tmp_path / "users.json", users))[0] == 0
    systems = {}
    for run, models, write in (("prof", PROFILE_MODELS, profile_file), ("his", HISTORY_MODELS, history_file)):
        folder, name = SCRIPTS[run]
        script = shared_bench / "code" / folder / name
        prompt = shared_bench / "prompts" / folder / "eval_prompt.txt"
        if not (script.is_file() and prompt.is_file()):
            pytest.skip(f"{script} or {prompt} is not present")
        for model in models:
            path = write(tmp_path / "files", model, users)
            code, _, err = cli("runs", "import", path, "--model", model, "--name", run)
            assert code == 0, err
            official = run_official(script, prompt, path, users, tmp_path / f"official-{model}")
            interactions = json.loads(Path(path).read_text(encoding="utf-8"))["user_interactions"]
            title = f"{model} · {run}" + (" · history" if run == "his" else "")  # the session is profile
            systems[title] = {"file": interactions, "official": official.items}
    return systems


async def walk(pilot, stepper) -> list[dict[str, dict[str, str]]]:
    """Every situation's columns as shown, by column title, stepping with n."""
    shown = []
    for index in range(len(stepper.session.persona.situations)):
        await wait_until(pilot, lambda: stepper.index == index, f"situation {index + 1}")
        views = [column_view(stepper, position) for position in range(len(stepper.session.columns))]
        shown.append({view["title"]: view for view in views})
        await pilot.press("n")
    return shown


@pytest.mark.parametrize("user_id", ["901", "903"])
async def test_the_stepper_shows_the_items_and_failures_the_official_scripts_count(tui, imported, user_id):
    async with tui.app().run_test(size=(160, 50)) as pilot:
        stepper = await open_stepper(pilot, f"compass-{user_id}", runs=[0, 1], untick_baseline=True)
        shown = await walk(pilot, stepper)
    assert sorted(shown[0]) == sorted(imported)
    failures: dict[str, int] = {}
    for system, data in imported.items():
        views = [situation[system] for situation in shown]
        interactions = data["file"][user_id]
        official = [item for item in data["official"] if item.user_id == user_id]
        counted = [i for i, view in enumerate(views) if WARM_UP not in view["status"]]
        assert len(views) == len(interactions) == 15, system
        assert len(counted) == len(official) == (15 if system.endswith("prof") else 3), system
        marked = {i for i in counted if "✗" in view_text(views[i])}
        assert marked == {i for i in counted if failed_in_file(interactions[i])}, system
        failures[system] = len(marked)
        for i, item in zip(counted, official, strict=True):
            check_reply(views[i], item.text, interactions[i], system)
    assert failures["compass · his · history"] and failures["alpha · prof"] and failures["beta · prof"], (
        failures
    )


def view_text(view: dict[str, str]) -> str:
    return view["summary"] + view["response"]


def check_reply(view: dict[str, str], measured: str, interaction: dict, system: str) -> None:
    """The reply shown is the official text unwrapped; a tool_call_failed shows its failure."""
    if measured == "Tool call failed":
        assert "tool_call_failed" in view["response"] and view["status"].strip().endswith("error"), system
        return
    try:
        document = json.loads(measured)
    except json.JSONDecodeError:
        document = None
    reply = document["feedback"] if isinstance(document, dict) and "feedback" in document else measured
    assert '"feedback"' not in view["response"], system
    assert flat(reply) in flat(view["response"]), system
    step = (interaction.get("tool_call") or {}).get("1") or {}
    if step.get("tool_raw_result", "").startswith("[{'title': 'Blue in Green'"):  # str(result): a card
        assert ("♪ Blue in Green — Bill Evans" in view["result"]) != (step["tool_raw_result"] == UNREADABLE)


async def test_a_python_repr_result_that_does_not_parse_is_shown_as_text_with_a_note(tui, imported):
    async with tui.app().run_test(size=(160, 50)) as pilot:
        stepper = await open_stepper(pilot, "compass-901", runs=[0, 1], untick_baseline=True)
        await wait_until(pilot, lambda: stepper.index == 0, "situation 1")
        views = {view["title"]: view for view in (column_view(stepper, p) for p in range(4))}
    for system in ("alpha · prof", "beta · prof"):
        assert imported[system]["file"]["901"][0]["tool_call"]["1"]["tool_raw_result"] == UNREADABLE
        result = views[system]["result"]
        assert KEPT_AS_TEXT in flat(result) and "datetime.date(2024, 1, 1)" in result
        assert "♪" not in result
    assert (
        "♪ Blue in Green — Bill Evans" in views["compass · his · history"]["result"]
    )  # str(SONGS) reads as a card
    assert (
        WARM_UP in views["compass · his · history"]["status"]
        and WARM_UP not in views["alpha · prof"]["status"]
    )
