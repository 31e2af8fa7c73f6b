"""Read liked and disliked tools out of ComPASS's free-text tool preferences.

The test set states preferences in prose ("He likes plan_assistant for ..., and dislikes
schedule_manager, as ..."). Each tool mention takes the polarity of a passive cue right
after it ("plan_assistant is liked") or else of the nearest cue before it in the same
sentence. Parenthetical asides ("(dislikes: Michael Bay)") and participle clauses about
content ("preferring folk while disliking EDM") never govern a tool. A mention with no
readable cue, or a tool read both ways, is reported as ambiguous, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from compass_tui.vocab import TOOL_FOLDERS

LIKE, DISLIKE, WEIGH = "like", "dislike", "weigh"

_CUES: tuple[tuple[str, str], ...] = (
    (
        r"(?:does not|doesn't|do not|don't|did not|didn't|never|rarely|seldom)\s+(?:really\s+)?(?:like|enjoy|appreciate|use|want|care for|value|need)",
        DISLIKE,
    ),
    (r"(?:is|are)\s+not\s+(?:fond of|interested in|keen on|a fan of)", DISLIKE),
    (r"(?:isn't|aren't|not)\s+(?:fond of|interested in|keen on|a fan of)", DISLIKE),
    (r"has\s+(?:little|no)\s+(?:interest in|use for|patience for)", DISLIKE),
    (
        r"(?:(?:not|never|rarely)\s+(?:inclined|keen|eager|willing)|reluctant|hesitant|unwilling|disinclined)\s+to(?:\s+use)?",
        DISLIKE,
    ),
    (r"prefers?\s+not\s+to(?:\s+use)?", DISLIKE),
    (
        r"(?:dislikes?|disliked|avoids?|avoided|hates?|hated|rejects?|resents?|skips?|ignores?|steers clear of|shies away from|is wary of|detests?|loathes?|refuses)",
        DISLIKE,
    ),
    (
        r"(?:likes?|liked|enjoys?|enjoyed|loves?|loved|prefers?|preferred|appreciates?|appreciated|favou?rs?|favou?red|values?|valued|relies on|turns to|benefits from|welcomes?|utilizes?|utilises?|uses?|is fond of|is drawn to|embraces?|gravitates toward|gravitates towards|treasures?|cherishes?|is keen on)",
        LIKE,
    ),
    (r"(?:disliked|unwanted|avoided)\s+tools?\s+(?:include|includes|are|is)", DISLIKE),
    (r"(?:liked|preferred|favou?rite)\s+tools?\s+(?:include|includes|are|is)", LIKE),
    (r"finds?", WEIGH),
)
_CUE_KIND = [(re.compile(rf"^(?:{pattern})$", re.IGNORECASE), kind) for pattern, kind in _CUES]

_QUOTE = r"['\"‘’“”]?"
_ANCHORED_CUE_RE = re.compile(
    r"\b(" + "|".join(f"(?:{pattern})" for pattern, _ in _CUES) + r")\s+"
    r"(?:also\s+|especially\s+|particularly\s+|really\s+|mostly\s+|only\s+)?"
    r"(?:using\s+|to\s+use\s+|the\s+use\s+of\s+|the\s+idea\s+of\s+)?(?:the\s+|a\s+|her\s+|his\s+|their\s+)?"
    + _QUOTE
    + r"\s*$",
    re.IGNORECASE,
)
_AFTER_COPULA_RE = re.compile(
    _QUOTE + r"\s*(?:tool\s+|app\s+|feature\s+)?(?:is|are|was|remains|seems|feels)\s+"
    r"(?:(?:also|again|similarly|sometimes|somewhat|occasionally|particularly|especially|generally|often|greatly|selectively|"
    r"much|really|considered|seen\s+as|viewed\s+as|regarded\s+as|another|a|an|her|his|their|the)\s+){0,4}"
    r"(?P<judgement>(?:not|less|rather|too)\s+[\w-]+|[\w-]+)",
    re.IGNORECASE,
)
_AFTER_VERB_RE = re.compile(
    _QUOTE + r"\s*(?:tool\s+|app\s+|feature\s+)?(?:also\s+)?"
    r"(?:(?P<negative>does\s+not\s+appeal|doesn't\s+appeal|holds\s+little\s+appeal|rarely\s+helps)"
    r"|helps|assists|supports|serves|appeals|works\s+well|brings)\b",
    re.IGNORECASE,
)
_POSITIVE_JUDGEMENTS = frozenset(
    {
        "liked",
        "loved",
        "enjoyed",
        "preferred",
        "appreciated",
        "favored",
        "favoured",
        "valued",
        "welcomed",
        "welcome",
        "favorite",
        "favourite",
        "go-to",
        "helpful",
        "useful",
        "appealing",
        "interesting",
        "used",
    }
)
_NEGATIVE_JUDGEMENTS = frozenset(
    {
        "disliked",
        "avoided",
        "unappealing",
        "unwelcome",
        "rejected",
        "disruptive",
        "unhelpful",
        "irrelevant",
        "unnecessary",
        "off-putting",
        "unwanted",
        "ignored",
        "dislike",
    }
)
_AFTER_RELATIVE_RE = re.compile(
    _QUOTE + r"\s*(?:tool\s+)?(?:is|are)\s+(?:also\s+)?(?:another|a|an)\s+(?:tool|option)\s+(?:that\s+)?"
    r"(?:he|she|they|\w+)\s+(?:also\s+)?(?P<cue>\w+)",
    re.IGNORECASE,
)
_LIST_CONTINUATION_RE = re.compile(
    r"(?:,|;|\band\b|\bor\b|\bnor\b|\bas well as\b|\bplus\b)\s*(?:also\s+|even\s+)?(?:the\s+)?"
    + _QUOTE
    + r"\s*$",
    re.IGNORECASE,
)
_HEDGE_RE = re.compile(r"\b(?:less|not|too|hardly|rarely|never)\b", re.IGNORECASE)
_TOOL_RE = re.compile(r"\b(" + "|".join(TOOL_FOLDERS) + r")\b", re.IGNORECASE)
_SENTENCE_SPLIT_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")
_PAREN_RE = re.compile(r"\([^()]*\)")
_POSITIVE_WORDS = re.compile(
    r"\b(helpful|useful|valuable|comforting|soothing|fun|engaging|relaxing|practical|convenient|calming|"
    r"uplifting|encouraging|motivating|reassuring|enjoyable|inspiring|handy|supportive|effective|delightful|appealing)\b",
    re.IGNORECASE,
)
_NEGATIVE_WORDS = re.compile(
    r"\b(intrusive|annoying|impersonal|unnecessary|overwhelming|distracting|irrelevant|pointless|awkward|"
    r"stressful|rigid|restrictive|childish|trivial|tedious|forced|patronizing|patronising|cold|artificial|"
    r"superficial|inappropriate|boring|unhelpful|irritating|frustrating|draining|silly|gimmicky|unproductive|"
    r"unprofessional|impractical|clinical|invasive|meaningless|excessive|dull|heavy|unappealing|inauthentic)\b",
    re.IGNORECASE,
)


@dataclass
class ParsedPreference:
    liked: list[str] = field(default_factory=list)
    disliked: list[str] = field(default_factory=list)
    ambiguous: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def parse_preference_text(text: str) -> ParsedPreference:
    """The liked, disliked and ambiguous tools named in one scenario type's preference text."""
    readings: dict[str, set[str | None]] = {}
    for sentence in _sentences(text):
        previous: _Reading | None = None
        for match in _TOOL_RE.finditer(sentence):
            previous = _polarity(sentence, match, previous)
            readings.setdefault(match.group(1).lower(), set()).add(previous.polarity)
    parsed = ParsedPreference()
    for tool, polarities in readings.items():
        if polarities == {LIKE}:
            parsed.liked.append(tool)
        elif polarities == {DISLIKE}:
            parsed.disliked.append(tool)
        else:
            parsed.ambiguous.append(tool)
            reason = (
                "read as both liked and disliked"
                if {LIKE, DISLIKE} <= polarities
                else "no like/dislike cue found"
            )
            parsed.notes.append(f"{tool}: {reason}")
    return parsed


