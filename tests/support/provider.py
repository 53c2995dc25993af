"""Test servers that are not runbook's simulator, for end-to-end tests of the release gate.

- `WellBehavedProvider`: the independent `llmock` package behind a small strict gateway,
  so the gate is judged against a provider runbook did not write.
- `AlwaysOkServer`: HTTP 200 with the same chat completion for every request.

Both listen on 127.0.0.1, on an ephemeral port, and are context managers.

What llmock (0.2.2) lacks compared with a real provider, left as is rather than faked here:
- `max_tokens` is ignored: the answer is never cut and finish_reason is never "length";
- token counts floor each message at len // 4, so a short prompt reports prompt_tokens 0;
- no `x-request-id` response header;
- invalid fields the gateway does not check (e.g. a non-string content) get 422, not 400;
- it obeys a client's `x-llmock-force-status` header (runbook never sends it).
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import uvicorn
from llmock.chaos import ChaosSettings, StreamChaos
from llmock.main import create_app
from llmock.ratelimit import LimitSettings
from llmock.simulation import MockResponseSettings
from starlette.datastructures import Headers
from starlette.responses import JSONResponse

from engine.sim import wire

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CHAT_PATH = "/v1/chat/completions"
ROLES = frozenset({"system", "user", "assistant", "tool", "developer"})


class _Served:
    """An ASGI app served by uvicorn in a daemon thread."""

    def __init__(self, app: ASGIApp) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self.base_url = ""

    def start(self):
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("test server did not start")
            time.sleep(0.01)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()


class WellBehavedProvider(_Served):
    """`with WellBehavedProvider(keys=("sk-1",), models=("gpt-4o-mini",)) as p: p.base_url`."""

    def __init__(self, *, keys: tuple[str, ...], models: tuple[str, ...], context_tokens: int = 8192) -> None:
        self.keys = tuple(keys)
        self.models = tuple(models)
        self.context_tokens = context_tokens
        super().__init__(_Gateway(_quiet_llmock(), self))


def _quiet_llmock() -> ASGIApp:
    """llmock with every setting explicit, so no LLMOCK_* variable can add chaos or latency."""
    return create_app(
        chaos=ChaosSettings(latency_ms=0, error_rates={}),
        responses=MockResponseSettings(response_style="static", tool_mode="auto"),
        limits=LimitSettings(rpm=None, tpm=None, context_window=None),
        stream_chaos=StreamChaos(fault_rates=(), chunk_delay_ms=0),
    )


class _Gateway:
    """Checks what llmock does not, then hands the untouched request to llmock."""

    def __init__(self, upstream: ASGIApp, provider: WellBehavedProvider) -> None:
        self._upstream = upstream
        self._provider = provider

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._upstream(scope, receive, send)
            return
        error = self._route_error(scope)
        body = b""
        if error is None:
            body = await _read_body(receive)
            error = self._body_error(body)
        if error is not None:
            await error(scope, receive, send)
            return
        await self._upstream(scope, _replay(body, receive), send)

    def _route_error(self, scope: Scope) -> JSONResponse | None:
        if scope["method"] != "POST" or scope["path"] != CHAT_PATH:
            return _error(404, "not_found", f"Unknown request URL: {scope['method']} {scope['path']}.")
        scheme, _, key = Headers(scope=scope).get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or key.strip() not in self._provider.keys:
            return _error(401, "invalid_api_key", "Incorrect API key provided.")
        return None

    def _body_error(self, raw: bytes) -> JSONResponse | None:
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return _error(400, "invalid_request", "We could not parse the JSON body of your request.")
        if not isinstance(body, dict):
            return _error(400, "invalid_request", "The request body must be a JSON object.")
        if not isinstance(body.get("model"), str):
            return _error(400, "invalid_request", "You must provide a model parameter.", "model")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return _error(400, "invalid_request", "'messages' must be a non-empty array.", "messages")
        for index, message in enumerate(messages):
            if not isinstance(message, dict) or message.get("role") not in ROLES:
                return _error(400, "invalid_request", f"Invalid role in messages[{index}].", f"messages.[{index}].role")
        if body["model"] not in self._provider.models:
            return _error(404, "model_not_found", f"The model `{body['model']}` does not exist.", "model")
        used = sum(_chars(message.get("content")) for message in messages) / 4
        if used > self._provider.context_tokens:
            return _error(
                400,
                "context_length_exceeded",
                f"This model's maximum context length is {self._provider.context_tokens} tokens. "
                f"However, your messages resulted in {math.ceil(used)} tokens.",
                "messages",
            )
        return None


def _chars(content: Any) -> int:
    if isinstance(content, str):
        return len(content)
    if isinstance(content, list):
        return sum(
            len(part["text"]) for part in content if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return 0


def _error(status: int, code: str, message: str, param: str | None = None) -> JSONResponse:
    return JSONResponse(
        wire.error_envelope(message, code, "invalid_request_error", param, null_param=True), status_code=status
    )


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """Give the app the body already read, then the real channel (to see disconnects)."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


OK_COMPLETION = wire.completion(wire.Answer(id="chatcmpl-1", model="m", created=1), "ok", usage=wire.token_usage(1, 1))


class AlwaysOkServer(_Served):
    """`with AlwaysOkServer() as s:` 200 and `OK_COMPLETION` for any path, method, auth or stream flag.
    `arrivals` holds when each HTTP request came in (time.monotonic())."""

    def __init__(self) -> None:
        self.arrivals: list[float] = []

        async def always_ok(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http":
                self.arrivals.append(time.monotonic())
            await JSONResponse(OK_COMPLETION)(scope, receive, send)

        super().__init__(always_ok)
