"""`compass-tui serve`: the TUI in a web browser; the server itself is `compass_tui.app.web`.

Each browser connection starts `python -m compass_tui` in its own process. The server listens
on loopback unless told otherwise; any other address needs a token, because whoever reaches
the page drives the TUI and with it the data dir and the model keys.
"""

from __future__ import annotations

import ipaddress
import os
import shlex
import sys

from compass_tui.cli.output import console
from compass_tui.errors import InputError
from compass_tui.workspace import Context

TOKEN_ENV = "COMPASS_TUI_SERVE_TOKEN"
MIN_TOKEN_CHARS = 16


def add_parser(commands) -> None:
    serve = commands.add_parser("serve", help="serve the TUI to a web browser")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, loopback)"
    )
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--token", help=f"required of every request; needed for a non-loopback --host (default: ${TOKEN_ENV})"
    )
    serve.add_argument(
        "--public-url",
        help="the URL browsers reach the server at, if not http://HOST:PORT "
        "(e.g. behind a proxy, or when listening on 0.0.0.0)",
    )
    serve.set_defaults(handler=serve_tui)


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses; any other name or address counts as exposed."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_serve_options(host: str, port: int, token: str | None) -> None:
    """Raise InputError for a port out of range, a weak token, or an exposed host without a token."""
    if not 1 <= port <= 65535:
        raise InputError(None, "--port", f"{port} is not a TCP port (1-65535)")
    if token is not None and len(token) < MIN_TOKEN_CHARS:
        raise InputError(
            None,
            "--token",
            f"use at least {MIN_TOKEN_CHARS} characters "
            f"(e.g. python -c 'import secrets; print(secrets.token_urlsafe())')",
        )
    if token is None and not is_loopback(host):
        raise InputError(
            None,
            "--host",
            f"{host} is reachable from other machines; pass --token "
            f"(or set ${TOKEN_ENV}) so only people with it can use the TUI",
        )


def tui_command(args) -> str:
    """The shell command the web server runs per connection: this Python, this package, the same data options."""
    parts = [sys.executable, "-m", "compass_tui"]
    for option, value in (
        ("--data-dir", args.data_dir),
        ("--tool-data", args.tool_data),
        ("--embedding-model", args.embedding_model),
    ):
        if value:
            parts += [option, str(value)]
    return shlex.join(parts)


def serve_tui(args, ctx: Context) -> int:
    from compass_tui.app.web import TOKEN_PARAMETER, make_server

    token = args.token or os.environ.get(TOKEN_ENV) or None
    check_serve_options(args.host, args.port, token)
    server = make_server(tui_command(args), args.host, args.port, token, args.public_url)
    if token:
        console.print(f"Open {server.public_url}/?{TOKEN_PARAMETER}=<your token> in a browser")
    server.serve()
    return 0
