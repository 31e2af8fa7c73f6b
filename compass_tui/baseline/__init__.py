"""The offline baseline: a deterministic, rule-based agent with no network and no LLM.

It classifies the utterance's scenario type, picks a tool the persona likes for that type
(in the history setting, where preferences are hidden, a tool that earned a "like" before),
fills the required parameters from the utterance and the persona, and composes a reply
from the tool's result. It exists so that the workbench runs with no API key, and as a
floor for comparisons. It is shown as a baseline, never as an LLM.

    choice   which tool: the liked tools for the scenario type, by the utterance's cues; its topics
    times    the day and time an utterance states
    params   each tool's parameters, and the whole tool call
    tone     the emotion's family, openers and moods; the seeded choice among phrasings
    replies  the reply: opening, the result in words, closing
"""

from compass_tui.baseline.choice import choose_tool, keywords
from compass_tui.baseline.params import baseline_tool_call, tool_params
from compass_tui.baseline.replies import compose_response, empathetic_reply, opening, render_result
from compass_tui.baseline.times import DEFAULT_HOUR, StatedTime, stated_time
from compass_tui.baseline.tone import FAMILY_BY_EMOTION, is_positive, valence_family

BASELINE_LABEL = "baseline (offline, rule-based)"

__all__ = [
    "BASELINE_LABEL",
    "DEFAULT_HOUR",
    "FAMILY_BY_EMOTION",
    "StatedTime",
    "baseline_tool_call",
    "choose_tool",
    "compose_response",
    "empathetic_reply",
    "is_positive",
    "keywords",
    "opening",
    "render_result",
    "stated_time",
    "tool_params",
    "valence_family",
]
