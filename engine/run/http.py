"""One HTTP attempt, recorded as data: a failing server never raises out of `send`."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import time
import zlib
from dataclasses import dataclass
from typing import Any

import httpx

from engine.core.fingerprint import SIMULATOR_HEADER
from engine.core.jsontext import loads_bounded
from engine.core.redact import one_line, scrub
from engine.plan.build import Step
from engine.run.observation import Observation, StreamOutcome, StreamSummary
from engine.run.stream import StreamState, assembled_document, stream_outcome
from engine.spec.backoff import HINT_HEADERS
from engine.spec.models import Check, Drill, ResponseContract
from engine.spec.paths import get_path, has_path

MESSAGE_KEPT = 1_000  # characters of error.message kept, shown and matched by `message:` rules
_REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-oneapi-request-id", "cf-ray")
_REQUEST_ID_IN_MESSAGE = re.compile(r"request id:\s*([\w.-]+)", re.I)


@dataclass(frozen=True)
class Outgoing:
    """A fully resolved request. Holds secrets: never log or render it."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None
    connect_timeout: float
    read_timeout: float
    deadline: float
    max_response_bytes: int
    secrets: tuple[str, ...] = ()
    client_request_id: str | None = None
    stream: bool = False  # the body asks for `stream: true`
    wants_usage: bool = False  # ... with stream_options.include_usage

    @classmethod
    def for_step(
        cls,
        step: Step[Check] | Step[Drill],
        base_url: str,
        headers: dict[str, str],
        *,
        secrets: tuple[str, ...] = (),
        client_request_id: str | None = None,
    ) -> Outgoing:
        """The step's request sent to `base_url` with `headers`: its body as JSON, its timeouts and size
        cap, and whether the body asks for a stream."""
        stream, wants_usage = _stream_flags(step.body)
        return cls(
            method=step.method,
            url=base_url + step.path,
            headers=headers,
            body=json.dumps(step.body).encode() if step.body is not None else None,
            connect_timeout=step.timeouts.connect,
            read_timeout=step.timeouts.read,
            deadline=step.timeouts.deadline,
            max_response_bytes=step.max_response_bytes,
            secrets=secrets,
            client_request_id=client_request_id,
            stream=stream,
            wants_usage=wants_usage,
        )


def _stream_flags(body: Any) -> tuple[bool, bool]:
    """Whether a request body asks for a stream, and for the usage chunk at its end."""
    if not isinstance(body, dict) or body.get("stream") is not True:
        return False, False
    options = body.get("stream_options")
    return True, isinstance(options, dict) and options.get("include_usage") is True


@dataclass(frozen=True)
class Attempt:
    """What came back. `document` is the parsed JSON body; it stays in memory, never in results."""

    observation: Observation
    document: Any = None


@dataclass
class _Received:
    status: int | None = None
    headers: httpx.Headers | None = None
    raw: bytes = b""
    ttfb: float | None = None
    error: str | None = None
    detail: str | None = None
    stream: StreamState | None = None
    started: float = 0.0


async def send(client: httpx.AsyncClient, request: Outgoing, contract: ResponseContract) -> Attempt:
    """Send one request within its deadline and describe the outcome."""
    started = time.perf_counter()
    received = _Received(started=started)
    try:
        async with asyncio.timeout(request.deadline):
            await _exchange(client, request, received, started)
    except TimeoutError:
        received.error, received.detail = "deadline", f"overall deadline of {request.deadline:g}s passed"
    except httpx.HTTPError as exc:
        received.error, received.detail = _transport_kind(exc), str(exc) or type(exc).__name__
    except OSError as exc:
        received.error, received.detail = ("reset" if received.status else "connect"), str(exc)
    if received.stream is not None:
        received.stream.close(_ms(started))
    elapsed = (time.perf_counter() - started) * 1000
    return _describe(received, elapsed, contract, request, request.client_request_id)


async def _exchange(client: httpx.AsyncClient, request: Outgoing, received: _Received, started: float) -> None:
    timeout = httpx.Timeout(
        connect=request.connect_timeout,
        read=request.read_timeout,
        write=request.read_timeout,
        pool=request.connect_timeout,
    )
    message = client.build_request(
        request.method, request.url, headers=request.headers, content=request.body, timeout=timeout
    )
    response = await client.send(message, stream=True, follow_redirects=False)
    try:
        received.ttfb = (time.perf_counter() - started) * 1000
        received.status, received.headers = response.status_code, response.headers
        streamed = request.stream and "text/event-stream" in response.headers.get("content-type", "")
        stream = StreamState() if streamed else None
        received.stream = stream
        # A stream is judged as it arrives and not kept, so only its duration bounds it.
        limit = 1 << 62 if streamed else request.max_response_bytes
        decoder = _BoundedDecoder(response.headers.get("content-encoding", ""), limit, keep=not streamed)
        async for chunk in response.aiter_raw():
            if not decoder.feed(chunk):
                break
            if stream is not None:
                stream.feed(decoder.last, _ms(started))
        received.raw = decoder.finish()
        if decoder.problem:
            received.error, received.detail = decoder.problem
    finally:
        await response.aclose()


