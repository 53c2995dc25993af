"""Bad client under test (plain httpx): retries the right failures up to 3 attempts, but always sleeps
exactly 0.3s (no backoff, no jitter) and ignores Retry-After; otherwise policy-correct. No fallback."""

from plain_client import PlainClient


class SleepsConstant(PlainClient):
    def pause(self, number: int, hint: float | None) -> float:
        return 0.3  # BUG: constant, no jitter, Retry-After ignored


SleepsConstant().run()
