"""Official-shaped ComPASS result files for made-up users, and the official evaluation scripts run on them.

Shared by tests/cli/test_official_end_to_end.py and tests/tui/test_official_stepper.py. The users are
written here (never taken from ../shared); the profile file has the shape
`profile-based/inference_respond.py` writes, the history file the shape
`history-based/inference_toolinvoc_his.py` writes, plus the `{"user_utterance", "tool_call_failed"}`
items `tool_invoc_with_his.py` writes. The official `ToolCallEvaluator` classes are loaded with `ast`
from ../shared/compass-bench/code at run time and judged by `scores_for`, the same function the
loopback stub judge answers with.
"""

from __future__ import annotations

import ast
import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tqdm

from compass_tui.vocab import EMOTIONS

USER_IDS = ("901", "902", "903")
PROFILE_MODELS = ("alpha", "beta")
HISTORY_MODELS = ("compass", "rival")
# The official prompt's order of the six scores, as our dimension keys.
OFFICIAL_ORDER = ("empathy", "helpfulness", "preference", "fluency", "safety", "informativeness")
LIKED = "I’m very satisfied with this tool for this scenario."
ANNOYED = "In this situation, I’m quite annoyed with this tool."

TOPICS = (
    ("my thesis draft came back covered in red ink", "Work/Study"),
    ("the night shift schedule changed again without warning", "Work/Study"),
    ("my manager praised the report I stayed up finishing", "Work/Study"),
    ("the physiotherapist said my knee needs another month", "Health"),
    ("I finally slept through the night after weeks of insomnia", "Health"),
    ("the blood test results are still not back", "Health"),
    ("my brother forgot our mother's birthday dinner", "Family"),
    ("my daughter took her first steps this morning", "Family"),
    ("we argued about who hosts the holidays this year", "Family"),
    ("nobody replied when I suggested a weekend hike", "Social"),
    ("an old friend messaged me after ten years", "Social"),
    ("I said something awkward at the book club", "Social"),
    ("the rain cancelled the allotment open day", "Leisure"),
    ("I learned to play a full song on the ukulele", "Leisure"),
    ("the pottery class kiln cracked my favourite bowl", "Leisure"),
)


def made_up_user(user_id: str) -> dict[str, Any]:
    """A ComPASS test-set user with 15 situations, written for these tests."""
    first = {"901": "Maren", "902": "Tobiah", "903": "Quilla"}[user_id]
    offset = int(user_id) % 7
    return {
        "demographic": {
            "age": 30 + offset,
            "gender": "female" if user_id != "902" else "male",
            "firstname": first,
            "lastname": "Vantreight",
            "address": f"{offset} Harrow Row",
            "phone": f"+1 555 010{offset}",
            "education": "MA Library Science",
            "career": "Archivist",
            "income": "40,000-45,000 USD per year",
        },
        "Big_Five_personality_traits": {
            "Openness": "high",
            "Conscientiousness": "medium",
            "Extraversion": "low",
            "Agreeableness": "high",
            "Neuroticism": "medium",
        },
        "personality_description": f"{first} is thoughtful, wry and slow to ask for help.",
        "background": {
            "Hobbies": "Ukulele and pottery.",
            "Health Status": "A knee that complains in the cold.",
            "Family Environment": "Lives near a brother and a small daughter.",
            "Living Habits": "Walks at dawn.",
            "Growth Experience": "Moved cities twice for work.",
        },
        "tool_preferences": {
            "Work/Study_scenario": "Likes schedule_manager for deadlines and dislikes role_play at work.",
            "Health_scenario": "Likes medical_appointment and dislikes joke_recommendation when unwell.",
            "Family_scenario": "Enjoys plan_assistant for family plans and avoids online_shopping.",
            "Social_scenario": "Likes sticker_respond with friends and dislikes strength_card.",
            "Leisure_scenario": "Loves music_recommendation and dislikes schedule_manager on days off.",
        },
        "scenarios": [
            {"scenario": f"{first}: {topic} ({kind}).", "emotion": EMOTIONS[(i * 3 + offset) % len(EMOTIONS)]}
            for i, (topic, kind) in enumerate(TOPICS)
        ],
        "name": first,
        "utterance": [f"Honestly, {topic}. ({first}, {i + 1})" for i, (topic, _) in enumerate(TOPICS)],
    }


