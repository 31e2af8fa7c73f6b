"""`make screenshots`: SVG screenshots of every main screen, made from the bundled data in a scratch data dir."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

SIZE = (120, 36)


async def _shoot(out: Path) -> list[Path]:
    from compass_tui.app.app import CompassApp
    from compass_tui.cli.context import Context

    ctx = Context()
    app = CompassApp(ctx)
    written: list[Path] = []

    async def save(pilot, name: str) -> None:
        await pilot.pause(0.3)
        path = out / f"{name}.svg"
        app.save_screenshot(filename=path.name, path=str(out))
        written.append(path)

    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.5)
        await save(pilot, "01-library")
        await pilot.press("f1")
        await save(pilot, "02-help")
        await pilot.press("escape", "enter")
        await pilot.pause(0.3)
        await save(pilot, "03-session-setup")
        await pilot.press("ctrl+s")
        await pilot.pause(0.3)
        await pilot.press("g")
        for _ in range(50):
            await pilot.pause(0.2)
            if getattr(app.screen, "run_thread", None) is None:
                break
        await pilot.press("4", "4", "5", "3", "4", "5")
        await save(pilot, "04-stepper-scoring")
        await pilot.press("escape", "escape")
        await pilot.pause(0.3)
        await pilot.press("e")
        await save(pilot, "05-editor")
        await pilot.press("escape", "r")
        await pilot.pause(1.0)
        await save(pilot, "06-report")
    return written


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "screenshots").resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as home:
        os.environ["COMPASS_TUI_HOME"] = home
        os.environ["COMPASS_TUI_CONFIG"] = str(Path(home) / "none.toml")
        Path(os.environ["COMPASS_TUI_CONFIG"]).write_text("", encoding="utf-8")
        written = asyncio.run(_shoot(out))
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
