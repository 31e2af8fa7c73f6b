"""`compass-tui serve`: the TUI in a web browser; the server itself is `compass_tui.app.web`.

Each browser connection starts `python -m compass_tui` in its own process. The server listens
on loopback unless told otherwise; any other address needs a token, because whoever reaches
the page drives the TUI and with it the data dir and the model keys. Every request must name
this server in its Host header and, if it has an Origin, come from this server's own pages.
"""

from __future__ import annotations

import ipaddress
import os
import shlex
import socket
import sys
from urllib.parse import urlsplit

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


LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
DEFAULT_PORTS = {"http": 80, "https": 443}


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


def bind_address(host: str) -> str:
    """The address to listen on: an IPv6 literal loses its brackets ("[::1]" -> "::1")."""
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


def url_host(host: str) -> str:
    """The host as written in a URL or a Host header: an IPv6 literal gets brackets."""
    address = bind_address(host).lower()
    return f"[{address}]" if ":" in address else address


def authority(host: str, port: int, scheme: str = "http") -> str:
    """host:port as browsers send it in Host and Origin, which leave out the scheme's default port."""
    return host if DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"


def check_can_listen(host: str, port: int) -> None:
    """Raise InputError unless `host` resolves and `host:port` can be bound right now."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            bind_address(host), port, type=socket.SOCK_STREAM
        )[0]
    except socket.gaierror as error:
        raise InputError(None, "--host", f"cannot resolve {host!r}: {error.strerror}") from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            raise InputError(
                None, "--host", f"cannot listen on {host} port {port}: {error.strerror}"
            ) from None


def public_origin(public_url: str) -> tuple[str, str]:
    """(scheme, host[:port]) of --public-url, as a browser's Origin and Host headers carry them."""
    parts = urlsplit(public_url)
    try:
        port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        port = None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname or port is None:
        raise InputError(
            None, "--public-url", f"{public_url!r} is not an http:// or https:// URL with a host"
        )
    return parts.scheme, authority(url_host(parts.hostname), port, parts.scheme)


def served_hosts(host: str, port: int, public_url: str | None) -> frozenset[str]:
    """The Host headers that name this server: the bound address, its loopback aliases, --public-url's host."""
    names = {url_host(host), *(LOOPBACK_NAMES if is_loopback(host) else ())}
    hosts = {authority(name, port) for name in names}
    if public_url:
        hosts.add(public_origin(public_url)[1])
    return frozenset(hosts)


def served_origins(host: str, port: int, public_url: str | None) -> frozenset[str]:
    """The Origin headers of this server's own pages: http://HOST for each local Host, and --public-url's."""
    origins = {f"http://{name}" for name in served_hosts(host, port, None)}
    if public_url:
        origins.add("://".join(public_origin(public_url)))
    return frozenset(origins)


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
    hosts = served_hosts(args.host, args.port, args.public_url)
    origins = served_origins(args.host, args.port, args.public_url)
    check_can_listen(args.host, args.port)
    public_url = args.public_url or f"http://{authority(url_host(args.host), args.port)}"
    server = make_server(
        tui_command(args), bind_address(args.host), args.port, public_url, token, hosts=hosts, origins=origins
    )
    if token:
        console.print(f"Open {server.public_url}/?{TOKEN_PARAMETER}=<your token> in a browser")
    server.serve()
    return 0
