"""`compass-tui run ...` (batch runs) and `compass-tui runs list|show|import`."""

from __future__ import annotations

import asyncio
import re
import sys
from datetime import datetime
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from compass_tui.cli.output import console, emit, error_console, print_json, print_table, safe
from compass_tui.config import BASELINE_MODEL
from compass_tui.errors import InputError
from compass_tui.fidelity import CLEAN, FIDELITIES, OFFICIAL
from compass_tui.prompts import PromptSet, load_prompt_dir, our_prompts, stand_in_note
from compass_tui.records import list_run_ids, load_records, load_run_meta, load_variant_records
from compass_tui.replay import import_results
from compass_tui.runner import (
    RunPlan,
    RunProgress,
    check_keys,
    check_resumable,
    execute_run,
    resolve_systems,
)
from compass_tui.vocab import SETTINGS
from compass_tui.wording import counted
from compass_tui.workspace import Context


def add_parser(commands) -> None:
    run = commands.add_parser("run", help="run systems over personas' situations (resumable)")
    run.add_argument(
        "--personas", default="bundled", help="selector: ids, globs, all|bundled|imported|authored"
    )
    run.add_argument(
        "--models", default=BASELINE_MODEL, help="comma-separated model names; hybrid: TOOL+RESPONSE"
    )
    run.add_argument("--setting", default="profile", choices=SETTINGS)
    run.add_argument(
        "--concurrency", type=int, help="calls in flight at once (default: settings.concurrency)"
    )
    run.add_argument("--name", help="run id; rerunning with the same name resumes it")
    run.add_argument(
        "--prompt-dir",
        type=Path,
        help=(
            "ComPASS's official prompt folder (prompts/history-based; for the profile setting, a folder "
            "with the profile script's user_tool_selection_pos.txt and user_feedback_ver1.0.txt)"
        ),
    )
    run.add_argument(
        "--fidelity",
        choices=FIDELITIES,
        default=CLEAN,
        help="official: fill --prompt-dir's templates exactly as ComPASS's scripts do (README: Reproducing the paper)",
    )
    run.add_argument(
        "--simulator", default="rule", help="history setting's user simulator: rule, or a model name"
    )
    run.add_argument(
        "--simulator-fallback",
        choices=("none", "rule"),
        default="none",
        help="when the LLM simulator fails: none (the turn is an error) or rule (use the rule, recorded)",
    )
    run.add_argument(
        "--no-history", action="store_true", help="history setting without feeding back past turns"
    )
    run.add_argument("--search", choices=("auto", "embedding", "lexical"), default="auto")
    run.add_argument("--json", action="store_true", help="print a JSON summary at the end")
    run.set_defaults(handler=run_command)

    runs = commands.add_parser("runs", help="list, show and import runs")
    sub = runs.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = sub.add_parser("list", help="every run in the data dir")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=list_runs)
    show = sub.add_parser("show", help="one run's settings and items")
    show.add_argument("run")
    show.add_argument("--json", action="store_true", help="print the full records")
    show.set_defaults(handler=show_run)
    importing = sub.add_parser("import", help='import a ComPASS result file ({"user_interactions": ...})')
    importing.add_argument("file", type=Path)
    importing.add_argument("--model", help="name for the system that produced it (default: the file name)")
    importing.add_argument("--name", help="run id (default: import-<file>)")
    importing.add_argument(
        "--setting", choices=("profile", "history"), help="default: detected from the file"
    )
    importing.add_argument("--json", action="store_true")
    importing.set_defaults(handler=import_run)


def default_run_name(setting: str, models: list[str]) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", "-".join(models).lower()).strip("-")[:40]
    return f"{setting}-{slug}-{datetime.now():%Y%m%d-%H%M%S}"


def build_plan(args, ctx: Context) -> RunPlan:
    settings = ctx.settings
    model_names = [name.strip() for name in args.models.split(",") if name.strip()]
    systems = resolve_systems(model_names, args.setting, settings)
    check_keys(systems)
    personas = ctx.library.select(args.personas)
    prompts = _prompts(args)
    simulator = None if args.simulator == "rule" else settings.model(args.simulator)
    return RunPlan(
        run_id=args.name or default_run_name(args.setting, model_names),
        setting=args.setting,
        systems=systems,
        personas=personas,
        prompts=prompts,
        concurrency=args.concurrency or settings.concurrency,
        history_enabled=not args.no_history,
        simulator=simulator,
        simulator_name=args.simulator,
        simulator_fallback=args.simulator_fallback == "rule",
        max_retries=settings.max_retries,
        fidelity=args.fidelity,
    )


