"""A study item's scores for its owner, read-only: per dimension the human mean with its n, each
annotator's score and the judge's, and the judge's reason for the highlighted dimension."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from compass_tui.app.widgets.model_column import ScorePanel
from compass_tui.study import StudyItemSystem
from compass_tui.vocab import DIMENSIONS

STATE_MARKS = {"skipped": "s", "in progress": "…", "not scored": "-"}


class StudyScorePanel(ScorePanel):
    HELP = """### A study item's scores (read-only)
Per dimension: the mean of the annotators' finished scores with its n, then each annotator's score
in the order the header names them (`s` skipped, `…` not finished, `-` not scored), then the judge's
score (`⚑` where it stayed flagged). `↑`/`↓` move between dimensions and show the judge's reason
for the highlighted one; `←`/`→` move between systems. Nothing here can be changed: score the study
in its packs (`compass-tui annotate PACK`)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.system: StudyItemSystem | None = None

    def show_study(self, system: StudyItemSystem | None) -> None:
        self.system = system
        self.refresh(layout=True)

    def render(self) -> RenderableType:
        system = self.system
        if system is None:
            return Group(Text("not in the study", style="dim"))
        grid = Table.grid(padding=(0, 1), expand=True)
        grid.add_column(width=1)
        grid.add_column(width=5)
        grid.add_column(ratio=1)
        grid.add_column(justify="right")
        for index, dimension in enumerate(DIMENSIONS):
            here = index == self.cursor and self.has_focus
            cells = system.entry.dimensions[dimension.key]
            mean = cells["human_mean"]
            human = Text(f"{mean:.2f} n{cells['human_n']}" if mean is not None else f"- n{cells['human_n']}")
            each = " ".join(_each(system, who, dimension.key) for who in system.scores)
            judged = cells["judge"]
            grid.add_row(
                "▸" if here else " ",
                Text(dimension.short, style="reverse" if here else ""),
                human.append(f"  {each}", style="bold"),
                Text("judge ⚑" if judged is None else f"judge {judged:.1f}", style="cyan"),
            )
        key = DIMENSIONS[self.cursor].key
        why = system.judge_rationales.get(key)
        reason = f"why ({DIMENSIONS[self.cursor].short}): {why}" if why else "the judge gave no reason"
        return Group(grid, Text(reason, style="cyan"))


def _each(system: StudyItemSystem, annotator: str, key: str) -> str:
    scores = system.scores.get(annotator)
    if scores is None:
        return STATE_MARKS.get(system.states.get(annotator, ""), "-")
    value = scores.get(key)
    return "-" if value is None else str(value)
