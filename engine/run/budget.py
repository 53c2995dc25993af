"""The run's cost guard: caps on requests, on requested tokens, and on the request rate.

Every request the run sends is taken from one `SendBudget` before it is sent: each check, and each
drill attempt (retries and fallbacks included). A drill is started only when its worst case (every
call making every attempt its policy allows, and falling back) fits in what is left; afterwards,
what it did not use is given back, so a drill is never cut off half way. Once a cap is reached,
nothing more is sent: every later item is "not run" with the reason, and the run is never ready.

The rate paces the checks, the requests that reach the target. Drills run on the built-in fault
simulator, where their timing is what is being measured, so they are counted but never paced.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from engine.spec.models import Limits


def requested_tokens(body: dict[str, Any] | None) -> int | None:
    """The output tokens a request asks for at most (None: it sets no cap)."""
    if not isinstance(body, dict):
        return None
    for key in ("max_completion_tokens", "max_tokens"):
        value = body.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
    return None


@dataclass
class SendBudget:
    limits: Limits = field(default_factory=Limits)
    requests: int = 0  # sent (or reserved by a drill that is running)
    tokens: int = 0
    stopped: str | None = None  # why sending stopped: the cap that was reached
    _next_slot: float = 0.0

    def take(self, count: int, tokens_each: int | None) -> str | None:
        """Reserve `count` requests of `tokens_each` tokens; None when they may be sent, else why not."""
        if self.stopped:
            return f"not run: {self.stopped}"
        limits = self.limits
        if limits.max_requested_tokens is not None and tokens_each is None:
            return (
                "not run: the request sets no max_tokens, so limits.max_requested_tokens cannot bound what it "
                "costs; give it max_tokens"
            )
        if limits.max_requests is not None and self.requests + count > limits.max_requests:
            return self._stop(f"the run's cap of {limits.max_requests} request(s) was reached (limits.max_requests)")
        wanted = count * (tokens_each or 0)
        if limits.max_requested_tokens is not None and self.tokens + wanted > limits.max_requested_tokens:
            cap = limits.max_requested_tokens
            return self._stop(f"the run's cap of {cap} requested token(s) was reached (limits.max_requested_tokens)")
        self.requests += count
        self.tokens += wanted
        return None

    def settle(self, reserved: int, used: int, tokens_each: int | None) -> None:
        """A drill reserved `reserved` requests and sent `used`: give back (or charge) the difference."""
        self.requests += used - reserved
        self.tokens += (used - reserved) * (tokens_each or 0)
        over = self.limits.max_requests is not None and self.requests >= self.limits.max_requests
        if over and used > reserved and not self.stopped:
            self._stop(f"the client under test sent more requests than its policy allows; {self.requests} sent")

    async def pace(self) -> None:
        """Wait for the next slot the rate allows (no wait without a rate)."""
        if self.limits.rate is None:
            return
        now = time.monotonic()
        slot = max(now, self._next_slot)
        self._next_slot = slot + 1.0 / self.limits.rate
        if slot > now:
            await asyncio.sleep(slot - now)

    def _stop(self, why: str) -> str:
        self.stopped = why
        return f"not run: {why}"
