"""Bad client under test (plain httpx): policy-correct retries, but a stream that simply ends counts as a
success, with or without finish_reason and `data: [DONE]` (what the openai SDK does). No fallback."""

from plain_client import PlainClient


class TrustsTruncatedStream(PlainClient):
    def finished(self, finish: object, done: bool) -> bool:
        return True  # BUG: no check for finish_reason or [DONE]


TrustsTruncatedStream().run()
