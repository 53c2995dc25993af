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


_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(s|sec|second|m|min|minute|h|hour)\s*$")
_RATE_UNIT_SECONDS = {"s": 1.0, "sec": 1.0, "second": 1.0, "m": 60.0, "min": 60.0, "minute": 60.0}
_RATE_UNIT_SECONDS |= {"h": 3600.0, "hour": 3600.0}
RATE_PATTERN = r"^\s*(?=[0-9.]*[1-9])\d+(\.\d+)?\s*/\s*(s|sec|second|m|min|minute|h|hour)\s*$"


def parse_rate(value: object) -> float:
    """'5/s', '30/min', '600/h' (or a bare number per second) -> requests per second."""
    if isinstance(value, bool):
        raise ValueError("a rate is a number of requests per unit of time, like 5/s or 30/min")
    if isinstance(value, (int, float)):
        per_second = float(value)
    else:
        text = str(value).strip()
        match = _RATE.match(text if "/" in text else f"{text}/s")
        if not match:
            raise ValueError(f"{value!r} is not a rate; write requests per unit of time: 5/s, 30/min, 600/h")
        per_second = float(match.group(1)) / _RATE_UNIT_SECONDS[match.group(2)]
    if not math.isfinite(per_second) or per_second <= 0:
        raise ValueError("a rate must be a finite number greater than zero")
    return per_second


def format_rate(per_second: float) -> str:
    """Requests per second -> '5/s' or '30/min' (whichever reads as a whole number)."""
    if per_second >= 1 or (per_second * 60) % 1:
        return f"{per_second:g}/s"
    return f"{per_second * 60:g}/min"


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