class _BoundedDecoder:
    """Undo one gzip/deflate content coding without ever holding more than `limit` bytes.

    runbook asks for `identity`; a server that compresses anyway must not be able to expand a
    small body into gigabytes (a "zip bomb") before the size cap is checked.
    """

    def __init__(self, content_encoding: str, limit: int, keep: bool = True):
        codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip().lower() not in ("", "identity")]
        self.limit, self.size, self.keep, self.last = limit, 0, keep, b""
        self.parts: list[bytes] = []
        unsupported = len(codings) > 1 or (bool(codings) and codings[0] not in ("gzip", "x-gzip", "deflate"))
        self.problem: tuple[str, str] | None = (
            ("protocol", f"unsupported content-encoding {content_encoding!r}") if unsupported else None
        )
        self._zlib = (
            zlib.decompressobj(zlib.MAX_WBITS | 32 if "gzip" in codings[0] else zlib.MAX_WBITS)
            if codings and not unsupported
            else None
        )

    def feed(self, chunk: bytes) -> bool:
        """Keep what fits; False once the body must not be read any further."""
        if self.problem:
            return False
        try:
            data = self._zlib.decompress(chunk, self.limit - self.size + 1) if self._zlib else chunk
        except zlib.error as exc:
            self.problem = ("protocol", f"content-encoding could not be decoded: {exc}")
            return False
        self.size += len(data)
        if self.size > self.limit or (self._zlib is not None and self._zlib.unconsumed_tail):
            self.problem = ("too_large", f"response exceeded {self.limit} bytes")
            self.parts.append(data[: max(0, self.limit - (self.size - len(data)))])
            return False
        self.last = data
        if self.keep:
            self.parts.append(data)
        return True

    def finish(self) -> bytes:
        return b"".join(self.parts)


