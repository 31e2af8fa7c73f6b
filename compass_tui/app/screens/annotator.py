"""Annotator mode (`compass-tui annotate PACK`): only the assigned items, blinded, one at a time.

No model names and no judge scores are ever shown. Each change is appended to the pack's
journal and fsynced before it is shown as saved; reopening the pack resumes at the first
item not yet committed.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Header, Static

from compass_tui.annotations import Annotation
from compass_tui.app.screens.scoring import SCORING_BINDINGS, ScoringScreen
from compass_tui.app.widgets.compass_footer import CompassFooter
from compass_tui.app.widgets.model_column import ModelColumn, ScorePanel
from compass_tui.interaction_record import InteractionRecord, ToolCall
from compass_tui.safe_text import printable
from compass_tui.study import append_pack_score, load_pack, read_pack_journal, study_scope
from compass_tui.study.models import PackItem, PackResponse
from compass_tui.vocab import SCENARIO_BY_KEY


class AnnotatorScreen(ScoringScreen):
    HELP = """### Annotating a study
You see only your assigned items, one at a time, with the systems under blinded names. Score each
response on the six dimensions (`1`-`5`, `↑`/`↓`, `←`/`→`), then `enter` to commit it. Your work is
saved to the journal beside the pack after every key; you can stop at any time and resume later.
When you are done, send back the `.scores.jsonl` file next to your pack."""
    BINDINGS = SCORING_BINDINGS + [
        Binding("u", "next_unfinished", "Next unfinished", id="annotator.unfinished"),
        Binding("ctrl+q", "app.quit", "Quit", id="annotator.quit"),
    ]

    def __init__(self, pack_path: Path):
        super().__init__()
        self.pack_path = Path(pack_path)
        self.pack = load_pack(self.pack_path)
        self.scope = study_scope(self.pack.study)
        journal = read_pack_journal(self.pack_path)
        self.skipped_note = journal.skipped_note()
        self.scores = {(a.persona_id, a.situation_index, a.system): a for a in journal.annotations}
        self.columns = max(len(item.responses) for item in self.pack.items)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="annotator-progress")
        yield Static(id="stepper-header")
        with Horizontal(id="columns"):
            for position in range(self.columns):
                yield ModelColumn(f"column-{position}")
        yield Static(id="rubric-bar")
        yield CompassFooter()

    def on_mount(self) -> None:
        self.title = f"study {self.pack.study} · annotator {self.pack.annotator}"
        self.index = self.first_unfinished()
        self.render_item()
        self.query(ScorePanel).first().focus()
        if self.skipped_note:
            self.notify(printable(self.skipped_note), severity="warning", timeout=30, markup=False)

    @property
    def item(self) -> PackItem:
        return self.pack.items[self.index]

    @property
    def item_count(self) -> int:
        return len(self.pack.items)

    def item_done(self, index: int) -> bool:
        item = self.pack.items[index]
        return all(self._annotation(item, response).finished for response in item.responses)

    def first_unfinished(self) -> int:
        return next((i for i in range(self.item_count) if not self.item_done(i)), 0)

    def _annotation(self, item: PackItem, response: PackResponse) -> Annotation:
        key = (item.persona_id, item.situation_index, response.blinded_id)
        if key not in self.scores:
            self.scores[key] = Annotation(
                self.scope,
                self.pack.annotator,
                item.persona_id,
                item.situation_index,
                response.blinded_id,
                position=response.position,
                blinded_id=response.blinded_id,
            )
        return self.scores[key]

    def annotation_at(self, position: int) -> Annotation:
        return self._annotation(self.item, self.item.responses[position])

    def save(self, annotation: Annotation) -> None:
        append_pack_score(self.pack_path, annotation)

    def render_item(self) -> None:
        item = self.item
        done = sum(1 for i in range(self.item_count) if self.item_done(i))
        progress = Text.assemble(
            (f"item {self.index + 1}/{self.item_count}", "bold"),
            f" · {done} done",
            (f" · {self.seconds_on_item():.0f} s on this item", "dim"),
        )
        self.query_one("#annotator-progress", Static).update(progress)
        self.sub_title = progress.plain  # the header carries it where the progress line is hidden (80x24)
        persona, situation = item.persona, item.situation
        scenario = SCENARIO_BY_KEY[situation.scenario_type].label if situation.scenario_type else "?"
        who = Text.assemble(
            (printable(persona.name), "bold"),
            printable(f" · {situation.emotion} · {scenario} · {persona.age} · {persona.career}"),
            no_wrap=True,
            overflow="ellipsis",
        )
        preferences = Text(
            f"Preferences here: {printable(persona.tool_preference)}",
            style="dim",
            no_wrap=True,
            overflow="ellipsis",
        )
        utterance = Text(printable(situation.utterance, multiline=True), style="italic")
        self.query_one("#stepper-header", Static).update(Group(who, preferences, utterance))
        for position in range(self.columns):
            self.render_position(position)
        self.render_rubric()

    def render_position(self, position: int) -> None:
        widget = self.query_one(f"#column-{position}", ModelColumn)
        responses = self.item.responses
        widget.display = position < len(responses)
        if position >= len(responses):
            return
        response = responses[position]
        widget.set_title(f"System {response.blinded_id}")
        record = InteractionRecord(  # blind: no model, and the item is the pack's
            model="",
            persona_id="",
            situation_index=0,
            setting="profile" if response.tool_call else "empathetic",
            status="done",
            tool_call=ToolCall.from_document(response.tool_call) if response.tool_call else None,
            tool_result=response.tool_result,
            response=response.response,
        )
        widget.show_record(record, None, generating=False)
        self.render_scores(position)

    def render_scores(self, position: int) -> None:
        panel = self.query_one(f"#column-{position}", ModelColumn).query_one(ScorePanel)
        panel.show(self.annotation_at(position), None, self.save_status(position))

    def action_next_unfinished(self) -> None:
        for offset in range(1, self.item_count + 1):
            candidate = (self.index + offset) % self.item_count
            if not self.item_done(candidate):
                self.go_to(candidate)
                return
        self.notify("Every item is done. Send back the .scores.jsonl file beside your pack.")
