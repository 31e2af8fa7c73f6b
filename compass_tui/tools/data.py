"""The catalogues behind the retrieval tools: ours (`tool_data/`), or a ComPASS toolenv's.

`--tool-data DIR` takes either our layout (music.json, movies.json, ...) or a ComPASS
checkout's `toolenv/`, whose original files are read through adapters: music_data.json,
stories.json, psy_webDataset.json, the joke files and schedule_db.json. Catalogues the
toolenv lacks (films, stickers, strengths, hospitals) come from ours, and `sources()` says
which is which.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from compass_tui import paths
from compass_tui.errors import InputError
from compass_tui.jsonio import load_json

_REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "music": ("title", "artist", "genre"),
    "movies": ("title", "year", "genres"),
    "jokes": ("category", "body"),
    "stories": ("title", "content"),
    "psychology_pages": ("problem_type", "user_group", "summary", "link"),
    "strengths": ("name", "description"),
    "stickers": ("art", "emotions"),
    "hospitals": ("name", "departments"),
}
_PSY_GROUPS = {
    "elderly": "Elder",
    "elder": "Elder",
    "child": "Children",
    "children": "Children",
    "teenager": "Teenager",
    "teen": "Teenager",
    "adult": "Adult",
    "general": None,
}
_PSY_TYPES = {"Hearing voices": "Hearing voices (auditory hallucinations)"}
# stupidstuff.json's categories that have an equivalent in search_jokes' category enum.
_JOKE_CATEGORIES = {
    "animals": "Animal",
    "bar jokes": "Bar",
    "blonde jokes": "Blonde",
    "lawyers": "Lawyer",
    "light bulbs": "Lightbulb",
    "office jokes": "At Work",
    "computers": "Tech",
    "political": "News / Politics",
    "men": "Men / Women",
    "women": "Men / Women",
    "miscellaneous": "Other / Misc",
}
# stories.json's themes that name one of retrieve_story's themes differently ("Interpersonal and Self" is left alone:
# it could be either of two).
_STORY_THEMES = {
    "Career and Growth": "Career and Development",
    "Adversity and Challenges": "Adversity and Resilience",
    "Learning": "Learning and Knowledge",
    "Dreams and Goals": "Dreams and Aspirations",
    "Daily Mood": "Daily Emotions and Mood",
}
_JOKE_FILES = ("stupidstuff.json", "wocka.json", "reddit_jokes.json", "joke_texts.json", "jokes.json")


@dataclass
class Catalogue:
    name: str
    items: list[dict[str, Any]]
    source: str


def is_compass_toolenv(directory: Path) -> bool:
    return (directory / "music_recommendation").is_dir() or (directory / "schedule_manager").is_dir()


class ToolData:
    def __init__(self, directory: Path | None = None):
        self.ours = paths.bundled_tool_data_dir()
        self.custom = Path(directory).expanduser() if directory else None
        if self.custom is not None and not self.custom.is_dir():
            raise InputError(self.custom, None, "tool data folder not found")
        self.toolenv = self.custom if self.custom is not None and is_compass_toolenv(self.custom) else None

    def _ours(self, name: str) -> Catalogue:
        folder = self.custom if self.custom is not None and self.toolenv is None else self.ours
        path = folder / f"{name}.json"
        return Catalogue(name, _checked(name, load_json(path), path), str(path))

    def _compass(self, name: str, relative: str, adapt: Callable[[Any, Path], list[dict]]) -> Catalogue:
        if self.toolenv is not None and (self.toolenv / relative).is_file():
            path = self.toolenv / relative
            return Catalogue(name, _checked(name, adapt(load_json(path), path), path), f"ComPASS {path}")
        return self._ours(name)

    @cached_property
    def music(self) -> Catalogue:
        return self._compass("music", "music_recommendation/music_data.json", _adapt_music)

    @cached_property
    def stories(self) -> Catalogue:
        return self._compass("stories", "story_recommender/stories.json", _adapt_stories)

    @cached_property
    def psychology_pages(self) -> Catalogue:
        return self._compass("psychology_pages", "psyweb_recommender/psy_webDataset.json", _adapt_psy)

    @cached_property
    def jokes(self) -> Catalogue:
        folder = self.toolenv / "joke_recommendation" if self.toolenv else None
        files = [folder / name for name in _JOKE_FILES if folder and (folder / name).is_file()]
        if not files:
            return self._ours("jokes")
        jokes: list[dict] = []
        for path in files:
            jokes.extend(_adapt_jokes(load_json(path), path, start=jokes[-1]["id"] if jokes else 0))
        return Catalogue("jokes", _checked("jokes", jokes, files[0]), "ComPASS " + ", ".join(map(str, files)))

    @cached_property
    def movies(self) -> Catalogue:
        return self._ours("movies")

    @cached_property
    def strengths(self) -> Catalogue:
        return self._ours("strengths")

    @cached_property
    def stickers(self) -> Catalogue:
        return self._ours("stickers")

    @cached_property
    def hospitals(self) -> Catalogue:
        return self._ours("hospitals")

    @cached_property
    def schedule_seed(self) -> dict[str, dict]:
        """Entries every persona's schedule starts with: ComPASS's schedule_db.json when used, else none."""
        if self.toolenv is None or not (self.toolenv / "schedule_manager/schedule_db.json").is_file():
            return {}
        path = self.toolenv / "schedule_manager/schedule_db.json"
        seed = load_json(path)
        if not isinstance(seed, dict):
            raise InputError(path, None, "expected an object of sch_N entries")
        return seed

    def sources(self) -> dict[str, str]:
        names = (
            "music",
            "movies",
            "jokes",
            "stories",
            "psychology_pages",
            "strengths",
            "stickers",
            "hospitals",
        )
        return {name: getattr(self, name).source for name in names}


def _checked(name: str, items: Any, path: Path) -> list[dict]:
    if not isinstance(items, list) or not items:
        raise InputError(path, None, f"expected a non-empty JSON array of {name}")
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise InputError(path, f"[{index}]", "expected an object")
        for required in _REQUIRED_FIELDS[name]:
            if item.get(required) in (None, "", []):
                raise InputError(path, f"[{index}].{required}", "missing field")
    return items


def _adapt_music(items: Any, path: Path) -> list[dict]:
    adapted = []
    for index, item in enumerate(_list_of_dicts(items, path)):
        year = str(item.get("release_year") or "").strip()
        keywords = item.get("keywords") or ""
        adapted.append(
            {
                "id": item.get("id", index + 1),
                "title": item.get("title"),
                "artist": item.get("artist"),
                "genre": str(item.get("genre", "")).lower(),
                "year": int(year) if year.isdigit() else None,
                "duration": item.get("duration"),
                "url": item.get("url"),
                "description": item.get("description", ""),
                "moods": [],
                "keywords": keywords if isinstance(keywords, list) else [keywords],
                "album": item.get("album") or None,
            }
        )
    return adapted


def _adapt_stories(items: Any, path: Path) -> list[dict]:
    """Stories numbered from 1, their theme read onto retrieve_story's enum where it is clearly the same."""
    adapted = []
    for index, item in enumerate(_list_of_dicts(items, path)):
        story = {"id": index + 1, "keywords": [], **item}
        theme = str(item.get("theme") or "").strip()
        if theme in _STORY_THEMES:
            story.update(theme=_STORY_THEMES[theme], source_theme=theme)
        adapted.append(story)
    return adapted


