"""The scripted-fault simulator: consecutive attempts get scripted answers, real on the wire.

Each drill scripts its own scope (`/drill/<scope>/...`), so drills can run side by side. Faults are
produced on the raw socket: a TCP reset is a reset, a truncated body is a truncated body. Every
attempt the server receives is logged with its arrival time, so a drill can be judged from the
server's side as well as the client's.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from engine.core.fingerprint import SIMULATOR_HEADER, SIMULATOR_VALUE
from engine.core.latency import LatencyProbe

_FINGERPRINT = f"{SIMULATOR_HEADER}: {SIMULATOR_VALUE}\r\n".encode("latin-1")


@dataclass(frozen=True)
class FaultStep:
    """How to answer one attempt. Durations are seconds, already scaled."""

    kind: str = "ok"
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0
    error_code: str = ""
    body_delay: float = 0.0
    after: int = 2


@dataclass(frozen=True)
class ServedAttempt:
    scope: str
    index: int
    kind: str
    arrived: float  # seconds since the server started
    path: str
    status: int | None = None
    # When the last bytes of the answer were handed to the socket (None: never, e.g. a stall).
    # Taken just *before* that write, so a pause measured from here to the next arrival is never
    # shorter than the client's own pause, whatever the scheduler does to this thread.
    answered: float | None = None


DEFAULT_SCOPE = "default"  # requests outside /drill/<scope>/ (a standalone script for any client)


@dataclass
class _Scripts:
    steps: dict[str, list[FaultStep]] = field(default_factory=dict)
    served: dict[str, int] = field(default_factory=dict)
    log: list[ServedAttempt] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    on_attempt: Callable[[ServedAttempt], None] | None = None
    # Serving any client (runbook sim --script): each unknown `call:<id>` scope starts a fresh copy of
    # `template`; `on_request` also hears the attempt's request id, `on_answered` when its answer ended.
    template: list[FaultStep] | None = None
    on_request: Callable[[ServedAttempt, str | None], None] | None = None
    on_answered: Callable[[ServedAttempt], None] | None = None

    CALL = "call:"  # the scope of a call named by /call/<id>/... or X-Runbook-Call: <id>
    CALL_HEADER = "x-runbook-call"
    REQUEST_ID_HEADERS = ("x-client-request-id", "x-request-id")
    ID_LIMIT = 100

    def serve_any_client(
        self,
        steps: list[FaultStep],
        on_request: Callable[[ServedAttempt, str | None], None] | None,
        on_answered: Callable[[ServedAttempt], None] | None,
    ) -> None:
        """`steps` for the default scope (one shared sequence) and, from its first step, for every call."""
        with self.lock:
            self.template = list(steps) or [FaultStep()]
            self.steps[DEFAULT_SCOPE], self.served[DEFAULT_SCOPE] = list(self.template), 0
            self.on_request, self.on_answered = on_request, on_answered

    @classmethod
    def scope_of(cls, path: str, headers: dict[str, str]) -> str | None:
        """/drill/<scope>/..., else /call/<id>/..., else X-Runbook-Call: <id>, else the default scope.

        None: the call id is not 1-100 of A-Z a-z 0-9 - . _ ~ (the id `default` is the default scope)."""
        if path.startswith("/drill/") and path.count("/") >= 3:
            return path.split("/")[2]
        parts = path.split("?", 1)[0].split("/", 3)
        if len(parts) >= 3 and parts[0] == "" and parts[1] == "call":
            call = parts[2]
        elif cls.CALL_HEADER in headers:
            call = headers[cls.CALL_HEADER]
        else:
            return DEFAULT_SCOPE
        if call == DEFAULT_SCOPE:
            return DEFAULT_SCOPE
        valid = 0 < len(call) <= cls.ID_LIMIT and all(c.isascii() and (c.isalnum() or c in "-._~") for c in call)
        return cls.CALL + call if valid else None

    @classmethod
    def request_id(cls, headers: dict[str, str]) -> str | None:
        found = next((headers[name] for name in cls.REQUEST_ID_HEADERS if headers.get(name)), None)
        return found[: cls.ID_LIMIT] if found is not None else None

    def answered(self, attempt: ServedAttempt, now: float) -> None:
        with self.lock:
            for position in range(len(self.log) - 1, -1, -1):
                if self.log[position] is attempt:
                    done = self.log[position] = dataclasses.replace(attempt, answered=now)
                    break
            else:
                return  # unknown, or already marked: an answer ends once
        if self.on_answered is not None:
            self.on_answered(done)

    def next_step(
        self, scope: str, path: str, now: float, request_id: str | None = None
    ) -> tuple[FaultStep, ServedAttempt] | None:
        with self.lock:
            steps = self.steps.get(scope)
            if not steps and self.template and scope.startswith(self.CALL):
                steps = self.steps[scope] = list(self.template)
                self.served[scope] = 0
            if not steps:
                return None
            index = self.served.get(scope, 0)
            self.served[scope] = index + 1
            step = steps[min(index, len(steps) - 1)]
            attempt = ServedAttempt(scope, index, step.kind, now, path, step.status if step.kind == "status" else None)
            self.log.append(attempt)
        if self.on_attempt is not None:
            self.on_attempt(attempt)
        if self.on_request is not None:
            self.on_request(attempt, request_id)
        return step, attempt


class FaultServer:
    """`with FaultServer() as server: url = server.script("drill-1", [FaultStep("status", 503), FaultStep()])`."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, on_attempt: Callable[[ServedAttempt], None] | None = None
    ):
        self._host, self._port = host, port
        self._scripts = _Scripts(on_attempt=on_attempt)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._error: OSError | None = None
        self._epoch = time.monotonic()
        self._probe = LatencyProbe()

    @property
    def base_url(self) -> str:
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def script(self, scope: str, steps: list[FaultStep]) -> str:
        """Install a script; returns the base URL a client uses for this scope."""
        with self._scripts.lock:
            self._scripts.steps[scope] = list(steps) or [FaultStep()]
            self._scripts.served[scope] = 0
        return f"{self.base_url}/drill/{scope}"

    def attempts(self, scope: str | None = None) -> list[ServedAttempt]:
        with self._scripts.lock:
            return [a for a in self._scripts.log if scope is None or a.scope == scope]

    def now(self) -> float:
        return time.monotonic() - self._epoch

    def take_lateness(self) -> float:
        """The worst scheduling latency of the server's loop since the last call (seconds)."""
        return self._probe.take()

    def start(self) -> FaultServer:
        self._thread = threading.Thread(target=self._serve, name="runbook-faults", daemon=True)
        self._thread.start()
        if not self._started.wait(5):
            raise RuntimeError("fault server did not start")
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()

    def _serve(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        try:
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._handle, self._host, self._port, reuse_address=True)
            )
        except OSError as exc:  # e.g. the port is taken: start() re-raises it
            self._error, self._loop = exc, self._loop.close()
            self._started.set()
            return
        for sock in self._server.sockets:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._loop.run_until_complete(self._start_probe())
        self._started.set()
        try:
            self._loop.run_forever()
        finally:
            self._server.close()
            pending = asyncio.all_tasks(self._loop)  # stalled or kept-alive connections
            for task in pending:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self._loop.run_until_complete(self._server.wait_closed())
            self._loop.close()

    async def _start_probe(self) -> None:
        self._probe.start()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                path = await _read_request(reader)
                if path is None:
                    break
                keep_open = await self._answer(path, reader, writer)
                if not keep_open:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass
        except asyncio.CancelledError:
            return  # the server is stopping; ending quietly keeps asyncio's stream callback quiet
        finally:
            if not writer.is_closing():
                writer.close()

    async def _answer(
        self, request: tuple[str, dict[str, str]], reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        path, headers = request
        scope = _Scripts.scope_of(path, headers)
        if scope is None:
            writer.write(
                _response(
                    400,
                    _error_body(
                        "a call id (/call/<id>/ or X-Runbook-Call) is 1-100 characters of A-Z a-z 0-9 - . _ ~",
                        "invalid_call_id",
                    ),
                )
            )
            await writer.drain()
            return True
        found = self._scripts.next_step(scope, path, self.now(), _Scripts.request_id(headers))
        if found is None:
            writer.write(_response(404, _error_body("no script for this path", "not_found")))
            await writer.drain()
            return True
        step, attempt = found
        if step.delay:
            await asyncio.sleep(step.delay)
        return await _play(step, reader, writer, lambda: self._scripts.answered(attempt, self.now()))


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, dict[str, str]] | None:
    """One request: its target and headers (names lower-cased, repeats joined by ", "); the body is read and
    dropped, by Content-Length or chunked. ValueError: a framing the connection cannot continue after."""
    head = await reader.readuntil(b"\r\n\r\n")
    request_line, *lines = head.decode("latin-1").lstrip("\r\n").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            continue  # the blank end of the head, or not a header field
        name, value = name.lower(), value.strip(" \t")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    if "transfer-encoding" in headers:  # it overrides any Content-Length
        if headers["transfer-encoding"].rsplit(",", 1)[-1].strip().lower() != "chunked":
            raise ValueError("a request body's last transfer coding must be chunked")
        while True:
            size = (await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip()
            if not size or any(c not in b"0123456789abcdefABCDEF" for c in size):
                raise ValueError(f"bad chunk size {size[:20]!r}")
            if int(size, 16) == 0:
                break
            await reader.readexactly(int(size, 16) + 2)  # the chunk and its CRLF
        while await reader.readuntil(b"\r\n") != b"\r\n":  # trailer fields, up to the blank line
            pass
    elif "content-length" in headers:
        lengths = {value.strip() for value in headers["content-length"].split(",")}
        length = lengths.pop() if len(lengths) == 1 else ""
        if not (length.isascii() and length.isdigit()):
            raise ValueError(f"bad content-length {headers['content-length'][:20]!r}")
        if int(length):
            await reader.readexactly(int(length))
    parts = request_line.split(" ")
    return (parts[1], headers) if len(parts) >= 2 else None


async def _play(
    step: FaultStep, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, mark: Callable[[], None]
) -> bool:
    """Answer one attempt, calling `mark` just before its last bytes; False: do not reuse the connection."""
    if step.kind.startswith("stream_"):
        return await _play_stream(step, reader, writer, mark)
    if step.kind == "reset":
        mark()
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()
        return False
    if step.kind == "stall":
        await _until_client_leaves(reader)
        return False
    if step.kind == "close_mid_body":
        body = _completion("ok")
        mark()
        writer.write(_head(200, len(body), "application/json", step.headers) + body[: len(body) // 2])
        await writer.drain()
        writer.transport.abort()
        return False
    if step.kind == "slow_body":
        body = _completion("ok")
        writer.write(_head(200, len(body), "application/json", step.headers))
        for index in range(0, len(body), 16):
            if index + 16 >= len(body):
                mark()
            writer.write(body[index : index + 16])
            await writer.drain()
            await asyncio.sleep(step.body_delay)
        return True
    answer = _canned(step)
    mark()
    writer.write(answer)
    await writer.drain()
    return True


STREAM_PIECES = ("Hel", "lo, ", "wor", "ld.")


def _stream_events(step: FaultStep) -> list[bytes]:
    """The SSE events of a normal answer: role, content pieces, finish, usage, [DONE]."""

    def chunk(delta: dict, finish: str | None = None, usage: dict | None = None, choices: bool = True) -> dict:
        body = {
            "id": "chatcmpl-stream",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": "sim",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}] if choices else [],
        }
        if usage is not None:
            body["usage"] = usage
        return body

    payloads = [chunk({"role": "assistant", "content": ""})]
    payloads += [chunk({"content": piece}) for piece in STREAM_PIECES]
    payloads += [
        chunk({}, "stop"),
        chunk({}, usage={"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9}, choices=False),
    ]
    end = "\r\n" if step.kind == "stream_crlf" else "\n"
    events = [f"data: {json.dumps(p)}{end}{end}".encode() for p in payloads] + [f"data: [DONE]{end}{end}".encode()]
    if step.kind == "stream_bom":
        events[0] = b"\xef\xbb\xbf" + events[0]
    return events


async def _until_client_leaves(reader: asyncio.StreamReader, limit: float = 300) -> None:
    """Hold the connection without answering until the client gives up (or `limit` passes)."""
    try:
        await asyncio.wait_for(reader.read(), limit)
    except (TimeoutError, ConnectionError):
        pass


async def _play_stream(
    step: FaultStep, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, mark: Callable[[], None]
) -> bool:
    """A chunked text/event-stream answer with the scripted fault after `step.after` events."""
    extra = "".join(f"{name}: {value}\r\n" for name, value in step.headers).encode("latin-1")
    writer.write(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n"
        b"connection: close\r\n" + _FINGERPRINT + extra + b"\r\n"
    )
    events, kind = _stream_events(step), step.kind
    for index, event in enumerate(events):
        if index == step.after and kind in (
            "stream_disconnect",
            "stream_stall",
            "stream_malformed",
            "stream_error_event",
            "stream_clean_cut",
        ):
            if kind == "stream_disconnect":  # a clean FIN mid-body: what arrived stays readable
                mark()
                await writer.drain()
                writer.close()
                return False
            if kind == "stream_clean_cut":  # a proper end of body mid-answer: no finish_reason, no [DONE]
                mark()
                break
            if kind == "stream_stall":
                await writer.drain()
                await _until_client_leaves(reader)
                return False
            if kind == "stream_malformed":
                await _chunk(writer, b"data: {not json\n\n")
            if kind == "stream_error_event":
                mark()
                await _chunk(
                    writer,
                    b'data: {"error": {"message": "overloaded mid-stream", "type": "server_error", "code": "overloaded"}}\n\n',
                )
                break
        if kind == "stream_no_done" and event.startswith(b"data: [DONE]"):
            mark()
            break
        if kind == "stream_slow_first_token" and index == 1:
            await asyncio.sleep(step.body_delay)
        if kind == "stream_keepalive":
            await _chunk(writer, b": keep-alive\n\n")
        if event.startswith(b"data: [DONE]"):
            mark()
        if kind == "stream_split":
            for byte in range(len(event)):
                await _chunk(writer, event[byte : byte + 1])
            continue
        await _chunk(writer, event)
    await _chunk(writer, b"")
    return False


async def _chunk(writer: asyncio.StreamWriter, data: bytes) -> None:
    """One HTTP/1.1 chunk (an empty one ends the body)."""
    writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
    await writer.drain()


def _canned(step: FaultStep) -> bytes:
    kind = step.kind
    if kind == "ok":
        return _response(200, _completion('{"status":"ok"}'), headers=step.headers)
    if kind == "status":
        return _response(step.status, _error_body(f"scripted {step.status}", step.error_code), headers=step.headers)
    if kind == "invalid_json":
        return _response(200, b'{"id": "chatcmpl-x", "choices": [', headers=step.headers)
    if kind == "html_502":
        page = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
        return _response(502, page, "text/html", step.headers)
    if kind == "redirect":
        return _response(301, b"", "text/html", (("location", "/v1/chat/completions"), *step.headers))
    if kind == "schema_drift":
        drift = json.dumps({"id": "chatcmpl-drift", "object": "chat.completion", "model": "m"}).encode()
        return _response(200, drift, headers=step.headers)
    if kind == "empty_content":
        return _response(200, _completion(""), headers=step.headers)
    if kind == "extra_fields":
        return _response(200, _with_extra_fields(_completion('{"status":"ok"}')), headers=step.headers)
    if kind == "error_in_200":
        return _response(200, _error_body("upstream failed after headers", "server_error"), headers=step.headers)
    raise ValueError(f"unknown fault kind {kind!r}")


def _completion(content: str) -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-drill",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": "sim",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
        }
    ).encode()


def _with_extra_fields(body: bytes) -> bytes:
    """A valid completion carrying fields no client was written for, at every level."""
    document = json.loads(body)
    document.update({"system_fingerprint": "fp_runbook", "service_tier": "default", "x_provider": {"region": "eu-1"}})
    choice = document["choices"][0]
    choice.update({"logprobs": None, "content_filter_results": {"hate": {"filtered": False}}})
    choice["message"].update({"refusal": None, "annotations": [], "audio": None})
    document["usage"]["prompt_tokens_details"] = {"cached_tokens": 0}
    return json.dumps(document).encode()


def _error_body(message: str, code: str) -> bytes:
    return json.dumps({"error": {"message": message, "type": "comet_api_error", "param": "", "code": code}}).encode()


def _head(status: int, length: int, content_type: str, headers: tuple[tuple[str, str], ...] = ()) -> bytes:
    lines = [
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}",
        f"content-type: {content_type}",
        f"content-length: {length}",
        *(f"{name}: {value}" for name, value in headers),
    ]
    return ("\r\n".join(lines) + "\r\n").encode("latin-1") + _FINGERPRINT + b"\r\n"


def _response(
    status: int, body: bytes, content_type: str = "application/json", headers: tuple[tuple[str, str], ...] = ()
) -> bytes:
    return _head(status, len(body), content_type, headers) + body


_REASONS = {
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
