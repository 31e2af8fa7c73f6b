"""The session stepper: one situation at a time, up to four systems side by side, keyboard scoring."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from rich.console import Group
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from compass_tui.annotations import Annotation, load_annotation, save_annotation
from compass_tui.app.messages import JudgeFinished, RecordUpdated, RunFinished, RunProgressed
from compass_tui.app.widgets.model_column import ModelColumn, ScorePanel
from compass_tui.records import JUDGEMENTS_TABLE, load_records, run_meta_path
from compass_tui.report import SESSION_SCOPE
from compass_tui.rubric import DEFINITIONS, LEVELS
from compass_tui.session import Column, Session
from compass_tui.vocab import DIMENSIONS, SCENARIO_BY_KEY


class StepperScreen(Screen):
    HELP = ScorePanel.HELP
    BINDINGS = [
        Binding("n,right_square_bracket,pagedown", "step(1)", "Next", id="stepper.next"),
        Binding("p,left_square_bracket,pageup", "step(-1)", "Previous", id="stepper.previous"),
        Binding("1", "score(1)", "Score 1-5", key_display="1-5", id="stepper.score1"),
        Binding("2", "score(2)", "Score 2", show=False, id="stepper.score2"),
        Binding("3", "score(3)", "Score 3", show=False, id="stepper.score3"),
        Binding("4", "score(4)", "Score 4", show=False, id="stepper.score4"),
        Binding("5", "score(5)", "Score 5", show=False, id="stepper.score5"),
        Binding("0", "score(0)", "Clear score", show=False, id="stepper.clear"),
        Binding("up", "dimension(-1)", "Previous dimension", show=False, id="stepper.up"),
        Binding("down", "dimension(1)", "Next dimension", show=False, id="stepper.down"),
        Binding("left", "column(-1)", "Previous column", show=False, id="stepper.left"),
        Binding("right", "column(1)", "Next column", show=False, id="stepper.right"),
        Binding("enter", "commit", "Commit", id="stepper.commit"),
        Binding("c", "comment", "Comment", id="stepper.comment"),
        Binding("f", "flag", "Flag", id="stepper.flag"),
        Binding("s", "skip", "Skip", id="stepper.skip"),
        Binding("g", "generate(False)", "Generate", id="stepper.generate"),
        Binding("G", "generate(True)", "Generate all", id="stepper.generate_all"),
        Binding("x", "cancel_generation", "Stop", id="stepper.cancel"),
        Binding("j", "judge", "Judge", id="stepper.judge"),
        Binding("escape", "back", "Back", id="stepper.back"),
    ]

    def __init__(self, session: Session):
        super().__init__()
        self.session = session
        self.index = 0
        self.records: dict[tuple[str, str, int], dict[str, Any]] = {}
        self.judgements: dict[tuple[str, str, int], dict[str, Any]] = {}
        self.annotations: dict[tuple[str, int], Annotation] = {}
        self.saved_at: dict[tuple[str, int], str] = {}
        self.seconds: dict[int, float] = {}
        self.shown_since = time.monotonic()
        self.generation = 0
        self.run_thread = None
        self.progress_text = ""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="stepper-header")
        with Horizontal(id="columns"):
            for position in range(len(self.session.columns)):
                yield ModelColumn(f"column-{position}")
        yield Static(id="rubric-bar")
        yield Footer()

    def on_mount(self) -> None:
        self.reload_records()
        self.render_situation()
        self.query(ScorePanel).first().focus()

    # ----- data -------------------------------------------------------------------------------

    def reload_records(self) -> None:
        store = self.app.ctx.store
        for run_id in {column.run_id for column in self.session.columns}:
            if store.get(run_meta_path(run_id), "meta", "meta") is None:
                continue
            for record in load_records(store, run_id):
                if record["persona_id"] == self.session.persona.id:
                    self.records[(run_id, record["model"], record["situation_index"])] = record
            for judgement in store.all(f"judgements/{run_id}/{self.session.persona.id}.json", JUDGEMENTS_TABLE):
                if judgement.get("valid"):
                    self.judgements[(run_id, judgement["model"], judgement["situation_index"])] = judgement

    def annotation(self, column: Column, position: int) -> Annotation:
        key = (column.system, self.index)
        if key not in self.annotations:
            stored = load_annotation(self.app.ctx.store, SESSION_SCOPE, self.session.annotator,
                                     self.session.persona.id, self.index, column.system)
            self.annotations[key] = stored or Annotation(SESSION_SCOPE, self.session.annotator, self.session.persona.id,
                                                         self.index, column.system)
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

    def render_situation(self) -> None:
        persona, situation = self.session.persona, self.situation
        scenario = SCENARIO_BY_KEY[situation.scenario_type].label if situation.scenario_type else "?"
        header = Text.assemble((f"{persona.display_name}", "bold"), f" · {self.session.setting}",
                               (f" · situation {self.index + 1}/{len(persona.situations)}", "bold"),
                               f" · {scenario} · {situation.emotion}",
                               (f"   {self.progress_text}", "cyan"), "\n", (situation.utterance, "italic"))
        self.query_one("#stepper-header", Static).update(header)
        for position, column in enumerate(self.session.order(self.index)):
            self.render_column(position, column)
        self.render_rubric()

    def render_column(self, position: int, column: Column) -> None:
        widget = self.query_one(f"#column-{position}", ModelColumn)
        record = self.records.get((column.run_id, column.model, self.index))
        generating = self.run_thread is not None and column.run_id == self.session.own_run_id and \
            (record is None or record.get("status") not in ("done", "error"))
        widget.set_title(self.session.label(column, self.index))
        widget.show_record(record, self.stance(record), generating)
        annotation = self.annotation(column, position)
        judge = self.judgements.get((column.run_id, column.model, self.index))
        status = self.saved_at.get((column.system, self.index), "")
        widget.query_one(ScorePanel).show(annotation, judge, status)

    def stance(self, record: dict[str, Any] | None) -> str | None:
        tool = ((record or {}).get("tool_call") or {}).get("tool_folder_name")
        if not tool or not self.situation.scenario_type:
            return None
        return self.session.persona.tool_preferences.for_scenario(self.situation.scenario_type).stance(tool)

    def render_rubric(self) -> None:
        panel = self.focused_panel()
        dimension = DIMENSIONS[panel.cursor if panel else 0]
        value = panel.annotation.scores.get(dimension.key) if panel and panel.annotation else None
        lines = [Text.assemble((f"{dimension.short:<5}", "bold"), (f"{dimension.label}: ", "bold"),
                               DEFINITIONS[dimension.key], no_wrap=True, overflow="ellipsis")]
        compact = self.app.size.height < 32
        levels = ([value] if value else []) if compact else list(range(5, 0, -1))
        for level in levels:
            style = "bold reverse" if level == value else ""
            lines.append(Text.assemble((f"  {level}  ", "bold"), (LEVELS[dimension.key][level], style),
                                       no_wrap=True, overflow="ellipsis"))
        self.query_one("#rubric-bar", Static).update(Group(*lines))

    def focused_panel(self) -> ScorePanel | None:
        focused = self.focused
        return focused if isinstance(focused, ScorePanel) else None

    def focused_column(self) -> tuple[int, Column] | None:
        panel = self.focused_panel()
        if panel is None:
            return None
        position = int(panel.parent.id.split("-")[1])
        return position, self.session.order(self.index)[position]

    def on_descendant_focus(self) -> None:
        self.render_rubric()

    # ----- scoring ----------------------------------------------------------------------------

    def _change(self, edit) -> None:
        focused = self.focused_column()
        if focused is None:
            return
        position, column = focused
        annotation = self.annotation(column, position)
        edit(annotation)
        self.persist(annotation, column)
        self.render_column(position, column)
        self.render_rubric()
        self.refresh_bindings()

    def persist(self, annotation: Annotation, column: Column) -> None:
        annotation.seconds = self.seconds.get(self.index, 0.0) + (time.monotonic() - self.shown_since)
        try:
            save_annotation(self.app.ctx.store, annotation)
        except Exception as error:  # never claim a save that did not happen
            self.saved_at[(column.system, self.index)] = "NOT SAVED"
            self.notify(f"Could not save: {error}", severity="error", timeout=15)
            return
        self.saved_at[(column.system, self.index)] = f"saved ✓ {datetime.now():%H:%M:%S}"

    def action_score(self, value: int) -> None:
        panel = self.focused_panel()
        if panel is None:
            return
        dimension = DIMENSIONS[panel.cursor].key
        self._change(lambda annotation: annotation.set_score(dimension, value or None))
        if value and panel.cursor < len(DIMENSIONS) - 1:
            panel.cursor += 1
            self.render_rubric()

    def action_dimension(self, delta: int) -> None:
        panel = self.focused_panel()
        if panel is not None:
            panel.cursor = (panel.cursor + delta) % len(DIMENSIONS)
            self.render_rubric()

    def action_column(self, delta: int) -> None:
        panels = list(self.query(ScorePanel))
        panel = self.focused_panel()
        current = panels.index(panel) if panel in panels else 0
        target = panels[(current + delta) % len(panels)]
        if panel is not None:
            target.cursor = panel.cursor
        target.focus()

    def action_commit(self) -> None:
        self._change(lambda annotation: setattr(annotation, "committed", True))

    def action_flag(self) -> None:
        self._change(lambda annotation: setattr(annotation, "flag", not annotation.flag))

    def action_skip(self) -> None:
        self._change(lambda annotation: setattr(annotation, "skipped", not annotation.skipped))

    def action_comment(self) -> None:
        from compass_tui.app.screens.comment import CommentDialog

        focused = self.focused_column()
        if focused is None:
            return
        current = self.annotation(focused[1], focused[0]).comment

        def done(text: str | None) -> None:
            if text is not None:
                self._change(lambda annotation: setattr(annotation, "comment", text))

        self.app.push_screen(CommentDialog(current), done)

    # ----- navigation -------------------------------------------------------------------------

    def action_step(self, delta: int) -> None:
        target = self.index + delta
        if 0 <= target < len(self.session.persona.situations):
            self.seconds[self.index] = self.seconds.get(self.index, 0.0) + (time.monotonic() - self.shown_since)
            self.shown_since = time.monotonic()
            self.index = target
            self.render_situation()
            self.refresh_bindings()

    def action_back(self) -> None:
        self.action_cancel_generation()
        self.app.pop_screen()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "step":
            target = self.index + parameters[0]
            return 0 <= target < len(self.session.persona.situations)
        if action == "commit":
            focused = self.focused_column()
            if focused is None:
                return False
            annotation = self.annotation(focused[1], focused[0])
            return annotation.complete and not annotation.committed
        if action == "generate":
            return bool(self.session.generate_models) and self.run_thread is None
        if action == "cancel_generation":
            return self.run_thread is not None
        if action == "judge":
            return bool(self.app.ctx.settings.judge_model)
        return True

    # ----- generation (off the UI loop) -------------------------------------------------------

    def action_generate(self, everything: bool) -> None:
        from compass_tui.prompts import our_prompts
        from compass_tui.runner import RunPlan, RunThread, check_keys, resolve_systems

        from compass_tui.errors import InputError

        settings = self.app.ctx.settings
        try:
            systems = resolve_systems(self.session.generate_models, self.session.setting, settings)
            check_keys(systems)
        except InputError as error:
            self.notify(str(error), title="Cannot generate", severity="error", timeout=10)
            return
        only = None if everything or self.session.setting == "history" else {self.index}
        plan = RunPlan(run_id=self.session.own_run_id, setting=self.session.setting, systems=systems,
                       personas=[self.session.persona], prompts=our_prompts(), concurrency=settings.concurrency,
                       only_situations=only)
        self.generation += 1
        generation = self.generation

        def on_progress(progress, record) -> None:
            if record is not None:
                self.post_message(RecordUpdated(dict(record), generation))
            self.post_message(RunProgressed(plan.run_id, progress.done, progress.total, progress.errors, generation))

        def on_finished(progress, error) -> None:
            self.post_message(RunFinished(plan.run_id, generation, f"{type(error).__name__}: {error}" if error else None,
                                          progress.fatal if progress else None))

        self.run_thread = RunThread(plan, self.app.ctx.store, self.app.ctx.tool_environment(), on_progress, on_finished)
        self.run_thread.start()
        self.render_situation()
        self.refresh_bindings()

    def action_cancel_generation(self) -> None:
        if self.run_thread is not None:
            self.run_thread.cancel()
            self.generation += 1
            self.run_thread = None
            self.progress_text = "stopped"
            self.render_situation()
            self.refresh_bindings()

    def on_record_updated(self, message: RecordUpdated) -> None:
        record = message.record
        self.records[(record["run_id"], record["model"], record["situation_index"])] = record
        if message.generation == self.generation and record["situation_index"] == self.index:
            self.render_situation()

    def on_run_progressed(self, message: RunProgressed) -> None:
        if message.generation == self.generation:
            self.progress_text = f"generating {message.done}/{message.total}" + \
                                 (f" · {message.errors} errors" if message.errors else "")
            self.query_one("#stepper-header", Static).refresh()
            self.render_situation()

    def on_run_finished(self, message: RunFinished) -> None:
        if message.generation != self.generation:
            return
        self.run_thread = None
        self.progress_text = "" if not message.error else "generation failed"
        if message.error:
            self.notify(message.error, title="Generation failed", severity="error", timeout=10)
        for system, why in (message.fatal or {}).items():
            self.notify(why, title=f"{system} stopped", severity="error", timeout=10)
        self.render_situation()
        self.refresh_bindings()

    # ----- judge ------------------------------------------------------------------------------

    def action_judge(self) -> None:
        self.notify("Judging in the background; scores appear after you commit an item.")
        self.run_judge()

    @work(thread=True, exclusive=True, group="judge", description="Judging", exit_on_error=False)
    def run_judge(self) -> None:
        import asyncio

        from compass_tui.judge import judge_run, load_judge_prompt

        ctx = self.app.ctx
        name = ctx.settings.judge_model
        personas = {self.session.persona.id: self.session.persona}
        for run_id in sorted({column.run_id for column in self.session.columns}):
            if ctx.store.get(run_meta_path(run_id), "meta", "meta") is None:
                continue
            progress = asyncio.run(judge_run(ctx.store, personas, run_id, ctx.settings.model(name), name,
                                             load_judge_prompt(None), 1, ctx.settings.concurrency,
                                             persona_ids={self.session.persona.id}))
            self.post_message(JudgeFinished(run_id, progress.judged, progress.invalid))

    def on_judge_finished(self, message: JudgeFinished) -> None:
        self.reload_records()
        self.render_situation()
        self.notify(f"Judged {message.judged} responses of {message.run_id}"
                    + (f" ({message.invalid} flagged invalid)" if message.invalid else ""))
