"""`compass-tui personas ...`"""

from __future__ import annotations

import sys
from pathlib import Path

from rich.text import Text

from compass_tui.cli.output import console, emit, print_table, safe
from compass_tui.compass_format import load_compass_file
from compass_tui.errors import InputError
from compass_tui.jsonio import load_json
from compass_tui.persona import Persona, persona_from_dict, persona_to_dict
from compass_tui.safe_text import printable
from compass_tui.vocab import SCENARIO_BY_KEY
from compass_tui.wording import counted
from compass_tui.workspace import Context


def add_parser(commands) -> None:
    personas = commands.add_parser("personas", help="list, show, import, export and validate personas")
    sub = personas.add_subparsers(dest="action", required=True, metavar="ACTION")

    listing = sub.add_parser("list", help="list bundled, imported and authored personas")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.add_argument("--filter", default="", help="only personas whose id or name contains this text")
    listing.set_defaults(handler=list_personas)

    show = sub.add_parser("show", help="show one persona, with its parsed preferences")
    show.add_argument("id")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(handler=show_persona)

    importing = sub.add_parser(
        "import", help="import a ComPASS-Bench persona file (test_set_correct_form.json)"
    )
    importing.add_argument("file", type=Path)
    importing.add_argument("--json", action="store_true", help="print JSON")
    importing.set_defaults(handler=import_personas)

    export = sub.add_parser("export", help="write personas in the ComPASS-Bench format")
    export.add_argument(
        "dest", type=Path, help="a .json file, or a directory (gets test_set_correct_form.json)"
    )
    export.add_argument(
        "--personas", default="all", help="selector: ids, globs, all|bundled|imported|authored"
    )
    export.set_defaults(handler=export_personas)

    validate = sub.add_parser(
        "validate", help="check a persona file (ours or ComPASS's) without importing it"
    )
    validate.add_argument("file", type=Path)
    validate.add_argument("--json", action="store_true", help="print JSON")
    validate.set_defaults(handler=validate_file)

    synth = sub.add_parser(
        "synthesise", help="write new personas with an LLM, stage by stage (resumable; README: Synthesising)"
    )
    synth.add_argument("--model", help="a model of compass-tui.toml")
    synth.add_argument("--count", type=int, help="how many personas")
    synth.add_argument("--seed", type=int, default=0, help="draws each persona's starting points (default 0)")
    synth.add_argument(
        "--scenario-mix",
        help="situations per scenario type, adding up to 15: work_study=3,health=3,... or 3,3,3,3,3 (default)",
    )
    synth.add_argument(
        "--resume", metavar="JOB", help="resume a job by its id (instead of the options above)"
    )
    synth.add_argument("--json", action="store_true", help="print the summary as JSON")
    synth.set_defaults(handler=synthesise_personas)


def list_personas(args, ctx: Context) -> int:
    wanted = args.filter.lower()
    entries = [
        entry for entry in ctx.library.entries() if wanted in entry.id.lower() or wanted in entry.name.lower()
    ]
    summaries = [entry.summary() for entry in entries]

    def render(rows):
        print_table(
            counted(len(rows), "persona"),
            ["id", "kind", "name", "age", "career", "notes"],
            [
                (
                    r["id"],
                    r["kind"],
                    r.get("name", ""),
                    r.get("age", ""),
                    r.get("career", ""),
                    r.get("error") or "; ".join(r.get("warnings", [])),
                )
                for r in rows
            ],
        )

    emit(args, summaries, render)
    return 0


def show_persona(args, ctx: Context) -> int:
    entry = ctx.library.get_entry(args.id)
    if entry.persona is None:
        raise entry.failure()
    persona = entry.persona
    data = persona_to_dict(persona) | {
        "kind": entry.kind,
        "path": str(entry.path),
        "warnings": persona.warnings(),
    }
    emit(args, data, lambda _: _render_persona(persona))
    return 0


def _render_persona(persona: Persona) -> None:
    d = persona.demographic
    console.print(
        f"[bold]{safe(persona.display_name)}[/] ({safe(persona.id)}) · {safe(d.age)} · {safe(d.gender)} · "
        f"{safe(d.career)}"
    )
    console.print(Text(printable(persona.personality_description, multiline=True)))
    rows = []
    for key, preference in persona.tool_preferences.items():
        rows.append(
            (
                SCENARIO_BY_KEY[key].label,
                ", ".join(preference.liked),
                ", ".join(preference.disliked),
                ", ".join(preference.ambiguous),
            )
        )
    print_table("Tool preferences", ["scenario", "liked", "disliked", "unclear"], rows)
    print_table(
        "Situations",
        ["#", "type", "emotion", "utterance"],
        [
            (
                i + 1,
                SCENARIO_BY_KEY[s.scenario_type].label if s.scenario_type else "?",
                s.emotion,
                s.utterance,
            )
            for i, s in enumerate(persona.situations)
        ],
    )
    for warning in persona.warnings():
        console.print(f"[yellow]note:[/] {safe(warning)}")


