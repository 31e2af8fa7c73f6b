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
from compass_tui.cli.serve import TOKEN_ENV, is_loopback

REPO_ROOT = Path(__file__).resolve().parents[2]
TOKEN = "test-token-0123456789abcdef"
START_TIMEOUT_S = 30


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"serve exited with {process.returncode}: {log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"serve did not listen on {port} within {START_TIMEOUT_S}s: {log.read_text()}")


@contextmanager
def serving(tmp_path: Path, *options: str):
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if key != TOKEN_ENV}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
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
        _wait_for_port(port, process, log)
        yield f"127.0.0.1:{port}"
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


def test_token_is_required_on_every_request(tmp_path):
    with serving(tmp_path, "--token", TOKEN) as address:
        base = f"http://{address}"
        assert httpx.get(f"{base}/", timeout=10).status_code == 401
        assert httpx.get(f"{base}/?token=wrong-token-0123456789", timeout=10).status_code == 401
        assert httpx.get(f"{base}/static/js/textual.js", timeout=10).status_code == 401
        with httpx.Client(base_url=base, timeout=10) as browser:
            page = browser.get("/", params={"token": TOKEN})
            assert page.status_code == 200 and TOKEN_COOKIE in page.headers["set-cookie"]
            assert "httponly" in page.headers["set-cookie"].lower()
            assert browser.get("/static/js/textual.js").status_code == 200  # the cookie carries the token
        assert (
            httpx.get(f"{base}/", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10).status_code == 200
        )
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            asyncio.run(_first_messages(f"ws://{address}/ws"))
        assert refused.value.status == 401
        _, ponged = asyncio.run(_first_messages(f"ws://{address}/ws?token={TOKEN}"))
        assert ponged


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
