"""`compass-tui tools ...`: list the 12 tools, show one, call one."""

from __future__ import annotations

import json

from compass_tui.cli.output import console, emit, print_json, print_table, safe
from compass_tui.errors import InputError, NotFoundError
from compass_tui.jsonio import load_json, loads_strict
from compass_tui.paths import shared_compass_bench
from compass_tui.tools.environment import ToolContext
from compass_tui.vocab import TOOLS, tool_folder
from compass_tui.workspace import Context

BAD_PARAMS_CODES = ("unknown_tool", "malformed_call", "invalid_params")


def add_parser(commands) -> None:
    tools = commands.add_parser("tools", help="list, show and call the 12 ComPASS tools")
    sub = tools.add_subparsers(dest="action", required=True, metavar="ACTION")

    listing = sub.add_parser("list", help="the tools, their functions and where their data comes from")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=list_tools)

    show = sub.add_parser("show", help="a tool's JSON-Schema definition and examples")
    show.add_argument("name", help="function name (search_jokes) or tool folder (joke_recommendation)")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(handler=show_tool)

    call = sub.add_parser("call", help="call a tool, as an agent would")
    call.add_argument("name", help="function name or tool folder")
    call.add_argument("--params", required=True, help='parameters as JSON, e.g. \'{"keywords": ["calm"]}\'')
    call.add_argument("--persona", help="persona id, for stateful tools and patient details")
    call.add_argument("--scope", default="cli", help="whose tool state to use (a run id; default: cli)")
    call.add_argument(
        "--search",
        choices=("auto", "embedding", "lexical"),
        default="auto",
        help="retrieval: embeddings when the model loads (auto), or TF-IDF",
    )
    call.add_argument("--json", action="store_true", help="print the full result record as JSON")
    call.set_defaults(handler=call_tool)

    reset = sub.add_parser("reset", help="forget a persona's schedule and appointments in a scope")
    reset.add_argument("--persona", required=True)
    reset.add_argument("--scope", default="cli")
    reset.set_defaults(handler=reset_state)


def _folder(name: str) -> str:
    folder = tool_folder(name)
    if folder is None:
        raise NotFoundError(None, "NAME", f"unknown tool {name!r}; see `compass-tui tools list`")
    return folder


def list_tools(args, ctx: Context) -> int:
    env = ctx.tool_environment(search_mode="lexical")
    sources = env.data.sources()
    data_of = {
        "music_recommendation": "music",
        "film_recommendation": "movies",
        "joke_recommendation": "jokes",
        "story_recommender": "stories",
        "psyweb_recommender": "psychology_pages",
        "strength_card": "strengths",
        "sticker_respond": "stickers",
        "medical_appointment": "hospitals",
    }
    rows = []
    for tool in TOOLS:
        catalogue = data_of.get(tool.folder)
        kind = (
            "retrieval"
            if catalogue and tool.folder != "medical_appointment"
            else "stateful"
            if tool.folder in ("schedule_manager", "medical_appointment")
            else "generation"
        )
        source = (
            sources[catalogue]
            if catalogue
            else ("tool model" if ctx.settings.tool_model else "offline template")
        )
        if catalogue and tool.folder != "medical_appointment":
            source = f"{len(getattr(env.data, catalogue).items)} items · {source}"
        rows.append(
            {
                "folder": tool.folder,
                "function": tool.function,
                "label": tool.label,
                "kind": kind,
                "data": source,
            }
        )
    emit(
        args,
        rows,
        lambda r: print_table(
            "The 12 ComPASS tools",
            ["tool folder", "function", "kind", "data"],
            [(x["folder"], x["function"], x["kind"], x["data"]) for x in r],
        ),
    )
    return 0


def show_tool(args, ctx: Context) -> int:
    folder = _folder(args.name)
    env = ctx.tool_environment(search_mode="lexical")
    definition = env.definitions[folder]
    examples = _examples(folder)
    data = {"tool_folder_name": folder, "definition": definition, "examples": examples}

    def render(_):
        console.print(f"[bold]{folder}[/].{definition['name']}  {safe(definition['description'])}")
        console.print_json(json.dumps(definition["parameters"]))
        if examples:
            console.print(
                f"{len(examples)} official example call(s) (from ../shared/compass-bench); --json shows them"
            )

    emit(args, data, render)
    return 0


def _examples(folder: str) -> list:
    shared = shared_compass_bench()
    path = shared / "toolenv" / folder / "examples.json" if shared else None
    if path is None or not path.is_file():
        return []
    examples = load_json(path)
    examples = examples[0] if isinstance(examples, list) else examples
    return [example["input"] for example in examples.values()]


def call_tool(args, ctx: Context) -> int:
    folder = _folder(args.name)
    params = loads_strict(args.params, source="--params")
    persona = ctx.library.get(args.persona) if args.persona else None
    env = ctx.tool_environment(search_mode=args.search)
    function = env.definitions[folder]["name"]
    record = env.call_blocking(
        {"tool_folder_name": folder, "function_name": function, "param": params},
        ToolContext(persona, scope=args.scope),
    )
    _refuse_bad_params(record)
    if args.json:
        print_json(record)
    else:
        _render_record(record, env)
    return 0 if record["ok"] else 1


def _refuse_bad_params(record: dict) -> None:
    """Parameters the tool cannot take are bad input (exit 2); a tool failing on good ones exits 1."""
    error = record["error"]
    if not record["ok"] and error["code"] in BAD_PARAMS_CODES:
        raise InputError("--params", error.get("parameter"), error["message"])


def _render_record(record: dict, env) -> None:
    if record["ok"]:
        console.print_json(json.dumps(record["result"], ensure_ascii=False))
    else:
        error = record["error"]
        where = f" ({error['parameter']})" if error.get("parameter") else ""
        console.print(f"[red]error[/] {error['code']}{safe(where)}: {safe(error['message'])}")
    for note in record.get("notes") or []:
        console.print(f"[yellow]note:[/] {safe(note)}")
    for change in record.get("changes") or []:
        console.print(f"[green]changed:[/] {change['op']} {safe(change['id'])}")
    validation = record.get("validation") or {}
    for note in validation.get("normalisations", []):
        console.print(f"[dim]normalised: {safe(note)}[/]")
    if record.get("search"):
        console.print(f"[dim]{env.engine.status.detail}[/]")
    if record.get("mode") == "offline template":
        console.print("[dim]offline template (no tool model configured)[/]")


def reset_state(args, ctx: Context) -> int:
    ctx.library.get(args.persona)  # a mistyped persona is bad input, not a reset of nothing
    ctx.tool_environment(search_mode="lexical").reset_state(args.scope, args.persona)
    console.print(f"Reset the schedule and appointments of {args.persona} in scope {args.scope!r}.")
    return 0