def _prompts(args) -> PromptSet:
    if args.fidelity != OFFICIAL:
        return load_prompt_dir(args.prompt_dir, setting=args.setting) if args.prompt_dir else our_prompts()
    if not args.prompt_dir:
        raise InputError(
            None,
            "--fidelity",
            "official needs --prompt-dir, the official ComPASS prompt folder (prompts/history-based): "
            "compass-tui ships no official prompt text",
        )
    if args.setting == "empathetic":
        raise InputError(None, "--fidelity", "official: ComPASS has no script for the empathetic setting")
    prompts = load_prompt_dir(args.prompt_dir, OFFICIAL, args.setting)
    if args.setting == "history" and args.simulator != "rule" and not prompts.official_simulator:
        raise InputError(
            args.prompt_dir.parent / "user-simulator",
            "user_prompt_perfer.txt",
            "missing: --fidelity official with an LLM simulator needs the official simulator prompt",
        )
    return prompts


def run_command(args, ctx: Context) -> int:
    if args.concurrency is not None and args.concurrency < 1:
        raise InputError(None, "--concurrency", "must be at least 1")
    plan = build_plan(args, ctx)
    check_resumable(ctx.store, plan)
    env = ctx.tool_environment(search_mode=args.search)
    chatter = error_console if args.json else console  # --json keeps stdout for the JSON summary alone
    note = stand_in_note(plan.prompts, plan.setting)
    if note:
        print(f"compass-tui: note: {note}", file=sys.stderr)
    chatter.print(
        f"Run [bold]{plan.run_id}[/]: {plan.setting}, {len(plan.systems)} system(s) × "
        f"{len(plan.personas)} persona(s); resume with --name {plan.run_id}"
    )
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:.1f}/s · {task.fields[errors]} errors"),
        TimeRemainingColumn(),
        console=chatter,
        transient=False,
    ) as bar:
        task = bar.add_task(plan.run_id, total=None, rate=0.0, errors=0)

        def on_progress(progress: RunProgress, _record) -> None:
            bar.update(
                task,
                total=progress.total,
                completed=progress.done,
                rate=progress.rate(),
                errors=progress.errors,
            )

        progress = asyncio.run(execute_run(plan, ctx.store, env, on_progress))
    for line in progress.notes:
        print(f"compass-tui: note: {line}", file=sys.stderr)
    for line in progress.summary_lines():  # one plain line each: rich would wrap it and read [..] as markup
        print(f"compass-tui: {line}", file=sys.stderr)
    summary = {
        "run_id": plan.run_id,
        "finished": progress.finished,
        "skipped": progress.skipped,
        "errors": progress.errors,
        "stopped": progress.stopped,
        "total": progress.total,
        "fatal": progress.fatal,
        "status": progress.final_status(),
        "errors_by_model": {name: dict(tally.errors) for name, tally in progress.by_model.items()},
    }
    if args.json:
        print_json(summary)
    else:
        stopped = f", {progress.stopped} not attempted" if progress.stopped else ""
        console.print(
            f"{progress.finished} finished, {progress.skipped} already done, {progress.errors} errors{stopped}."
            + (f" Last error: {progress.last_error}" if progress.last_error else ""),
            markup=False,
            soft_wrap=True,
        )
    return 1 if progress.failed else 0


def list_runs(args, ctx: Context) -> int:
    rows = []
    for run_id in list_run_ids(ctx.store):
        meta = load_run_meta(ctx.store, run_id)
        rows.append(
            {
                "run_id": meta.run_id,
                "setting": meta.setting,
                "models": list(meta.models),
                "status": meta.status,
                "created_at": meta.created_at,
                "source": meta.source,
                "personas": len(meta.personas),
            }
        )

    def render(data):
        print_table(
            counted(len(data), "run"),
            ["run", "setting", "models", "personas", "status", "created"],
            [
                (
                    r["run_id"],
                    r["setting"],
                    ", ".join(r["models"] or []),
                    r["personas"],
                    r["status"],
                    (r["created_at"] or "")[:19],
                )
                for r in data
            ],
        )

    emit(args, rows, render)
    return 0


