"""What every benchmark shares: where figures go, and which machine made them."""

from __future__ import annotations

import os
import platform
from pathlib import Path

from compass_tui.jsonio import atomic_write_text

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def machine() -> str:
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def write_section(text: str, section: str, results_file: Path = RESULTS) -> None:
    """Replace one benchmark's `## section` of RESULTS.md (or append it), leaving the other sections alone."""
    existing = results_file.read_text(encoding="utf-8") if results_file.exists() else "# Benchmark results\n"
    start = existing.find(section + "\n")
    if start == -1:
        updated = existing.rstrip("\n") + "\n\n" + text
    else:
        following = existing.find("\n## ", start + len(section))
        rest = existing[following + 1 :] if following != -1 else ""
        updated = existing[:start] + text + ("\n" + rest if rest else "")
    atomic_write_text(results_file, updated)
