"""Where runs and judgements are kept, and the shape of their records.

Run metadata is read as a `RunMeta` (compass_tui/run_meta.py) and interaction records as
`InteractionRecord`s (compass_tui/interaction_record.py); writers build a record with `new_record` and
add each step with `record_step`. The stored shapes:

Run metadata: `runs/<run>/run.json`, table "meta", one document keyed "meta":

    {"run_id", "name", "setting", "models": [..], "personas": [..], "created_at", "updated_at",
     "status", "prompt_source", "prompt_hash", "seed", "simulator", "hybrid": {"tool_model", "response_model"},
     "source": "compass-tui" | "import:<file>"}

Interaction records: `runs/<run>/records/<persona>.json`, table "interactions", keyed
`<model>|<persona>|<situation index>`; each step is saved as soon as it exists:

    {"run_id", "model", "persona_id", "situation_index", "setting", "status",  # pending|selected|executed|done|error
     "scenario_type", "emotion", "utterance", "scored",     # scored: False for the history setting's cold start
     "stage1": {"messages", "raw", "parsed", "latency_s", "prompt_tokens", "completion_tokens", "cost_usd",
                "attempts", "error", "declared_scenario"},
     "tool_call": {"tool_folder_name", "function_name", "param"} | None,
     "tool_result": <tool environment record> | None,
     "stage2": {... as stage1 ...}, "response": str | None,
     "feedback": {"label": "like" | "dislike", "by": "rule" | "<model>", ...} | None,
     "error": {"stage", "kind", "message"} | None, "started_at", "finished_at",
     # --fidelity official only (compass_tui/fidelity.py):
     "first_attempt_success": bool, "final_success": bool,  # the tool ran on the first / the last of
     "tool_attempts": int,                                   # up to 3 attempts (the scripts' best-of-3)
     "official": {"tool_call": <the raw "1" object>, "scenario": <declared, or "unknown">,
                  "reply": <the reply text the official script keeps>}}

What-if variants (an edited utterance for one situation): `runs/<run>/variants/<persona>.json`, table
"interactions", keyed `<model>|<persona>|<situation index>~<variant id>`, the id being the first 12 hex
digits of the edited text's sha256. Each is an interaction record as above, its "utterance" the edited
text, plus

    "variant": {"id", "text", "original_utterance"}

They are kept apart from `records/`, so an original is never rewritten and `load_records` (what the
report, the judge, studies and exports read) never sees a variant; `load_variant_records` reads them.

Judgements: `judgements/<run>/<persona>.json`, table "judgements", keyed
`<model>|<persona>|<situation index>|<judge model>|<prompt hash>`:

    {"run_id", "model", "persona_id", "situation_index", "judge_model", "prompt_hash", "rubric_version",
     "judge_config": {"model", "temperature", "max_tokens", "reasoning_effort"} (what served as the judge),
     "scores": {dimension: mean or None}, "spread": {dimension: sd or None}, "rationales": {dimension: text},
     "samples": [{"raw", "scores", "valid", "flags"}], "valid": bool, "flags": [..], "created_at"}

Judgements of what-if variants (`judge RUN --variants`): `variant_judgements/<run>/<persona>.json`, the
same shape plus "variant": {"id", "text"}, keyed by the variant's item id
`<model>|<persona>|<situation index>~<variant id>|<judge model>|<prompt hash>|<content hash>`; apart
from the originals' judgements, so a table of the originals never reads one.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from compass_tui.errors import BusyError, NotFoundError
from compass_tui.interaction_record import (
    NEW_RECORD_KEYS,
    InteractionRecord,
    OfficialFields,
    StageCall,
    stored_value,
)
from compass_tui.names import name_from_storage, storage_name
from compass_tui.run_meta import RunMeta
from compass_tui.store import Store

META_TABLE, INTERACTIONS_TABLE, JUDGEMENTS_TABLE = "meta", "interactions", "judgements"


def run_meta_path(run_id: str) -> str:
    return f"runs/{storage_name(run_id)}/run.json"


def run_records_path(run_id: str, persona_id: str) -> str:
    return f"runs/{storage_name(run_id)}/records/{storage_name(persona_id)}.json"


def run_variants_path(run_id: str, persona_id: str) -> str:
    return f"runs/{storage_name(run_id)}/variants/{storage_name(persona_id)}.json"


def judgement_path(run_id: str, persona_id: str) -> str:
    return f"judgements/{storage_name(run_id)}/{storage_name(persona_id)}.json"


def variant_judgement_path(run_id: str, persona_id: str) -> str:
    return f"variant_judgements/{storage_name(run_id)}/{storage_name(persona_id)}.json"


def judgement_location(record: InteractionRecord) -> str:
    """The shard a record's judgement goes to: the variants' own, or the run's judgements."""
    where = variant_judgement_path if record.variant else judgement_path
    return where(record.run_id, record.persona_id)


