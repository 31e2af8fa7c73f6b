"""The web server behind `compass-tui serve`: textual-serve, with a token check on every request.

With a token, every HTTP request and the websocket must carry it: as `?token=...` (the page
then sets an HttpOnly, SameSite=Strict cookie, so the page's own static files and its websocket
pass), as that cookie, or as an `Authorization: Bearer ...` header. Anything else gets 401.
"""

from __future__ import annotations

import hmac

TOKEN_COOKIE = "compass_tui_token"
TOKEN_PARAMETER = "token"


def make_server(command: str, host: str, port: int, token: str | None, public_url: str | None = None):
    """A textual_serve Server whose aiohttp app checks `token` (if given) on every request."""
    from textual_serve.server import Server

    class TokenServer(Server):
        async def _make_app(self):
            app = await super()._make_app()
            if token:
                app.middlewares.append(token_middleware(token, secure=self.public_url.startswith("https")))
            return app

    return TokenServer(command, host=host, port=port, title="compass-tui", public_url=public_url)


def token_middleware(token: str, secure: bool = False):
    """aiohttp middleware: 401 unless the request carries `token` (query, cookie or bearer header)."""
    from aiohttp import web

    expected = token.encode("utf-8")

    def offered(request) -> str:
        header = request.headers.get("Authorization", "")
        bearer = header[7:] if header.lower().startswith("bearer ") else ""
        return request.query.get(TOKEN_PARAMETER) or request.cookies.get(TOKEN_COOKIE) or bearer

    @web.middleware
    async def require_token(request, handler):
        if not hmac.compare_digest(offered(request).encode("utf-8"), expected):
            raise web.HTTPUnauthorized(
                text="compass-tui: this server needs a token (?token=...)\n",
                headers={"WWW-Authenticate": 'Bearer realm="compass-tui"'},
            )
        response = await handler(request)
        if TOKEN_PARAMETER in request.query and not response.prepared:
            response.set_cookie(
                TOKEN_COOKIE, token, httponly=True, samesite="Strict", secure=secure, path="/"
            )
        return response

    return require_token
