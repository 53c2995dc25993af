"""Bad client under test (plain httpx): retries the right failures with full jitter and Retry-After,
but ignores RUNBOOK_DEADLINE: a 60s timeout per attempt and up to 3 attempts whatever the time. No fallback."""

import httpx
from plain_client import PlainClient


class NoDeadline(PlainClient):
    def timeout(self, left: float) -> httpx.Timeout:
        return httpx.Timeout(60.0)  # BUG: no deadline

    def gives_up(self, pause: float) -> bool:
        return pause > 20  # BUG: never asks whether time is left


NoDeadline().run()
