"""Bad client under test (plain httpx): retries EVERY non-2xx answer, 400/401/403/404 included, up to 3
attempts; otherwise policy-correct (full jitter, Retry-After up to 20s, the deadline). No fallback."""

from plain_client import PlainClient


class Retries401(PlainClient):
    def retryable(self, status: int, code: object) -> bool:
        return True  # BUG: 401 (or 400, 404...) is retried too


Retries401().run()
