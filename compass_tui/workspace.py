"""The services object that the CLI and the TUI share.

The data dir, the settings and the persona library, each made on first use.
"""

from __future__ import annotations

import os
import tomllib
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compass_tui import paths
from compass_tui.errors import InputError

DATA_DIR_ENV = "COMPASS_TUI_DATA_DIR"  # the settings' data_dir, as an environment variable

if TYPE_CHECKING:  # the real imports happen on first use: pydantic alone would delay the TUI's first frame
    from compass_tui.config import Settings
    from compass_tui.library import PersonaLibrary
    from compass_tui.store import Store


class Context:
    def __init__(
        self,
        data_dir: str | Path | None = None,
        tool_data: str | Path | None = None,
        embedding_model: str | Path | None = None,
    ):
        self._data_dir_override = data_dir
        self._tool_data_override = tool_data
        self._embedding_override = embedding_model
        self.notes: list[str] = []  # one-line notes for the user, such as a data dir migrated on open
        self._environments: dict[str, Any] = {}

    @cached_property
    def settings(self) -> Settings:
        from compass_tui.config import load_settings

        return load_settings()

    @cached_property
    def data_dir(self) -> Path:
        return paths.data_dir(self._data_dir_override or self.settings.data_dir)

    def early_data_dir(self) -> Path | None:
        """The data dir without importing the settings (pydantic takes half a second): from --data-dir,
        $COMPASS_TUI_DATA_DIR or the config file's `data_dir`. None if the config file cannot be read.
        For shortcuts only (the library index); anything that writes uses `data_dir`."""
        if "data_dir" in self.__dict__:
            return self.data_dir
        if self._data_dir_override or os.environ.get(DATA_DIR_ENV):
            return paths.data_dir(self._data_dir_override or os.environ[DATA_DIR_ENV])
        config = paths.config_file()
        try:
            configured = tomllib.loads(config.read_text(encoding="utf-8")).get("data_dir") if config else None
        except (OSError, ValueError):
            return None
        return paths.data_dir(configured if isinstance(configured, str) else None)

    @cached_property
    def store(self) -> Store:
        from compass_tui.store import Store
        from compass_tui.store_migration import migrate_store

        if self.data_dir.exists() and not self.data_dir.is_dir():
            raise InputError(
                self.data_dir,
                "data dir",
                "not a directory (set by --data-dir, $COMPASS_TUI_HOME or data_dir)",
            )
        store = Store(self.data_dir)
        note = migrate_store(store)
        if note:
            self.notes.append(note)
        return store

    @cached_property
    def library(self) -> PersonaLibrary:
        from compass_tui.library import PersonaLibrary

        return PersonaLibrary(self.data_dir)

    def personas_by_id(self) -> dict[str, Any]:
        """Every persona of the library that loads, by id: what reports and the judge read."""
        return {entry.id: entry.persona for entry in self.library.entries() if entry.persona}

    @property
    def tool_data_dir(self) -> Path | None:
        chosen = self._tool_data_override or self.settings.tool_data
        return Path(chosen).expanduser() if chosen else None

    @property
    def embedding_model(self) -> str | None:
        chosen = self._embedding_override or self.settings.embedding_model
        return str(chosen) if chosen else None

    def tool_environment(self, search_mode: str = "auto"):
        """One per search mode and process: its embedding model and indexes load once, then serve every run."""
        if search_mode not in self._environments:
            self._environments[search_mode] = self._new_tool_environment(search_mode)
        return self._environments[search_mode]

    def synthesise_personas(self, plan, on_progress):
        """Run a persona synthesis (compass_tui.synthesis) with this workspace's store, library, embedding
        model and settings; what the CLI's `personas synthesise` and the TUI's dialog both do."""
        import asyncio

        from compass_tui.synthesis import synthesise
        from compass_tui.tools.embeddings import Embedder

        return asyncio.run(
            synthesise(
                plan,
                self.store,
                self.library,
                embedder=Embedder(self.embedding_model, cache=paths.cache_dir()),
                on_progress=on_progress,
                concurrency=self.settings.concurrency,
                max_retries=self.settings.max_retries,
            )
        )

    def _new_tool_environment(self, search_mode: str):
        from compass_tui.tools.environment import ToolEnvironment

        tool_model = None
        if self.settings.tool_model:
            tool_model = self.settings.model(self.settings.tool_model)
        environment = ToolEnvironment.create(
            self.store,
            tool_data=self.tool_data_dir,
            embedding_model=self.embedding_model,
            search_mode=search_mode,
            cache_dir=paths.cache_dir(),
            tool_model=tool_model,
            tool_model_name=self.settings.tool_model,
        )
        if self.tool_data_dir is not None:  # a broken folder is bad input now, not a failing tool per item
            environment.data.sources()
            _ = environment.data.schedule_seed
        return environment
