"""A raw TCP server that misbehaves on purpose, one behaviour per request path.

Used to prove that a broken server becomes recorded data, never an exception or a hang.
Loopback only, ephemeral port, stopped by the fixture.

The paths that are fault kinds (FAULTS) are played from a `FaultStep` by the fault simulator's own
code (engine.sim.playback) on its raw-socket server base, not by a FaultServer, whose scripts live
under /drill/<scope>/: here every path, fault or not, hangs off one base URL as a provider's would
(tests point a spec's base_url at it). The other behaviours (BEHAVIOURS) are not fault kinds: a close with no
answer, huge, deep or gzipped bodies, echoes of request headers, an error with a numeric code, a
completion whose content is a secret. Their OpenAI JSON is built by engine.sim.wire. Unlike the
simulators, this server sends no fingerprint header: it stands for somebody else's server.
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import urllib.parse
from collections.abc import Callable

from engine.run.drills import closed_port  # one helper for engine and tests
from engine.sim import wire
from engine.sim.faults import FaultStep
from engine.sim.incoming import Incoming
from engine.sim.playback import play
from engine.sim.rawserver import Channel, RawServer

__all__ = ["SECRET_ECHO_PATH", "HostileServer", "closed_port"]

SECRET_ECHO_PATH = "/echo-auth"

FAULTS = {
    "reset": FaultStep("reset"),
    "html502": FaultStep("html_502"),
    "truncated": FaultStep("close_mid_body"),
    "stall": FaultStep("stall"),
    "drip": FaultStep("slow_body", body_delay=0.1),  # a valid body, 16 bytes every 0.1 s
    "invalid-json": FaultStep("invalid_json"),
    "redirect": FaultStep("redirect"),
    "schema-drift": FaultStep("schema_drift"),
    "empty-content": FaultStep("empty_content"),
}


class HostileServer(RawServer):
    """Context manager: `with HostileServer() as server: server.url('/reset')`."""

    thread_name = "runbook-hostile"

    def url(self, path: str) -> str:
        return self.base_url + path

    async def answer(self, request: Incoming, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        name = request.target.strip("/")
        if name in FAULTS:
            return await play(FAULTS[name], Channel(reader, writer))
        writer.write(BEHAVIOURS.get(name, _missing_route)(request))
        await writer.drain()
        return False  # each answer here ends its connection


def _response(status: int, body: bytes, content_type: str = wire.JSON_TYPE, headers: wire.Headers = ()) -> bytes:
    return wire.http_response(status, body, content_type, (("connection", "close"), *headers))


def _json(document: object) -> bytes:
    return wire.to_json(document, spaced=True).encode()


def _chat(content: str) -> bytes:
    """A completion with no `created` and no `usage`: what a client needs, and less."""
    return _json(wire.completion(wire.Answer(id="x", model="m"), content))


def _close(_request: Incoming) -> bytes:
    return b""  # the connection ends with no answer


def _ok(_request: Incoming) -> bytes:
    return _response(200, _chat("the secret prompt answer"), headers=(("x-request-id", "req_hostile_1"),))


def _huge(_request: Incoming) -> bytes:
    return _response(200, b"[" + b"0," * 1_500_000 + b"0]")


def _error_in_200(_request: Incoming) -> bytes:
    """Unlike the fault kind error_in_200, its code is a number."""
    return _response(200, _json(wire.error_envelope("upstream failed", 500, "server_error")))


def _echo_auth(request: Incoming) -> bytes:
    message = "bad key " + request.headers.get("authorization", "")
    return _response(401, _json(wire.error_envelope(message, "invalid_api_key", "auth")))


def _key(request: Incoming) -> str:
    return request.headers.get("authorization", "").removeprefix("Bearer ")


def _leaky_ok(request: Incoming) -> bytes:
    """A complete 200 that echoes the caller's key everywhere a shape or a header keeps it."""
    key = _key(request)
    answer = wire.completion(wire.Answer(id="x", model="m"), "ok", finish_reason=key)
    answer["object"], answer[key] = key, {"role": key}
    headers = (
        ("x-request-id", "r" * 95 + key),  # cut at 100 characters: only a scrub before the cut catches it
        ("retry-after", " " * 60 + key),  # cut at 64
        ("x-echo-upper", key.upper()),
        ("x-echo-quoted", urllib.parse.quote(key, safe="")),
    )
    return _response(200, _json(answer), headers=headers)


