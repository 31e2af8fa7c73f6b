"""The seven retrieval tools: music, films, jokes, stories, psychology pages, strength cards, stickers.

Each takes validated parameters and returns (result, notes, search mode). Hard filters
(genre, category, rating) narrow the candidates; when a filter leaves nothing, it is relaxed
and a note says so rather than returning an empty answer silently.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Callable
from functools import cached_property
from typing import Any

import numpy as np

from compass_tui.tools.data import Catalogue, ToolData
from compass_tui.tools.search import CatalogueIndex, Progress, SearchEngine

MOVIE_GENRE_ALIASES = {
    "sci-fi": "Science Fiction",
    "scifi": "Science Fiction",
    "science-fiction": "Science Fiction",
    "romcom": "Romance",
    "rom-com": "Romance",
    "romantic": "Romance",
    "animated": "Animation",
    "cartoon": "Animation",
    "kids": "Family",
    "children": "Family",
    "doc": "Documentary",
    "documentaries": "Documentary",
    "scary": "Horror",
    "musical": "Music",
    "historical": "History",
    "biopic": "History",
    "suspense": "Thriller",
    "detective": "Mystery",
}
JOKE_CATEGORY_ALIASES = {"blond": "Blonde", "yo mama": "Yo Momma"}
Result = tuple[Any, list[str], str]


def _join(values: Any) -> str:
    if isinstance(values, list):
        return ", ".join(str(value) for value in values)
    return str(values or "")


def _fuzzy_contains(wanted: str, candidates: list[str]) -> bool:
    wanted = wanted.casefold().strip()
    for candidate in candidates:
        name = candidate.casefold()
        if wanted in name or name in wanted or difflib.SequenceMatcher(None, wanted, name).ratio() >= 0.85:
            return True
    return False


class RetrievalTools:
    def __init__(self, data: ToolData, engine: SearchEngine):
        self.data = data
        self.engine = engine
        self._indexes: dict[str, CatalogueIndex] = {}

    def index(self, catalogue: Catalogue, describe: Callable[[dict], str]) -> CatalogueIndex:
        if catalogue.name not in self._indexes:
            texts = [describe(item) for item in catalogue.items]
            self._indexes[catalogue.name] = self.engine.index(catalogue.name, texts)
        return self._indexes[catalogue.name]

    def warm_up(self, on_progress: Progress | None = None) -> dict[str, str]:
        """Load the embedding model and build every catalogue's index now, saying what it does."""
        if on_progress is not None and self.engine.mode != "lexical":
            on_progress("loading embeddings…")
        indexes = (
            self.music_index,
            self.movie_index,
            self.joke_index,
            self.story_index,
            self.psy_index,
            self.strength_index,
            self.sticker_index,
        )
        return {index.name: index.build(on_progress) for index in indexes}

    @cached_property
    def music_index(self) -> CatalogueIndex:
        return self.index(
            self.data.music,
            lambda s: (
                f"{s['title']}. {s['artist']}. {s['genre']}. "
                f"{_join(s.get('moods'))}. {_join(s.get('keywords'))}. "
                f"{s.get('description', '')[:400]}"
            ),
        )

    @cached_property
    def movie_index(self) -> CatalogueIndex:
        return self.index(
            self.data.movies,
            lambda m: (
                f"{m['title']} ({m.get('year')}). {_join(m.get('genres'))}. "
                f"{_join(m.get('keywords'))}. {_join(m.get('moods'))}. "
                f"{m.get('overview', '')}"
            ),
        )

    @cached_property
    def joke_index(self) -> CatalogueIndex:
        return self.index(
            self.data.jokes,
            lambda j: f"{j.get('title', '')}. {j['category']}. {_join(j.get('keywords'))}. {j['body'][:400]}",
        )

    @cached_property
    def story_index(self) -> CatalogueIndex:
        return self.index(
            self.data.stories,
            lambda s: (
                f"{s['title']}. {s.get('theme', '')}. "
                f"{_join(s.get('keywords'))}. {s.get('moral', '')} "
                f"{s['content'][:500]}"
            ),
        )

    @cached_property
    def psy_index(self) -> CatalogueIndex:
        return self.index(
            self.data.psychology_pages,
            lambda p: f"{p['problem_type']}. {p.get('user_situation', '')} {p['summary']}",
        )

    @cached_property
    def strength_index(self) -> CatalogueIndex:
        return self.index(
            self.data.strengths,
            lambda s: f"{s['name']}. {s['description']} {_join(s.get('signs'))}. {_join(s.get('keywords'))}",
        )

    @cached_property
    def sticker_index(self) -> CatalogueIndex:
        return self.index(
            self.data.stickers,
            lambda s: (
                f"{s.get('name', '')}. {_join(s['emotions'])}. "
                f"{s.get('subject', '')}. {s.get('style', '')}. "
                f"{s.get('description', '')}. {_join(s.get('keywords'))}"
            ),
        )

    def query_music(self, params: dict[str, Any]) -> Result:
        songs = self.data.music.items
        notes: list[str] = []
        pool = list(range(len(songs)))
        if params.get("genre"):
            pool = [i for i in pool if songs[i]["genre"].lower() == params["genre"].lower()]
        if params.get("artist"):
            by_artist = [i for i in pool if _fuzzy_contains(params["artist"], [songs[i]["artist"]])]
            if by_artist:
                pool = by_artist
            else:
                notes.append(f"no songs by {params['artist']!r} here; showing the closest matches instead")
        if not pool:
            notes.append(f"no {params['genre']} songs here; searching all genres")
            pool = list(range(len(songs)))
        query = " ".join([*params.get("keywords", []), params.get("artist", ""), params.get("genre", "")])
        ranked, mode = self.music_index.top(query, 5, pool)
        fields = ("id", "title", "artist", "genre", "year", "duration", "moods", "description", "url")
        return [_pick(songs[i], fields, score) for i, score in ranked], notes, mode

    def search_movies(self, params: dict[str, Any]) -> Result:
        films = self.data.movies.items
        notes: list[str] = []
        low, high = params.get("min_rating", 0), params.get("max_rating", 10)
        minimum_votes = params.get("min_vote_count", 20)
        pool = [
            i
            for i, film in enumerate(films)
            if low <= float(film.get("rating", 0)) <= high
            and int(film.get("vote_count", 0)) >= minimum_votes
            and (params.get("include_adult") or not film.get("adult"))
        ]
        for name, keep in (
            ("actors", self._with_actors(params.get("actors"))),
            ("genres", self._with_genres(params.get("genres"))),
        ):
            if keep is None:
                continue
            narrowed = [i for i in pool if keep(films[i])]
            if narrowed:
                pool = narrowed
            else:
                notes.append(
                    f"no film matches {name} {params[name]!r} with the other filters; {name} ignored"
                )
        query = " ".join([*params.get("keyword", []), params.get("emotion", ""), *params.get("genres", [])])
        ranked, mode = self.movie_index.top(query, 5, pool)
        return [_film(films[i], score) for i, score in ranked], notes, mode

    @staticmethod
    def _with_actors(actors: list[str] | None) -> Callable[[dict], bool] | None:
        if not actors:
            return None
        return lambda film: any(
            _fuzzy_contains(a, film.get("cast", []) + film.get("director", [])) for a in actors
        )

    @staticmethod
    def _with_genres(genres: list[str] | None) -> Callable[[dict], bool] | None:
        if not genres:
            return None
        wanted = {MOVIE_GENRE_ALIASES.get(g.lower().strip(), g.strip()).casefold() for g in genres}
        return lambda film: bool(wanted & {g.casefold() for g in film.get("genres", [])})

    def search_jokes(self, params: dict[str, Any]) -> Result:
        jokes = self.data.jokes.items
        notes: list[str] = []
        pool = list(range(len(jokes)))
        if params.get("category"):
            category = JOKE_CATEGORY_ALIASES.get(params["category"].lower(), params["category"]).casefold()
            narrowed = [
                i
                for i in pool
                if JOKE_CATEGORY_ALIASES.get(jokes[i]["category"].lower(), jokes[i]["category"]).casefold()
                == category
            ]
            if narrowed:
                pool = narrowed
            else:
                notes.append(f"no jokes in category {params['category']!r}; searching all categories")
        ranked, mode = self.joke_index.top(params.get("description", ""), 3, pool)
        fields = ("id", "title", "category", "body", "keywords")
        return [_pick(jokes[i], fields, score) for i, score in ranked], notes, mode

    def retrieve_story(self, params: dict[str, Any]) -> Result:
        stories = self.data.stories.items
        boost = np.zeros(len(stories), dtype=np.float32)
        for attribute in ("theme", "type", "style"):
            if params.get(attribute):
                boost += np.array(
                    [0.15 if s.get(attribute) == params[attribute] else 0.0 for s in stories],
                    dtype=np.float32,
                )
        ranked, mode = self.story_index.top(params.get("user_prompt", ""), 2, None, boost)
        fields = ("id", "title", "source", "content", "moral", "theme", "type", "style")
        return [_pick(stories[i], fields, score) for i, score in ranked], [], mode

    def psychology_websites_recommender(self, params: dict[str, Any]) -> Result:
        pages = self.data.psychology_pages.items
        notes: list[str] = []
        group = params.get("user_group")
        pool = [i for i, page in enumerate(pages) if page.get("user_group") in (group, "General")]
        if not pool:
            notes.append(f"no pages for {group!r}; showing pages for every group")
            pool = list(range(len(pages)))
        boost = np.array(
            [
                0.3 * (p["problem_type"] == params.get("problem_type"))
                + 0.1 * (p.get("domain") == params.get("domain"))
                for p in pages
            ],
            dtype=np.float32,
        )
        query = f"{params.get('problem_type', '')}. {params.get('situation', '')}"
        topk = max(1, min(int(params.get("topk", 1)), 10))
        ranked, mode = self.psy_index.top(query, topk, pool, boost)
        fields = (
            "id",
            "title",
            "publisher",
            "link",
            "summary",
            "problem_type",
            "domain",
            "user_group",
            "user_situation",
        )
        return [_pick(pages[i], fields, score) for i, score in ranked], notes, mode

    def strengthcard(self, params: dict[str, Any]) -> Result:
        strengths = self.data.strengths.items
        situation = params.get("situation", "")
        ranked, mode = self.strength_index.top(situation, 3)
        cards = []
        for i, score in ranked:
            strength = strengths[i]
            cards.append(
                {
                    "name": strength["name"],
                    "virtue": strength.get("virtue"),
                    "description": strength["description"],
                    "encouragement": _encouragement(strength, situation),
                    "score": round(score, 4),
                }
            )
        return cards, [], mode

    def retrieve_stickers(self, params: dict[str, Any]) -> Result:
        stickers = self.data.stickers.items
        tag = params.get("tag", "").lower()
        boost = np.array(
            [
                0.3 * (tag in [e.lower() for e in s["emotions"]])
                + 0.2 * (str(s.get("subject", "")).lower() == str(params.get("subject", "")).lower())
                + 0.1 * (str(s.get("style", "")).lower() == str(params.get("style", "")).lower())
                for s in stickers
            ],
            dtype=np.float32,
        )
        query = " ".join(
            str(params.get(k) or "") for k in ("tag", "subject", "alternative_descriptions", "style")
        )
        topk = max(1, min(int(params.get("topk", 1)), 10))
        ranked, mode = self.sticker_index.top(query, topk, None, boost)
        fields = ("id", "name", "art", "emotions", "subject", "style", "description")
        return [_pick(stickers[i], fields, score) for i, score in ranked], [], mode


def _pick(item: dict, fields: tuple[str, ...], score: float) -> dict:
    picked = {field: item.get(field) for field in fields if item.get(field) not in (None, "", [])}
    picked["score"] = round(score, 4)
    return picked


def _film(film: dict, score: float) -> dict:
    return {
        "id": film.get("id"),
        "title": film["title"],
        "release_year": str(film.get("year", "")),
        "runtime": f"{film['runtime_minutes']} minutes" if film.get("runtime_minutes") else None,
        "vote_average": film.get("rating"),
        "vote_count": film.get("vote_count"),
        "overview": film.get("overview"),
        "genres": film.get("genres", []),
        "keywords": film.get("keywords", []),
        "director": film.get("director", []),
        "cast": film.get("cast", []),
        "certification": film.get("certification"),
        "score": round(score, 4),
    }


def _encouragement(strength: dict, situation: str) -> str:
    """One of the strength's encouragements, chosen by the situation so that a replay gives the same card."""
    templates = strength.get("encouragements") or [strength["description"]]
    digest = int(hashlib.sha256(f"{strength['name']}|{situation}".encode()).hexdigest(), 16)
    return templates[digest % len(templates)].replace("{situation_hint}", "what you're facing right now")
