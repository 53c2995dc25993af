"""What pause a retry policy allows before retry N: the one definition the reference client draws
from and the drill judge checks against.

Durations are seconds already multiplied by the drill's time scale. A server's Retry-After hint
(retry-after-ms first, then retry-after in seconds or as an HTTP date) replaces the backoff window
when the policy honours it.
"""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass

from engine.spec.models import RetryPolicy

HINT_HEADERS = ("retry-after", "retry-after-ms", "x-should-retry")  # the response headers a retry decision reads


@dataclass(frozen=True)
class Window:
    low: float
    high: float
    rule: str  # the policy rule that sets it, named in violations
    text: str  # how the window was chosen, for the client's decision log


def backoff_window(retry: RetryPolicy, retry_index: int, previous: float | None, scale: float) -> Window:
    """The jitter window of retry `retry_index` (0 = the first retry); `previous` is the last pause
    (decorrelated jitter grows from it; unknown: `math.inf`, the widest window)."""
    base, cap = retry.base * scale, retry.cap * scale
    ceiling = min(cap, base * 2**retry_index) if retry.backoff == "exponential" else min(cap, base)
    rule = f"policy.retry.{retry.backoff} backoff with {retry.jitter} jitter"
    if retry.jitter == "full":
        return Window(0.0, ceiling, rule, f"full jitter in [0, {ceiling * 1000:.1f}ms]")
    if retry.jitter == "equal":
        return Window(ceiling / 2, ceiling, rule, f"equal jitter in [{ceiling * 500:.1f}, {ceiling * 1000:.1f}ms]")
    if retry.jitter == "decorrelated":
        high = min(cap, max(base, (previous or base) * 3))
        return Window(base, high, rule, f"decorrelated jitter in [{base * 1000:.1f}, {high * 1000:.1f}ms]")
    return Window(ceiling, ceiling, rule, f"no jitter: {ceiling * 1000:.1f}ms")


def retry_after_window(retry: RetryPolicy, hints: Mapping[str, str], scale: float) -> Window | None:
    """The pause a server asked for, when the policy honours it (None: no usable hint)."""
    hint = retry_after_seconds(hints) if retry.honor_retry_after else None
    if hint is None:
        return None
    pause = hint[0] * scale
    return Window(pause, pause, "policy.retry.honor_retry_after", hint[1])


def allowed_pause(
    retry: RetryPolicy, retry_index: int, hints: Mapping[str, str], previous: float | None, scale: float
) -> Window:
    """Retry-After when honoured and given, else the backoff window."""
    return retry_after_window(retry, hints, scale) or backoff_window(retry, retry_index, previous, scale)


def retry_after_seconds(hints: Mapping[str, str]) -> tuple[float, str] | None:
    """retry-after-ms, else retry-after (seconds or an HTTP date): (seconds >= 0, which header). Garbage is ignored."""
    for name, unit in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = hints.get(name)
        if value is None:
            continue
        try:
            seconds: float | None = float(value) * unit
        except ValueError:
            seconds = _http_date_seconds(value) if name == "retry-after" else None
        if seconds is not None and math.isfinite(seconds):
            return max(0.0, seconds), f"{name} {value}"
    return None


def _http_date_seconds(value: str) -> float | None:
    try:
        return email.utils.parsedate_to_datetime(value).timestamp() - time.time()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