def _leaky_error(request: Incoming) -> bytes:
    """A 503 HTML page with the key after 4,000 spaces (whitespace collapses in the excerpt shown)."""
    return _response(503, (" " * 4000 + _key(request) + " <html>busy</html>").encode(), content_type="text/html")


def _missing_route(_request: Incoming) -> bytes:
    return _response(404, _json(wire.error_envelope("no route", "not_found")))


def _deep_json(_request: Incoming) -> bytes:
    return _response(200, b"[" * 200_000)


def _deep_usage(_request: Incoming) -> bytes:
    """A complete answer whose `usage` is valid JSON nested 900 levels deep."""
    answer = _chat("ok").decode()  # a JSON object with no usage: the deep one is added at its end
    return _response(200, (answer[:-1] + ', "usage": ' + "[" * 900 + "]" * 900 + "}").encode())


def _gzip(_request: Incoming) -> bytes:
    return _response(200, gzip.compress(_chat("zipped")), headers=(("content-encoding", "gzip"),))


@functools.cache
def _bomb() -> bytes:
    return gzip.compress(b"\0" * 50_000_000, compresslevel=9)


def _gzip_bomb(_request: Incoming) -> bytes:
    return _response(200, _bomb(), headers=(("content-encoding", "gzip"),))


def _double_gzip(_request: Incoming) -> bytes:
    return _response(200, b"x" * 10, headers=(("content-encoding", "gzip, gzip"),))


def _echo_request_id(request: Incoming) -> bytes:
    value = request.headers.get("x-client-request-id", "none")
    return _response(200, _chat("x"), headers=(("x-request-id", value),))


def _top_level_error(_request: Incoming) -> bytes:
    """Mistral's shape: the error's fields at the top level, no `error` object."""
    body = {"object": "error", "message": "Invalid model: nope", "type": "invalid_model", "param": None, "code": "1500"}
    return _response(400, _json(body))


def _fastapi_detail(_request: Incoming) -> bytes:
    """FastAPI's validation answer: `{"detail": [{"loc": ..., "msg": ...}]}`."""
    return _response(422, _json({"detail": [{"loc": ["body", "extra"], "msg": "Extra inputs are not permitted"}]}))


def _string_error(_request: Incoming) -> bytes:
    """vLLM's answer to a missing key: `{"error": "Unauthorized"}`, a string, not an object."""
    return _response(401, _json({"error": "Unauthorized"}))


LONG_MESSAGE_KEYWORD = "ContextWindowExceededError"


def _long_message(_request: Incoming) -> bytes:
    """A gateway whose meaning sits far into a long, multi-line message (LiteLLM wraps the upstream's)."""
    preamble = "litellm.BadRequestError: upstream said:\n" + "trace line\t" * 60
    message = preamble + LONG_MESSAGE_KEYWORD + ": too long. " + "x" * 2000
    return _response(400, _json({"error": {"message": message, "type": "invalid_request_error", "code": "400"}}))


BEHAVIOURS: dict[str, Callable[[Incoming], bytes]] = {
    "long-message": _long_message,
    "top-level-error": _top_level_error,
    "fastapi-detail": _fastapi_detail,
    "string-error": _string_error,
    "close": _close,
    "ok": _ok,
    "huge": _huge,
    "error-in-200": _error_in_200,
    SECRET_ECHO_PATH.strip("/"): _echo_auth,
    "deep-json": _deep_json,
    "deep-usage": _deep_usage,
    "leaky-ok": _leaky_ok,
    "leaky-error": _leaky_error,
    "gzip": _gzip,
    "gzip-bomb": _gzip_bomb,
    "double-gzip": _double_gzip,
    "echo-request-id": _echo_request_id,
}


# A spec whose checks hit the leaky routes, and the pieces of a secret no output may hold.
LEAKY = """\
contract: {path: /leaky-ok}
checks:
  - id: leaky-error
    request: {path: /leaky-error}
    expect: {status: 503}
"""


def pieces(secret: str, size: int = 8) -> set[str]:
    return {secret[i : i + size] for i in range(len(secret) - size + 1)} | {secret.upper(), secret.lower()}
