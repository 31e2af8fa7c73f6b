"""Objective metrics: tool-call pass rate, Distinct-n in two variants, tool usage, preference rates, CIs.

Distinct-n comes in two clearly named variants:
- `distinct_standard(texts, n)`: distinct n-grams / total n-grams over all responses (Li et al., 2016);
- `distinct_compass(text)`: what ComPASS's evaluation script computes per response and the paper's tables
  report: D-1 = types / sqrt(2 · tokens) and D-2 = types / sqrt(tokens), both over unigram types, after
  lower-casing and stripping ASCII punctuation. Reported as the mean over responses, measured on the
  text the official script measures (`official_text`), while the standard variant reads the reply shown.

Pass rates count a finished item (`InteractionRecord.finished`): done, or an imported tool call that has no response by
design (a tool-call-only result file).
"""

from __future__ import annotations

import math
import string
from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np

from compass_tui.interaction_record import InteractionRecord

_PUNCTUATION = str.maketrans("", "", string.punctuation)


def tokens(text: str) -> list[str]:
    return text.lower().translate(_PUNCTUATION).split()


def distinct_standard(texts: Iterable[str], n: int) -> float | None:
    grams: list[tuple[str, ...]] = []
    for text in texts:
        words = tokens(text)
        grams.extend(tuple(words[i : i + n]) for i in range(len(words) - n + 1))
    return len(set(grams)) / len(grams) if grams else None


def distinct_compass(text: str) -> tuple[float, float]:
    words = tokens(text)
    if not words:
        return 0.0, 0.0
    types = len(set(words))
    return types / math.sqrt(2 * len(words)), types / math.sqrt(len(words))


def mean_distinct_compass(texts: list[str]) -> tuple[float | None, float | None]:
    if not texts:
        return None, None
    pairs = [distinct_compass(text) for text in texts]
    return float(np.mean([p[0] for p in pairs])), float(np.mean([p[1] for p in pairs]))


OFFICIAL_BASIS, REPLY_BASIS, MIXED_BASIS = "official", "reply", "mixed"


def _with_tools(records: list[InteractionRecord]) -> list[InteractionRecord]:
    return [r for r in records if r.finished and r.setting != "empathetic"]


def official_text(record: InteractionRecord) -> tuple[str | None, str]:
    """(the text ComPASS's evaluation script measures, its basis): an import's raw text, the reply an
    official-fidelity run kept, else the reply shown. None for an item the official script skips."""
    if record.response_raw is not None:
        return record.response_raw, OFFICIAL_BASIS
    kept = record.official.reply if record.official else None
    if isinstance(kept, str) and record.status == "done":
        return kept, OFFICIAL_BASIS
    if record.status == "done" and record.response is not None:
        return record.response, REPLY_BASIS
    return None, REPLY_BASIS


def official_texts(records: list[InteractionRecord]) -> tuple[list[str], str | None]:
    """The texts of `official_text` over the records, and their one basis (or "mixed"; None if none)."""
    measured = [official_text(record) for record in records]
    texts = [text for text, _ in measured if text is not None]
    bases = {basis for text, basis in measured if text is not None}
    if not bases:
        return texts, None
    return texts, bases.pop() if len(bases) == 1 else MIXED_BASIS


def success_rate(records: list[InteractionRecord], flag: str) -> float | None:
    """Share of the records carrying `flag` (first_attempt_success, final_success) where it is true."""
    flags = [r[flag] for r in records if r.get(flag) is not None and r.setting != "empathetic"]
    return sum(1 for value in flags if value) / len(flags) if flags else None


def pass_rate(records: list[InteractionRecord]) -> float | None:
    """Share of finished tool-setting records whose tool call ran without error."""
    with_tools = _with_tools(records)
    if not with_tools:
        return None
    return sum(1 for r in with_tools if r.tool_ran) / len(with_tools)


def strict_schema_rate(records: list[InteractionRecord]) -> float | None:
    """Share whose parameters passed jsonschema with no normalisation at all."""
    with_tools = _with_tools(records)
    if not with_tools:
        return None
    strict = sum(1 for r in with_tools if ((r.tool_result or {}).get("validation") or {}).get("strict_valid"))
    return strict / len(with_tools)


def tool_usage(records: list[InteractionRecord]) -> dict[str, int]:
    return dict(Counter(r.tool_folder or "(none)" for r in _with_tools(records)))


def preference_rates(records: list[InteractionRecord], personas: dict[str, Any]) -> dict[str, float | None]:
    """Acceptable: the chosen tool is not disliked for the situation's scenario type. Optimal: it is liked."""
    judged = []
    for record in records:
        persona = personas.get(record.persona_id)
        tool = record.tool_folder
        if persona is None or not record.finished or record.setting == "empathetic":
            continue
        scenario_type = record.scenario_type or persona.situations[record.situation_index].scenario_type
        preference = persona.tool_preferences.for_scenario(scenario_type or "leisure")
        judged.append((tool is not None and tool not in preference.disliked, tool in preference.liked))
    if not judged:
        return {"acceptable": None, "optimal": None, "n": 0}
    return {
        "acceptable": sum(a for a, _ in judged) / len(judged),
        "optimal": sum(o for _, o in judged) / len(judged),
        "n": len(judged),
    }
