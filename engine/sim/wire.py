"""The wire formats of an OpenAI-compatible chat-completions server, built in one place.

Takes plain values (an answer's id, model and content, token counts, error fields) and gives what
the simulators and test servers put on the wire:

    completion(answer, content)       a `chat.completion` object
    stream_chunks(answer, pieces)     the `chat.completion.chunk` objects of a streamed answer
    chunk, stream_choice              one chunk, one of its choices
    token_usage(prompt, completion)   the `usage` object
    error_envelope(message, ...)      {"error": {"message", "type", "param", "code"}}
    model_list(models)                the `GET /v1/models` list
    to_json(document)                 JSON text: compact, or spaced as `json.dumps` writes by default
    sse_event(data), sse_comment      one server-sent event as text; `DONE` is a stream's last data
    http_response, sized_head,        HTTP/1.1 bytes for the raw-socket servers; SIMULATOR_HEADERS
    http_head, http_chunk             is the fingerprint every runbook simulator answers with

A field given as None is left out, so each server keeps its own shape: the built-in simulator sends
every field OpenAI sends, the fault simulator the least a client needs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from engine.core.fingerprint import SIMULATOR_HEADER, SIMULATOR_VALUE

Document = dict[str, Any]
Headers = tuple[tuple[str, str], ...]

COMET_ERROR_TYPE = "comet_api_error"
DONE = "[DONE]"
JSON_TYPE = "application/json"
SSE_TYPE = "text/event-stream"
HTML_TYPE = "text/html"
SIMULATOR_HEADERS: Headers = ((SIMULATOR_HEADER, SIMULATOR_VALUE),)
ROLE_DELTA: Document = {"role": "assistant", "content": ""}


@dataclass(frozen=True)
class Answer:
    """What every object of one answer repeats; a None field is not sent.

    `openai_nulls` sends the null fields OpenAI always sends (`logprobs`, `refusal`);
    `usage_on_every_chunk` gives every chunk a `usage` (null until the last), as OpenAI does
    when `stream_options.include_usage` is set.
    """

    id: str
    model: str
    created: int | None = None
    system_fingerprint: str | None = None
    openai_nulls: bool = False
    usage_on_every_chunk: bool = False


def token_usage(prompt_tokens: int, completion_tokens: int, details: bool = False) -> Document:
    """The `usage` object; `details` adds OpenAI's zeroed cached and reasoning token counts."""
    counts: Document = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    if details:
        counts["prompt_tokens_details"] = {"cached_tokens": 0}
        counts["completion_tokens_details"] = {"reasoning_tokens": 0}
    return counts


def completion(answer: Answer, content: str, finish_reason: str = "stop", usage: Document | None = None) -> Document:
    """A non-streaming `chat.completion` object with one choice."""
    message: Document = {"role": "assistant", "content": content}
    if answer.openai_nulls:
        message["refusal"] = None
    choice = _choice(answer, "message", message, finish_reason)
    return _with_usage(_object(answer, "chat.completion", [choice]), usage)


def chunk(answer: Answer, choices: list[Document], usage: Document | None = None) -> Document:
    """One `chat.completion.chunk`."""
    body = _object(answer, "chat.completion.chunk", choices)
    if answer.usage_on_every_chunk and usage is None:
        body["usage"] = None
    return _with_usage(body, usage)


def stream_choice(answer: Answer, delta: Document, finish_reason: str | None = None) -> Document:
    """The one choice of a chunk: a delta, and the finish reason on the last one."""
    return _choice(answer, "delta", delta, finish_reason)


def stream_chunks(
    answer: Answer, pieces: Iterable[str], finish_reason: str = "stop", usage: Document | None = None
) -> Iterator[Document]:
    """A streamed answer: a role delta, a content delta a piece, the finish chunk, then (given usage)
    a usage chunk with no choices. The `[DONE]` event after them is the caller's."""
    deltas = [ROLE_DELTA, *({"content": piece} for piece in pieces)]
    for delta in deltas:
        yield chunk(answer, [stream_choice(answer, dict(delta))])
    yield chunk(answer, [stream_choice(answer, {}, finish_reason)])
    if usage is not None:
        yield chunk(answer, [], usage)


def error_envelope(
    message: str,
    code: str | int | None = None,
    error_type: str | None = None,
    param: str | None = None,
    null_param: bool = False,
) -> Document:
    """The OpenAI error envelope, its fields in the order message, type, param, code. A None field is
    left out, except `param` with `null_param` (OpenAI always sends it, null when no field is at fault)."""
    fields = {"message": message, "type": error_type, "param": param, "code": code}
    kept = {name: value for name, value in fields.items() if value is not None or (name == "param" and null_param)}
    return {"error": kept}


def model_list(models: Iterable[str], created: int, owner: str) -> Document:
    """The `GET /v1/models` answer: each model id as an OpenAI `model` object."""
    data = [{"id": model, "object": "model", "created": created, "owned_by": owner} for model in models]
    return {"object": "list", "data": data}


def to_json(document: object, spaced: bool = False) -> str:
    """`document` as JSON text: compact, or `spaced` (", " and ": ", json.dumps's default)."""
    return json.dumps(document, separators=(", ", ": ") if spaced else (",", ":"))


def sse_event(data: str, line_end: str = "\n") -> str:
    """One server-sent event carrying `data` (a JSON text or DONE): `data: <data>` and a blank line."""
    return f"data: {data}{line_end}{line_end}"


def sse_comment(text: str) -> str:
    """An SSE comment line, which clients skip (servers send `: keep-alive` to hold a stream open)."""
    return f": {text}\n\n"


def http_head(status: int, headers: Iterable[tuple[str, str]]) -> bytes:
    """An HTTP/1.1 response head: the status line, `headers` in order, the blank line."""
    lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}", *(f"{name}: {value}" for name, value in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def sized_head(status: int, length: int, content_type: str = JSON_TYPE, headers: Headers = ()) -> bytes:
    """The head of a body of `length` bytes; `headers` follow content-type and content-length."""
    return http_head(status, (("content-type", content_type), ("content-length", str(length)), *headers))


def http_response(status: int, body: bytes, content_type: str = JSON_TYPE, headers: Headers = ()) -> bytes:
    """A whole response framed by content-length."""
    return sized_head(status, len(body), content_type, headers) + body


def http_chunk(data: bytes) -> bytes:
    """One chunk of a chunked body (an empty one ends the body)."""
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def _object(answer: Answer, kind: str, choices: list[Document]) -> Document:
    """The fields a completion and a chunk share, in OpenAI's order."""
    body: Document = {"id": answer.id, "object": kind}
    if answer.created is not None:
        body["created"] = answer.created
    body["model"] = answer.model
    if answer.system_fingerprint is not None:
        body["system_fingerprint"] = answer.system_fingerprint
    body["choices"] = choices
    return body


def _choice(answer: Answer, field: str, value: Document, finish_reason: str | None) -> Document:
    """Choice 0 carrying its `message` or `delta`."""
    choice: Document = {"index": 0, field: value}
    if answer.openai_nulls:
        choice["logprobs"] = None
    choice["finish_reason"] = finish_reason
    return choice


def _with_usage(body: Document, usage: Document | None) -> Document:
    if usage is not None:
        body["usage"] = usage
    return body


REASONS = {
    200: "OK",
    301: "Moved Permanently",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    408: "Request Timeout",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    524: "A Timeout Occurred",
}
