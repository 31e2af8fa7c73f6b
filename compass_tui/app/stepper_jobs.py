"""The stepper's work off the UI loop: a generation's run plan and thread, and judging the session's runs.

Both report through `post` (the screen's post_message) with the messages of compass_tui.app.messages;
only the screen's handlers touch widgets.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from compass_tui.app.messages import JudgeFinished, RecordUpdated, RunFinished, RunProgressed
from compass_tui.records import run_meta_path

if TYPE_CHECKING:
    from compass_tui.session import Session
    from compass_tui.variants import Variant
    from compass_tui.workspace import Context

Post = Callable[[Any], Any]


def generation_plan(
    ctx: Context, session: Session, index: int, variant: Variant | None, everything: bool, today: date | None
):
    """The run plan of `g` (this situation, or the variant shown) or `G` (every situation); InputError if not."""
    from compass_tui.prompts import our_prompts
    from compass_tui.runner import RunPlan, check_keys, resolve_systems

    settings = ctx.settings
    only = None if everything or session.setting == "history" else {index}
    systems = resolve_systems(session.generate_models, session.setting, settings)
    check_keys(systems)
    return RunPlan(
        run_id=session.own_run_id,
        setting=session.setting,
        systems=systems,
        personas=[session.persona],
        prompts=our_prompts(),
        concurrency=settings.concurrency,
        only_situations=only,
        max_retries=settings.max_retries,
        variant=None if everything else variant,
        today=today or date.today(),
    )


def start_generation(ctx: Context, plan, generation: int, post: Post):
    """Start the plan on a RunThread that posts every record, its progress and its end, tagged `generation`."""
    from compass_tui.runner import RunThread

    def on_progress(progress, record) -> None:
        if record is not None:
            post(RecordUpdated(dict(record), generation))
        post(RunProgressed(plan.run_id, progress.done, progress.total, progress.errors, generation))

    def on_finished(progress, error) -> None:
        post(
            RunFinished(
                plan.run_id,
                generation,
                f"{type(error).__name__}: {error}" if error else None,
                progress.fatal if progress else None,
            )
        )

    thread = RunThread(plan, ctx.store, ctx.tool_environment(), on_progress, on_finished)
    thread.start()
    return thread


def judge_session_runs(ctx: Context, session: Session, post: Post) -> None:
    """Judge the session persona's items in every run its columns show, one JudgeFinished per run."""
    import asyncio

    from compass_tui.judge import judge_run, load_judge_prompt

    name = ctx.settings.judge_model
    assert name, "`j` is offered only with a judge_model"
    personas = {session.persona.id: session.persona}
    for run_id in sorted({column.run_id for column in session.columns}):
        if ctx.store.get(run_meta_path(run_id), "meta", "meta") is None:
            continue
        progress = asyncio.run(
            judge_run(
                ctx.store,
                personas,
                run_id,
                ctx.settings.model(name),
                name,
                load_judge_prompt(None),
                1,
                ctx.settings.concurrency,
                persona_ids={session.persona.id},
            )
        )
        post(JudgeFinished(run_id, progress.judged, progress.invalid, progress.unscored, progress.errors))