def _sentences(text: str) -> list[str]:
    without_asides = _PAREN_RE.sub(" ", _PAREN_RE.sub(" ", text))
    return [part for part in _SENTENCE_SPLIT_RE.split(without_asides) if part.strip()]


@dataclass(frozen=True)
class _Reading:
    """How one tool mention was read: where it ends, its polarity, and whether "finds X <judgement>" decided it."""

    end: int
    polarity: str | None
    weighed: bool = False


def _polarity(sentence: str, match: re.Match, previous: _Reading | None) -> _Reading:
    after_text = sentence[match.end() : match.end() + 90]
    after = _after_polarity(after_text[:80])
    if after:
        return _Reading(match.end(), after)
    anchored = _ANCHORED_CUE_RE.search(sentence[: match.start()])
    if anchored:
        kind = _cue_kind(anchored.group(1))
        if kind == WEIGH:
            return _Reading(match.end(), _weigh_judgement(after_text), weighed=True)
        return _Reading(match.end(), kind)
    if previous is not None and _LIST_CONTINUATION_RE.search(sentence[previous.end : match.start()]):
        # "finds X intrusive and Y helpful": each tool in a weighed list carries its own judgement.
        own = _weigh_judgement(after_text) if previous.weighed else None
        return _Reading(match.end(), own or previous.polarity, weighed=previous.weighed)
    return _Reading(match.end(), None)


def _after_polarity(after: str) -> str | None:
    """Polarity stated after the tool: "X is also appreciated", "X is less preferred", "X helps ..."."""
    copula = _AFTER_COPULA_RE.match(after)
    if copula:
        judgement = copula.group("judgement").lower()
        head, _, rest = judgement.partition(" ")
        if head in {"not", "less", "too"} and rest:
            return DISLIKE
        if head == "rather":
            judgement = rest
        if judgement in _NEGATIVE_JUDGEMENTS or _NEGATIVE_WORDS.fullmatch(judgement):
            return DISLIKE
        if judgement in _POSITIVE_JUDGEMENTS or _POSITIVE_WORDS.fullmatch(judgement):
            return LIKE
    relative = _AFTER_RELATIVE_RE.match(after)
    if relative and _ANCHORED_CUE_RE.search(relative.group("cue") + " "):
        return _cue_kind(relative.group("cue"))
    verb = _AFTER_VERB_RE.match(after)
    if verb:
        return DISLIKE if verb.group("negative") else LIKE
    return None


def _cue_kind(cue_text: str) -> str:
    normalised = re.sub(r"\s+", " ", cue_text.strip())
    for pattern, kind in _CUE_KIND:
        if pattern.match(normalised):
            return kind
    return LIKE


def _weigh_judgement(after: str) -> str | None:
    """Polarity of "finds X <judgement>": the first evaluative word after the tool decides."""
    clause = re.split(r"[,;.]", after, maxsplit=1)[0]
    first: tuple[int, str] | None = None
    for pattern, polarity in ((_HEDGE_RE, DISLIKE), (_NEGATIVE_WORDS, DISLIKE), (_POSITIVE_WORDS, LIKE)):
        match = pattern.search(clause)
        if match and (first is None or match.start() < first[0]):
            first = (match.start(), polarity)
    return first[1] if first else None
