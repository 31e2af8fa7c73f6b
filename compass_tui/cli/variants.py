"""`compass-tui variants add|list`: what-if utterances of a run's situations (the stepper's `w`)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from compass_tui.cli.output import console, emit, print_json, print_table
from compass_tui.errors import InputError
from compass_tui.persona import Persona
from compass_tui.prompts import our_prompts
from compass_tui.records import find_run_meta, load_variant_records
from compass_tui.runner import RunPlan, RunProgress, check_keys, execute_run, resolve_systems
from compass_tui.variants import Variant, make_variant, read_utterance_file
from compass_tui.vocab import SETTINGS
from compass_tui.workspace import Context


def add_parser(commands) -> None:
    variants = commands.add_parser("variants", help="what-if utterances: run a situation on edited words")
    sub = variants.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = sub.add_parser("add", help="run the run's models on edited utterances, stored as variants")
    add.add_argument("run", help="the run to add to (created when new)")
    add.add_argument("--persona", required=True)
    add.add_argument("--situation", type=int, help="1-based situation number (with --text)")
    add.add_argument("--text", help="what the user says instead")
    add.add_argument(
        "--utterance-file", type=Path, help="situation -> text: JSON or TOML mapping, or `N: text` lines"
    )
    add.add_argument("--models", help="comma-separated (default: the run's models)")
    add.add_argument("--setting", choices=SETTINGS, help="for a new run (default: the run's, else profile)")
    add.add_argument("--search", choices=("auto", "embedding", "lexical"), default="auto")
    add.add_argument("--json", action="store_true")
    add.set_defaults(handler=add_command)
    listing = sub.add_parser("list", help="a run's variants, each system's status")
    listing.add_argument("run")
    listing.add_argument("--persona")
    listing.add_argument("--json", action="store_true", help="print the full records")
    listing.set_defaults(handler=list_command)


def requested_variants(args, persona: Persona) -> list[Variant]:
    if args.utterance_file is not None:
        if args.text is not None or args.situation is not None:
            raise InputError(
                None, "--utterance-file", "give either --utterance-file or --situation and --text"
            )
        return read_utterance_file(args.utterance_file, persona)
    if args.text is None or args.situation is None:
        raise InputError(None, "--text", "give --situation N and --text TEXT, or --utterance-file FILE")
    return [make_variant(persona, args.situation - 1, args.text, None, "--text")]


def add_command(args, ctx: Context) -> int:
    persona = ctx.library.get(args.persona)
    variants = requested_variants(args, persona)
    meta = find_run_meta(ctx.store, args.run)
    prompts = our_prompts()
    if meta is not None and meta.prompt_hash != prompts.hash:
        raise InputError(
            None,
            "RUN",
            f"run {args.run!r} used other prompts ({meta.prompt_source}); variants use ours",
        )
    names = (
        [n.strip() for n in args.models.split(",") if n.strip()]
        if args.models
        else (meta.models if meta else [])
    )
    if not names:
        raise InputError(None, "--models", f"run {args.run!r} does not exist yet: name its --models")
    setting = args.setting or (meta.setting if meta else "profile")
    if meta is not None and setting != meta.setting:
        raise InputError(None, "--setting", f"run {args.run!r} is {meta.setting}, not {setting}")
    systems = resolve_systems(names, setting, ctx.settings)
    check_keys(systems)
    env = ctx.tool_environment(search_mode=args.search)
    results, failed = [], False
    for variant in variants:
        plan = RunPlan(
            args.run,
            setting,
            systems,
            [persona],
            prompts,
            concurrency=ctx.settings.concurrency,
            max_retries=ctx.settings.max_retries,
            variant=variant,
        )
        progress: RunProgress = asyncio.run(execute_run(plan, ctx.store, env))
        failed = failed or progress.failed
        for line in progress.notes + progress.summary_lines():
            print(f"compass-tui: {line}", file=sys.stderr)
        results.append(
            {
                "situation": variant.situation_index + 1,
                "variant": variant.id,
                "text": variant.text,
                "finished": progress.finished,
                "skipped": progress.skipped,
                "errors": progress.errors,
            }
        )
    emit(args, results, _print_added)
    return 1 if failed else 0


def _print_added(results: list[dict]) -> None:
    for r in results:
        console.print(
            f"situation {r['situation']} what-if {r['variant']}: {r['finished']} finished, "
            f"{r['skipped']} already done, {r['errors']} errors",
            markup=False,
            highlight=False,
        )


def list_command(args, ctx: Context) -> int:
    records = load_variant_records(ctx.store, args.run, args.persona)
    if args.persona and not records:
        ctx.library.get(args.persona)  # a mistyped persona is bad input, not an empty list
    if args.json:
        print_json([r.to_document() for r in records])
        return 0
    print_table(
        f"{len(records)} what-if variant items of {args.run}",
        ["persona", "#", "variant", "model", "status", "what-if text", "original"],
        [
            (
                r.persona_id,
                r.situation_index + 1,
                r.variant_id,
                r.model,
                r.status,
                r.what_if.text[:50],
                (r.what_if.original_utterance or "")[:40],
            )
            for r in records
        ],
    )
    return 0
