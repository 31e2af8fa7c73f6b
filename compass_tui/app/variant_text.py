"""How the stepper's header and column titles say which words are shown: the original or a what-if variant."""

from __future__ import annotations

from rich.text import Text

from compass_tui.safe_text import printable
from compass_tui.variants import Variant

WHAT_IF_ELSEWHERE = "What-if answers come from the session's own models; this run is only compared."


def variant_tag(variants: list[Variant], shown: Variant | None) -> Text:
    """` · original (N what-if: v)` or ` · what-if K/N (v: next)`; nothing when the situation has none."""
    if not variants:
        return Text("")
    if shown is None:
        return Text(f" · original ({len(variants)} what-if: v)", style="magenta")
    number = [v.id for v in variants].index(shown.id) + 1
    return Text(f" · what-if {number}/{len(variants)} (v: next)", style="bold magenta")


def utterance_lines(original: str, shown: Variant | None) -> Text:
    """The words the columns answered: the original, or the variant's above the original's."""
    if shown is None:
        return Text(printable(original, multiline=True), style="italic")
    return Text.assemble(
        ("what-if: ", "bold magenta"),
        (printable(shown.text, multiline=True), "italic"),
        "\n",
        ("original: ", "dim bold"),
        (printable(original, multiline=True), "dim italic"),
    )


def column_title(label: str, shown: Variant | None) -> str:
    return f"{label} · what-if: {shown.first_words(4)}" if shown else label