def _transport_kind(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return "connect_timeout"
    if isinstance(exc, httpx.ReadTimeout):
        return "read_timeout"
    if isinstance(exc, httpx.WriteTimeout):
        return "write_timeout"
    if isinstance(exc, httpx.PoolTimeout):
        return "pool_timeout"
    if isinstance(exc, httpx.ConnectError):
        return "dns" if _is_dns_failure(exc) else "connect"
    if isinstance(exc, httpx.RemoteProtocolError):
        text = str(exc).lower()
        if "without sending a response" in text or "server disconnected" in text:
            return "reset"
        return "truncated" if "incomplete" in text or "complete message body" in text else "protocol"
    if isinstance(exc, (httpx.ReadError, httpx.WriteError)):
        return "reset"
    return "protocol"


def _is_dns_failure(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, socket.gaierror):
            return True
        seen = seen.__cause__ or seen.__context__
    text = str(exc).lower()
    return any(
        s in text
        for s in ("name or service not known", "name resolution", "nodename", "getaddrinfo", "no address associated")
    )


def _describe(
    received: _Received,
    elapsed: float,
    contract: ResponseContract,
    request: Outgoing,
    client_request_id: str | None = None,
) -> Attempt:
    secrets = request.secrets
    summary = None
    document: Any
    if received.stream is not None:
        outcome, parser, missing = stream_outcome(received.stream, received.error, request.wants_usage)
        document, parsed = assembled_document(received.stream), True
        summary = _stream_summary(received.stream, outcome)
    else:
        document, parsed = _parse_json(received.raw) if received.error is None else (None, False)
        parser, missing = _parser_outcome(received, document, parsed, contract)
    error = received.stream.error if received.stream is not None else _error_fields(document, received.status)
    headers = received.headers or httpx.Headers()
    message = _text(error.get("message")) if error else None
    return Attempt(
        observation=Observation(
            status=received.status,
            transport_error=received.error,
            transport_detail=_clean(received.detail, secrets, 200),
            parser=parser,
            missing=missing,
            error_code=_text(error.get("code")) if error else None,
            error_type=_text(error.get("type")) if error else None,
            error_message=_clean(message, secrets, MESSAGE_KEPT),
            content_type=headers.get("content-type"),
            request_id=_clean(_request_id(headers, message), secrets, 100),
            response_bytes=len(received.raw),
            ttfb_ms=round(received.ttfb, 2) if received.ttfb is not None else None,
            elapsed_ms=round(elapsed, 2),
            body_excerpt=_excerpt(received, parsed, secrets),
            client_request_id=client_request_id,
            hints={name: _clean(headers[name], secrets, 64) or "" for name in HINT_HEADERS if name in headers},
            stream=summary,
            simulator=_clean(headers.get(SIMULATOR_HEADER), secrets, 40),
        ),
        document=document,
    )


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _stream_summary(state: StreamState, outcome: StreamOutcome) -> StreamSummary:
    return StreamSummary(
        outcome=outcome,
        events=state.events,
        chunks=state.chunks,
        done_events=state.done,
        keep_alives=state.parser.comments,
        content_chars=state.content_chars,
        finish_reason=state.finish_reason,
        usage_seen=state.usage is not None,
        first_token_ms=round(state.first_token_at, 2) if state.first_token_at is not None else None,
        malformed=state.malformed,
        unterminated_event_discarded=state.parser.discarded_at_end,
    )


def _parse_json(raw: bytes) -> tuple[Any, bool]:
    try:
        return loads_bounded(raw), True
    except (ValueError, UnicodeDecodeError):  # TooDeep is a ValueError: depth is invalid JSON, as data
        return None, False


def _parser_outcome(
    received: _Received, document: Any, parsed: bool, contract: ResponseContract
) -> tuple[str, list[str]]:
    if received.error is not None or received.status is None:
        return "none", []
    if not parsed:
        return "invalid_json", []
    if not 200 <= received.status < 300:
        return ("error_envelope", []) if _error_object(document) else ("missing_field", ["error"])
    if _error_object(document):
        return "error_in_body", []
    missing = [path for path in contract.require if not has_path(document, path)]
    if missing:
        return "missing_field", missing
    return ("empty_content" if get_path(document, contract.content) == "" else "ok"), []


def read_error_body(status: int, raw: bytes) -> tuple[str, dict[str, str | None]]:
    """How an attempt records a failed request's JSON body: (parser outcome, code/type/message as text)."""
    document, parsed = _parse_json(raw)
    if not parsed:
        return "invalid_json", {}
    outcome = "error_envelope" if _error_object(document) else "missing_field"
    error = _error_fields(document, status) or {}
    return outcome, {key: _text(error.get(key)) for key in ("code", "type", "message")}


def _error_fields(document: Any, status: int | None) -> dict[str, Any] | None:
    """The error's code, type and message: from the OpenAI envelope (`{"error": {...}}`), or, for a
    failed request answered in another shape, from that shape, so the table can still read them:
    a top-level `{"message", "type", "code"}` (Mistral, older vLLM), FastAPI's `{"detail": ...}`,
    or `{"error": "text"}`. The parser outcome still records the missing envelope."""
    envelope = _error_object(document)
    if envelope is not None or not isinstance(document, dict) or status is None or status < 400:
        return envelope
    if isinstance(document.get("error"), str):
        return {"message": document["error"]}
    if isinstance(document.get("message"), str):
        return {key: document.get(key) for key in ("message", "type", "code")}
    detail = document.get("detail")
    if isinstance(detail, str):
        return {"message": detail}
    if isinstance(detail, list) and detail and isinstance(detail[0], dict) and isinstance(detail[0].get("msg"), str):
        return {"message": detail[0]["msg"]}
    return None


def _error_object(document: Any) -> dict[str, Any] | None:
    error = document.get("error") if isinstance(document, dict) else None
    return error if isinstance(error, dict) and error else None


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _request_id(headers: httpx.Headers, message: str | None) -> str | None:
    for name in _REQUEST_ID_HEADERS:
        if headers.get(name):
            return str(headers[name])
    match = _REQUEST_ID_IN_MESSAGE.search(message or "")
    return match.group(1) if match else None


def _clean(text: str | None, secrets: tuple[str, ...], limit: int) -> str | None:
    """Scrub first, then cut: a cut secret would no longer match."""
    return one_line(scrub(text, secrets), limit) if text else None


def _excerpt(received: _Received, parsed: bool, secrets: tuple[str, ...]) -> str | None:
    """A short look at a non-JSON error body (an HTML gateway page). Never a 2xx body: it is content."""
    if parsed or not received.raw or received.status is None or 200 <= received.status < 300:
        return None
    # The whole body is scrubbed before it is cut: whitespace collapses, so a key far into the body
    # can still land in the 200 characters shown, and a key cut in two would no longer match.
    return _clean(received.raw.decode("utf-8", errors="replace"), secrets, 200)
