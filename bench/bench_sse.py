"""SSE: runbook's incremental stream judge vs httpx-sse on the same large synthetic stream; memory.

    make bench    (or: .venv/bin/python bench/bench_sse.py --mb 50 --repeats 3 --memory-mb 200)

Both read the same chat.completion.chunk stream from a loopback server and JSON-decode every
event (runbook also checks every chunk's shape, assembles the content and judges the outcome).
Peak memory is measured in a child process streaming `--memory-mb` MB through runbook.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
from httpx_sse import aconnect_sse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from engine.run.http import Outgoing, send
from engine.sim import wire
from engine.sim.rawserver import RawServer
from engine.spec.models import ResponseContract

BENCH = wire.Answer(id="chatcmpl-bench", model="m", created=1)


def _event(delta: dict, finish_reason: str | None = None) -> str:
    return wire.sse_event(
        wire.to_json(wire.chunk(BENCH, [wire.stream_choice(BENCH, delta, finish_reason)]), spaced=True)
    )


EVENT = _event({"content": "token "}).encode()
END = (_event({}, "stop") + wire.sse_event(wire.DONE)).encode()
HEAD = wire.http_head(200, (("content-type", wire.SSE_TYPE), ("connection", "close")))


class StreamServer(RawServer):
    """Streams `size` bytes of events to every request (HTTP/1.0 style: the body ends at close)."""

    def __init__(self, size: int):
        super().__init__()
        self.size = size
        self.port = int(self.start().base_url.rsplit(":", 1)[1])

    async def answer(self, request, reader, writer) -> bool:
        writer.write(HEAD)
        block = EVENT * (65536 // len(EVENT))
        sent = 0
        while sent < self.size:
            writer.write(block)
            sent += len(block)
            await writer.drain()
        writer.write(END)
        await writer.drain()
        return False


async def runbook_stream(url: str) -> int:
    request = Outgoing("POST", url, {}, b'{"stream": true}', 5, 60, 600, 1 << 20, stream=True)
    async with httpx.AsyncClient() as client:
        attempt = await send(client, request, ResponseContract())
    assert attempt.observation.stream.outcome == "success", attempt.observation
    return attempt.observation.stream.chunks


async def httpx_sse_stream(url: str) -> int:
    chunks = 0
    async with httpx.AsyncClient(timeout=60) as client:
        async with aconnect_sse(client, "POST", url, content=b'{"stream": true}') as source:
            async for event in source.aiter_sse():
                if event.data != wire.DONE:
                    json.loads(event.data)
                    chunks += 1
    return chunks


def timed(coroutine_factory, url: str) -> float:
    started = time.perf_counter()
    asyncio.run(coroutine_factory(url))
    return time.perf_counter() - started


def peak_memory_mb(size_mb: int) -> float:
    """Peak RSS of a child process streaming size_mb through runbook, minus the same process idle."""
    code = (
        "import asyncio, resource, sys; sys.path.insert(0, 'bench'); import bench_sse as b; "
        f"s = b.StreamServer({size_mb} * 1024 * 1024); base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss; "
        "asyncio.run(b.runbook_stream(f'http://127.0.0.1:{s.port}/v1/chat/completions')); "
        "print(base, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    return int(out[1]) / 1024, (int(out[1]) - int(out[0])) / 1024


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--memory-mb", type=int, default=200)
    opts = parser.parse_args(argv)
    server = StreamServer(opts.mb * 1024 * 1024)
    url = f"http://127.0.0.1:{server.port}/v1/chat/completions"
    ours = statistics.median(timed(runbook_stream, url) for _ in range(opts.repeats))
    theirs = statistics.median(timed(httpx_sse_stream, url) for _ in range(opts.repeats))
    peak, growth = peak_memory_mb(opts.memory_mb)
    rows = {
        f"runbook stream judge, {opts.mb} MB (MB/s)": opts.mb / ours,
        f"httpx-sse + json.loads, {opts.mb} MB (MB/s)": opts.mb / theirs,
        "ratio runbook/httpx-sse throughput": theirs / ours,
        f"peak RSS streaming {opts.memory_mb} MB through runbook (MB)": peak,
        f"RSS growth while streaming {opts.memory_mb} MB (MB)": growth,
    }
    for name, value in rows.items():
        print(f"{name:<58} {value:8.2f}")
    return rows


if __name__ == "__main__":
    main()
