"""A one-worker uvicorn + starlette stub: POST /v1/chat/completions answers one fixed completion.

    .venv/bin/python bench/stub_server.py        # prints "stub listening on http://127.0.0.1:PORT"

The HTTP-layer rows (row 3) measure clients, so the server does as little as a server can: a
432-byte chat completion, 401 without a bearer token. It runs in its own process, on loopback.
"""

from __future__ import annotations

import json
import socket

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

COMPLETION = json.dumps(
    {
        "id": "chatcmpl-bench-0001",
        "object": "chat.completion",
        "created": 1764000000,
        "model": "gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": '{"status":"ok"}', "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 21, "completion_tokens": 5, "total_tokens": 26},
        "system_fingerprint": "fp_bench",
    }
).encode()
UNAUTHORIZED = b'{"error": {"message": "missing bearer token", "type": "invalid_request_error", "code": "no_key"}}'


async def completions(request: Request) -> Response:
    await request.body()
    if not request.headers.get("authorization", "").startswith("Bearer "):
        return Response(UNAUTHORIZED, status_code=401, media_type="application/json")
    return Response(COMPLETION, media_type="application/json")


def main() -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)  # connections wait in the backlog until uvicorn accepts them
    print(f"stub listening on http://127.0.0.1:{listener.getsockname()[1]}", flush=True)
    app = Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    uvicorn.Server(config).run(sockets=[listener])


if __name__ == "__main__":
    main()
