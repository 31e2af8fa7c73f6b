"""`make bench`: run every benchmark in turn; each refreshes its own section of benchmarks/RESULTS.md."""

from __future__ import annotations

import subprocess
import sys

BENCHMARKS = ("store_save", "retrieval", "runs_throughput", "tui_startup", "tui_latency")


def main() -> int:
    failed = []
    for name in BENCHMARKS:
        print(f"== benchmarks.{name}", flush=True)
        if subprocess.call([sys.executable, "-m", f"benchmarks.{name}"]) != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