def show_run(args, ctx: Context) -> int:
    meta = load_run_meta(ctx.store, args.run)
    records = load_records(ctx.store, args.run)
    if args.json:
        print_json({"meta": meta.to_document(), "records": [r.to_document() for r in records]})
        return 0
    console.print(
        f"[bold]{safe(meta.run_id)}[/] · {safe(meta.setting)} · {safe(', '.join(meta.models))} · "
        f"{safe(meta.status or '')}"
    )
    print_table(
        None,
        ["model", "persona", "#", "status", "tool", "ok", "response"],
        [
            (
                r.model,
                r.persona_id,
                r.situation_index + 1,
                r.status,
                r.tool_folder or "—",
                "—" if r.tool_result is None else "yes" if r.tool_ran else "no",
                _preview(r.response or (r.error.message if r.error else "") or ""),
            )
            for r in records
        ],
    )
    variants = len(load_variant_records(ctx.store, args.run))
    if variants:
        console.print(
            f"{variants} what-if variant items, not counted above: compass-tui variants list {safe(args.run)}"
        )
    _print_judge_summaries(ctx, args.run)
    return 0


def _print_judge_summaries(ctx: Context, run_id: str) -> None:
    """Per judge and prompt: each model's dimension means with their n, flags (⚑) and spread (±)."""
    from compass_tui.report import judge_summaries
    from compass_tui.report_format import dimension_cell
    from compass_tui.vocab import DIMENSIONS

    personas = ctx.personas_by_id()
    rows, notes = judge_summaries(ctx.store, run_id, personas)
    for note in notes:
        console.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
    if not rows:
        if not notes:
            console.print("Not judged yet: compass-tui judge " + run_id, markup=False, highlight=False)
        return
    print_table(
        "Judge scores (n: items with a valid score, ⚑ flagged, ± spread over samples)",
        ["judge", "prompt", "model", *(d.short for d in DIMENSIONS), "Avg", "stale"],
        [
            (
                row.judge_model,
                row.prompt_label,
                row.model,
                *(dimension_cell(row.scores[d.key], intervals=False) or "—" for d in DIMENSIONS),
                "—" if row.avg is None else f"{row.avg:.2f}",
                row.stale,
            )
            for row in rows
        ],
    )


def import_run(args, ctx: Context) -> int:
    model = args.model or args.file.stem
    run_id = args.name or f"import-{re.sub(r'[^A-Za-z0-9_.-]+', '-', args.file.stem)}"
    summary = import_results(ctx.store, ctx.library, args.file, run_id, model, args.setting)
    emit(
        args,
        summary,
        lambda s: console.print(_import_line(s, args.setting), markup=False, highlight=False, soft_wrap=True),
    )
    return 0


def _import_line(summary: dict, forced: str | None) -> str:
    """'Imported 45 interactions of 3 users as run R: history (with history), detected (the shape of
    the history scripts); 9 scored, 44 with a response, 1 tool_call_failed, 1 error'."""
    setting = summary["setting"]
    if summary["history"] is not None:
        setting += " (with history)" if summary["history"] else " (without history)"
    how = "--setting" if forced else "detected"
    counts = [
        f"{summary['scored']} scored",
        f"{summary['responses']} with a response",
        f"{summary['tool_calls_only']} tool calls without a response",
        f"{summary['tool_call_failed']} tool_call_failed",
        f"{summary['errors']} errors",
    ]
    return (
        f"Imported {summary['records']} interactions of {summary['users']} users as run "
        f"{summary['run_id']}: {setting}, {how} (file shape {summary['shape']}); " + ", ".join(counts)
    )


def _preview(text: str, limit: int = 60) -> str:
    """A response on one line: its words, cut at `limit` characters with an ellipsis (`runs show --json`
    and the stepper have it whole)."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
