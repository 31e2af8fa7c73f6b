"""The session stepper: one situation at a time, up to four systems side by side, keyboard scoring."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Header, Static

from compass_tui.annotations import Annotation, load_annotation, save_annotation
from compass_tui.app.messages import JudgeFinished, RecordUpdated, RunFinished, RunProgressed, ToolsWarming
from compass_tui.app.screens.scoring import SCORING_BINDINGS, ScoringScreen
from compass_tui.app.variant_text import WHAT_IF_ELSEWHERE, column_title, utterance_lines, variant_tag
from compass_tui.app.widgets.compass_footer import CompassFooter
from compass_tui.app.widgets.model_column import JudgeScores, ModelColumn, ScorePanel
from compass_tui.interaction_record import InteractionRecord, as_record
from compass_tui.records import (
    JUDGEMENTS_TABLE,
    judgement_path,
    load_records,
    load_variant_records,
    run_meta_path,
)
from compass_tui.report import SESSION_SCOPE
from compass_tui.safe_text import printable
from compass_tui.session import Column, Session
from compass_tui.variants import Variant, make_variant, variants_of
from compass_tui.vocab import SCENARIO_BY_KEY
from compass_tui.wording import counted


def _variant_item(record: InteractionRecord) -> tuple[str, str, int, str]:
    return record.run_id, record.model, record.situation_index, record.what_if.id


class StepperScreen(ScoringScreen):
    BINDINGS = SCORING_BINDINGS + [
        Binding("g", "generate(False)", "Generate", id="stepper.generate"),
        Binding("G", "generate(True)", "Generate all", id="stepper.generate_all"),
        Binding("x", "cancel_generation", "Stop", id="stepper.cancel"),
        Binding("j", "judge", "Judge", id="stepper.judge"),
        # Listed in F1's keys and the palette, not the footer: the footer keeps its layout at 80 columns.
        Binding("w", "what_if", "What if…", show=False, id="stepper.what_if"),
        Binding("v", "toggle_variant", "Original/what-if", show=False, id="stepper.variant"),
        Binding("escape", "back", "Back", id="stepper.back"),
    ]

    def __init__(self, session: Session):
        super().__init__()
        self.session = session
        self.records: dict[tuple[str, str, int], InteractionRecord] = {}
        self.judgements: dict[tuple[str, str, int], JudgeScores] = {}
        self.judge_notes: dict[str, str] = {}  # run -> why its judge scores are not shown
        self.annotations: dict[tuple[str, int, str | None], Annotation] = {}
        self.variants: dict[int, list[Variant]] = {}  # per situation, the own run's what-if variants
        self.variant_records: dict[tuple[str, str, int, str], InteractionRecord] = {}
        self.shown_variant: dict[int, str | None] = {}  # per situation, the variant shown (None: original)
        self.generation = 0
        self.run_thread = None
        self.progress_text = ""
        self.tools_text = ""  # "loading embeddings…" while the tool environment warms up
        self.tools_shown: list[str] = []  # every status the header has shown, in order

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="stepper-header")
        with Horizontal(id="columns"):
            for position in range(len(self.session.columns)):
                yield ModelColumn(f"column-{position}")
        yield Static(id="rubric-bar")
        yield CompassFooter()

    def on_mount(self) -> None:
        self.reload_records()
        self.render_item()
        self.query(ScorePanel).first().focus()
        if self.session.generate_models:
            self.warm_up_tools()

    @work(thread=True, exclusive=True, group="warm-up", description="Loading the tools", exit_on_error=False)
    def warm_up_tools(self) -> None:
        """Load the embedding model and the catalogues' indexes before the first generation needs them."""
        environment = self.app.ctx.tool_environment()
        environment.warm_up(lambda status: self.post_message(ToolsWarming(status)))
        self.post_message(
            ToolsWarming(environment.engine.status.detail if environment.engine.fallback_reason else "")
        )

    def on_tools_warming(self, message: ToolsWarming) -> None:
        self.tools_text = message.status
        self.tools_shown.append(message.status)
        self.render_header()

    # ----- data -------------------------------------------------------------------------------

    def reload_records(self) -> None:
        store = self.app.ctx.store
        for run_id in {column.run_id for column in self.session.columns}:
            if store.get(run_meta_path(run_id), "meta", "meta") is None:
                continue
            mine = [r for r in load_records(store, run_id) if r.persona_id == self.session.persona.id]
            for record in mine:
                self.records[(run_id, record.model, record.situation_index)] = record
            self.load_judge_scores(run_id, mine)
            for record in load_variant_records(store, run_id, self.session.persona.id):
                self.variant_records[_variant_item(record)] = record
            if run_id == self.session.own_run_id:
                for found in variants_of(store, run_id, self.session.persona.id).values():
                    for variant in found:
                        self.add_variant(variant)

    def load_judge_scores(self, run_id: str, records: list[InteractionRecord]) -> None:
        """The judge scores of this persona's items, picked by the rule the report uses."""
        from compass_tui.errors import InputError
        from compass_tui.judge import current_contents
        from compass_tui.judgements import Judgement, select_judgements

        persona = self.session.persona
        stored = self.app.ctx.store.all(judgement_path(run_id, persona.id), JUDGEMENTS_TABLE)
        judgements = [Judgement.from_document(j) for j in stored if isinstance(j.get("scores"), dict)]
        preferred = self.app.ctx.settings.judge_model
        chosen = preferred if any(j.judge_model == preferred for j in judgements) else None
        try:
            selection = select_judgements(
                judgements, current_contents(records, {persona.id: persona}), chosen, scope=f"run {run_id!r}"
            )
        except InputError as error:
            if self.judge_notes.get(run_id) != error.message:
                self.notify(error.message, title="Judge scores not shown", severity="warning", timeout=10)
            self.judge_notes[run_id] = error.message
            return
        self.judge_notes.pop(run_id, None)
        for (model, _, index), judgement in selection.by_item.items():
            self.judgements[(run_id, model, index)] = JudgeScores.of(judgement, selection.provenance)

    def add_variant(self, variant: Variant) -> None:
        known = self.variants.setdefault(variant.situation_index, [])
        if all(existing.id != variant.id for existing in known):
            known.append(variant)

    @property
    def variant(self) -> Variant | None:
        """The what-if variant shown for the current situation, or None for the original."""
        shown = self.shown_variant.get(self.index)
        return next((v for v in self.variants.get(self.index, []) if v.id == shown), None)

    def record_of(self, column: Column) -> InteractionRecord | None:
        variant = self.variant
        if variant is None:
            return self.records.get((column.run_id, column.model, self.index))
        return self.variant_records.get((column.run_id, column.model, self.index, variant.id))

    def annotation(self, column: Column, position: int) -> Annotation:
        variant_id = self.variant.id if self.variant else None
        key = (column.system, self.index, variant_id)
        if key not in self.annotations:
            stored = load_annotation(
                self.app.ctx.store,
                SESSION_SCOPE,
                self.session.annotator,
                self.session.persona.id,
                self.index,
                column.system,
                variant_id,
            )
            self.annotations[key] = stored or Annotation(
                SESSION_SCOPE,
                self.session.annotator,
                self.session.persona.id,
                self.index,
                column.system,
                variant=variant_id,
            )
        annotation = self.annotations[key]
        annotation.position = position
        if self.session.blind:
            annotation.blinded_id = self.session.label(column, self.index)
            annotation.seed = self.session.seed
        return annotation

    # ----- rendering --------------------------------------------------------------------------

    @property
    def situation(self):
        return self.session.persona.situations[self.index]

    def render_header(self) -> None:
        persona, situation = self.session.persona, self.situation
        scenario = SCENARIO_BY_KEY[situation.scenario_type].label if situation.scenario_type else "?"
        title = Text.assemble(
            (printable(persona.display_name), "bold"),
            f" · {self.session.setting}",
            (f" · situation {self.index + 1}/{len(persona.situations)}", "bold"),
            f" · {scenario} · {printable(situation.emotion)}",
            variant_tag(self.variants.get(self.index, []), self.variant),
            (f"  {self.progress_text}", "cyan"),
            (f"  {self.tools_text}", "yellow"),
            no_wrap=True,
            overflow="ellipsis",
        )  # one line, so a status never pushes the utterance's last line out of a small terminal
        utterance = utterance_lines(situation.utterance, self.variant)
        self.query_one("#stepper-header", Static).update(Group(title, utterance))

    def render_item(self) -> None:
        self.render_header()
        for position in range(len(self.session.columns)):
            self.render_position(position)
        self.render_rubric()

    @property
    def item_count(self) -> int:
        return len(self.session.persona.situations)

    def column_at(self, position: int) -> Column:
        return self.session.order(self.index)[position]

    def annotation_at(self, position: int) -> Annotation:
        return self.annotation(self.column_at(position), position)

    def save(self, annotation: Annotation) -> None:
        save_annotation(self.app.ctx.store, annotation)

    def render_position(self, position: int) -> None:
        column = self.column_at(position)
        widget = self.query_one(f"#column-{position}", ModelColumn)
        record = self.record_of(column)
        generating = (
            self.run_thread is not None
            and column.run_id == self.session.own_run_id
            and (record is None or record.status not in ("done", "error"))
        )
        variant = self.variant
        widget.set_title(column_title(self.session.label(column, self.index), variant))
        if variant is not None and column.run_id != self.session.own_run_id:
            widget.show_record(record, self.stance(record), generating, WHAT_IF_ELSEWHERE)
        else:
            widget.show_record(record, self.stance(record), generating)
        self.render_scores(position)

    def render_scores(self, position: int) -> None:
        column = self.column_at(position)
        judge = self.judgements.get((column.run_id, column.model, self.index))
        panel = self.query_one(f"#column-{position}", ModelColumn).query_one(ScorePanel)
        panel.show(self.annotation(column, position), judge, self.save_status(position))

    def stance(self, record: InteractionRecord | None) -> str | None:
        tool = record.tool_folder if record else None
        if not tool or not self.situation.scenario_type:
            return None
        return self.session.persona.tool_preferences.for_scenario(self.situation.scenario_type).stance(tool)

    # ----- navigation -------------------------------------------------------------------------

    def action_back(self) -> None:
        self.action_cancel_generation()
        self.app.pop_screen()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "generate":
            return bool(self.session.generate_models) and self.run_thread is None
        if action == "cancel_generation":
            return self.run_thread is not None
        if action == "judge":
            return bool(self.app.ctx.settings.judge_model)
        if action == "what_if":
            if not self.item_count:
                return False
            can = self.session.generate_models and self.session.setting != "history"
            return True if can and self.run_thread is None else None
        if action == "toggle_variant":
            return bool(self.variants.get(self.index))
        return super().check_action(action, parameters)

    # ----- generation (off the UI loop) -------------------------------------------------------

    def action_toggle_variant(self) -> None:
        """Original → each what-if variant of this situation → original."""
        ids = [None, *(variant.id for variant in self.variants.get(self.index, []))]
        current = ids.index(self.variant.id if self.variant else None)
        self.shown_variant[self.index] = ids[(current + 1) % len(ids)]
        self.render_item()
        self.refresh_bindings()

    def action_what_if(self) -> None:
        from compass_tui.app.screens.what_if import WhatIfDialog

        original = self.situation.utterance
        shown = self.variant.text if self.variant else original

        def done(text: str | None) -> None:
            if text is not None:
                self.start_what_if(text)

        self.app.push_screen(WhatIfDialog(shown, original), done)

    def start_what_if(self, text: str) -> None:
        from compass_tui.errors import InputError

        try:
            variant = make_variant(self.session.persona, self.index, text)
        except InputError as error:
            self.notify(error.message, title="No what-if", severity="error", timeout=10)
            return
        self.add_variant(variant)
        self.shown_variant[self.index] = variant.id
        self.action_generate(False)

    def action_generate(self, everything: bool) -> None:
        from compass_tui.app.stepper_jobs import generation_plan, start_generation
        from compass_tui.errors import InputError

        ctx = self.app.ctx
        try:
            plan = generation_plan(ctx, self.session, self.index, self.variant, everything, self.app.today)
        except InputError as error:
            self.notify(str(error), title="Cannot generate", severity="error", timeout=10)
            return
        self.generation += 1
        self.run_thread = start_generation(ctx, plan, self.generation, self.post_message)
        self.render_item()
        self.refresh_bindings()

    def action_cancel_generation(self) -> None:
        if self.run_thread is not None:
            self.run_thread.cancel()
            self.generation += 1
            self.run_thread = None
            self.progress_text = "stopped"
            self.render_item()
            self.refresh_bindings()

    def on_unmount(self) -> None:
        """Quitting stops the models too; what they finished is saved, the rest resumes next time."""
        if self.run_thread is not None:
            self.run_thread.cancel()

    def on_record_updated(self, message: RecordUpdated) -> None:
        record = as_record(message.record)
        variant_id = record.variant_id or None
        if variant_id:
            self.variant_records[_variant_item(record)] = record
        else:
            self.records[(record.run_id, record.model, record.situation_index)] = record
        shown = self.variant.id if self.variant else None
        if (
            message.generation == self.generation
            and record.situation_index == self.index
            and variant_id == shown
        ):
            for position in range(len(self.session.columns)):  # only the column that shows this record
                column = self.column_at(position)
                if (column.run_id, column.model) == (record.run_id, record.model):
                    shown_before = self.query_one(f"#column-{position}", ModelColumn).record
                    self.render_position(position)
                    if shown_before is None or shown_before.finished != record.finished:
                        self.refresh_bindings()  # the scoring keys apply once there is a response

    def on_run_progressed(self, message: RunProgressed) -> None:
        if message.generation == self.generation:
            self.progress_text = f"generating {message.done}/{message.total}" + (
                f" · {message.errors} errors" if message.errors else ""
            )
            self.render_header()

    def on_run_finished(self, message: RunFinished) -> None:
        if message.generation != self.generation:
            return
        self.run_thread = None
        self.progress_text = "" if not message.error else "generation failed"
        if message.error:
            self.notify(message.error, title="Generation failed", severity="error", timeout=10)
        for system, why in (message.fatal or {}).items():
            self.notify(why, title=f"{system} stopped", severity="error", timeout=10)
        self.render_item()
        self.refresh_bindings()

    # ----- judge ------------------------------------------------------------------------------

    def action_judge(self) -> None:
        self.notify("Judging in the background; scores appear after you commit an item.")
        self.run_judge()

    @work(thread=True, exclusive=True, group="judge", description="Judging", exit_on_error=False)
    def run_judge(self) -> None:
        from compass_tui.app.stepper_jobs import judge_session_runs

        judge_session_runs(self.app.ctx, self.session, self.post_message)

    def on_judge_finished(self, message: JudgeFinished) -> None:
        self.reload_records()
        self.render_item()
        problems = [
            f"{count} {what}"
            for count, what in (
                (message.invalid, "with a flagged dimension"),
                (message.unscored, "without one valid score"),
                (message.errors, "stopped by provider errors (j again resumes)"),
            )
            if count
        ]
        self.notify(
            f"Judged {counted(message.judged, 'response')} of {message.run_id}"
            + (f": {'; '.join(problems)}" if problems else ""),
            severity="warning" if message.unscored or message.errors else "information",
        )
