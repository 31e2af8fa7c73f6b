"""Store save latency at 100, 10,000 and 100,000 stored annotations: does a save stay cheap and flat?

    .venv/bin/python -m benchmarks.store_save [--saves 200] [--sizes 100,10000,100000] [--no-write]

For each size a fresh store is pre-populated the way real sessions fill it: one TinyDB shard per
(scope, annotator, persona), each holding at most 15 situations x 4 systems = 60 annotations.
The shards are written directly with `atomic_write_json` in exactly the layout `Store` writes
(checked by reading them back through the API), because inserting 100k through the API is slow.
Then 200 saves per size go through `annotations.save_annotation`, each revising the scores of a
randomly chosen stored annotation; the sizes take turns save by save so that background disk load
falls on all of them alike, and the wall-clock latencies are compared.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.results import machine, write_section
from compass_tui.annotations import TABLE, Annotation, load_annotation, save_annotation, shard_path
from compass_tui.jsonio import atomic_write_json, atomic_write_text
from compass_tui.store import Store
from compass_tui.vocab import DIMENSION_KEYS

SIZES = (100, 10_000, 100_000)
SITUATIONS, SYSTEMS, PERSONAS = 15, 4, 100
PER_SHARD = SITUATIONS * SYSTEMS
SCOPE = "bench-session"
TARGET_MS = 5.0
WARMUP_SAVES = 5
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SECTION = "## Store save latency"


@dataclass(frozen=True)
class Slot:
    annotator: str
    persona_id: str
    situation_index: int
    system: str


@dataclass
class Measurement:
    stored: int
    shards: int
    populate_s: float
    latencies_ms: list[float]

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1)]

    @property
    def p50(self) -> float:
        return self.percentile(50)

    @property
    def p95(self) -> float:
        return self.percentile(95)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.latencies_ms)


def slots_for(count: int) -> list[Slot]:
    """`count` annotation slots filling persona shards 60 at a time, 100 personas per annotator."""
    slots: list[Slot] = []
    for index in range(count):
        shard, within = divmod(index, PER_SHARD)
        annotator, persona = divmod(shard, PERSONAS)
        situation, system = divmod(within, SYSTEMS)
        slots.append(
            Slot(
                f"annotator-{annotator:02d}", f"compass-{persona}", situation, f"run-{system}::model-{system}"
            )
        )
    return slots


def scores_for(rng: random.Random) -> dict[str, int]:
    return {key: rng.randint(1, 5) for key in DIMENSION_KEYS}


def annotation_for(slot: Slot, rng: random.Random) -> Annotation:
    return Annotation(
        scope=SCOPE,
        annotator=slot.annotator,
        persona_id=slot.persona_id,
        situation_index=slot.situation_index,
        system=slot.system,
        scores=scores_for(rng),
        seconds=round(rng.uniform(5, 90), 1),
        revision=1,
    )


def populate(store: Store, slots: list[Slot], rng: random.Random) -> int:
    """Write every shard as TinyDB + AtomicJSONStorage would: {"annotations": {"1": record, ...}}; returns shards."""
    shards: dict[str, dict[str, dict]] = {}
    for slot in slots:
        annotation = annotation_for(slot, rng)
        table = shards.setdefault(shard_path(SCOPE, slot.annotator, slot.persona_id), {})
        table[str(len(table) + 1)] = {**annotation.as_record(), "key": annotation.key}
    for relative, table in shards.items():
        atomic_write_json(store.path(relative), {TABLE: table}, indent=None)
    return len(shards)


def check_layout(store: Store, slots: list[Slot], rng: random.Random) -> None:
    """The generated shards read back through the API, and a save into one keeps its size."""
    slot = rng.choice(slots)
    loaded = load_annotation(store, SCOPE, slot.annotator, slot.persona_id, slot.situation_index, slot.system)
    if loaded is None or loaded.revision != 1:
        raise SystemExit(f"generated shard not readable through the API: {slot}")
    relative = shard_path(SCOPE, slot.annotator, slot.persona_id)
    before = len(store.all(relative, TABLE))
    save_annotation(store, loaded)
    if len(store.all(relative, TABLE)) != before:
        raise SystemExit(f"a save into a generated shard added a record instead of replacing it: {relative}")


@dataclass
class PreparedStore:
    store: Store
    slots: list[Slot]
    shards: int
    populate_s: float


def prepare(root: Path, size: int, rng: random.Random) -> PreparedStore:
    store = Store(root)
    slots = slots_for(size)
    started = time.perf_counter()
    shards = populate(store, slots, rng)
    populate_s = time.perf_counter() - started
    check_layout(store, slots, rng)
    return PreparedStore(store, slots, shards, populate_s)


def timed_save(prepared: PreparedStore, rng: random.Random) -> float:
    """Milliseconds for one save_annotation revising a random stored annotation."""
    annotation = annotation_for(rng.choice(prepared.slots), rng)
    started = time.perf_counter()
    save_annotation(prepared.store, annotation)
    return (time.perf_counter() - started) * 1000


def timed_durable_write(target: Path, text: str) -> float:
    """Milliseconds for the durable write alone (temp file, fdatasync, rename, directory fsync), no TinyDB."""
    started = time.perf_counter()
    atomic_write_text(target, text)
    return (time.perf_counter() - started) * 1000


def measure(sizes: list[int], saves: int, seed: int) -> tuple[list[Measurement], list[float]]:
    """Save latencies per size, and the durable-write floor, interleaved in shuffled rounds so disk noise hits all alike."""
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="compass-bench-store-") as base:
        prepared: list[PreparedStore] = []
        for size in sizes:
            print(f"populating {size:,} annotations ...", file=sys.stderr, flush=True)
            prepared.append(prepare(Path(base) / f"store-{size}", size, rng))
            print(
                f"  {prepared[-1].shards:,} shards in {prepared[-1].populate_s:.1f} s",
                file=sys.stderr,
                flush=True,
            )
        full_shard = max(
            prepared[-1].store.shards("annotations"),
            key=lambda rel: (Path(base) / f"store-{sizes[-1]}" / rel).stat().st_size,
        )
        shard_text = prepared[-1].store.path(str(full_shard)).read_text(encoding="utf-8")
        floor_target = Path(base) / "floor" / "shard.json"
        latencies: list[list[float]] = [[] for _ in sizes]
        floor: list[float] = []
        print(f"measuring {saves} saves per size ...", file=sys.stderr, flush=True)
        for round_number in range(WARMUP_SAVES + saves):
            order = list(range(len(sizes) + 1))
            rng.shuffle(order)
            for position in order:
                if position == len(sizes):
                    elapsed_ms, bucket = timed_durable_write(floor_target, shard_text), floor
                else:
                    elapsed_ms, bucket = timed_save(prepared[position], rng), latencies[position]
                if round_number >= WARMUP_SAVES:
                    bucket.append(elapsed_ms)
    results = [
        Measurement(size, p.shards, p.populate_s, times) for size, p, times in zip(sizes, prepared, latencies)
    ]
    return results, floor


def table_lines(results: list[Measurement]) -> list[str]:
    lines = [
        "| stored annotations | shards | p50 ms | p95 ms | mean ms | max ms |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.stored:,} | {r.shards:,} | {r.p50:.2f} | {r.p95:.2f} | {r.mean:.2f} | "
            f"{max(r.latencies_ms):.2f} |"
        )
    return lines


def verdict_lines(results: list[Measurement], floor: list[float], saves: int) -> list[str]:
    smallest, largest = results[0], results[-1]
    floor_measure = Measurement(0, 1, 0.0, floor)
    p50_ratio, p95_ratio = largest.p50 / smallest.p50, largest.p95 / smallest.p95
    worst_p50, worst_p95 = max(r.p50 for r in results), max(r.p95 for r in results)
    flat = max(p50_ratio, p95_ratio) <= 1.5

    def verdict(worst: float) -> str:
        return f"{'met' if worst <= TARGET_MS else 'NOT met'} (worst {worst:.2f} ms)"

    return [
        f"- save at {largest.stored:,} / save at {smallest.stored:,}: p50 **{p50_ratio:.2f}×**, p95 **{p95_ratio:.2f}×**",
        f"- target ≤ {TARGET_MS:g} ms: p50 {verdict(worst_p50)}, p95 {verdict(worst_p95)}; "
        f"flat (100k/100 ≤ 1.5×): {'yes' if flat else 'no'}",
        f"- {saves} measured saves per size (after {WARMUP_SAVES} warm-up rounds), interleaved across the sizes in "
        f"shuffled rounds; each revises a random stored annotation through `annotations.save_annotation` "
        f"(flock, fdatasynced temp file, rename, fsynced directory)",
        f"- the durable write alone (one full 60-annotation shard, same rounds, no TinyDB): p50 "
        f"{floor_measure.p50:.2f} ms, p95 {floor_measure.p95:.2f} ms; so reading, updating and serialising "
        f"the shard adds about {largest.p50 - floor_measure.p50:.2f} ms (p50) at {largest.stored:,}",
    ]


def section_text(results: list[Measurement], floor: list[float], saves: int) -> str:
    lines = [
        SECTION,
        "",
        f"`python -m benchmarks.store_save`, {time.strftime('%Y-%m-%d')}, {machine()}, "
        f"load average {os.getloadavg()[0]:.1f} at the end.",
        "",
    ]
    lines += verdict_lines(results, floor, saves) + [""] + table_lines(results) + [""]
    lines.append(
        "Shards hold at most 15 situations × 4 systems = 60 annotations, one per (scope, annotator, "
        "persona), so a save rewrites one small file (about 35 KB) whatever the store's size. Other "
        "engineers' test runs shared the 2 cores and the disk, so absolute figures vary from run to run; "
        "the interleaving keeps the ratios fair."
    )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=200)
    parser.add_argument("--sizes", default=",".join(str(size) for size in SIZES))
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument("--no-write", action="store_true", help=f"do not update {RESULTS.name}")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    results, floor = measure(sizes, args.saves, args.seed)
    print("\n".join(table_lines(results)))
    print("\n".join(verdict_lines(results, floor, args.saves)))
    print(machine())
    if not args.no_write:
        write_section(section_text(results, floor, args.saves), SECTION)
        print(f"updated {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
