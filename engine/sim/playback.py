"""Playing one `FaultStep` on the raw socket: the fault kinds, real on the wire.

A TCP reset is a reset (SO_LINGER 0), a truncated body is a truncated body, a stall holds the
connection until the client leaves. Bodies are built by wire.py in the fault simulator's shape
(the least a client needs, spaced JSON); only broken bytes and the HTML page are written here.
`play` calls `mark` just before the last bytes of an answer, and says whether the connection may
carry another request; the `Channel` also names the headers that end every head.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from collections.abc import Callable

from engine.sim import wire
from engine.sim.rawserver import Channel, until_client_leaves
from engine.sim.scripts import FaultStep
from engine.sim.streams import play_stream

STATUS_REPLY = '{"status":"ok"}'
BROKEN_JSON = b'{"id": "chatcmpl-x", "choices": ['
BAD_GATEWAY_PAGE = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
SLOW_PIECE = 16  # bytes a slow body writes at a time


async def play(step: FaultStep, channel: Channel) -> bool:
    """Answer one attempt as `step` says; False: do not reuse the connection."""
    if step.kind.startswith("stream_"):
        return await play_stream(step, channel)
    if step.kind == "reset":
        _reset(channel)
        return False
    if step.kind == "stall":
        await until_client_leaves(channel.reader)
        return False
    if step.kind == "close_mid_body":
        await _close_mid_body(step, channel)
        return False
    if step.kind == "slow_body":
        await _slow_body(step, channel)
        return True
    answer = canned(step, channel.server_headers)
    channel.mark()
    channel.writer.write(answer)
    await channel.writer.drain()
    return True


def canned(step: FaultStep, server_headers: wire.Headers = ()) -> bytes:
    """The whole answer of a kind that is written at once."""
    headers = (*step.headers, *server_headers)
    status, body, content_type = _canned_parts(step)
    if step.kind == "redirect":
        headers = (("location", "/v1/chat/completions"), *headers)
    return wire.http_response(status, body, content_type, headers)


def _canned_parts(step: FaultStep) -> tuple[int, bytes, str]:
    """(status, body, content type) of a kind written at once."""
    kind = step.kind
    if kind == "status":
        return step.status, status_body(step), wire.JSON_TYPE
    if kind == "html_502":
        return 502, BAD_GATEWAY_PAGE, wire.HTML_TYPE
    if kind == "redirect":
        return 301, b"", wire.HTML_TYPE
    if kind in _BODIES:
        return 200, _json(_BODIES[kind]()), wire.JSON_TYPE
    if kind == "invalid_json":
        return 200, BROKEN_JSON, wire.JSON_TYPE
    raise ValueError(f"unknown fault kind {kind!r}")


def status_body(step: FaultStep) -> bytes:
    """The error body of a `status` step: its rendered provider error, else CometAPI's envelope."""
    return step.body or _json(_comet_error(f"scripted {step.status}", step.error_code))


def _reset(channel: Channel) -> None:
    """A TCP reset: closing with a zero linger sends RST instead of FIN."""
    channel.mark()
    sock = channel.writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    channel.writer.transport.abort()


async def _close_mid_body(step: FaultStep, channel: Channel) -> None:
    """A head promising the whole completion, half of it, then the connection ends."""
    body = _json(drill_completion("ok"))
    channel.mark()
    channel.writer.write(_json_head(len(body), step, channel) + body[: len(body) // 2])
    await channel.writer.drain()
    channel.writer.transport.abort()


async def _slow_body(step: FaultStep, channel: Channel) -> None:
    """The completion a few bytes at a time, `step.body_delay` apart."""
    body = _json(drill_completion("ok"))
    channel.writer.write(_json_head(len(body), step, channel))
    for index in range(0, len(body), SLOW_PIECE):
        if index + SLOW_PIECE >= len(body):
            channel.mark()
        channel.writer.write(body[index : index + SLOW_PIECE])
        await channel.writer.drain()
        await asyncio.sleep(step.body_delay)


def _json_head(length: int, step: FaultStep, channel: Channel) -> bytes:
    return wire.sized_head(200, length, headers=(*step.headers, *channel.server_headers))


def drill_completion(content: str) -> wire.Document:
    """The fault simulator's completion: the fields a client needs, nothing more."""
    answer = wire.Answer(id="chatcmpl-drill", model="sim", created=int(time.time()))
    return wire.completion(answer, content, usage=wire.token_usage(5, 2))


def _schema_drift() -> wire.Document:
    """A completion that lost its choices."""
    answer = wire.Answer(id="chatcmpl-drift", model="m")
    return {name: value for name, value in wire.completion(answer, "").items() if name != "choices"}


def _with_extra_fields() -> wire.Document:
    """A valid completion carrying fields no client was written for, at every level."""
    document = drill_completion(STATUS_REPLY)
    document.update({"system_fingerprint": "fp_runbook", "service_tier": "default", "x_provider": {"region": "eu-1"}})
    choice = document["choices"][0]
    choice.update({"logprobs": None, "content_filter_results": {"hate": {"filtered": False}}})
    choice["message"].update({"refusal": None, "annotations": [], "audio": None})
    document["usage"]["prompt_tokens_details"] = {"cached_tokens": 0}
    return document


def _comet_error(message: str, code: str) -> wire.Document:
    return wire.error_envelope(message, code, wire.COMET_ERROR_TYPE, param="")


def comet_error_response(status: int, message: str, code: str, server_headers: wire.Headers = ()) -> bytes:
    """An error the fault simulator answers itself (no script, a bad call id), in CometAPI's envelope."""
    return wire.http_response(status, _json(_comet_error(message, code)), headers=server_headers)


def _json(document: wire.Document) -> bytes:
    return wire.to_json(document, spaced=True).encode()


_BODIES: dict[str, Callable[[], wire.Document]] = {
    "ok": lambda: drill_completion(STATUS_REPLY),
    "empty_content": lambda: drill_completion(""),
    "extra_fields": _with_extra_fields,
    "schema_drift": _schema_drift,
    "error_in_200": lambda: _comet_error("upstream failed after headers", "server_error"),
}
