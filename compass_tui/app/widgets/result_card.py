"""Tool results drawn for people: a song card, a film card, sticker art, a schedule table, an appointment..."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group, RenderableType
from rich.markdown import Markdown
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from compass_tui.interaction_record import ToolCall


def tool_call_view(call: ToolCall | None) -> RenderableType:
    if not call:
        return Text("no tool call", style="dim")
    name = Text(f"{call.tool_folder_name}.{call.function_name}", style="bold")
    params = json.dumps(call.param, ensure_ascii=False)
    return Group(name, Syntax(params, "json", word_wrap=True, background_color="default"))


def result_view(record: dict[str, Any] | None) -> RenderableType:
    if not record:
        return Text("")
    if not record.get("ok"):
        error = record.get("error") or {}
        where = f" ({error['parameter']})" if error.get("parameter") else ""
        return Text(f"✗ {error.get('code', 'error')}{where}: {error.get('message', '')}", style="bold red")
    folder, result = record.get("tool_folder_name"), record.get("result")
    renderer = _RENDERERS.get(folder or "", _generic)
    if isinstance(result, str) and folder not in _TEXT_RESULTS:  # a result kept as text (an import's)
        renderer = _text
    try:
        view = renderer(result)
    except (KeyError, TypeError, IndexError, AttributeError):
        view = _generic(result)
    notes = [Text(f"note: {note}", style="yellow") for note in record.get("notes") or []]
    mode = record.get("mode")
    if mode == "offline template":
        notes.append(Text("offline template (no tool model configured)", style="dim italic"))
    return Group(view, *notes)


def _first(result: Any) -> list[dict]:
    return [item for item in result if isinstance(item, dict)] if isinstance(result, list) else []


def _songs(result: Any) -> RenderableType:
    rows = []
    for song in _first(result)[:3]:
        rows.append(
            Text.assemble(
                ("♪ ", "magenta"),
                (song["title"], "bold"),
                f" — {song['artist']}",
                (f"  {song.get('genre', '')} {song.get('year') or ''}", "dim"),
            )
        )
        if song.get("moods"):
            rows.append(Text("   " + ", ".join(song["moods"]), style="italic dim"))
    return Group(*rows)


def _films(result: Any) -> RenderableType:
    cards = []
    for film in _first(result)[:2]:
        title = Text.assemble(
            ("🎬 ", ""),
            (film["title"], "bold"),
            f" ({film.get('release_year', '')})",
            (f"  ★ {film.get('vote_average', '?')}", "yellow"),
        )
        meta = Text(
            f"{', '.join(film.get('genres', []))} · dir. {', '.join(film.get('director', []))} · "
            f"{', '.join(film.get('cast', [])[:3])}",
            style="dim",
        )
        cards.append(Group(title, meta, Text(film.get("overview") or "")))
    return Group(*cards)


def _jokes(result: Any) -> RenderableType:
    jokes = _first(result)
    return (
        Panel(Text(jokes[0]["body"]), title=jokes[0].get("category"), border_style="green")
        if jokes
        else Text("")
    )


def _story(result: Any) -> RenderableType:
    story = _first(result)[0]
    return Group(
        Text.assemble(("📖 ", ""), (story["title"], "bold"), (f" · {story.get('source', '')}", "dim")),
        Text(story.get("content", "")),
        Text(f"Moral: {story.get('moral', '')}", style="italic"),
    )


def _pages(result: Any) -> RenderableType:
    rows = []
    for page in _first(result):
        rows.append(
            Text.assemble(
                ("🔗 ", ""),
                (page.get("title") or page.get("problem_type", ""), "bold"),
                (f" · {page.get('publisher', '')}", "dim"),
            )
        )
        rows.append(Text(page.get("link", ""), style="underline cyan"))
        rows.append(Text(page.get("summary", "")))
    return Group(*rows)


def _strengths(result: Any) -> RenderableType:
    cards = [
        Panel(
            Group(Text(card["description"], style="italic"), Text(card["encouragement"])),
            title=f"{card['name']} · {card.get('virtue', '')}",
            border_style="cyan",
        )
        for card in _first(result)[:3]
    ]
    return Group(*cards)


def _stickers(result: Any) -> RenderableType:
    stickers = _first(result)
    return Group(
        *(
            Panel(Text(s["art"]), title=s.get("name"), border_style="magenta", expand=False)
            for s in stickers[:2]
        )
    )


def _schedule(result: Any) -> RenderableType:
    if isinstance(result, list) and len(result) == 2 and isinstance(result[0], bool):
        return Text(("✓ " if result[0] else "✗ ") + str(result[1]), style="green" if result[0] else "red")
    table = Table("id", "time", "event", "where", box=None, padding=(0, 1))
    for entry in _first(result)[:8]:
        table.add_row(entry["id"], entry["time"], entry["event"], entry["location"])
    return table


def _appointment(result: Any) -> RenderableType:
    details = result.get("result") if isinstance(result, dict) else None
    if isinstance(details, list):
        return (
            Group(*(_appointment({"result": item}) for item in details[:3]))
            if details
            else Text("no appointments")
        )
    if not isinstance(details, dict):
        return _generic(result)
    lines = [
        f"{key.replace('_', ' ')}: {details[key]}"
        for key in (
            "message",
            "hospital",
            "department",
            "doctor",
            "appointment_date",
            "appointment_id",
            "id",
            "status",
        )
        if details.get(key)
    ]
    return Panel(Text("\n".join(lines)), title="🏥 appointment", border_style="blue")


def _shopping(result: Any) -> RenderableType:
    parts = result if isinstance(result, list) else [result]
    return Group(*(Panel(Text(str(part)), border_style="yellow") for part in parts))


def _plan(result: Any) -> RenderableType:
    return Markdown(str(result))


def _roleplay(result: Any) -> RenderableType:
    return Panel(Text(str(result), style="italic"), title="role play", border_style="magenta")


def _text(result: Any) -> RenderableType:
    return Text(str(result))


def _generic(result: Any) -> RenderableType:
    return Syntax(
        json.dumps(result, ensure_ascii=False, indent=1)[:3000],
        "json",
        word_wrap=True,
        background_color="default",
    )


_TEXT_RESULTS = frozenset({"online_shopping", "plan_assistant", "role_play"})
_RENDERERS = {
    "music_recommendation": _songs,
    "film_recommendation": _films,
    "joke_recommendation": _jokes,
    "story_recommender": _story,
    "psyweb_recommender": _pages,
    "strength_card": _strengths,
    "sticker_respond": _stickers,
    "schedule_manager": _schedule,
    "medical_appointment": _appointment,
    "online_shopping": _shopping,
    "plan_assistant": _plan,
    "role_play": _roleplay,
}
