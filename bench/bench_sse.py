"""SSE: a large synthetic chat.completion.chunk stream, its server and the two clients row 9 times.

    .venv/bin/python bench/bench_sse.py serve --mb 20            # prints "... listening on http://127.0.0.1:PORT"
    .venv/bin/python bench/bench_sse.py judge runbook URL        # runbook's stream judge
    .venv-bench/bin/python bench/bench_sse.py judge httpx-sse URL   # httpx-sse + json.loads per event

Each request to the server streams the size it was started with (HTTP/1.0 style: the body ends at
close). Both clients JSON-decode every event; runbook also checks every chunk's shape, assembles
the content and judges the outcome. `judge` prints one JSON line: seconds (the stream alone, timed
in-process after the imports) and chunks. The httpx-sse client imports nothing of runbook, so it runs in
the peers' venv; the server and runbook's judge run under runbook's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

MB = 1024 * 1024
BODY = b'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "stream": true}'


def serve(megabytes: float) -> None:
    """Serve the stream from a RawServer in this process (its own process) until terminated."""
    from engine.sim import wire
    from engine.sim.rawserver import RawServer

    answer = wire.Answer(id="chatcmpl-bench", model="gpt-4o-mini", created=1)

    def event(delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        chunk = wire.chunk(answer, [wire.stream_choice(answer, delta, finish_reason)])
        return wire.sse_event(wire.to_json(chunk, spaced=True)).encode()

    one = event({"content": "token "})
    block = one * (65536 // len(one))
    end = event({}, "stop") + wire.sse_event(wire.DONE).encode()
    head = wire.http_head(200, (("content-type", wire.SSE_TYPE), ("connection", "close")))
    size = int(megabytes * MB)

    class StreamServer(RawServer):
        async def answer(self, request: Any, reader: Any, writer: asyncio.StreamWriter) -> bool:
            writer.write(head)
            sent = 0
            while sent < size:
                writer.write(block)
                sent += len(block)
                await writer.drain()
            writer.write(end)
            await writer.drain()
            return False

    server = StreamServer().start()
    print(f"stream server ({megabytes:g} MB a request) listening on {server.base_url}", flush=True)
    threading.Event().wait()


def runbook_judge() -> Callable[[str], Awaitable[int]]:
    """runbook's HTTP layer and stream judge, as a streaming check uses them (imported now, untimed)."""
    from engine.run.client import new_client
    from engine.run.http import Outgoing, send
    from engine.spec.models import ResponseContract

    async def stream(url: str) -> int:
        request = Outgoing("POST", url, {}, BODY, 5, 60, 600, 1 << 20, stream=True)
        async with new_client(trust_env=False) as client:
            attempt = await send(client, request, ResponseContract())
        judged = attempt.observation.stream
        if judged is None or judged.outcome != "success":
            raise SystemExit(f"the stream was not judged a success: {attempt.observation}")
        return int(judged.chunks)

    return stream


def httpx_sse_judge() -> Callable[[str], Awaitable[int]]:
    """The peer: httpx-sse's aiter_sse and json.loads of every event."""
    import httpx
    from httpx_sse import aconnect_sse

    async def stream(url: str) -> int:
        chunks = 0
        async with httpx.AsyncClient(timeout=60, trust_env=False) as client:
            async with aconnect_sse(client, "POST", url, content=BODY) as source:
                async for event in source.aiter_sse():
                    if event.data != "[DONE]":
                        json.loads(event.data)
                        chunks += 1
        return chunks

    return stream


JUDGES = {"runbook": runbook_judge, "httpx-sse": httpx_sse_judge}


def judge(name: str, base_url: str) -> dict[str, Any]:
    url = base_url.rstrip("/") + "/v1/chat/completions"
    stream = JUDGES[name]()
    started = time.perf_counter()
    chunks = asyncio.run(stream(url))
    seconds = time.perf_counter() - started
    return {"judge": name, "seconds": seconds, "chunks": chunks}


def main(argv: list[str] | None = None) -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = options.add_subparsers(dest="command", required=True)
    commands.add_parser("serve").add_argument("--mb", type=float, default=20)
    client = commands.add_parser("judge")
    client.add_argument("name", choices=sorted(JUDGES))
    client.add_argument("url")
    args = options.parse_args(argv)
    if args.command == "serve":
        serve(args.mb)
    else:
        print(json.dumps(judge(args.name, args.url)), flush=True)


if __name__ == "__main__":
    sys.exit(main())
