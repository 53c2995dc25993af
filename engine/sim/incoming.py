"""Reading the requests of one raw-socket connection with h11.

`RequestReader(reader).next()` gives each request's target and headers in turn, having read its
body (sized by Content-Length or chunked) and dropped it, so the connection is ready for the next
request. Bytes a client sends ahead of time (a pipelined request) are kept for the next call.
Answers are not h11's business: the servers write them on the raw socket (see rawserver.py).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import h11

HEAD_LIMIT = 65536  # bytes of a request head (the limit asyncio's readuntil had)
READ_SIZE = 65536
BadRequest = h11.RemoteProtocolError  # a request framed so the connection cannot continue after it


@dataclass(frozen=True)
class Incoming:
    """One request as the servers act on it: header names lower-cased, repeats joined by ", "."""

    target: str
    headers: dict[str, str]


class RequestReader:
    """The requests of one connection, one `next()` at a time."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader
        self._ahead = b""
        self._closed = False

    async def next(self) -> Incoming | None:
        """The next request, its body read; None when the client closed between requests.

        Raises BadRequest for a request h11 cannot frame (or one cut off by the client)."""
        parser = h11.Connection(h11.SERVER, max_incomplete_event_size=HEAD_LIMIT)
        if self._ahead:
            parser.receive_data(self._ahead)
        if self._closed:
            parser.receive_data(b"")
        request = await self._through_body(parser)
        self._ahead, self._closed = parser.trailing_data
        return request

    async def _through_body(self, parser: h11.Connection) -> Incoming | None:
        """Events up to the request's end; the body's Data events are dropped."""
        request: Incoming | None = None
        while True:
            event = parser.next_event()
            if event is h11.NEED_DATA:
                parser.receive_data(await self._reader.read(READ_SIZE))  # b"": the client closed
            elif isinstance(event, h11.Request):
                request = _incoming(event)
            elif isinstance(event, h11.EndOfMessage):
                return request
            elif isinstance(event, h11.ConnectionClosed):
                return None


def _incoming(event: h11.Request) -> Incoming:
    headers: dict[str, str] = {}
    for raw_name, raw_value in event.headers:
        name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return Incoming(event.target.decode("latin-1"), headers)