def run_lock_path(run_id: str) -> str:
    return f"runs/{storage_name(run_id)}/writer.lock"


@contextmanager
def run_lock(store: Store, run_id: str) -> Iterator[str | None]:
    """Hold the run's writer lock while executing it; yields a note if a dead writer's lock was taken
    over. Another live writer of the run raises BusyError naming its pid and start time."""
    with writer_lock(store, run_lock_path(run_id), f"run {run_id!r}") as note:
        yield note


@contextmanager
def writer_lock(store: Store, relative: str, what: str) -> Iterator[str | None]:
    """An exclusive flock on `relative`, held by one live process at a time (`what` names the thing in
    messages); yields a note if a dead writer's lock was taken over, raises BusyError if it is held."""
    path = store.path(relative)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as lock:
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _lock_holder(lock)
            raise BusyError(
                f"{what} is being written by pid {holder.get('pid', '?')} "
                f"since {holder.get('since', '?')}; wait for it or stop it"
            ) from None
        previous = _lock_holder(lock)
        lock.seek(0)
        lock.truncate()
        lock.write(json.dumps({"pid": os.getpid(), "since": now_iso()}))
        lock.flush()
        try:
            yield (
                f"took over the lock of {what} from pid {previous['pid']}, which is no longer running"
                if previous.get("pid")
                else None
            )
        finally:
            lock.seek(0)
            lock.truncate()
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def _lock_holder(lock: IO[str]) -> dict[str, Any]:
    lock.seek(0)
    try:
        holder = json.loads(lock.read() or "{}")
    except ValueError:
        return {}
    return holder if isinstance(holder, dict) else {}


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def interaction_key(model: str, persona_id: str, situation_index: int) -> str:
    return f"{model}|{persona_id}|{situation_index}"


VARIANT_SEPARATOR = "~"


def variant_id_for(text: str) -> str:
    """A variant's id: the same edited text always gives the same id, so a repeat resumes it."""
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()[:12]


def variant_key(model: str, persona_id: str, situation_index: int, variant_id: str) -> str:
    return f"{interaction_key(model, persona_id, situation_index)}{VARIANT_SEPARATOR}{variant_id}"


RECORD_FIELDS = frozenset(f.name for f in fields(InteractionRecord)) - {"extra", "order"}
STAGE_FIELDS = frozenset(f.name for f in fields(StageCall)) - {"extra", "order"}
OFFICIAL_FIELDS = frozenset(f.name for f in fields(OfficialFields)) - {"extra", "order"}


def new_record(**values: Any) -> dict[str, Any]:
    """The document of an interaction about to run (status "pending"); its steps go through `record_step`."""
    order = NEW_RECORD_KEYS + (("variant",) if values.get("variant") else ())
    return InteractionRecord(status="pending", **values, order=order).to_document()


def record_step(record: dict[str, Any], **values: Any) -> dict[str, Any]:
    """Write one step into a record document in progress: the names are InteractionRecord's fields, a
    typed part (StageCall, RecordError, ...) is stored as its document. Returns the record."""
    return _step(record, RECORD_FIELDS, "an interaction record", values)


