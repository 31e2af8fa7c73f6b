"""`compass-tui export-training`: chosen interactions of runs as tool-use training data."""

from __future__ import annotations

from pathlib import Path

from compass_tui.cli.output import console, error_console
from compass_tui.errors import InputError
from compass_tui.safe_text import printable
from compass_tui.tools.data import ToolData
from compass_tui.tools.definitions import load_definitions
from compass_tui.training import (
    FORMATS,
    SOURCES,
    TrainingFilter,
    check_destination,
    check_selection,
    collect,
    manifest_path,
    write_training,
)
from compass_tui.workspace import Context


def add_parser(commands) -> None:
    export = commands.add_parser(
        "export-training", help="write chosen interactions as tool-use training data (JSON Lines)"
    )
    export.add_argument("runs", nargs="+", metavar="RUN")
    export.add_argument("--format", choices=FORMATS, required=True)
    export.add_argument("--out", type=Path, required=True, help="the JSONL file; a manifest goes beside it")
    export.add_argument(
        "--min-score", type=float, metavar="S", help="keep items whose mean of the six scores is at least S"
    )
    export.add_argument("--source", choices=SOURCES, default="judge", help="whose scores --min-score reads")
    export.add_argument("--judge-model", help="which judge, when a run has several")
    export.add_argument("--judge-prompt", help="which judge prompt: ours, official, or a prompt hash prefix")
    export.add_argument("--require-pass", action="store_true", help="keep only items whose tool call ran")
    export.set_defaults(handler=export_training_command)


def export_training_command(args, ctx: Context) -> int:
    chosen = _filter(args)
    out: Path = args.out
    check_destination(out)
    definitions = load_definitions(ToolData(ctx.tool_data_dir).toolenv)
    training = collect(
        ctx.store,
        args.runs,
        ctx.personas_by_id(),
        definitions,
        chosen,
        with_scores=chosen.reads_scores or args.format == "jsonl",
    )
    for refusal in training.refusals:
        error_console.print(f"refused {printable(refusal.line())}", markup=False, highlight=False)
    check_selection(training, chosen)
    write_training(training, args.format, chosen, definitions, out)
    refused = ", ".join(f"{n} {reason}" for reason, n in training.refused_by_reason().items())
    console.print(
        f"Wrote {len(training.examples)} of {training.considered} interactions ({args.format}) to "
        f"{printable(str(out))}; refused {len(training.refusals)}"
        + (f" ({refused})" if refused else "")
        + f"; manifest {printable(str(manifest_path(out)))}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    return 0


def _filter(args) -> TrainingFilter:
    if args.min_score is not None and not 1 <= args.min_score <= 5:
        raise InputError(None, "--min-score", "must be a number from 1 to 5")
    if args.source == "human" and (args.judge_model or args.judge_prompt):
        option = "--judge-model" if args.judge_model else "--judge-prompt"
        raise InputError(None, option, "selects judge scores: use it with --source judge")
    return TrainingFilter(args.min_score, args.source, args.judge_model, args.judge_prompt, args.require_pass)
