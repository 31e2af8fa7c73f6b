"""When the user said something should happen: a day and a clock time read from the utterance, or the stated default."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8}
_NUMBERS |= {"nine": 9, "ten": 10, "eleven": 11, "twelve": 12}
_NUMBER = r"(\d{1,2}|" + "|".join(sorted(_NUMBERS, key=len, reverse=True)) + ")"
_PARTS_OF_DAY: tuple[tuple[str, int], ...] = (
    ("morning", 9),
    ("noon", 12),
    ("lunch", 12),
    ("afternoon", 14),
    ("evening", 18),
    ("tonight", 19),
    ("night", 20),
)
DEFAULT_HOUR = 18  # the stated default: early evening, the day after the conversation


@dataclass(frozen=True)
class StatedTime:
    when: datetime
    stated: bool  # False: nothing in the utterance said when, and the default was used


def _number(word: str) -> int:
    return int(word) if word.isdigit() else _NUMBERS[word]


def _stated_day(text: str, today: date) -> date | None:
    """The day an utterance names: tomorrow, a weekday, the weekend, next week, in three weeks."""
    if re.search(r"\btomorrow\b", text):
        return today + timedelta(days=1)
    weekday = re.search(r"\b(" + "|".join(_WEEKDAYS) + r")s?\b", text)
    if weekday:
        ahead = (_WEEKDAYS.index(weekday.group(1)) - today.weekday() - 1) % 7 + 1
        return today + timedelta(days=ahead + (7 if "next " + weekday.group(1) in text else 0))
    if re.search(r"\b(this|the|at the) weekend\b", text):
        return today + timedelta(days=(5 - today.weekday()) % 7 or 7)
    later = re.search(rf"\bin (a|a couple of|{_NUMBER[1:-1]}) (day|week|month)s?\b", text)
    if later:
        count = {"a": 1, "a couple of": 2}.get(later.group(1)) or _number(later.group(1))
        days = {"day": 1, "week": 7, "month": 30}[later.group(2)] * count
        return today + timedelta(days=days)
    if following := re.search(r"\bnext (week|month)\b", text):
        return today + timedelta(days=7 - today.weekday() if following.group(1) == "week" else 30)
    if re.search(r"\b(tonight|this evening)\b", text):
        return today
    return None


def _stated_clock(text: str) -> tuple[int, int] | None:
    """The clock time an utterance names: at 3pm, 15:30, at nine, quarter to five, half past six, noon."""
    if clock := re.search(r"\b([01]?\d|2[0-3])[:.]([0-5]\d)\s*(am|pm|a\.m\.|p\.m\.)?", text):
        return _on_clock(int(clock.group(1)), int(clock.group(2)), clock.group(3), text)
    if clock := re.search(rf"\b(quarter|half) (to|past) {_NUMBER}\b", text):
        hour, minutes = _number(clock.group(3)), 30 if clock.group(1) == "half" else 15
        if clock.group(2) == "to":
            hour, minutes = hour - 1, 60 - minutes
        return _on_clock(hour, minutes, None, text)
    if clock := re.search(
        rf"\b(?:at|by|for|around) {_NUMBER}(?: o'clock)?\s*(am|pm|a\.m\.|p\.m\.)?(?!\w)", text
    ):
        return _on_clock(_number(clock.group(1)), 0, clock.group(2), text)
    if clock := re.search(r"\b(\d{1,2})\s*(am|pm)\b", text):
        return _on_clock(int(clock.group(1)), 0, clock.group(2), text)
    return None


def _on_clock(hour: int, minutes: int, suffix: str | None, text: str) -> tuple[int, int] | None:
    if hour > 23 or (suffix and hour > 12):
        return None
    if suffix and suffix.startswith("p") and hour < 12:
        hour += 12
    elif suffix and suffix.startswith("a") and hour == 12:
        hour = 0
    elif not suffix and 1 <= hour <= 6 and not re.search(r"\b(morning|early|in the night|alarm)\b", text):
        hour += 12  # "at three" means the afternoon unless the utterance says otherwise
    return hour, minutes


def stated_time(utterance: str, today: date) -> StatedTime:
    """When the utterance says something happens; tomorrow at DEFAULT_HOUR when it says nothing."""
    text = utterance.lower()
    day, clock = _stated_day(text, today), _stated_clock(text)
    if day is None and clock is not None and re.search(r"\btoday\b", text):
        day = today  # "today" alone mostly tells what already happened; with a clock time it is a plan
    part = next((hour for name, hour in _PARTS_OF_DAY if re.search(rf"\b{name}\b", text)), None)
    if day is None and clock is None and part is not None and re.search(r"\b(this|last|yesterday)\b", text):
        part = None  # "this morning I made...": a time already gone
    if day is None and clock is None and part is None:
        return StatedTime(datetime.combine(today + timedelta(days=1), time(DEFAULT_HOUR)), stated=False)
    hour, minutes = clock or (part if part is not None else 10, 0)
    on = day or today + timedelta(days=1)
    return StatedTime(datetime.combine(on, time(hour, minutes)), stated=True)
