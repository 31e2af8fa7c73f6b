"""Official result files for two models each, imported, judged and reported, against the official scripts.

Made-up users (tests/official_support.py) get a profile file of the shape `inference_respond.py` writes
and a history file of the shape `inference_toolinvoc_his.py` writes (with `tool_call_failed` items,
Python-repr results and dict `user_feedback`), two models each under one run name. The CLI judges them
with the official eval_prompt.txt through real litellm against the loopback stub judge; the official
evaluation scripts, loaded with ast from ../shared/compass-bench/code, judge the same files with the same
answers. Their counts, Distinct values and scores must equal what `report --format json` prints.
Skipped when ../shared is absent.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest
from official_support import (
    HISTORY_MODELS,
    OFFICIAL_ORDER,
    PROFILE_MODELS,
    USER_IDS,
    OfficialItem,
    OfficialResult,
    history_file,
    made_up_users,
    official_answer,
    profile_file,
    run_official,
    write_json,
)

from compass_tui import paths
from compass_tui.judge import JUDGE_SYSTEM
from compass_tui.records import load_records, load_run_meta
from compass_tui.store import Store
from tools.stub_llm import StubLLM, text

SETTINGS = {
    "profile": ("profile-based", "evaluation.py", PROFILE_MODELS, profile_file),
    "history": ("history-based", "evaluation_with_his.py", HISTORY_MODELS, history_file),
}


def stub_judge(body: dict) -> object:
    prompt = body["messages"][-1]["content"]
    assert body["messages"][0]["content"] != JUDGE_SYSTEM, "the official prompt was expected"
    return text(official_answer(prompt))


@pytest.fixture
def users(cli, data_dir, tmp_path) -> dict[str, dict]:
    users = made_up_users()
    code, _, err = cli("personas", "import", write_json(tmp_path / "made_up_users.json", users))
    assert code == 0, err
    return users


@pytest.fixture
def judge_stub(data_dir):
    with StubLLM(stub_judge) as server:
        lines = [
            "max_retries = 0",
            "concurrency = 4",
            "[models.judge]",
            'model = "openai/judge-a"',
            f'api_base = "{server.base_url}"',
            "timeout = 10",
        ]
        Path(paths.config_file()).write_text("\n".join(lines) + "\n", encoding="utf-8")
        yield server


def script_and_prompt(bench: Path, setting: str) -> tuple[Path, Path]:
    folder, name, _, _ = SETTINGS[setting]
    script, prompt = bench / "code" / folder / name, bench / "prompts" / folder / "eval_prompt.txt"
    for path in (script, prompt):
        if not path.is_file():
            pytest.skip(f"{path} is not present")
    return script, prompt


def import_judge_report(cli, setting: str, files: dict[str, Path], prompt: Path) -> dict:
    for model, path in files.items():
        code, out, err = cli("runs", "import", path, "--model", model, "--name", setting)
        assert code == 0, err
        assert f"as run {setting}: {setting}" in out and "detected" in out
    code, out, err = cli("judge", setting, "--judge-model", "judge", "--judge-prompt", prompt)
    assert code == 0, err
    code, out, err = cli(
        "report", setting, "--format", "json", "--aggregate", "official", "--judge-prompt", "official"
    )
    assert code == 0, err
    document = json.loads(out)
    code, table, err = cli("report", setting, "--aggregate", "official", "--judge-prompt", "official")
    assert code == 0, err
    for row in document["systems"]:  # the terminal table prints the same avg_score with its n
        assert f"{row['official_avg']:.2f} n{row['official_n']}" in table
    return document


def ours_and_official(
    cli, bench: Path, setting: str, users: dict, tmp_path: Path
) -> tuple[dict, dict[str, dict], dict[str, tuple[Path, OfficialResult]]]:
    """Each model's made-up file of `setting` imported, judged and reported by us, and run through the
    official script: our report, its rows by model, and per model (file, official result)."""
    write_file, models = (
        (profile_file, PROFILE_MODELS) if setting == "profile" else (history_file, HISTORY_MODELS)
    )
    script, prompt = script_and_prompt(bench, setting)
    files = {model: write_file(tmp_path / "files", model, users) for model in models}
    document = import_judge_report(cli, setting, files, prompt)
    rows = {row["model"]: row for row in document["systems"]}
    officials = {
        model: (path, run_official(script, prompt, path, users, tmp_path / f"official-{model}"))
        for model, path in files.items()
    }
    return document, rows, officials


def mean(values) -> float:
    return statistics.fmean(values)


def check_row(row: dict, official: list[OfficialItem], summary: dict | None) -> None:
    """n, Distinct, the six dimension means and avg_score of one model, against the official items."""
    failed = [item for item in official if item.text == "Tool call failed"]
    answered = [item for item in official if item.text != "Tool call failed"]
    assert (row["items"], row["n"], row["errors"]) == (len(official), len(answered), len(failed))
    assert row["distinct_n"] == row["official_n"] == len(official)
    assert row["distinct_basis"] == "official"
    assert row["d1"] == pytest.approx(mean(item.d1 for item in official), rel=1e-12)
    assert row["d2"] == pytest.approx(mean(item.d2 for item in official), rel=1e-12)
    for position, key in enumerate(OFFICIAL_ORDER):
        assert row[key]["n"] == len(answered), key
        assert row[key]["mean"] == pytest.approx(mean(item.scores[position] for item in answered)), key
    assert row["official_avg"] == pytest.approx(mean(item.total for item in official))
    if summary is not None:  # evaluation.py's own final_results.json
        assert row["official_avg"] == pytest.approx(summary["avg_score"])
        assert row["official_n"] == summary["count"]


def check_per_persona(cli, run: str, model: str, official: list[OfficialItem]) -> None:
    """`report --by persona`: each user's n and Distinct equal the official items of that user."""
    code, out, err = cli("report", run, "--by", "persona", "--format", "json", "--judge-prompt", "official")
    assert code == 0, err
    groups = {row["group"]: row for row in json.loads(out)["systems"] if row["model"] == model}
    assert sorted(groups) == [f"compass-{uid}" for uid in USER_IDS]
    for user_id in USER_IDS:
        mine = [item for item in official if item.user_id == user_id]
        row = groups[f"compass-{user_id}"]
        assert (row["items"], row["distinct_n"]) == (len(mine), len(mine))
        assert row["d1"] == pytest.approx(mean(item.d1 for item in mine), rel=1e-12)
        assert row["d2"] == pytest.approx(mean(item.d2 for item in mine), rel=1e-12)


