"""Playing a streaming `FaultStep`: a chunked text/event-stream answer with its scripted fault.

The events are a normal streamed answer (wire.stream_chunks, spaced JSON, then [DONE]); the fault
comes at event `step.after` (a cut, a stall, a broken or error event) or shapes every event
(a finish_reason of "error", CRLF line ends, a BOM, one byte a chunk, keep-alive comments, a slow first token). The body always
ends the connection.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from engine.sim import wire
from engine.sim.rawserver import Channel, until_client_leaves
from engine.sim.scripts import FaultStep

Mark = Callable[[], None]  # called just before the answer's last bytes

STREAM_PIECES = ("Hel", "lo, ", "wor", "ld.")
BOM = b"\xef\xbb\xbf"
CUT_KINDS = frozenset(
    {"stream_disconnect", "stream_stall", "stream_malformed", "stream_error_event", "stream_clean_cut"}
)
MALFORMED_EVENT = wire.sse_event("{not json").encode()
KEEP_ALIVE = wire.sse_comment("keep-alive").encode()
ERROR_EVENT = wire.sse_event(
    wire.to_json(wire.error_envelope("overloaded mid-stream", "overloaded", "server_error"), spaced=True)
).encode()

GONE, END, ON = "gone", "end", "on"  # after a cut: the connection is over / end the body now / go on


async def play_stream(step: FaultStep, channel: Channel) -> bool:
    """Stream the answer with `step`'s fault, marking just before its last bytes; always False."""
    channel.writer.write(_head(step, channel.server_headers))
    events = stream_events(step)
    for index, event in enumerate(events):
        if index == step.after and step.kind in CUT_KINDS:
            cut = await _cut(step, channel)
            if cut == GONE:
                return False
            if cut == END:
                break
        last = index == len(events) - 1  # the [DONE] event
        if last and step.kind == "stream_no_done":
            channel.mark()
            break
        await _send_event(step, channel.writer, index, event, channel.mark if last else None)
    await _chunk(channel.writer, b"")
    return False


def stream_events(step: FaultStep) -> list[bytes]:
    """The SSE events of a normal answer: role, content pieces, finish, usage, [DONE]."""
    answer = wire.Answer(id="chatcmpl-stream", model="sim", created=int(time.time()))
    finish = "error" if step.kind == "stream_finish_error" else "stop"
    chunks = wire.stream_chunks(answer, STREAM_PIECES, finish, wire.token_usage(5, 4))
    line_end = "\r\n" if step.kind == "stream_crlf" else "\n"
    datas = [*(wire.to_json(chunk, spaced=True) for chunk in chunks), wire.DONE]
    events = [wire.sse_event(data, line_end).encode() for data in datas]
    if step.kind == "stream_bom":
        events[0] = BOM + events[0]
    return events


async def _cut(step: FaultStep, channel: Channel) -> str:
    """The scripted fault at event `step.after`: GONE, END or ON (see above)."""
    kind, writer = step.kind, channel.writer
    if kind == "stream_disconnect":  # a clean FIN mid-body: what arrived stays readable
        channel.mark()
        await writer.drain()
        writer.close()
        return GONE
    if kind == "stream_stall":
        await writer.drain()
        await until_client_leaves(channel.reader)
        return GONE
    if kind == "stream_clean_cut":  # a proper end of body mid-answer: no finish_reason, no [DONE]
        channel.mark()
        return END
    if kind == "stream_error_event":
        channel.mark()
        await _chunk(writer, ERROR_EVENT)
        return END
    await _chunk(writer, MALFORMED_EVENT)  # stream_malformed: one broken event, then the rest
    return ON


async def _send_event(
    step: FaultStep, writer: asyncio.StreamWriter, index: int, event: bytes, mark: Mark | None
) -> None:
    """One event as the kind shapes it; `mark` (if given) is called just before it is written."""
    if step.kind == "stream_slow_first_token" and index == 1:
        await asyncio.sleep(step.body_delay)
    if step.kind == "stream_keepalive":
        await _chunk(writer, KEEP_ALIVE)
    if mark is not None:
        mark()
    if step.kind != "stream_split":
        await _chunk(writer, event)
        return
    for byte in range(len(event)):  # one byte a write, letting the loop serve other connections between
        await _chunk(writer, event[byte : byte + 1])
        await asyncio.sleep(0)


def _head(step: FaultStep, server_headers: wire.Headers) -> bytes:
    framing = (("content-type", wire.SSE_TYPE), ("transfer-encoding", "chunked"), ("connection", "close"))
    return wire.http_head(200, (*framing, *server_headers, *step.headers))


async def _chunk(writer: asyncio.StreamWriter, data: bytes) -> None:
    writer.write(wire.http_chunk(data))
    await writer.drain()
