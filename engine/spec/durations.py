"""Durations and HTTP status patterns as written in specs."""

from __future__ import annotations

import functools
import math
import re

_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_UNITS = "|".join(_UNIT_SECONDS)  # "ms" before "m": the longer unit is tried first
_DURATION = re.compile(rf"^\s*(-?\d+(?:\.\d+)?)\s*({_UNITS})\s*$")
# The same spelling for the JSON Schema (editors): the number must be above zero there too.
DURATION_PATTERN = rf"^\s*(?=[0-9.]*[1-9])\d+(\.\d+)?\s*({_UNITS})\s*$"
_STATUS_CLASS = re.compile(r"^([1-5])xx$")
_STATUS_RANGE = re.compile(r"^(\d{3})\s*-\s*(\d{3})$")


def parse_duration(value: object) -> float:
    """'500ms', '2s', '1.5m', '1h' (or a bare number of seconds) -> seconds."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number with a unit, like 500ms, 2s or 1m")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"{value!r} is not a duration; write a number with a unit: 500ms, 2s, 1m, 1h")
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if not math.isfinite(seconds):
        raise ValueError(f"{value!r} is not a finite duration")
    if seconds <= 0:
        raise ValueError("a duration must be greater than zero")
    return seconds


def format_duration(seconds: float) -> str:
    """Seconds -> the shortest spec spelling ('500ms', '2s', '1.5m')."""
    if seconds < 1:
        return f"{seconds * 1000:g}ms"
    if seconds < 60 or seconds % 60:
        return f"{seconds:g}s"
    return f"{seconds / 60:g}m"


@functools.lru_cache(maxsize=1024)
def parse_status_pattern(value: int | str) -> tuple[int, int]:
    """429 -> (429, 429); '5xx' -> (500, 599); '500-504' -> (500, 504)."""
    if isinstance(value, bool):
        raise ValueError("a status is a code (429), a class (5xx) or a range (500-504)")
    text = str(value).strip().lower()
    if text.isdigit():
        low = high = int(text)
    elif match := _STATUS_CLASS.match(text):
        low = int(match.group(1)) * 100
        high = low + 99
    elif match := _STATUS_RANGE.match(text):
        low, high = int(match.group(1)), int(match.group(2))
    else:
        raise ValueError(f"{value!r} is not a status; write a code (429), a class (5xx) or a range (500-504)")
    if low > high:
        raise ValueError(f"{value!r} is reversed; write the lower code first ({high}-{low})")
    if not (100 <= low <= high <= 599):
        raise ValueError(f"{value!r} is outside the HTTP status range 100-599")
    return low, high