def share(flags: list[bool]) -> float:
    return sum(flags) / len(flags)


def test_two_models_profile_files_report_what_evaluation_py_measures(
    cli, data_dir, users, judge_stub, shared_bench, tmp_path
):
    document, rows, officials = ours_and_official(cli, shared_bench, "profile", users, tmp_path)
    assert sorted(rows) == sorted(PROFILE_MODELS)
    for model, (path, official) in officials.items():
        assert len(official.items) == official.summary["count"] == 15 * len(USER_IDS)
        row = rows[model]
        check_row(row, official.items, official.summary)
        check_per_persona(cli, "profile", model, official.items)
        interactions = [
            i for user in json.loads(path.read_text())["user_interactions"].values() for i in user
        ]
        assert row["execute_succ_rate"] == pytest.approx(
            share([i["execution_success"] for i in interactions])
        )
        assert row["3turn_execute_succ_rate"] == pytest.approx(
            share([i["three_execution_success"] for i in interactions])
        )
        assert row["pass_rate"] == row["3turn_execute_succ_rate"]
        assert 0 < row["pass_rate"] < 1
    assert document["aggregate"] == "official"


def test_two_models_history_files_report_what_evaluation_with_his_measures(
    cli, data_dir, users, judge_stub, shared_bench, tmp_path
):
    _, rows, officials = ours_and_official(cli, shared_bench, "history", users, tmp_path)
    for model, (path, official) in officials.items():
        assert len(official.items) == 3 * len(USER_IDS)  # items 12-14 of each user
        row = rows[model]
        check_row(row, official.items, None)
        check_per_persona(cli, "history", model, official.items)
        assert row["setting"] == "history" and row["history"] is True
        scored = [i for user in json.loads(path.read_text())["user_interactions"].values() for i in user[12:]]
        steps = [i["tool_call"]["1"] if "tool_call" in i else {} for i in scored]
        assert row["pass_rate"] == pytest.approx(
            share([s.get("3turn_execute_success", False) for s in steps])
        )
        assert row["execute_succ_rate"] == pytest.approx(
            share([s.get("execute_success", False) for s in steps])
        )
    assert rows["compass"]["errors"] == 2 and rows["rival"]["errors"] == 1  # their tool_call_failed items


