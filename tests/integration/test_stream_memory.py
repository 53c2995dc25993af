"""Hostile streams over a real socket at flat memory (issue 11, failure 3): one SSE line that never
ends, and a stream of ever-new chunk ids, each 64 MiB, are judged without being held. The response
cap is raised to 128 MiB here so that the stream caps (not the body cap) are what stop them."""

from __future__ import annotations

import re
import socketserver
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from engine import api

STREAM_BYTES = 64 * 1024 * 1024
PIECE = 1024 * 1024
HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n"


def _endless_line() -> Iterator[bytes]:
    yield b"data: "
    piece = b"x" * PIECE
    for _ in range(STREAM_BYTES // PIECE):
        yield piece


def _new_ids() -> Iterator[bytes]:
    sent, number = 0, 0
    while sent < STREAM_BYTES:
        batch = b"".join(
            b'data: {"id":"chatcmpl-%d","object":"chat.completion.chunk","choices":[{"index":0,"delta":'
            b'{"content":"x"}}]}\n\n' % (number + i)
            for i in range(4096)
        )
        number += 4096
        sent += len(batch)
        yield batch


@contextmanager
def streaming_server(body: Callable[[], Iterator[bytes]]) -> Iterator[str]:
    """A loopback server that answers every request with HEAD and then `body()`, written as it goes."""

    class Answer(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            received = b""
            while b"\r\n\r\n" not in received:
                data = self.request.recv(65536)
                if not data:
                    return
                received += data
            try:
                self.request.sendall(HEAD)
                for chunk in body():
                    self.request.sendall(chunk)
            except OSError:  # the client stopped reading: that is its right
                pass

    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), Answer) as server:
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            thread.join(5)


def _kib(field: str) -> int:
    with open("/proc/self/status") as status:
        return int(re.search(rf"{field}:\s+(\d+)", status.read()).group(1))  # type: ignore[union-attr]


STREAM_CHECK = """contract: {max_response_bytes: 134217728, timeouts: {connect: 2s, read: 30s, deadline: 120s}}
checks:
  - id: stream-happy-path
    request: {json: {stream: true}}
    expect: {status: 2xx, stream: success, class: success}
"""


@pytest.mark.parametrize("body, outcomes", [(_endless_line, {"stream_malformed", "too_large"}), (_new_ids, None)])
def test_a_hostile_stream_is_judged_at_flat_memory(body, outcomes, child_spec, tmp_path, monkeypatch):
    with streaming_server(body) as base_url:
        monkeypatch.setenv("COMETAPI_BASE_URL", base_url)
        monkeypatch.setenv("COMETAPI_API_KEY", "sk-stream-memory-0001")
        spec = child_spec(STREAM_CHECK, name="stream-memory")
        before = _kib("VmRSS")
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")  # the peak below is this run's
        outcome = api.run(spec, "live", out_dir=tmp_path / "out", selection=api.Selection(only=("stream-happy-path",)))
        grown_mib = (_kib("VmHWM") - before) / 1024
    (check,) = [c for c in outcome.results.checks if c.selected]
    assert check.status == "failed" and check.observed is not None
    if outcomes:  # the line never ends: the stream is malformed (or cut), never a success
        observed = {check.observed.parser, check.observed.transport_error, check.class_}
        assert observed & (outcomes | {"stream_malformed", "invalid_response"}), check.observed
    assert grown_mib < 48, f"memory grew by {grown_mib:.0f} MiB while a 64 MiB stream was judged"