def made_up_users() -> dict[str, dict[str, Any]]:
    return {user_id: made_up_user(user_id) for user_id in USER_IDS}


def write_json(path: Path, document: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


# --- the tools' results, as the scripts keep them (str(result)) --------------------------------------------

MUSIC = {
    "tool_folder_name": "music_recommendation",
    "function_name": "query_music",
    "param": {"keywords": ["calm"]},
}
SCHEDULE = {
    "tool_folder_name": "schedule_manager",
    "function_name": "schedule_api",
    "param": {"operation": "add", "time": "2025-03-15 17:00", "event": "tea with Ada", "location": "home"},
}
CARD = {
    "tool_folder_name": "strength_card",
    "function_name": "strengthcard",
    "param": {"situation": "a hard week"},
}
SONGS = [
    {"title": "Blue in Green", "artist": "Bill Evans", "genre": "jazz", "year": 1959, "moods": ("calm",)}
]
CARDS = [
    {
        "name": "Perseverance",
        "virtue": "Courage",
        "description": "Finishing what you start.",
        "encouragement": "Keep going.",
    }
]
UNREADABLE = "[{'title': 'Blue in Green', 'added': datetime.date(2024, 1, 1)}]"
RESULT_OF = {
    "music_recommendation": str(SONGS),
    "schedule_manager": str((True, "Added: tea with Ada at 2025-03-15 17:00")),
    "strength_card": str(CARDS),
}
CALLS = (MUSIC, SCHEDULE, CARD)


def reply(model: str, user_id: str, index: int) -> str:
    words = ("warm", "steady", "gentle", "bright", "quiet", "kind")
    word = words[(index + len(model) + int(user_id)) % len(words)]
    return (
        f"That sounds like a {word} moment to pause, {model} thinks; "
        + "let us take it one step at a time. " * (1 + index % 3)
        + f"({user_id}-{index})"
    )


# --- profile-based/inference_respond.py --------------------------------------------------------------------


def profile_interaction(model: str, user_id: str, index: int, utterance: str) -> dict[str, Any]:
    """The best-of-3 record: a tool step (first or later attempt), a failed execution, or the raw choice."""
    kind = (index + int(user_id) + len(model)) % 7
    if kind == 5:  # the generation failed three times: the raw text in tool_call_all
        return {
            "user_utterance": utterance,
            "tool_call_all": "Generation error: Request timed out",
            "execution_success": False,
            "three_execution_success": False,
        }
    if kind == 6:  # JSON without a "1"
        return {
            "user_utterance": utterance,
            "tool_call_all": '{"scenario": "Leisure", "2": {"tool_folder_name": "music_recommendation"}}',
            "error": "No tool call '1' found",
            "execution_success": False,
            "three_execution_success": False,
        }
    call = CALLS[index % 3]
    if kind == 4:  # the tool raised on every attempt; the feedback was written from the error
        step = {
            "tool_call": call,
            "tool_raw_result": "schedule_api() missing 1 required positional argument: 'operation'",
            "generated_feedback": "Feedback generation failed: Generation error: Request timed out",
            "execute_success": False,
        }
        return _profile_step(utterance, step, first=False, best=False)
    raw = RESULT_OF[call["tool_folder_name"]] if (index, user_id) != (0, "901") else UNREADABLE
    feedback = json.dumps({"feedback": reply(model, user_id, index)}, ensure_ascii=False, indent=4)
    step = {
        "tool_call": call,
        "tool_raw_result": raw,
        "generated_feedback": feedback,
        "execute_success": True,
    }
    return _profile_step(utterance, step, first=kind != 3, best=True)


def _profile_step(utterance: str, step: dict, first: bool, best: bool) -> dict[str, Any]:
    return {
        "user_utterance": utterance,
        "scenario": "Leisure",
        "tool_call": {"1": step},
        "execution_success": first,
        "three_execution_success": best,
    }


def profile_file(folder: Path, model: str, users: dict[str, dict]) -> Path:
    interactions = {
        uid: [profile_interaction(model, uid, i, u) for i, u in enumerate(user["utterance"])]
        for uid, user in users.items()
    }
    return write_json(folder / f"tool_interactions_{model}.json", {"user_interactions": interactions})


# --- history-based/inference_toolinvoc_his.py (and tool_invoc_with_his.py's tool_call_failed) ---------------


def history_interaction(model: str, user_id: str, index: int, utterance: str) -> dict[str, Any]:
    kind = (index + int(user_id) + len(model)) % 6
    failed_turns = {("compass", "901"): (13,), ("compass", "903"): (5, 14), ("rival", "902"): (12,)}
    if index in failed_turns.get((model, user_id), ()):
        return {"user_utterance": utterance, "tool_call_failed": "Sure! I would pick a song for you."}
    call: dict | None = CALLS[index % 3]
    if kind == 5:  # calls.get("1") was None: execute_tool_call(None) failed
        call, raw, first, best = None, "'NoneType' object is not subscriptable", False, False
    else:
        raw = RESULT_OF[call["tool_folder_name"]] if (index, user_id) != (12, "902") else UNREADABLE
        first, best = kind != 2, True
    feedback = reply(model, user_id, index)
    if kind == 4:
        feedback = "failed to extract json"
    if (model, user_id, index) == ("rival", "903", 13):
        feedback = ""  # json.loads(...).get("feedback", "")
    verdict = {0: "Like", 1: "Dislike", 2: "Like", 3: "Neutral"}.get(index % 4, "Neutral")
    label = {"Like": LIKED, "Dislike": ANNOYED}.get(verdict, verdict)
    return {
        "user_utterance": utterance,
        "scenario": "Leisure",
        "tool_call": {
            "1": {
                "tool_call": call,
                "tool_raw_result": str(raw),
                "generated_feedback": feedback,
                "execute_success": first,
                "3turn_execute_success": best,
                "feedback_success": kind != 4,
            }
        },
        "user_feedback": {
            "user_utterance": utterance,
            "agent_reply": str(call) + feedback,
            "user_feedback": label,
        },
    }


def history_file(folder: Path, model: str, users: dict[str, dict]) -> Path:
    """In a folder of its own: evaluation_with_his.py reads only tool_interactions_compass.json."""
    interactions = {
        uid: [history_interaction(model, uid, i, u) for i, u in enumerate(user["utterance"])]
        for uid, user in users.items()
    }
    return write_json(folder / model / "tool_interactions_compass.json", {"user_interactions": interactions})


# --- the judge both sides ask -------------------------------------------------------------------------------

_JUDGED = re.compile(r'^\s*"1": (".*")$', re.MULTILINE)


def judged_text(prompt: str) -> str:
    """The text under "1" in a filled eval_prompt.txt: what the judge is asked to score."""
    match = _JUDGED.search(prompt)
    assert match, "no judged text in the prompt"
    return json.loads(match.group(1))


def scores_for(text: str) -> list[int]:
    """Six official-order scores, 1-5, fixed by the judged text."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return [1 + byte % 5 for byte in digest[:6]]


def official_answer(prompt: str) -> str:
    scores = scores_for(judged_text(prompt))
    return json.dumps({"explanation": "Empathy Capability: scored by the test.", "score": scores})


class ScriptedJudge:
    """The official scripts' LLM proxy, answering as the loopback stub judge does."""

    def llm_request(self, system_prompt, prompt, model_name=None):
        return True, official_answer(prompt if isinstance(prompt, str) else prompt[0]["text"])


# --- the official evaluation scripts ------------------------------------------------------------------------


def official_evaluator(script: Path) -> type:
    """ToolCallEvaluator from an official evaluation script, loaded with ast; its LLM proxy is left out."""
    tree = ast.parse(script.read_text(encoding="utf-8"))
    (evaluator,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "ToolCallEvaluator"]
    namespace: dict = {
        **{name: __import__(name) for name in ("json", "os", "re", "math", "string", "base64")},
        **{"Path": Path, "Dict": dict, "List": list, "Tuple": tuple, "tqdm": tqdm},
        "logger": logging.getLogger("official-evaluation"),
    }
    exec(compile(ast.Module(body=[evaluator], type_ignores=[]), str(script), "exec"), namespace)
    return namespace["ToolCallEvaluator"]


def scripted_evaluator(
    evaluator_class: type, folder: Path, save: Path, prompt_template: str, eval_template: str, judge: type
):
    """An official evaluator reading the files in `folder`, saving to `save`, `judge()` as both its LLMs."""
    evaluator = evaluator_class.__new__(evaluator_class)
    evaluator.__dict__.update(
        prompt_template=prompt_template,
        eval_prompt_template=eval_template,
        data_dir=str(folder),
        tool_call_base_dir=str(folder),
        save_dir=str(save),
        llm=judge(),
        evaluator_llm=judge(),
        model_name="stub",
        eval_model="stub",
    )
    return evaluator


def run_script(evaluator, script: Path, user_info: Path) -> None:
    """What the script's own entry point calls: main_eval for the history scripts, run for the others."""
    if "history-based" in str(script):
        evaluator.main_eval(str(user_info))
    else:
        evaluator.run(str(user_info))


@dataclass
class OfficialItem:
    user_id: str
    text: str  # what the script put under "1"
    scores: list[int]
    total: int
    d1: float
    d2: float


@dataclass
class OfficialResult:
    items: list[OfficialItem] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)  # evaluation.py's final_results.json entry


