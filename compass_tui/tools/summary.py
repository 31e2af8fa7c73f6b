"""A tool call and its result in a few words: the tool, its main parameters, and the result's main item.

The stepper's one-line summary above each response and the offline baseline's reply both name the
main item from here, so what the reply mentions is what the summary shows.
"""

from __future__ import annotations

from typing import Any

_MAX_PARAM_CHARS = 40


def call_summary(call: dict[str, Any] | None) -> str:
    """'music_recommendation · genre=jazz, mood=calm'."""
    if not call:
        return "no tool call"
    param = call.get("param")
    params: dict[str, Any] = param if isinstance(param, dict) else {}
    shown = ", ".join(f"{key}={_short(value)}" for key, value in list(params.items())[:3])
    return f"{call.get('tool_folder_name') or call.get('function_name') or '?'}" + (
        f" · {shown}" if shown else ""
    )


def main_item(folder: str | None, result: Any, params: dict[str, Any] | None = None) -> str | None:
    """The result's main item as a reader names it: the song and artist, the film, the doctor and the
    slot, the strength, the page title, the booked time. None when the result has no such item.
    `params`, the call's parameters, name what a result alone does not: the added event and its time,
    the role-play character."""
    first = _first(result)
    from_params = _item_from_params(folder, result, params or {})
    if from_params:
        return from_params
    if folder == "music_recommendation" and first:
        return f"{first.get('title')} by {first.get('artist')}"
    if folder == "film_recommendation" and first:
        year = f" ({first['release_year']})" if first.get("release_year") else ""
        return f"{first.get('title')}{year}"
    if folder in ("story_recommender", "psyweb_recommender") and first:
        return first.get("title") or first.get("problem_type")
    if folder == "strength_card" and first:
        return first.get("name")
    if folder == "sticker_respond" and first:
        return first.get("name")
    if folder == "joke_recommendation" and first:
        return _short(first.get("body"), 60)
    if folder == "schedule_manager":
        return _schedule_item(result)
    if folder == "medical_appointment":
        return _appointment_item(result)
    if folder == "online_shopping" and isinstance(result, list) and result:
        return _product_name(str(result[0]))
    if isinstance(result, str) and result.strip():
        return _short(result.strip().splitlines()[0].lstrip("# "), 60)
    return None


def result_summary(tool_result: dict[str, Any] | None) -> str:
    """'✓ Courage' or '✗ invalid_parameter (genre): ...'."""
    if not tool_result:
        return ""
    if not tool_result.get("ok"):
        error = tool_result.get("error") or {}
        where = f" ({error['parameter']})" if error.get("parameter") else ""
        return f"✗ {error.get('code', 'error')}{where}: {_short(error.get('message', ''), 60)}"
    item = main_item(
        tool_result.get("tool_folder_name"), tool_result.get("result"), tool_result.get("params")
    )
    more = _count(tool_result.get("result")) - 1
    return "✓ " + (item or "done") + (f" (+{more})" if item and more > 0 else "")


def _item_from_params(folder: str | None, result: Any, params: dict[str, Any]) -> str | None:
    added = isinstance(result, list) and len(result) == 2 and result[0] is True
    if folder == "schedule_manager" and added and params.get("operation") == "add" and params.get("time"):
        return f"{params.get('event')} at {params['time']}"
    if folder == "role_play" and params.get("name"):
        return str(params["name"])
    return None


def _product_name(product: str) -> str:
    named = [
        line.split(":", 1)[1].strip() for line in product.splitlines() if line.startswith("Product Name:")
    ]
    return _short(named[0] if named else product.strip(), 60)


def _schedule_item(result: Any) -> str | None:
    if isinstance(result, list) and len(result) == 2 and isinstance(result[0], bool):
        return _short(result[1], 60)
    entries = [entry for entry in result if isinstance(entry, dict)] if isinstance(result, list) else []
    if entries:
        return f"{entries[0].get('event')} at {entries[0].get('time')}" + (
            f" and {len(entries) - 1} more" if len(entries) > 1 else ""
        )
    return None


def _appointment_item(result: Any) -> str | None:
    details = result.get("result") if isinstance(result, dict) else None
    if isinstance(details, list):
        details = details[0] if details and isinstance(details[0], dict) else None
    if not isinstance(details, dict):
        return None
    who = details.get("doctor") or details.get("department") or details.get("hospital")
    when = details.get("appointment_date")
    return " on ".join(str(part) for part in (who, when) if part) or details.get("message")


def _first(result: Any) -> dict[str, Any] | None:
    if isinstance(result, list) and result and isinstance(result[0], dict):
        return result[0]
    return None


def _count(result: Any) -> int:
    """How many items a list result holds (a schedule's [ok, message] pair is one)."""
    items = [entry for entry in result if isinstance(entry, dict)] if isinstance(result, list) else []
    return max(len(items), 1)


def _short(value: Any, limit: int = _MAX_PARAM_CHARS) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
