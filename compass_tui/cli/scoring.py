"""`compass-tui judge`, `report`, `score` and `export`: judging, tables, hand scores and their CSV."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from compass_tui.annotations import Annotation, load_annotation, load_annotations, save_annotation
from compass_tui.cli.output import console, emit, error_console
from compass_tui.errors import InputError
from compass_tui.judge import FatalJudgeError, judge_run, load_judge_prompt, records_to_judge
from compass_tui.judgements import ScoreSource
from compass_tui.records import load_records, load_run_meta, load_variant_records, system_id
from compass_tui.report import BREAKDOWNS, SESSION_SCOPE, Report, build_report
from compass_tui.report_comparisons import comparison_tables
from compass_tui.report_format import render, runs_needed, table2_cells, tool_call_cells
from compass_tui.vocab import DIMENSION_KEYS
from compass_tui.wording import counted
from compass_tui.workspace import Context


def add_parser(commands) -> None:
    judge = commands.add_parser("judge", help="score a run's responses with an LLM judge (resumable)")
    judge.add_argument("run")
    judge.add_argument(
        "--judge-model", help="model name from compass-tui.toml (default: settings.judge_model)"
    )
    judge.add_argument("--judge-prompt", type=Path, help="ComPASS's eval_prompt.txt instead of our prompt")
    judge.add_argument("--samples", type=int, default=1, help="judge each item K times; keep mean and spread")
    judge.add_argument("--concurrency", type=int, help="judge calls in flight")
    judge.add_argument(
        "--variants",
        action="store_true",
        help="judge the run's what-if variants (kept apart from the originals)",
    )
    judge.add_argument("--json", action="store_true")
    judge.set_defaults(handler=judge_command)

    report = commands.add_parser(
        "report", help="Table-2-style comparison of runs (and Tables 3-5 where they apply)"
    )
    report.add_argument("runs", nargs="+", metavar="RUN")
    report.add_argument("--format", choices=("table", "md", "csv", "json"), default="table")
    report.add_argument("--source", choices=("judge", "human"), default="judge", help="whose scores")
    report.add_argument("--judge-model", help="which judge, when a run has several")
    report.add_argument(
        "--judge-prompt", help="which judge prompt: ours, official, or a prompt hash prefix (see `runs show`)"
    )
    report.add_argument(
        "--aggregate",
        choices=("ours", "official"),
        default="ours",
        help="Avg: mean of the six dimension means (ours), or ComPASS's avg_score (official)",
    )
    report.add_argument(
        "--by", choices=BREAKDOWNS, help="one row per tool, scenario type, emotion or persona of each system"
    )
    report.add_argument(
        "--variants",
        action="store_true",
        help="also show each what-if variant's systems as rows of their own (never pooled)",
    )
    report.add_argument(
        "--figures",
        type=Path,
        metavar="DIR",
        help="also write the figures as SVG and PDF into DIR (needs compass-tui[figures])",
    )
    report.add_argument(
        "--vs", choices=("judge",), help="with --source human: rank items by |human mean - judge| instead"
    )
    report.add_argument("--dimension", help="with --vs: rank on one dimension (default: the mean over six)")
    report.add_argument("--top", type=int, help="with --vs: show the first N of each ranking")
    report.add_argument(
        "--diagnostics", action="store_true", help="judge diagnostics: length bias, self-consistency, levels"
    )
    report.set_defaults(handler=report_command)

    score = commands.add_parser("score", help="set a human score, comment, flag or skip (what the TUI does)")
    score.add_argument("run")
    score.add_argument("--model", required=True)
    score.add_argument("--persona", required=True)
    score.add_argument("--situation", type=int, required=True, help="1-based situation number")
    score.add_argument("--annotator", default="me")
    score.add_argument("--variant", help="score a what-if variant of the situation (its id: `variants list`)")
    for key in DIMENSION_KEYS:
        score.add_argument(f"--{key}", type=int, metavar="1-5")
    score.add_argument("--comment")
    score.add_argument("--flag", action="store_true")
    score.add_argument("--skip", action="store_true")
    score.add_argument("--commit", action="store_true", help="mark the item's scores as final")
    score.add_argument("--json", action="store_true")
    score.set_defaults(handler=score_command)

    export = commands.add_parser("export", help="write the human scores of session scoring as CSV")
    export.add_argument("--out", type=Path, required=True)
    export.add_argument("--runs", help="comma-separated run ids (default: all)")
    export.set_defaults(handler=export_command)


MAX_SAMPLES = 100


def judge_command(args, ctx: Context) -> int:
    if not 1 <= args.samples <= MAX_SAMPLES:
        raise InputError(
            None, "--samples", f"must be from 1 to {MAX_SAMPLES} (each sample is one call per item)"
        )
    name = args.judge_model or ctx.settings.judge_model
    if not name:
        raise InputError(None, "--judge-model", "no judge model given and settings.judge_model is not set")
    model = ctx.settings.model(name)
    prompt = load_judge_prompt(args.judge_prompt)
    personas = ctx.personas_by_id()
    official = prompt.kind == "official"
    records_to_judge(
        ctx.store, personas, args.run, args.samples, official=official, variants=args.variants
    )  # bad input: before output
    chatter = error_console if args.json else console  # --json keeps stdout for the JSON summary alone
    with Progress(
        TextColumn(f"judging {args.run}{' what-if variants' if args.variants else ''} with {name}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[invalid]} invalid"),
        console=chatter,
    ) as bar:
        task = bar.add_task("judge", total=None, invalid=0)

        def on_progress(progress) -> None:
            bar.update(
                task,
                total=progress.total,
                completed=progress.judged + progress.cached,
                invalid=progress.invalid,
            )

        try:
            progress = asyncio.run(
                judge_run(
                    ctx.store,
                    personas,
                    args.run,
                    model,
                    name,
                    prompt,
                    args.samples,
                    args.concurrency or ctx.settings.concurrency,
                    on_progress,
                    max_retries=ctx.settings.max_retries,
                    variants=args.variants,
                )
            )
        except FatalJudgeError as error:
            error_console.print(f"judging stopped: {error}", markup=False, highlight=False, soft_wrap=True)
            return 1
    summary = {
        "run": args.run,
        "judge_model": name,
        "prompt_hash": prompt.hash,
        "variants": args.variants,
        "judged": progress.judged,
        "cached": progress.cached,
        "invalid": progress.invalid,
        "unscored": progress.unscored,
        "errors": progress.errors,
        "total": progress.total,
    }
    emit(
        args,
        summary,
        lambda s: console.print(
            f"{s['judged']} judged, {s['cached']} from cache, "
            f"{s['invalid']} with a flagged dimension (see `runs show {s['run']}`)"
            + (f", {s['unscored']} without one valid score" if s["unscored"] else "")
            + (f", {s['errors']} stopped by provider errors (rerun to resume)." if s["errors"] else ".")
        ),
    )
    return 1 if progress.errors or progress.unscored else 0


def report_command(args, ctx: Context) -> int:
    personas = ctx.personas_by_id()
    if args.vs or args.diagnostics:
        return triage_command(args, ctx, personas)
    repeated = sorted({run for run in args.runs if args.runs.count(run) > 1})
    if repeated:
        raise InputError(
            None, "RUN", f"run {repeated[0]!r} is listed twice (its rows would be counted twice)"
        )
    for name in ("dimension", "top"):
        if getattr(args, name) is not None:
            raise InputError(None, f"--{name}", "applies to --vs judge only")
    scores = ScoreSource(args.source, args.judge_model, args.judge_prompt)
    if args.variants:
        from compass_tui.variant_report import report_with_variants

        if args.by:
            raise InputError(None, "--variants", "what-if rows are one per variant and system: not with --by")
        report = report_with_variants(ctx.store, args.runs, personas, scores, args.aggregate)
    else:
        report = build_report(ctx.store, args.runs, personas, scores, args.aggregate, args.by)
    if args.figures is not None:
        _write_figures(args, ctx, personas, scores)
    if args.format == "table":
        _print_report(report)
    else:
        sys.stdout.write(render(report, args.format) + ("\n" if args.format != "csv" else ""))
    return 0


def _write_figures(args, ctx: Context, personas: dict, scores: ScoreSource) -> None:
    from compass_tui.figures import write_figures
    from compass_tui.plot_data import report_figures

    figures = report_figures(ctx.store, args.runs, personas, scores)
    written = write_figures(figures, args.figures)
    skipped = [figure.name for figure in figures if figure.empty]
    error_console.print(
        f"{len(written)} figure files in {args.figures}"
        + (f"; no data, not drawn: {', '.join(skipped)}" if skipped else ""),
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


def triage_command(args, ctx: Context, personas: dict) -> int:
    """`report RUN --source human --vs judge` and `report RUN --diagnostics`: one run each."""
    from compass_tui.cli.triage_view import show_diagnostics, show_triage
    from compass_tui.judge_diagnostics import judge_diagnostics
    from compass_tui.triage import check_top, session_disagreements

    flag = "--vs" if args.vs else "--diagnostics"
    if args.vs and args.diagnostics:
        raise InputError(None, "--diagnostics", "choose --vs judge or --diagnostics, not both")
    if len(args.runs) != 1:
        raise InputError(None, "RUN", f"{flag} reads one run; {len(args.runs)} given")
    if args.format not in ("table", "json"):
        raise InputError(None, "--format", f"{flag} prints a table or json")
    if args.by or args.figures or args.aggregate != "ours" or args.variants:
        option = next(name for name, on in OPTIONS_OF_TABLE2 if on(args))
        raise InputError(None, option, f"does not apply to {flag}")
    if args.vs and args.source != "human":
        raise InputError(None, "--vs", "compares human scores with the judge: use --source human")
    if args.diagnostics and args.source != "judge":
        raise InputError(None, "--source", "--diagnostics reads the judge's scores: use --source judge")
    if args.diagnostics and (args.dimension is not None or args.top is not None):
        raise InputError(None, "--dimension" if args.dimension else "--top", "applies to --vs judge only")
    as_json = args.format == "json"
    if args.diagnostics:
        show_diagnostics(
            judge_diagnostics(ctx.store, args.runs[0], personas, args.judge_model, args.judge_prompt), as_json
        )
        return 0
    check_top(args.top)
    triage = session_disagreements(
        ctx.store, args.runs[0], personas, args.dimension, args.judge_model, args.judge_prompt
    )
    show_triage(triage, args.top, as_json)
    return 0


OPTIONS_OF_TABLE2 = (
    ("--by", lambda args: args.by),
    ("--figures", lambda args: args.figures),
    ("--aggregate", lambda args: args.aggregate != "ours"),
    ("--variants", lambda args: args.variants),
)


def _print_report(report: Report) -> None:
    """The terminal shows means with their n; --format md adds the 95 % confidence intervals."""
    for note in report.notes:
        console.print(f"Note: {note}", markup=False, highlight=False, soft_wrap=True)
    if report.rows:
        _print_table2(report)
    if report.variant_rows:
        _print_variants(report)


def _print_variants(report: Report) -> None:
    from compass_tui.cli.output import print_table
    from compass_tui.report_format import VARIANTS_TITLE, variant_cells

    cells = variant_cells(report, intervals=False, compact=True)
    hidden = {"scored by", "setting", "Err", "Pass", "D-1", "D-2", "Accept", "Optimal"}
    hidden |= set() if len({row.run_id for row in report.variant_rows}) > 1 else {"run"}
    headers = [h for h in cells[0] if h not in hidden]
    scored_by = "; ".join(dict.fromkeys(row.provenance for row in report.variant_rows))
    print_table(
        f"{VARIANTS_TITLE} — scores from {scored_by}. A mean's n is the row's n unless shown",
        headers,
        [[row[h] or "—" for h in headers] for row in cells],
    )


def _print_table2(report: Report) -> None:
    from compass_tui.cli.output import print_table

    cells = table2_cells(report, intervals=False, show_run=runs_needed(report.rows), compact=True)
    sources = list(dict.fromkeys(row.provenance for row in report.rows))
    letters = {source: chr(ord("A") + index) for index, source in enumerate(sources)}
    for row in cells:
        row["src"] = letters[row.pop("scored by") or ""]
    rates = ["Err", "Pass", "D-1", "D-2", "Accept", "Optimal"]
    hidden = set(rates) | ({"src"} if len(sources) == 1 else set())
    leading = ("model", "setting", "run", report.by or "", "src")
    headers: list[str] = [h for h in leading if h in cells[0] and h not in hidden]
    headers += [h for h in cells[0] if h not in hidden and h not in headers]
    scored_by = sources[0] if len(sources) == 1 else "; ".join(f"{letters[s]} = {s}" for s in sources)
    title = f"Table 2 by {report.by}" if report.by else "Table 2"
    print_table(
        f"{title} — scores from {scored_by}. A mean's n is the row's n unless shown; "
        "⚑: items left flagged; 95% CIs: --format md",
        headers,
        [[row[h] or "—" for h in headers] for row in cells],
        keys=len([h for h in leading if h in headers]),
    )
    keys = [h for h in ("model", "setting", "run", report.by or "") if h in cells[0]]
    for row, calls in zip(cells, tool_call_cells(report), strict=True):
        row |= {h: calls[h] for h in calls if h not in row}
    official = ["execute_succ_rate", "3turn_execute_succ_rate", "D basis"]
    print_table(
        "Tool calls and diversity (Err: items that failed; Pass counts them as failures; "
        "execute_succ_rate / 3turn_execute_succ_rate: the tool ran at the first / within 3 attempts; "
        "Accept/Optimal: tool not disliked/liked)",
        [*keys, "n", *rates, *official],
        [[row[h] or "—" for h in (*keys, "n", *rates, *official)] for row in cells],
        keys=len(keys),
    )
    for name, table in comparison_tables(report).items():
        columns = list(table[0])
        print_table(
            f"{name} — scores from {report.source}",
            columns,
            [[_delta_cell(row[h]) for h in columns] for row in table],
        )


def _delta_cell(value) -> str:
    if value is None:
        return "—"
    return f"{value:+.2f}" if isinstance(value, float) else str(value)


def score_command(args, ctx: Context) -> int:
    given = [f"--{key}" for key in DIMENSION_KEYS if getattr(args, key) is not None]
    if args.skip and (given or args.commit):
        raise InputError(
            None,
            "--skip",
            f"a skipped item takes no scores and no --commit: {' '.join(given or ['--commit'])}",
        )
    scorable = (
        load_variant_records(ctx.store, args.run) if args.variant else load_records(ctx.store, args.run)
    )
    records = {(r.model, r.persona_id, r.situation_index, r.variant_id): r for r in scorable}
    index = args.situation - 1
    if (args.model, args.persona, index, args.variant) not in records:
        what = f"what-if variant {args.variant} of situation" if args.variant else "situation"
        raise InputError(
            None,
            "--variant" if args.variant else "--situation",
            f"run {args.run!r} has no response of {args.model} for {args.persona} {what} {args.situation}",
        )
    system = system_id(args.run, args.model)
    annotation = load_annotation(
        ctx.store, SESSION_SCOPE, args.annotator, args.persona, index, system, args.variant
    ) or Annotation(SESSION_SCOPE, args.annotator, args.persona, index, system, variant=args.variant)
    for key in DIMENSION_KEYS:
        value = getattr(args, key)
        if value is not None:
            annotation.set_score(key, value)
    if args.comment is not None:
        annotation.comment = args.comment
    annotation.flag = annotation.flag or args.flag
    annotation.skipped = args.skip or annotation.skipped
    annotation.committed = annotation.committed or args.commit
    saved = save_annotation(ctx.store, annotation)
    emit(
        args,
        saved.as_record(),
        lambda a: console.print(
            f"saved (revision {a['revision']}): " + ", ".join(f"{k} {v}" for k, v in a["scores"].items() if v)
        ),
    )
    return 0


def export_command(args, ctx: Context) -> int:
    from compass_tui.export import write_session_csv

    annotations = load_annotations(ctx.store, SESSION_SCOPE)
    if args.runs:
        wanted = {run.strip() for run in args.runs.split(",") if run.strip()}
        for run_id in sorted(wanted):
            load_run_meta(ctx.store, run_id)  # an unknown run is bad input, not an empty export
        annotations = [a for a in annotations if a.system.split("::", 1)[0] in wanted]
    written = write_session_csv(ctx.store, annotations, args.out)
    console.print(f"Wrote {counted(written, 'row')} to {args.out}")
    return 0