def _adapt_psy(items: Any, path: Path) -> list[dict]:
    adapted = []
    for index, item in enumerate(_list_of_dicts(items, path)):
        tags = item.get("tags") or []
        first_tag = tags[0] if isinstance(tags, list) and tags else str(tags or "")
        group = _PSY_GROUPS.get(str(item.get("user_group", "")).strip().lower(), item.get("user_group"))
        adapted.append(
            {
                "id": index + 1,
                "problem_type": _PSY_TYPES.get(first_tag, first_tag),
                "tags": tags,
                "domain": item.get("domain"),
                "user_group": group or "General",
                "user_situation": item.get("user_situation", ""),
                "summary": item.get("summary", ""),
                "link": item.get("link"),
                "title": first_tag,
                "publisher": _publisher(item.get("link") or ""),
            }
        )
    return adapted


def _adapt_jokes(items: Any, path: Path, start: int) -> list[dict]:
    """Jokes with a body (stupidstuff.json has 573 empty ones), categories mapped onto the tool's enum."""
    adapted: list[dict] = []
    for offset, item in enumerate(_list_of_dicts(items, path)):
        body = str(item.get("body") or item.get("joke") or "").strip()
        if not body:
            continue
        category = str(item.get("category") or "Other / Misc").strip()
        adapted.append(
            {
                "id": start + offset + 1,
                "title": item.get("title") or "",
                "category": _JOKE_CATEGORIES.get(category.lower(), category),
                "source_category": category,
                "body": body,
                "keywords": [],
                "rating": item.get("rating"),
            }
        )
    return adapted


def _list_of_dicts(items: Any, path: Path) -> list[dict]:
    if not isinstance(items, list):
        raise InputError(path, None, "expected a JSON array")
    return [item for item in items if isinstance(item, dict)]


def _publisher(link: str) -> str:
    host = link.split("//", 1)[-1].split("/", 1)[0].removeprefix("www.")
    return host
