"""Settings: compass-tui.toml, overridden by COMPASS_TUI_* environment variables.

```toml
data_dir = "~/compass-data"        # optional; also --data-dir and COMPASS_TUI_HOME
theme = "textual-dark"
tool_model = "gpt"                  # model that writes plans, shopping results and role play
judge_model = "gpt"

[models.gpt]
model = "openai/gpt-4o-mini"        # any litellm model string
api_base = "http://127.0.0.1:8000/v1"
api_key_env = "OPENAI_API_KEY"      # the variable's name, never the key
temperature = 0.7
```
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from compass_tui import inputs, paths
from compass_tui.errors import InputError, NotFoundError
from compass_tui.inputs import DEFAULT_MAX_INPUT_MB, check_toml_file
from compass_tui.persona import validation_message

BASELINE_MODEL = "baseline"


class ModelConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str
    api_base: str | None = None
    api_key_env: str | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, gt=0)
    reasoning_effort: Literal["minimal", "low", "medium", "high"] | None = None
    timeout: float = Field(default=60.0, gt=0)
    tool_calling: Literal["auto", "native", "json"] = "auto"

    @field_validator("api_key_env")
    @classmethod
    def _looks_like_a_name(cls, value: str | None) -> str | None:
        if value is not None and not value.replace("_", "").isalnum():
            raise ValueError(
                "api_key_env is the name of an environment variable (such as OPENAI_API_KEY), not a key"
            )
        return value

    def api_key(self) -> str | None:
        return os.environ.get(self.api_key_env) if self.api_key_env else None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COMPASS_TUI_", env_nested_delimiter="__", extra="forbid")

    data_dir: str | None = None
    theme: str = "textual-dark"
    tool_model: str | None = None
    judge_model: str | None = None
    embedding_model: str | None = None
    tool_data: str | None = None
    concurrency: int = Field(default=8, ge=1, le=512)
    max_retries: int = Field(default=4, ge=0, le=20)
    # per file read: personas, runs, packs
    max_input_mb: float = Field(default=DEFAULT_MAX_INPUT_MB, gt=0, allow_inf_nan=False)
    models: dict[str, ModelConfig] = Field(default_factory=dict)
    keymap: dict[str, str] = Field(
        default_factory=dict
    )  # binding id -> keys, e.g. {"stepper.next": "ctrl+n"}

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings,
        env_settings,
        dotenv_settings,
        file_secret_settings,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config_path = paths.config_file()
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if config_path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_path))
        return tuple(sources)

    def model_names(self) -> list[str]:
        return [BASELINE_MODEL, *self.models]

    def model(self, name: str) -> ModelConfig:
        if name == BASELINE_MODEL:
            llms = ", ".join(self.models) or "none"
            message = f"the offline baseline is not an LLM; configured LLMs: {llms}"
            raise NotFoundError(paths.config_file(), f"models.{name}", message)
        if name not in self.models:
            known = ", ".join(self.model_names())
            raise NotFoundError(paths.config_file(), f"models.{name}", f"no such model; configured: {known}")
        return self.models[name]


def load_settings(**overrides) -> Settings:
    """Read the settings, turning a broken config file into one InputError line."""
    config_path = paths.config_file()
    if config_path is not None:
        check_toml_file(config_path)
    try:
        settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as error:
        location, message = validation_message(error)
        raise InputError(_source_of(location, config_path), location, message) from None
    except SettingsError as error:  # a COMPASS_TUI_* variable that should hold JSON and does not
        raise InputError("environment", _env_field(error), "not valid JSON") from None
    if BASELINE_MODEL in settings.models:
        location = f"models.{BASELINE_MODEL}"
        raise InputError(
            _source_of(location, config_path), location, "the name is taken by the offline baseline"
        )
    inputs.set_max_input_mb(settings.max_input_mb)
    return settings


def _source_of(location: str, config_path: Path | None) -> str | Path:
    """The config file, or "environment" when a COMPASS_TUI_* variable set the field at `location`."""
    variable = "COMPASS_TUI_" + location.replace(".", "__").upper()
    names = {name.upper() for name in os.environ}
    if config_path is None or any(variable == name or variable.startswith(name + "__") for name in names):
        return "environment"
    return config_path


def _env_field(error: SettingsError) -> str:
    """'COMPASS_TUI_MODELS' from pydantic-settings' 'error parsing value for field "models" ...'."""
    found = re.search(r'field "([^"]+)"', str(error))
    return f"COMPASS_TUI_{found.group(1).upper()}" if found else "COMPASS_TUI_*"
