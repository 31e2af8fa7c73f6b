"""`compass-tui serve`: a real server in a subprocess, reached over real HTTP and a real websocket."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import aiohttp
import httpx
import pytest

from compass_tui.app.web import TOKEN_COOKIE
from compass_tui.cli import main
from compass_tui.cli.serve import TOKEN_ENV, is_loopback, served_hosts, served_origins

REPO_ROOT = Path(__file__).resolve().parents[2]
TOKEN = "test-token-0123456789abcdef"
START_TIMEOUT_S = 30


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def _wait_for_port(host: str, port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"serve exited with {process.returncode}: {log.read_text()}")
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"serve did not listen on {port} within {START_TIMEOUT_S}s: {log.read_text()}")


def _has_ipv6_loopback() -> bool:
    try:
        _free_port("::1")
    except OSError:
        return False
    return True


@contextmanager
def serving(tmp_path: Path, *options: str, host: str = "127.0.0.1"):
    """Run `compass-tui serve` on a free port of `host`; yields host:port as a URL writes it."""
    bind = host.strip("[]")
    port = _free_port(bind)
    env = {key: value for key, value in os.environ.items() if key != TOKEN_ENV}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["COLUMNS"] = "1000"  # one log line per request, so a token cannot hide across a wrap
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "compass_tui",
                "--data-dir",
                str(tmp_path / "data"),
                "serve",
                "--host",
                host,
                "--port",
                str(port),
                *options,
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=REPO_ROOT,
        )
    try:
        _wait_for_port(bind, port, process, log)
        yield f"[{bind}]:{port}" if ":" in bind else f"{bind}:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def _first_messages(url: str, **options) -> tuple[aiohttp.WSMessage, bool]:
    """Open the websocket, ping the server, and return the first message and whether the pong came."""
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url, **options) as websocket:
            await websocket.send_json(["ping", "hello"])
            first = None
            async with asyncio.timeout(15):
                async for message in websocket:
                    first = first or message
                    if message.type == aiohttp.WSMsgType.TEXT and json.loads(message.data) == [
                        "pong",
                        "hello",
                    ]:
                        return first, True
            return first, False


def test_serves_page_and_websocket_on_loopback(tmp_path):
    with serving(tmp_path) as address:
        page = httpx.get(f"http://{address}/", timeout=10)
        assert page.status_code == 200
        assert f"ws://{address}/ws" in page.text
        first, ponged = asyncio.run(_first_messages(f"ws://{address}/ws?width=80&height=24"))
        assert first is not None and ponged


def _handshake_status(url: str, **options) -> int:
    """101 if the websocket is accepted and answers a ping, else the HTTP status that refused it."""
    try:
        _, ponged = asyncio.run(_first_messages(url, **options))
    except aiohttp.WSServerHandshakeError as refused:
        return refused.status
    assert ponged
    return 101


def test_foreign_origin_is_refused_on_http_and_websocket(tmp_path):
    with serving(tmp_path) as address:
        port = address.rsplit(":", 1)[1]
        evil = {"Origin": "http://evil.example"}
        assert httpx.get(f"http://{address}/", headers=evil, timeout=10).status_code == 403
        assert (
            httpx.get(f"http://{address}/static/js/textual.js", headers=evil, timeout=10).status_code == 403
        )
        assert _handshake_status(f"ws://{address}/ws", origin="http://evil.example") == 403
        assert _handshake_status(f"ws://{address}/ws", origin=f"http://{address}.evil.example") == 403
        own = {"Origin": f"http://{address}"}
        assert httpx.get(f"http://{address}/", headers=own, timeout=10).status_code == 200
        assert _handshake_status(f"ws://{address}/ws", origin=f"http://{address}") == 101
        assert _handshake_status(f"ws://{address}/ws", origin=f"http://localhost:{port}") == 101


def test_foreign_host_is_refused(tmp_path):
    """DNS rebinding: a page of rebind.attacker.example whose name now points at 127.0.0.1."""
    with serving(tmp_path) as address:
        port = address.rsplit(":", 1)[1]
        rebound = {"Host": f"rebind.attacker.example:{port}"}
        assert httpx.get(f"http://{address}/", headers=rebound, timeout=10).status_code == 403
        assert httpx.get(f"http://{address}/", headers={"Host": "127.0.0.1"}, timeout=10).status_code == 403
        assert _handshake_status(f"ws://{address}/ws", headers=rebound) == 403
        for own in (address, f"localhost:{port}", f"[::1]:{port}"):
            assert httpx.get(f"http://{address}/", headers={"Host": own}, timeout=10).status_code == 200


def test_public_url_names_the_served_origin(tmp_path):
    with serving(tmp_path, "--public-url", "https://tui.example.org/") as address:
        proxied = {"Host": "tui.example.org", "Origin": "https://tui.example.org"}
        assert httpx.get(f"http://{address}/", headers=proxied, timeout=10).status_code == 200
        plain = {"Host": "tui.example.org", "Origin": "http://tui.example.org"}
        assert httpx.get(f"http://{address}/", headers=plain, timeout=10).status_code == 403


def test_token_becomes_a_cookie_and_leaves_url_and_log(tmp_path):
    with serving(tmp_path, "--token", TOKEN) as address:
        base = f"http://{address}"
        assert httpx.get(f"{base}/", timeout=10).status_code == 403
        assert httpx.get(f"{base}/?token=wrong-token-0123456789", timeout=10).status_code == 403
        assert httpx.get(f"{base}/static/js/textual.js", timeout=10).status_code == 403
        with httpx.Client(base_url=base, timeout=10) as browser:
            redirect = browser.get("/", params={"token": TOKEN, "fontsize": "12"})
            assert redirect.status_code == 303 and redirect.headers["location"] == "/?fontsize=12"
            set_cookie = redirect.headers["set-cookie"]
            assert set_cookie.startswith(TOKEN_COOKIE) and TOKEN in set_cookie
            assert {"httponly", "samesite=strict"} <= {part.strip().lower() for part in set_cookie.split(";")}
            page = browser.get(redirect.headers["location"])
            assert page.status_code == 200 and TOKEN not in str(page.url)
            assert browser.get("/static/js/textual.js").status_code == 200
        cookie = {"Cookie": set_cookie.split(";")[0]}
        assert (
            httpx.get(f"{base}/", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10).status_code == 200
        )
        assert _handshake_status(f"ws://{address}/ws") == 403
        wrong_cookie = {"Cookie": cookie["Cookie"].replace(TOKEN, "wrong-token-0123456789")}
        assert _handshake_status(f"ws://{address}/ws", headers=wrong_cookie) == 403
        assert _handshake_status(f"ws://{address}/ws", headers=cookie) == 101
    log = (tmp_path / "serve.log").read_text()
    assert "/static/js/textual.js" in log  # the access log is there
    assert TOKEN not in log and "fontsize" not in log


@pytest.mark.skipif(not _has_ipv6_loopback(), reason="this machine has no IPv6 loopback")
@pytest.mark.parametrize("host", ["[::1]", "::1"])
def test_serves_on_ipv6_loopback(tmp_path, host):
    with serving(tmp_path, host=host) as address:
        page = httpx.get(f"http://{address}/", timeout=10)
        assert page.status_code == 200 and f"ws://{address}/ws" in page.text
        assert _handshake_status(f"ws://{address}/ws", origin=f"http://{address}") == 101


def test_unresolvable_host_is_bad_input(tmp_path, capsys):
    code = main(["--data-dir", str(tmp_path), "serve", "--host", "no-such-host.invalid", "--token", TOKEN])
    error = capsys.readouterr().err
    assert code == 2 and error.count("\n") == 1 and "cannot resolve 'no-such-host.invalid'" in error


def test_exposed_host_needs_a_token(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    assert main(["--data-dir", str(tmp_path), "serve", "--host", "0.0.0.0"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "--token" in error
    assert main(["--data-dir", str(tmp_path), "serve", "--host", "0.0.0.0", "--token", "short"]) == 2
    assert "at least 16 characters" in capsys.readouterr().err
    assert main(["--data-dir", str(tmp_path), "serve", "--port", "70000"]) == 2


def test_loopback_detection():
    assert all(map(is_loopback, ["127.0.0.1", "localhost", "::1", "[::1]", "127.1.2.3"]))
    assert not any(map(is_loopback, ["0.0.0.0", "::", "192.168.1.5", "example.org"]))


def test_served_hosts_and_origins():
    assert served_hosts("::1", 8000, None) == {"[::1]:8000", "localhost:8000", "127.0.0.1:8000"}
    assert served_hosts("127.0.0.2", 80, None) == {"127.0.0.2", "[::1]", "localhost", "127.0.0.1"}
    assert served_hosts("192.168.1.5", 8000, None) == {"192.168.1.5:8000"}
    assert served_hosts("0.0.0.0", 8000, "https://TUI.example.org:443/tui") == {
        "0.0.0.0:8000",
        "tui.example.org",
    }
    assert served_origins("0.0.0.0", 8000, "https://tui.example.org:8443") == {
        "http://0.0.0.0:8000",
        "https://tui.example.org:8443",
    }
