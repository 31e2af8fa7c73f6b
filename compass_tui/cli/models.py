"""`compass-tui models list|check NAME`"""

from __future__ import annotations

import asyncio

from compass_tui.baseline import BASELINE_LABEL
from compass_tui.cli.output import console, emit, print_table
from compass_tui.config import BASELINE_MODEL
from compass_tui.paths import config_file
from compass_tui.workspace import Context


def add_parser(commands) -> None:
    models = commands.add_parser("models", help="list configured models, or check that one answers")
    sub = models.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = sub.add_parser("list", help="models from compass-tui.toml, plus the offline baseline")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=list_models)
    check = sub.add_parser("check", help="send one short request to a model and report what happened")
    check.add_argument("name")
    check.add_argument("--json", action="store_true", help="print JSON")
    check.set_defaults(handler=check_model)


def list_models(args, ctx: Context) -> int:
    rows: list[dict[str, object]] = [
        {"name": BASELINE_MODEL, "model": BASELINE_LABEL, "api_base": None, "key": "not needed"}
    ]
    for name, model in ctx.settings.models.items():
        key_state = (
            "not needed"
            if not model.api_key_env
            else (f"{model.api_key_env} set" if model.api_key() else f"{model.api_key_env} NOT SET")
        )
        rows.append(
            {
                "name": name,
                "model": model.model,
                "api_base": model.api_base,
                "key": key_state,
                "temperature": model.temperature,
                "reasoning_effort": model.reasoning_effort,
            }
        )

    def render(data):
        print_table(
            f"Models (config: {config_file() or 'none found'})",
            ["name", "litellm model", "api base", "key"],
            [(r["name"], r["model"], r["api_base"] or "", r["key"]) for r in data],
        )

    emit(args, rows, render)
    return 0


def check_model(args, ctx: Context) -> int:
    if args.name == BASELINE_MODEL:
        emit(
            args,
            {"name": args.name, "ok": True, "detail": BASELINE_LABEL},
            lambda _: console.print("baseline: ok (offline)"),
        )
        return 0
    model = ctx.settings.model(args.name)
    from compass_tui.llm import LLMError, acomplete, uses_native_tools

    messages = [{"role": "user", "content": "Reply with the single word: ready"}]
    try:
        result = asyncio.run(acomplete(model, messages, max_retries=1))
    except LLMError as error:
        emit(
            args,
            {"name": args.name, "ok": False, "kind": error.kind, "error": str(error)},
            lambda data: console.print(f"[red]{args.name}: {data['error']}[/]"),
        )
        return 1
    data = {
        "name": args.name,
        "ok": True,
        "reply": result.text,
        "latency_s": round(result.latency_s, 3),
        "native_tools": uses_native_tools(model),
        "cost_usd": result.cost_usd,
    }
    emit(
        args,
        data,
        lambda d: console.print(
            f"{args.name}: ok in {d['latency_s']} s · replied {d['reply']!r} · "
            f"{'native function calling' if d['native_tools'] else 'JSON tool calls'}"
        ),
    )
    return 0
