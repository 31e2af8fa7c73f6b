"""Where compass-tui reads and writes. Nothing here touches the disk at import time."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "compass-tui"
HOME_ENV = "COMPASS_TUI_HOME"
CONFIG_ENV = "COMPASS_TUI_CONFIG"
CONFIG_FILE_NAME = "compass-tui.toml"
_PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir(override: str | Path | None = None) -> Path:
    """The store's root: --data-dir, else $COMPASS_TUI_HOME, else the platform's user data dir."""
    if override:
        return Path(override).expanduser()
    if os.environ.get(HOME_ENV):
        return Path(os.environ[HOME_ENV]).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def cache_dir() -> Path:
    if os.environ.get(HOME_ENV):
        return Path(os.environ[HOME_ENV]).expanduser() / "cache"
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def config_file() -> Path | None:
    """$COMPASS_TUI_CONFIG if set, else ./compass-tui.toml if present, else the user config dir's file if present."""
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV]).expanduser()
    local = Path.cwd() / CONFIG_FILE_NAME
    if local.is_file():
        return local
    user = Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / CONFIG_FILE_NAME
    return user if user.is_file() else None


def bundled_dir(name: str) -> Path:
    """A bundled data folder (`personas` or `tool_data`): the source checkout's, else the installed copy."""
    checkout = _PACKAGE_DIR.parent / name
    if checkout.is_dir():
        return checkout
    return _PACKAGE_DIR / "_bundled" / name


def bundled_personas_dir() -> Path:
    return bundled_dir("personas")


def bundled_tool_data_dir() -> Path:
    return bundled_dir("tool_data")


def shared_compass_bench() -> Path | None:
    """The reference ComPASS release beside the checkout (../shared/compass-bench), if present."""
    candidate = _PACKAGE_DIR.parent.parent / "shared" / "compass-bench"
    return candidate if candidate.is_dir() else None
