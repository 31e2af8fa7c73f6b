"""A persona at a glance: profile, background, preferences as badges per scenario type, situations."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from compass_tui.safe_text import printable
from compass_tui.vocab import BACKGROUND_ASPECTS, SCENARIO_BY_KEY, TOOL_BY_FOLDER

if TYPE_CHECKING:
    from compass_tui.library import PersonaEntry
    from compass_tui.persona import Persona

BADGE_STYLES = {
    "liked": ("♥", "bold green"),
    "disliked": ("✗", "bold red"),
    "ambiguous": ("?", "bold yellow"),
}


def tool_badges(liked: list[str], disliked: list[str], ambiguous: list[str]) -> Text:
    text = Text()
    for stance, tools in (("liked", liked), ("disliked", disliked), ("ambiguous", ambiguous)):
        mark, style = BADGE_STYLES[stance]
        for tool in tools:
            text.append(f" {mark} {TOOL_BY_FOLDER[tool].label} ", style=f"{style} reverse")
            text.append(" ")
    return text


def stance_badge(stance: str) -> Text:
    mark, style = BADGE_STYLES.get(stance, ("·", "dim"))
    return Text(f" {mark} {stance} ", style=f"{style} reverse" if stance in BADGE_STYLES else "dim")


def render_persona(persona: Persona, kind: str) -> RenderableType:
    d = persona.demographic
    header = Text.assemble(
        (printable(persona.display_name), "bold"),
        printable(f"  ·  {d.age}  ·  {d.gender}  ·  {d.career}"),
        ("  ·  " + kind, "dim"),
    )
    facts = Text(printable(f"{d.education} · {d.income} · {d.address}"), style="dim")
    big_five = Text(
        "Big Five: "
        + "  ".join(f"{k[:1].upper()}{k[1:4]} {v}" for k, v in persona.big_five.model_dump().items()),
        style="italic",
    )
    parts: list[RenderableType] = [
        header,
        facts,
        Text(printable(persona.personality_description, multiline=True)),
        big_five,
    ]
    for warning in persona.warnings():
        parts.append(Text(f"⚠ {printable(warning)}", style="yellow"))
    parts.append(_section("Background"))
    for key, label in BACKGROUND_ASPECTS.items():
        value = getattr(persona.background, key)
        if value:
            parts.append(Text.assemble((f"{label}: ", "bold"), printable(value, multiline=True)))
    parts.append(_section("Tool preferences"))
    preferences = Table.grid(padding=(0, 1))
    preferences.add_column(style="bold", width=11)
    preferences.add_column()
    for key, preference in persona.tool_preferences.items():
        preferences.add_row(
            SCENARIO_BY_KEY[key].label,
            tool_badges(preference.liked, preference.disliked, preference.ambiguous),
        )
    parts.append(preferences)
    parts.append(_section(f"Situations ({len(persona.situations)})"))
    situations = Table(box=None, show_header=True, header_style="bold", expand=True, padding=(0, 1))
    situations.add_column("#", width=3, justify="right")
    situations.add_column("type", width=10)
    situations.add_column("emotion", width=12)
    situations.add_column("what they say", ratio=1)
    for index, situation in enumerate(persona.situations, start=1):
        scenario_type = SCENARIO_BY_KEY[situation.scenario_type].label if situation.scenario_type else "?"
        if situation.scenario_type_source == "inferred":
            scenario_type += "*"
        situations.add_row(
            str(index),
            scenario_type,
            Text(printable(situation.emotion)),
            Text(printable(situation.utterance, multiline=True)),
        )
    parts.append(situations)
    if any(s.scenario_type_source == "inferred" for s in persona.situations):
        parts.append(Text("* scenario type inferred from the text; fix it in the editor (e)", style="dim"))
    return Group(*parts)


def _section(title: str) -> Text:
    return Text(f"\n{title}", style="bold underline")


class PersonaDetail(VerticalScroll):
    """Shows the selected persona; a broken persona file shows its error instead."""

    HELP = """### Persona detail
The selected persona: profile, background, **tool preferences** as badges per scenario type
(♥ liked, ✗ disliked, ? unclear in the source text), and the situations with their emotions.
A `*` after a scenario type means it was inferred from the text.

- `enter` steps through this persona's situations with one or more models
- `e` edits the persona, `d` duplicates it, `n` starts a new one"""

    def compose(self):
        yield Static(id="persona-detail-body")

    def show(self, entry: PersonaEntry | None) -> None:
        body = self.query_one("#persona-detail-body", Static)
        if entry is None:
            body.update(Text("No persona selected.", style="dim"))
        elif entry.persona is None:
            body.update(
                Group(
                    Text(f"{printable(entry.path.name)} cannot be loaded", style="bold red"),
                    Text(printable(str(entry.error)), style="red"),
                    Text("\nPress e to open it in the editor and fix it.", style="dim"),
                )
            )
        else:
            body.update(render_persona(entry.persona, entry.kind))
        self.scroll_home(animate=False)