def import_personas(args, ctx: Context) -> int:
    result = ctx.library.import_compass(args.file)
    data = {"added": result.added, "unchanged": result.unchanged, "kept_edited": result.kept_edited}

    def render(_):
        console.print(
            f"Imported {safe(args.file)}: {len(result.added)} added, {len(result.unchanged)} unchanged, "
            f"{len(result.kept_edited)} kept (edited here; delete them to re-import)."
        )

    emit(args, data, render)
    return 0


def export_personas(args, ctx: Context) -> int:
    written = ctx.library.export_compass(args.dest, args.personas)
    console.print(f"Wrote {written}")
    return 0


def validate_file(args, ctx: Context) -> int:
    data = load_json(args.file)
    if isinstance(data, dict) and ("situations" in data or "format" in data):
        personas = [persona_from_dict(data, source=args.file)]
    elif isinstance(data, dict) and data and all(isinstance(v, dict) for v in data.values()):
        personas = load_compass_file(args.file)
    else:
        raise InputError(
            args.file,
            None,
            "expected a compass-tui persona, or a ComPASS persona file (a JSON object of users keyed by id)",
        )
    report = {
        "file": str(args.file),
        "personas": len(personas),
        "warnings": {p.id: p.warnings() for p in personas if p.warnings()},
    }

    def render(_):
        console.print(f"{safe(args.file)}: valid, {len(personas)} persona(s)")
        for persona_id, notes in report["warnings"].items():
            for note in notes:
                console.print(f"[yellow]note:[/] {safe(persona_id)}: {safe(note)}")

    emit(args, report, render)
    return 0


def synthesise_personas(args, ctx: Context) -> int:
    plan = _synthesis_plan(args, ctx)
    result = ctx.synthesise_personas(
        plan, lambda event: print(f"compass-tui: {printable(event.line())}", file=sys.stderr, flush=True)
    )
    emit(args, result.to_dict(), lambda _: _render_synthesis(result))
    return 1 if result.failed else 0


def _synthesis_plan(args, ctx: Context):
    from compass_tui.config import BASELINE_MODEL
    from compass_tui.synthesis import SynthesisPlan, load_plan, parse_mix

    if args.resume:
        given = [name for name in ("model", "count", "scenario_mix") if getattr(args, name) is not None]
        if given:
            raise InputError(
                None, f"--{given[0].replace('_', '-')}", "not with --resume (the job keeps its own)"
            )
        return load_plan(ctx.store, args.resume, ctx.settings)
    for name in ("model", "count"):
        if getattr(args, name) is None:
            raise InputError(None, f"--{name}", "required (or --resume JOB)")
    if args.model == BASELINE_MODEL:
        raise InputError(None, "--model", "the offline baseline writes no personas; name an LLM")
    mix = parse_mix(args.scenario_mix)
    return SynthesisPlan(args.model, ctx.settings.model(args.model), args.count, args.seed, mix)


def _render_synthesis(result) -> None:
    console.print(
        f"Job {safe(result.job)}: {len(result.written)} written, {len(result.already)} finished earlier, "
        f"{len(result.failed)} failed · {result.requests} LLM calls"
    )
    if result.sampling_seed is None:
        console.print(f"The provider of {safe(result.plan['model'])} takes no seed: sampled without one")
    if result.personas:
        print_table("Personas", ["id"], [(persona_id,) for persona_id in result.personas])
    if result.failed:
        print_table(
            "Failed (rerun the command to retry from the failed stage)",
            ["#", "stage", "reason"],
            [(failure.index, failure.stage, failure.reason) for failure in result.failed],
        )
    report = result.duplicates
    if report is not None:
        console.print(
            f"Near-duplicates: {len(report.pairs)} pair(s) at similarity >= {report.threshold:g} among "
            f"{report.compared} backgrounds ({safe(report.detail)})"
        )
        if report.pairs:
            print_table(
                None,
                ["persona", "persona", "similarity"],
                [(pair.first, pair.second, f"{pair.similarity:.3f}") for pair in report.pairs],
            )
