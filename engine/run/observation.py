"""What one HTTP attempt looked like from the client's side: the record the run stage makes.

The results document embeds these records as they are (`CheckResult.observed`), so their field
names are part of the results format too.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

StreamOutcome = Literal["success", "partial", "failed"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)


class StreamSummary(_Frozen):
    """What a streamed answer added up to; `outcome` is never success for a broken stream."""

    outcome: StreamOutcome
    events: int
    chunks: int
    done_events: int
    keep_alives: int
    content_chars: int
    finish_reason: str | None = None
    usage_seen: bool = False
    first_token_ms: float | None = None
    malformed: str | None = None
    unterminated_event_discarded: bool = False


class Observation(_Frozen):
    """What one HTTP attempt looked like from the client's side."""

    status: int | None = None
    transport_error: str | None = None  # dns, connect, connect_timeout, read_timeout, ...
    transport_detail: str | None = None
    parser: str = "none"  # ok, invalid_json, missing_field, empty_content, ...
    missing: list[str] = []  # required response paths that were absent
    error_code: str | None = None
    error_type: str | None = None
    error_message: str | None = None  # provider's message, truncated
    content_type: str | None = None
    request_id: str | None = None
    response_bytes: int = 0
    ttfb_ms: float | None = None
    elapsed_ms: float = 0.0
    body_excerpt: str | None = None  # sanitized, truncated; never assistant content
    client_request_id: str | None = None  # the id runbook sent with the request
    hints: dict[str, str] = {}  # retry-after, retry-after-ms, x-should-retry as sent
    stream: StreamSummary | None = None  # for streamed answers
    simulator: str | None = None  # the x-runbook-simulator header: runbook's own simulator answered
