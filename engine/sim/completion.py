"""Deterministic answers: a chat completion body or its SSE chunk stream.

The reply is `{"status":"ok"}` when the last user message mentions "status" (any
case) and `ok` otherwise; a `max_tokens` below the reply's estimate truncates it to
max_tokens * 4 characters with finish_reason "length".
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

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
    return {
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": reply.completion_tokens,
        "total_tokens": reply.prompt_tokens + reply.completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }


def completion_body(request: ChatRequest, reply: Reply) -> dict[str, Any]:
    """A non-streaming `chat.completion` object."""
    message = {"role": "assistant", "content": reply.content, "refusal": None}
    choice = {
        "index": 0,
        "message": message,
        "logprobs": None,
        "finish_reason": reply.finish_reason,
    }
    return {
        "id": reply.id,
        "object": "chat.completion",
        "created": reply.created,
        "model": request.model,
        "system_fingerprint": FINGERPRINT,
        "choices": [choice],
        "usage": usage(reply),
    }


def stream_events(request: ChatRequest, reply: Reply) -> Iterator[str]:
    """SSE events of a streamed completion, each `data: <json>\\n\\n`, ending in [DONE].

    A role delta, a few content deltas, a finish chunk, then (if asked) a usage
    chunk with no choices.
    """
    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
    deltas += [{"content": piece} for piece in _pieces(reply.content, STREAM_PIECES)]
    for delta in deltas:
        yield _event(_chunk(request, reply, [_stream_choice(delta, None)]))
    yield _event(_chunk(request, reply, [_stream_choice({}, reply.finish_reason)]))
    if request.include_usage:
        yield _event({**_chunk(request, reply, []), "usage": usage(reply)})
    yield "data: [DONE]\n\n"


def _chunk(request: ChatRequest, reply: Reply, choices: list[dict[str, Any]]) -> dict[str, Any]:
    """One `chat.completion.chunk`; `usage` is null on every chunk when usage is asked for."""
    chunk = {
        "id": reply.id,
        "object": "chat.completion.chunk",
        "created": reply.created,
        "model": request.model,
        "system_fingerprint": FINGERPRINT,
        "choices": choices,
    }
    if request.include_usage:
        chunk["usage"] = None
    return chunk


def _stream_choice(delta: dict[str, Any], finish_reason: str | None) -> dict[str, Any]:
    return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}


def _pieces(text: str, count: int) -> list[str]:
    """`text` split into at most `count` non-empty pieces of near-equal size."""
    size = max(1, -(-len(text) // count))
    return [text[start : start + size] for start in range(0, len(text), size)]


def _event(payload: dict[str, Any]) -> str:
    return f"data: {json.dumps(payload, separators=(',', ':'))}\n\n"