def restructured_users(users: dict[str, dict], path: Path) -> Path:
    """test_set_restructured.json as the scripts read it: persona, scenarios and utterances per user."""
    fields = ("demographic", "Big_Five_personality_traits", "personality_description", "background")
    info = {
        uid: {
            "persona": {k: u[k] for k in (*fields, "tool_preferences")},
            "scenarios": u["scenarios"],
            "utterance": u["utterance"],
        }
        for uid, u in users.items()
    }
    return write_json(path, info)


def run_official(
    script: Path, prompt: Path, file: Path, users: dict[str, dict], work: Path
) -> OfficialResult:
    """Run an official evaluation script over `file` alone; every item it evaluates is captured."""
    base = official_evaluator(script)
    result = OfficialResult()

    def keep(user_id: str, tool_call: dict, scores: list[int], total: int, d1: float, d2: float) -> None:
        result.items.append(OfficialItem(user_id, tool_call["1"], scores, total, d1, d2))

    class Capturing(base):  # type: ignore[misc, valid-type]
        def eval_single_utterance(self, **item):  # evaluation_with_his.py
            done = super().eval_single_utterance(**item)
            assert done["error"] is None, done["error"]
            score = done["basic_score"]
            keep(
                self.current_user(item["utterance"]),
                item["tool_call"],
                score["score_list"],
                score["total_score"],
                done["distinct_n"]["D_1"],
                done["distinct_n"]["D_2"],
            )
            return done

        def eval_utterance(self, *item):  # evaluation.py
            done = super().eval_utterance(*item)
            score = done["score"]
            keep(
                self.current_user(item[2]),
                item[3],
                score["list"],
                score["total"],
                done["distinct"]["d1"],
                done["distinct"]["d2"],
            )
            return done

        def current_user(self, utterance: str) -> str:
            return next(uid for uid, u in users.items() if utterance in u["utterance"])

    folder, save = work / "interactions", work / "evaluation"
    save.mkdir(parents=True)
    write_json(folder / file.name, json.loads(file.read_text(encoding="utf-8")))
    template = prompt.read_text(encoding="utf-8")
    evaluator = scripted_evaluator(Capturing, folder, save, template.strip(), template, ScriptedJudge)
    # evaluation_with_his.py saves to /xxx/... after the items: that fails, and it catches it
    run_script(evaluator, script, restructured_users(users, work / "users.json"))
    if "history-based" not in str(script):
        summary = json.loads((save / "final_results.json").read_text(encoding="utf-8"))["models"]
        (result.summary,) = summary.values()
    return result