def stage_step(stage: dict[str, Any], **values: Any) -> dict[str, Any]:
    """The same for a stage's call document in progress (its names: StageCall's fields)."""
    return _step(stage, STAGE_FIELDS, "a stage call", values)


def official_step(record: dict[str, Any], **values: Any) -> dict[str, Any]:
    """The same for a record's "official" part (OfficialFields' names), created if it is missing."""
    record.setdefault("official", OfficialFields().to_document())
    return _step(record["official"], OFFICIAL_FIELDS, "the official fields", values)


def _step(
    document: dict[str, Any], known: frozenset[str], what: str, values: dict[str, Any]
) -> dict[str, Any]:
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"not a field of {what}: {', '.join(unknown)}")
    document.update((name, stored_value(value)) for name, value in values.items())
    return document


def record_location(run_id: str, record: dict[str, Any]) -> tuple[str, str]:
    """Where an interaction record is saved, and its key: a variant's own shard, or the run's records."""
    model, persona_id, index = record["model"], record["persona_id"], record["situation_index"]
    variant = record.get("variant")
    if variant:
        return run_variants_path(run_id, persona_id), variant_key(model, persona_id, index, variant["id"])
    return run_records_path(run_id, persona_id), interaction_key(model, persona_id, index)


def list_run_ids(store: Store) -> list[str]:
    base = store.path("runs")
    if not base.is_dir():
        return []
    names = (name_from_storage(path.name) for path in base.iterdir() if (path / "run.json").is_file())
    return sorted(name for name in names if name is not None)


def find_run_meta(store: Store, run_id: str) -> RunMeta | None:
    document = store.get(run_meta_path(run_id), META_TABLE, "meta")
    return None if document is None else RunMeta.from_document(document, store.path(run_meta_path(run_id)))


def load_run_meta(store: Store, run_id: str) -> RunMeta:
    meta = find_run_meta(store, run_id)
    if meta is None:
        known = ", ".join(list_run_ids(store)) or "none yet"
        raise NotFoundError(None, None, f"no run {run_id!r} (runs: {known})")
    return meta


def load_records(store: Store, run_id: str) -> list[InteractionRecord]:
    """Every interaction record of a run, ordered by model, persona and situation."""
    load_run_meta(store, run_id)
    return _sorted_records(store, f"runs/{storage_name(run_id)}/records")


def load_variant_records(store: Store, run_id: str, persona_id: str | None = None) -> list[InteractionRecord]:
    """The what-if variant records of a run (of one persona), ordered by model, persona, situation, variant."""
    load_run_meta(store, run_id)
    if persona_id is not None:
        return _sorted_records(store, run_variants_path(run_id, persona_id))
    return _sorted_records(store, f"runs/{storage_name(run_id)}/variants")


def find_record(store: Store, run_id: str, item: tuple[str, str, int]) -> InteractionRecord | None:
    """One item's record (model, persona, situation), or None if its run or shard holds none."""
    found = _sorted_records(store, run_records_path(run_id, item[1]))
    return next((record for record in found if record.item == item), None)


def _sorted_records(store: Store, where: str) -> list[InteractionRecord]:
    shards = [Path(where)] if where.endswith(".json") else store.shards(where)
    records = [
        InteractionRecord.read(document, store.path(str(shard)))
        for shard in shards
        for document in store.all(shard, INTERACTIONS_TABLE)
    ]
    return sorted(records, key=lambda r: (*r.item, r.variant_id or ""))


def load_judgements(store: Store, run_id: str) -> list[dict[str, Any]]:
    return store.all_in(f"judgements/{storage_name(run_id)}", JUDGEMENTS_TABLE)


def load_variant_judgements(store: Store, run_id: str) -> list[dict[str, Any]]:
    return store.all_in(f"variant_judgements/{storage_name(run_id)}", JUDGEMENTS_TABLE)


def system_id(run_id: str, model: str) -> str:
    """How a (run, model) pair is named wherever responses are compared or scored."""
    return f"{run_id}::{model}"


def split_system_id(system: str) -> tuple[str, str]:
    run_id, _, model = system.partition("::")
    return run_id, model