def test_history_import_keeps_feedback_results_and_replies_readable(cli, data_dir, users, tmp_path):
    path = history_file(tmp_path / "files", "compass", users)
    code, out, err = cli("runs", "import", path, "--model", "compass", "--name", "his")
    assert code == 0, err
    assert "45 interactions of 3 users" in out and "9 scored" in out and "3 tool_call_failed" in out
    records = {(r["persona_id"], r["situation_index"]): r for r in load_records(Store(data_dir), "his")}
    liked, annoyed, neutral = (records[("compass-901", i)] for i in (0, 1, 3))
    assert liked["feedback"]["label"] == "like" and annoyed["feedback"]["label"] == "dislike"
    assert neutral["feedback"] == {"label": None, "by": "imported", "text": "Neutral"}
    assert liked["response"] == liked["response_raw"]  # inference_toolinvoc_his.py keeps the plain reply
    unreadable = records[("compass-902", 12)]["tool_result"]
    assert unreadable["notes"] == [
        "the tool result is kept as text: it reads as neither JSON nor a Python literal"
    ]
    failed = records[("compass-901", 13)]
    assert (failed["status"], failed["error"]["kind"], failed["response_raw"]) == (
        "error",
        "tool_call_failed",
        "Tool call failed",
    )


# --- the README's "Reproducing the paper" commands, as written, on the made-up users ---------------------


def official_companion(bench: Path):
    """Answers the official prompts: a strength_card call, a {"feedback"} reply, a "Like"."""
    folder = bench / "prompts"
    tool_system = (folder / "history-based" / "system_tool_selection.txt").read_text(encoding="utf-8")
    simulator_system = (folder / "user-simulator" / "system_prompt_perfer.txt").read_text(encoding="utf-8")

    def answer(body: dict) -> object:
        system = body["messages"][0]["content"]
        if system.startswith(tool_system.strip()[:40]):
            call = {
                "tool_folder_name": "strength_card",
                "function_name": "strengthcard",
                "param": {"situation": "x"},
            }
            return text(json.dumps({"scenario": "Work/Study_scenario", "1": call}))
        if system.startswith(simulator_system.strip()[:20]):
            return text(json.dumps({"output": "Like"}))
        return text(json.dumps({"feedback": "A card for a hard week, and you are not alone in it."}))

    return answer


def readme_commands(repo_root: Path) -> list[list[str]]:
    """The commands of the README's "Reproducing the paper" block, continuation lines joined."""
    readme = (repo_root / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Reproducing the paper", 1)[1].split("\n## ", 1)[0]
    block = section.split("\n\n")[2]  # the indented command block after the first paragraph
    joined = block.replace("\\\n", " ")
    lines = [
        line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")
    ]
    assert all(line.startswith("compass-tui ") for line in lines), lines
    return [line.split()[1:] for line in lines]


def test_the_readme_reproduction_commands_run_as_written(cli, data_dir, shared_bench, repo_root, tmp_path):
    users_file = write_json(tmp_path / "made_up_users.json", made_up_users())
    commands = readme_commands(repo_root)
    assert [c[0] for c in commands] == ["personas", "--tool-data", "--tool-data"]
    with StubLLM(official_companion(shared_bench)) as server:
        lines = [
            'embedding_model = "/nonexistent-embedding-model"',  # lexical search at once
            "max_retries = 0",
            *(f'[models.{name}]\nmodel = "openai/{name}"\napi_base = "{server.base_url}"' for name in "MS"),
        ]
        Path(paths.config_file()).write_text("\n".join(lines) + "\n", encoding="utf-8")
        for command in commands:
            argv = [
                str(users_file)
                if arg == "B/test_set_correct_form.json"
                else arg.replace("B/", f"{shared_bench}/")
                for arg in command
            ]
            argv = ["S" if arg == "SIM" else arg for arg in argv]
            code, out, err = cli(*argv)
            assert code == 0, (argv, out, err)
    code, out, err = cli("runs", "list", "--json")
    assert code == 0, err
    runs = {run["setting"]: run for run in json.loads(out)}
    assert sorted(runs) == ["history", "profile"]
    for setting, run in runs.items():
        assert (run["status"], run["models"], run["personas"]) == ("finished", ["M"], len(USER_IDS))
        records = load_records(Store(data_dir), run["run_id"])
        assert len(records) == 15 * len(USER_IDS) and {r["status"] for r in records} == {"done"}
        assert sum(1 for r in records if r["scored"]) == (15 if setting == "profile" else 3) * len(USER_IDS)
        assert all(r["final_success"] for r in records)
        assert load_run_meta(Store(data_dir), run["run_id"]).fidelity == "official"
