"""A scoring session in the stepper: one persona, a setting, and 1-4 systems shown side by side.

Systems are (run, model) pairs: the session's own run (`tui-<setting>-<persona>`, generated on
demand and resumed when reopened) or existing runs. Blind mode hides the names and shuffles the
column order per situation with a recorded seed, so a replay shows the same order.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field

from compass_tui.persona import Persona
from compass_tui.records import system_id
from compass_tui.store import Store

MAX_COLUMNS = 4
LETTERS = "ABCD"


@dataclass(frozen=True)
class Column:
    run_id: str
    model: str
    setting: str = ""  # an existing run's setting, named in the column's title where it is not the session's

    @property
    def system(self) -> str:
        return system_id(self.run_id, self.model)


@dataclass
class Session:
    persona: Persona
    setting: str
    columns: list[Column]
    generate_models: list[str] = field(default_factory=list)  # models the session may run itself
    blind: bool = False
    seed: int = 0
    annotator: str = "me"

    def __post_init__(self) -> None:
        if not 1 <= len(self.columns) <= MAX_COLUMNS:
            raise ValueError(f"choose 1 to {MAX_COLUMNS} systems, not {len(self.columns)}")

    @staticmethod
    def run_id_for(persona: Persona, setting: str) -> str:
        return f"tui-{setting}-{persona.id}"

    @property
    def own_run_id(self) -> str:
        return self.run_id_for(self.persona, self.setting)

    def order(self, situation_index: int) -> list[Column]:
        """Columns in display order for a situation: shuffled per item in blind mode, seeded."""
        if not self.blind:
            return list(self.columns)
        shuffled = list(self.columns)
        random.Random(f"{self.seed}|{self.persona.id}|{situation_index}").shuffle(shuffled)
        return shuffled

    def label(self, column: Column, situation_index: int) -> str:
        if not self.blind:
            if column.run_id == self.own_run_id:
                return column.model
            other_setting = column.setting and column.setting != self.setting
            return f"{column.model} · {column.run_id}" + (f" · {column.setting}" if other_setting else "")
        return f"System {LETTERS[self.order(situation_index).index(column)]}"


LAST_SETUP_PATH, LAST_SETUP_TABLE = "ui/last_setup.json", "setups"


@dataclass
class SetupChoice:
    """What the session setup was last left at for one persona: offered again next time."""

    setting: str = "profile"
    models: list[str] = field(default_factory=lambda: ["baseline"])
    runs: list[str] = field(default_factory=list)
    blind: bool = False
    seed: int = 0


def remember_setup(store: Store, persona_id: str, choice: SetupChoice) -> None:
    store.upsert(LAST_SETUP_PATH, LAST_SETUP_TABLE, persona_id, asdict(choice))


def last_setup(store: Store, persona_id: str) -> SetupChoice:
    stored = store.get(LAST_SETUP_PATH, LAST_SETUP_TABLE, persona_id) or {}
    known = {name: stored[name] for name in SetupChoice.__dataclass_fields__ if name in stored}
    return SetupChoice(**known)
