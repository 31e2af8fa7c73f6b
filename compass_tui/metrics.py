"""Objective metrics: tool-call pass rate, Distinct-n in two variants, tool usage, preference rates, CIs.

Distinct-n comes in two clearly named variants:
- `distinct_standard(texts, n)`: distinct n-grams / total n-grams over all responses (Li et al., 2016);
- `distinct_compass(text)`: what ComPASS's evaluation script computes per response and the paper's tables
  report: D-1 = types / sqrt(2 · tokens) and D-2 = types / sqrt(tokens), both over unigram types, after
  lower-casing and stripping ASCII punctuation. Reported as the mean over responses.
"""

from __future__ import annotations

import math
import string
from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np

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


def pass_rate(records: list[dict[str, Any]]) -> float | None:
    """Share of finished tool-setting records whose tool call ran without error."""
    with_tools = [r for r in records if r.get("status") == "done" and r.get("setting") != "empathetic"]
    if not with_tools:
        return None
    return sum(1 for r in with_tools if (r.get("tool_result") or {}).get("ok")) / len(with_tools)


def strict_schema_rate(records: list[dict[str, Any]]) -> float | None:
    """Share whose parameters passed jsonschema with no normalisation at all."""
    with_tools = [r for r in records if r.get("status") == "done" and r.get("setting") != "empathetic"]
    if not with_tools:
        return None
    strict = sum(
        1 for r in with_tools if ((r.get("tool_result") or {}).get("validation") or {}).get("strict_valid")
    )
    return strict / len(with_tools)


def tool_usage(records: list[dict[str, Any]]) -> dict[str, int]:
    return dict(
        Counter(
            (r.get("tool_call") or {}).get("tool_folder_name") or "(none)"
            for r in records
            if r.get("status") == "done" and r.get("setting") != "empathetic"
        )
    )


def preference_rates(records: list[dict[str, Any]], personas: dict[str, Any]) -> dict[str, float | None]:
    """Acceptable: the chosen tool is not disliked for the situation's scenario type. Optimal: it is liked."""
    judged = []
    for record in records:
        persona = personas.get(record["persona_id"])
        tool = (record.get("tool_call") or {}).get("tool_folder_name")
        if persona is None or record.get("status") != "done" or record.get("setting") == "empathetic":
            continue
        scenario_type = (
            record.get("scenario_type") or persona.situations[record["situation_index"]].scenario_type
        )
        preference = persona.tool_preferences.for_scenario(scenario_type or "leisure")
        judged.append((tool is not None and tool not in preference.disliked, tool in preference.liked))
    if not judged:
        return {"acceptable": None, "optimal": None, "n": 0}
    return {
        "acceptable": sum(a for a, _ in judged) / len(judged),
        "optimal": sum(o for _, o in judged) / len(judged),
        "n": len(judged),
    }
