"""Deterministic answers: a chat completion body or its SSE chunk stream.

The reply is `{"status":"ok"}` when the last user message mentions "status" (any
case) and `ok` otherwise; a `max_tokens` below the reply's estimate truncates it to
max_tokens * 4 characters with finish_reason "length".
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from engine.sim import wire
from engine.sim.tokens import content_text, estimate_tokens
from engine.sim.validate import ChatRequest

FINGERPRINT = "fp_runbook_sim"
STATUS_REPLY = '{"status":"ok"}'
PLAIN_REPLY = "ok"
STREAM_PIECES = 3


@dataclass(frozen=True)
class Reply:
    """What the simulated model answers to one request."""

    id: str
    created: int
    content: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int


def make_reply(request: ChatRequest) -> Reply:
    """The deterministic reply to `request`, with a fresh id and timestamp."""
    text = STATUS_REPLY if _asks_status(request) else PLAIN_REPLY
    finish_reason = "stop"
    limit = request.max_tokens
    if limit is not None and limit < estimate_tokens(text):
        text, finish_reason = text[: max(limit, 0) * 4], "length"
    return Reply(
        id="chatcmpl-" + secrets.token_hex(12),
        created=int(time.time()),
        content=text,
        finish_reason=finish_reason,
        prompt_tokens=request.prompt_tokens,
        completion_tokens=estimate_tokens(text),
    )


def _asks_status(request: ChatRequest) -> bool:
    """True when the last user message mentions "status"."""
    users = [message for message in request.messages if message.get("role") == "user"]
    return bool(users) and "status" in content_text(users[-1]).lower()


def usage(reply: Reply) -> dict[str, Any]:
    """The OpenAI `usage` object for `reply`."""
    return wire.token_usage(reply.prompt_tokens, reply.completion_tokens, details=True)


def completion_body(request: ChatRequest, reply: Reply) -> dict[str, Any]:
    """A non-streaming `chat.completion` object."""
    return wire.completion(_answer(request, reply), reply.content, reply.finish_reason, usage(reply))


def stream_events(request: ChatRequest, reply: Reply) -> Iterator[str]:
    """SSE events of a streamed completion, each `data: <json>\\n\\n`, ending in [DONE].

    A role delta, a few content deltas, a finish chunk, then (if asked) a usage
    chunk with no choices.
    """
    pieces = _pieces(reply.content, STREAM_PIECES)
    counts = usage(reply) if request.include_usage else None
    for chunk in wire.stream_chunks(_answer(request, reply), pieces, reply.finish_reason, counts):
        yield wire.sse_event(wire.to_json(chunk))
    yield wire.sse_event(wire.DONE)


def _answer(request: ChatRequest, reply: Reply) -> wire.Answer:
    """OpenAI's full shape; with usage asked for, every chunk carries `usage` (null until the last)."""
    return wire.Answer(
        id=reply.id,
        model=request.model,
        created=reply.created,
        system_fingerprint=FINGERPRINT,
        openai_nulls=True,
        usage_on_every_chunk=request.include_usage,
    )


def _pieces(text: str, count: int) -> list[str]:
    """`text` split into at most `count` non-empty pieces of near-equal size."""
    size = max(1, -(-len(text) // count))
    return [text[start : start + size] for start in range(0, len(text), size)]
