"""The TUI on a real pseudo-terminal: when the terminal goes away without a SIGHUP, the app leaves.

That is what `make run` does when its terminal is closed: make, the session leader, takes the SIGHUP
and stays alive, so the app never gets one and would read end-of-file forever.
"""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import sys
import termios
import time

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="Unix pseudo-terminals")

START_TIMEOUT_S = 60
EXIT_TIMEOUT_S = 15


def read_until_quiet(master: int, timeout_s: float) -> bytes:
    """What the app writes, until it has written something and then been quiet for a second."""
    output, deadline = b"", time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 1.0)
        if not ready:
            if output:
                return output
            continue
        output += os.read(master, 65536)
    return output


@pytest.mark.slow
def test_the_app_leaves_when_its_terminal_is_closed(data_dir):
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    app = subprocess.Popen(
        [sys.executable, "-m", "compass_tui"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
        env={**os.environ, "TERM": "xterm-256color"},
    )
    os.close(slave)
    try:
        screen = read_until_quiet(master, START_TIMEOUT_S)
        assert b"compass-tui" in screen, screen[-2000:]
        assert app.poll() is None
        os.close(master)  # the terminal window closes; nobody sends a signal
        assert app.wait(timeout=EXIT_TIMEOUT_S) == 0
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()
