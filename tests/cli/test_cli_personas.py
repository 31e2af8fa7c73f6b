"""`compass-tui personas ...` end to end: import, re-import, export round trip, bad input, JSON output, help."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from compass_tui import __version__
from compass_tui.cli import build_parser
from compass_tui.inputs import DEFAULT_MAX_INPUT_MB
from compass_tui.vocab import SCENARIO_KEYS

BUNDLED_DIR = Path(__file__).resolve().parents[2] / "personas"
SHARED_FILE_NAME = "test_set_correct_form.json"


def persona_files(data_dir: Path) -> list[str]:
    directory = data_dir / "personas"
    return sorted(path.name for path in directory.glob("*.json")) if directory.is_dir() else []


def compass_user(name: str = "Ines") -> dict:
    """A small, valid ComPASS-Bench user written for these tests."""
    return {
        "demographic": {
            "age": 41,
            "gender": "female",
            "firstname": name,
            "lastname": "Okafor",
            "address": "3 Mill Lane",
            "phone": "+44 7700 900123",
            "education": "BSc Nursing",
            "career": "Ward nurse",
            "income": "30,000-35,000 GBP per year",
        },
        "Big_Five_personality_traits": {
            "Openness": "medium",
            "Conscientiousness": "high",
            "Extraversion": "low",
            "Agreeableness": "high",
            "Neuroticism": "medium",
        },
        "personality_description": "Steady and kind, a little reserved.",
        "background": {
            "Hobbies": "Allotment gardening.",
            "Health Status": "Bad back after long shifts.",
            "Family Environment": "Lives with her sister.",
            "Living Habits": "Early riser.",
            "Growth Experience": "Trained as a nurse at thirty.",
        },
        "tool_preferences": {
            "Work/Study_scenario": "She likes schedule_manager for shift swaps and dislikes role_play at work.",
            "Health_scenario": "She likes medical_appointment and dislikes joke_recommendation when in pain.",
            "Family_scenario": "She enjoys plan_assistant for family visits and avoids online_shopping.",
            "Social_scenario": "She likes sticker_respond in group chats and dislikes strength_card.",
            "Leisure_scenario": "She loves music_recommendation (folk, not EDM) and dislikes schedule_manager.",
        },
        "scenarios": [
            {
                "scenario": "After a double shift at the hospital her supervisor asks her to cover another.",
                "emotion": "annoyed",
            },
            {"scenario": "Her sister surprises her with a weekend trip to the sea.", "emotion": "joyful"},
        ],
        "name": name,
        "utterance": [
            "They asked me to cover again. I'm so tired I could cry.",
            "She booked us two nights by the sea! I haven't had a break in months.",
        ],
    }


def write_json(path: Path, document) -> Path:
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def compass_file(path: Path, users: int = 3) -> Path:
    return write_json(path, {str(i): compass_user(f"User{i}") for i in range(users)})


# --- Requirement 1: import, idempotent re-import, edits kept ---------------------------------------------------


@pytest.mark.slow
def test_import_is_idempotent_and_keeps_edits(cli, data_dir, shared_test_set):
    """The real test set imports to 100 personas x 15 situations; importing it twice creates no duplicates."""
    code, out, err = cli("personas", "import", shared_test_set, "--json")
    assert (code, err) == (0, "")
    first = json.loads(out)
    assert len(first["added"]) == 100 and first["unchanged"] == [] and first["kept_edited"] == []
    assert persona_files(data_dir) == sorted(f"compass-{i}.json" for i in range(100))
    for name in ("compass-0.json", "compass-57.json", "compass-99.json"):
        stored = json.loads((data_dir / "personas" / name).read_text(encoding="utf-8"))
        assert len(stored["situations"]) == 15
        assert stored["origin"] == {
            "source": "compass-bench",
            "user_id": name[8:-5],
            "file": SHARED_FILE_NAME,
        }

    code, out, err = cli("personas", "import", shared_test_set, "--json")
    assert (code, err) == (0, "")
    second = json.loads(out)
    assert (len(second["added"]), len(second["unchanged"]), second["kept_edited"]) == (0, 100, [])
    assert len(persona_files(data_dir)) == 100

    edited_path = data_dir / "personas" / "compass-5.json"
    edited = json.loads(edited_path.read_text(encoding="utf-8"))
    edited["personality_description"] = "Edited by a researcher."
    edited["tool_preferences"]["health"]["confirmed"] = True
    write_json(edited_path, edited)
    code, out, err = cli("personas", "import", shared_test_set, "--json")
    assert code == 0
    third = json.loads(out)
    assert (third["added"], third["kept_edited"], len(third["unchanged"])) == ([], ["compass-5"], 99)
    assert json.loads(edited_path.read_text(encoding="utf-8")) == edited
    assert len(persona_files(data_dir)) == 100


def test_import_prints_a_human_summary(cli, data_dir, tmp_path):
    source = compass_file(tmp_path / "three.json")
    code, out, err = cli("personas", "import", source)
    assert (code, err) == (0, "")
    assert "3 added, 0 unchanged, 0 kept" in " ".join(out.split())  # rich wraps at 80 columns
    assert persona_files(data_dir) == ["compass-0.json", "compass-1.json", "compass-2.json"]


def test_a_deleted_persona_is_added_again(cli, data_dir, tmp_path):
    source = compass_file(tmp_path / "three.json")
    cli("personas", "import", source)
    (data_dir / "personas" / "compass-1.json").unlink()
    code, out, _ = cli("personas", "import", source, "--json")
    assert code == 0
    assert json.loads(out) == {
        "added": ["compass-1"],
        "unchanged": ["compass-0", "compass-2"],
        "kept_edited": [],
    }


# --- Requirement 3: the round trip is equal ---------------------------------------------------------------------


@pytest.mark.slow
def test_export_round_trip_equals_the_original(cli, data_dir, shared_test_set, tmp_path):
    assert cli("personas", "import", shared_test_set)[0] == 0
    out_file = tmp_path / "OUT.json"
    code, out, err = cli("personas", "export", out_file, "--personas", "imported")
    assert (code, err) == (0, "")
    assert str(out_file) in out.replace("\n", "")
    original = json.loads(shared_test_set.read_text(encoding="utf-8"))
    exported = json.loads(out_file.read_text(encoding="utf-8"))
    assert exported == original
    assert list(exported) == list(original)
    assert list(exported["0"]) == list(original["0"])

    out_dir = tmp_path / "export-dir"
    out_dir.mkdir()
    code, _, err = cli("personas", "export", out_dir, "--personas", "imported")
    assert (code, err) == (0, "")
    assert sorted(p.name for p in out_dir.iterdir()) == [SHARED_FILE_NAME]
    assert json.loads((out_dir / SHARED_FILE_NAME).read_text(encoding="utf-8")) == original


def test_export_of_selected_personas(cli, data_dir, tmp_path):
    cli("personas", "import", compass_file(tmp_path / "three.json"))
    out_file = tmp_path / "two.json"
    assert cli("personas", "export", out_file, "--personas", "compass-0,compass-2")[0] == 0
    exported = json.loads(out_file.read_text(encoding="utf-8"))
    assert exported == {"0": compass_user("User0"), "2": compass_user("User2")}


def test_export_with_an_unknown_selector_is_rejected(cli, data_dir, tmp_path):
    code, _, err = cli("personas", "export", tmp_path / "x.json", "--personas", "nobody-*")
    assert code == 2
    assert "'nobody-*' matches no persona" in err
    assert not (tmp_path / "x.json").exists()


# --- Requirement 4: every bad input is rejected with one line, exit 2, nothing written ---------------------------


def _malformed(path: Path) -> tuple[Path, list[str]]:
    path.write_text('{\n  "0": {\n    "demographic": {,\n  }\n}\n', encoding="utf-8")
    return path, [f"{path}:3:", "invalid JSON"]


def _missing_field(path: Path) -> tuple[Path, list[str]]:
    users = {str(i): compass_user() for i in range(2)}
    del users["1"]["Big_Five_personality_traits"]
    return write_json(path, users), ['["1"].Big_Five_personality_traits', "missing field"]


def _missing_demographic(path: Path) -> tuple[Path, list[str]]:
    users = {"0": compass_user()}
    del users["0"]["demographic"]
    return write_json(path, users), ['["0"].demographic', "missing field"]


def _unknown_scenario_type(path: Path) -> tuple[Path, list[str]]:
    users = {"0": compass_user()}
    users["0"]["tool_preferences"]["Travel_scenario"] = "She likes plan_assistant."
    return write_json(path, users), ['["0"].tool_preferences.Travel_scenario', "unknown scenario type"]


def _missing_big_five_trait(path: Path) -> tuple[Path, list[str]]:
    users = {"0": compass_user()}
    del users["0"]["Big_Five_personality_traits"]["Neuroticism"]
    return write_json(path, users), ['["0"].Big_Five_personality_traits.Neuroticism', "missing field"]


def _bad_emotion(path: Path) -> tuple[Path, list[str]]:
    users = {str(i): compass_user() for i in range(3)}
    users["2"]["scenarios"][1]["emotion"] = "bored"  # the last user: the first two must not be written either
    return write_json(path, users), ['["2"].scenarios[1].emotion', "'bored' is not one of the 31"]


def _bad_level(path: Path) -> tuple[Path, list[str]]:
    users = {"0": compass_user()}
    users["0"]["Big_Five_personality_traits"]["Openness"] = "very"
    return write_json(path, users), [
        '["0"].Big_Five_personality_traits.Openness',
        "'low', 'medium' or 'high'",
    ]


def _too_large(path: Path) -> tuple[Path, list[str]]:
    limit = int(DEFAULT_MAX_INPUT_MB * 2**20)
    with path.open("wb") as handle:
        handle.truncate(limit + 1)  # sparse: costs no disk
    return path, [f"{limit + 1:,} bytes", "64 MiB limit"]


def _no_situations(path: Path) -> tuple[Path, list[str]]:
    users = {"0": compass_user()}
    users["0"]["scenarios"], users["0"]["utterance"] = [], []
    return write_json(path, users), ['["0"].scenarios', "at least one situation"]


def _mismatched_utterances(path: Path) -> tuple[Path, list[str]]:
    users = {"0": compass_user()}
    users["0"]["utterance"].pop()
    return write_json(path, users), ['["0"].utterance', "1 utterances for 2 scenarios"]


def _nan(path: Path) -> tuple[Path, list[str]]:
    text = json.dumps({"0": compass_user()}).replace('"age": 41', '"age": NaN')
    path.write_text(text, encoding="utf-8")
    return path, ["demographic.age", "NaN is not a valid number"]


def _infinity(path: Path) -> tuple[Path, list[str]]:
    text = json.dumps({"0": compass_user()}).replace('"age": 41', '"age": -Infinity')
    path.write_text(text, encoding="utf-8")
    return path, ["demographic.age", "-Infinity is not a valid number"]


def _lone_surrogate(path: Path) -> tuple[Path, list[str]]:
    users = {"0": compass_user()}
    users["0"]["utterance"][1] = "SURROGATE here"
    text = json.dumps(users).replace(
        "SURROGATE", "\\ud800"
    )  # the JSON escape, as a broken exporter writes it
    assert "\\ud800" in text
    path.write_text(text, encoding="utf-8")
    return path, ["utterance[1]", "lone surrogate"]


def _not_utf8(path: Path) -> tuple[Path, list[str]]:
    path.write_bytes(json.dumps({"0": compass_user("Inés")}, ensure_ascii=False).encode("latin-1"))
    return path, ["not UTF-8"]


def _not_an_object(path: Path) -> tuple[Path, list[str]]:
    return write_json(path, [compass_user()]), ["a JSON object of users keyed by id"]


BAD_COMPASS_FILES = {
    "malformed-json": _malformed,
    "missing-field": _missing_field,
    "missing-demographic": _missing_demographic,
    "missing-trait": _missing_big_five_trait,
    "unknown-scenario-type": _unknown_scenario_type,
    "bad-emotion": _bad_emotion,
    "bad-level": _bad_level,
    "over-64MiB": _too_large,
    "no-situations": _no_situations,
    "mismatched-utterances": _mismatched_utterances,
    "nan": _nan,
    "infinity": _infinity,
    "lone-surrogate": _lone_surrogate,
    "not-utf8": _not_utf8,
    "not-an-object": _not_an_object,
}


def assert_one_line_rejection(code: int, err: str, path: Path, needles: list[str]) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip("\n").split("\n")
    assert len(lines) == 1, err
    assert lines[0].startswith(f"compass-tui: {path}"), err
    for needle in needles:
        assert needle in lines[0], (needle, err)


@pytest.mark.parametrize("action", ["import", "validate"])
@pytest.mark.parametrize("case", list(BAD_COMPASS_FILES))
def test_bad_compass_file_is_rejected_in_one_line(cli, data_dir, tmp_path, case, action):
    """Requirement 4: exit 2, one stderr line naming the file and field, nothing written to the data dir."""
    path, needles = BAD_COMPASS_FILES[case](tmp_path / f"{case}.json")
    code, out, err = cli("personas", action, path)
    assert_one_line_rejection(code, err, path, needles)
    assert out == ""
    assert persona_files(data_dir) == []
    assert list(data_dir.rglob("*")) == []


def test_missing_file_is_rejected(cli, data_dir, tmp_path):
    path = tmp_path / "nowhere.json"
    code, _, err = cli("personas", "import", path)
    assert_one_line_rejection(code, err, path, ["no such file"])


def our_persona_document() -> dict:
    return json.loads((BUNDLED_DIR / "adam-kerr.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("change", "needles"),
    [
        (
            lambda d: d["tool_preferences"]["work_study"]["liked"].append("telepathy"),
            ["tool_preferences.work_study.liked", "unknown tool 'telepathy'"],
        ),
        (
            lambda d: d["tool_preferences"]["leisure"]["disliked"].append("query_music"),
            ["tool_preferences.leisure.disliked", "unknown tool 'query_music'"],
        ),
        (lambda d: d["situations"][2].update(emotion="bored"), ["situations[2].emotion", "'bored'"]),
        (lambda d: d.update(situations=[]), ["situations", "at least 1 item"]),
        (lambda d: d["demographic"].pop("age"), ["demographic.age", "missing field"]),
        (lambda d: d.update(mood="grumpy"), ["mood", "unknown field"]),
    ],
    ids=[
        "unknown-tool",
        "function-name-not-folder",
        "bad-emotion",
        "no-situations",
        "missing-age",
        "unknown-field",
    ],
)
def test_validate_rejects_a_bad_persona_of_our_format(cli, data_dir, tmp_path, change, needles):
    document = our_persona_document()
    change(document)
    path = write_json(tmp_path / "persona.json", document)
    code, out, err = cli("personas", "validate", path)
    assert_one_line_rejection(code, err, path, needles)
    assert list(data_dir.rglob("*")) == []


def test_validate_accepts_good_files_and_writes_nothing(cli, data_dir, tmp_path):
    ours = write_json(tmp_path / "persona.json", our_persona_document())
    code, out, err = cli("personas", "validate", ours, "--json")
    assert (code, err) == (0, "")
    assert json.loads(out) == {"file": str(ours), "personas": 1, "warnings": {}}

    theirs = compass_file(tmp_path / "compass.json", users=2)
    code, out, err = cli("personas", "validate", theirs, "--json")
    assert (code, err) == (0, "")
    report = json.loads(out)
    assert report["personas"] == 2
    assert report["warnings"] == {
        f"compass-{i}": ["2 situation(s) have an inferred scenario type"] for i in range(2)
    }
    assert list(data_dir.rglob("*")) == []


# --- Requirement 5: JSON output, --help, --version ----------------------------------------------------------------


def test_list_json_includes_parsed_preferences(cli, data_dir, tmp_path):
    cli("personas", "import", compass_file(tmp_path / "three.json", users=1))
    code, out, err = cli("personas", "list", "--json")
    assert (code, err) == (0, "")
    rows = {row["id"]: row for row in json.loads(out)}
    bundled = sorted(path.stem for path in BUNDLED_DIR.glob("*.json"))
    assert sorted(rows) == sorted([*bundled, "compass-0"])
    imported = rows["compass-0"]
    assert (
        imported["kind"] == "imported" and imported["name"] == "User0 Okafor" and imported["situations"] == 2
    )
    assert imported["preferences"] == {
        "work_study": {"liked": ["schedule_manager"], "disliked": ["role_play"], "ambiguous": []},
        "health": {"liked": ["medical_appointment"], "disliked": ["joke_recommendation"], "ambiguous": []},
        "family": {"liked": ["plan_assistant"], "disliked": ["online_shopping"], "ambiguous": []},
        "social": {"liked": ["sticker_respond"], "disliked": ["strength_card"], "ambiguous": []},
        "leisure": {"liked": ["music_recommendation"], "disliked": ["schedule_manager"], "ambiguous": []},
    }
    adam = rows["adam-kerr"]
    assert adam["kind"] == "bundled"
    assert set(adam["preferences"]) == set(SCENARIO_KEYS)
    assert adam["preferences"]["work_study"]["liked"] == ["schedule_manager", "plan_assistant"]
    assert adam["preferences"]["work_study"]["disliked"] == ["role_play", "story_recommender"]


def test_list_filter_and_table(cli, data_dir):
    code, out, _ = cli("personas", "list", "--filter", "kerr", "--json")
    assert code == 0
    assert [row["id"] for row in json.loads(out)] == ["adam-kerr"]
    code, out, _ = cli("personas", "list", "--filter", "kerr")
    assert code == 0
    assert "1 persona\n" in out and "adam-kerr" in out


@pytest.mark.slow
def test_show_json_of_a_real_user(cli, data_dir, shared_test_set):
    cli("personas", "import", shared_test_set)
    code, out, err = cli("personas", "show", "compass-0", "--json")
    assert (code, err) == (0, "")
    shown = json.loads(out)
    assert shown["kind"] == "imported" and shown["id"] == "compass-0"
    work = shown["tool_preferences"]["work_study"]
    assert set(work["liked"]) == {"plan_assistant", "story_recommender", "strength_card"}
    assert set(work["disliked"]) == {"schedule_manager", "medical_appointment", "online_shopping"}
    assert set(shown["tool_preferences"]) == set(SCENARIO_KEYS)
    assert len(shown["situations"]) == 15
    code, out, _ = cli("personas", "show", "compass-0")
    assert code == 0
    assert "James Lopez" in out and "Tool preferences" in out and "plan_assistant" in out


def test_show_of_an_unknown_persona(cli, data_dir):
    code, out, err = cli("personas", "show", "nobody")
    assert code == 2 and out == ""
    assert err.strip() == "compass-tui: no persona 'nobody' (see `compass-tui personas list`)"


def test_show_of_a_broken_persona_file_names_it(cli, data_dir):
    broken = data_dir / "personas" / "broken.json"
    broken.parent.mkdir()
    broken.write_text('{"id": "broken", ', encoding="utf-8")
    code, out, _ = cli("personas", "list", "--json")
    assert code == 0
    row = next(r for r in json.loads(out) if r["id"] == "broken")
    assert "invalid JSON" in row["error"]
    code, _, err = cli("personas", "show", "broken")
    assert_one_line_rejection(code, err, broken, ["invalid JSON"])


def command_paths(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command and subcommand of the CLI, e.g. ('personas',), ('personas', 'import')."""
    found: list[tuple[str, ...]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, subparser in action.choices.items():
                found.append(prefix + (name,))
                found.extend(command_paths(subparser, prefix + (name,)))
    return found


def test_every_command_has_help(cli, data_dir):
    paths = command_paths(build_parser())
    assert {("personas", action) for action in ("list", "show", "import", "export", "validate")} <= set(paths)
    for path in [(), *paths]:
        code, out, err = cli(*path, "--help")
        assert (code, err) == (0, ""), path
        assert out.startswith(f"usage: compass-tui {' '.join(path)}".rstrip()), path
    assert list(data_dir.rglob("*")) == []


def test_version(cli, data_dir):
    code, out, err = cli("--version")
    assert (code, out.strip(), err) == (0, f"compass-tui {__version__}", "")
