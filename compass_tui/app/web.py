"""The web server behind `compass-tui serve`: textual-serve, with Host, Origin and token checks.

Every request and the websocket handshake get 403 unless their Host header names this server
and their Origin, if any, is one of its own pages: no other site's page can reach the TUI, not
by a cross-origin websocket nor by DNS rebinding. With a token, `?token=...` is answered with a
303 to the same URL without it, setting an HttpOnly, SameSite=Strict cookie; after that the
cookie (or an `Authorization: Bearer ...` header) must carry the token. The access log leaves
out query strings, so a token in a URL never reaches it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import signal
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

TOKEN_COOKIE = "compass_tui_token"
TOKEN_PARAMETER = "token"


def make_server(
    command: str,
    host: str,
    port: int,
    public_url: str,
    token: str | None,
    hosts: frozenset[str],
    origins: frozenset[str],
):
    """A textual_serve Server that refuses foreign Hosts and Origins, and requests without `token` if given."""
    from textual_serve.server import Server

    class GuardedServer(Server):
        async def _make_app(self):
            app = await super()._make_app()
            app.middlewares.append(origin_middleware(hosts, origins))
            if token:
                app.middlewares.append(token_middleware(token, port, public_url))
            return app

        def serve(self, debug: bool = False) -> None:
            """textual-serve's serve(), with an access log that leaves out query strings."""
            self.debug = debug
            self.initialize_logging()
            loop = asyncio.new_event_loop()
            with contextlib.suppress(NotImplementedError):  # Windows has no loop signal handlers
                for stop in (signal.SIGINT, signal.SIGTERM):
                    loop.add_signal_handler(stop, self.request_exit)
            web.run_app(
                self._make_app(),
                host=self.host,
                port=self.port,
                handle_signals=False,
                loop=loop,
                print=lambda *args: None,
                access_log_class=PathOnlyAccessLogger,
            )

    return GuardedServer(command, host=host, port=port, title="compass-tui", public_url=public_url)


def origin_middleware(hosts: frozenset[str], origins: frozenset[str]):
    """aiohttp middleware: 403 unless the Host header is in `hosts` and the Origin, if sent, in `origins`."""

    @web.middleware
    async def require_own_origin(request, handler):
        host = request.headers.get("Host", "").lower()
        origin = request.headers.get("Origin")
        if host not in hosts:
            raise web.HTTPForbidden(
                text=f"compass-tui: Host {host!r} is not this server; behind a proxy, pass --public-url\n"
            )
        if origin is not None and origin.lower() not in origins:
            raise web.HTTPForbidden(text=f"compass-tui: refused a request from a page of {origin!r}\n")
        return await handler(request)

    return require_own_origin


def token_middleware(token: str, port: int, public_url: str):
    """aiohttp middleware: `?token=` becomes a cookie by a 303; then 403 unless cookie or bearer header match."""

    expected = token.encode("utf-8")
    cookie = f"{TOKEN_COOKIE}_{port}"
    path_prefix = urlsplit(public_url).path.rstrip("/")
    secure = public_url.startswith("https:")

    def matches(offered: str) -> bool:
        return hmac.compare_digest(offered.encode("utf-8"), expected)

    def bearer(request) -> str:
        header = request.headers.get("Authorization", "")
        return header[7:] if header.lower().startswith("bearer ") else ""

    def refused():
        return web.HTTPForbidden(
            text="compass-tui: this server needs a token (open the URL with ?token=...)\n"
        )

    @web.middleware
    async def require_token(request, handler):
        if TOKEN_PARAMETER in request.query:
            if not matches(request.query[TOKEN_PARAMETER]):
                raise refused()
            target = request.rel_url.without_query_params(TOKEN_PARAMETER)
            location = path_prefix + "/" + str(target).lstrip("/")
            redirect = web.Response(status=303, headers={"Location": location})
            redirect.set_cookie(cookie, token, httponly=True, samesite="Strict", secure=secure, path="/")
            return redirect
        if not (matches(request.cookies.get(cookie, "")) or matches(bearer(request))):
            raise refused()
        return await handler(request)

    return require_token


class PathOnlyAccessLogger(AbstractAccessLogger):
    """One access-log line per request, without the query string (where a token could be)."""

    def log(self, request, response, time: float) -> None:
        self.logger.info(
            '%s "%s %s" %s %.3fs', request.remote, request.method, request.path, response.status, time
        )
