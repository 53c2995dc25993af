"""The simulator's ASGI app: OpenAI-compatible routes with CometAPI's behaviour.

Routes:
    POST /v1/chat/completions   auth, validation (see validate.py), then a
                                deterministic completion or SSE stream
    GET  /v1/models             auth, then the configured models as an OpenAI list
    GET, PUT /_runbook/mode     the simulator's mode: normal, or an error every API request gets
                                (see modes.py)
    anything else               `unknown_route`: a JSON 404 in the error envelope

`unknown_route` is the seam for CometAPI's wrong-path quirks (a 301 redirect or an
HTML page instead of a JSON 404).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine.sim import wire
from engine.sim.auth import check_auth
from engine.sim.completion import completion_body, make_reply, stream_events
from engine.sim.config import SimConfig, situation_of
from engine.sim.errors import REQUEST_ID_HEADER, SimError, error_response, new_request_id
from engine.sim.modes import MODE_PATH, SimMode, mode_route
from engine.sim.validate import validate_chat_request

ANY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
MODELS_CREATED = 1_700_000_000
MODELS_OWNER = "runbook-sim"


def create_app(config: SimConfig) -> ASGIApp:
    """Build the simulator app for `config`; ValueError for a mode its profile does not have."""
    profile = config.profile
    mode = SimMode(situation_of(config.mode, profile))
    routes = [
        Route(profile.chat_path, chat_completions, methods=["POST"]),
        Route(profile.models_path, list_models, methods=["GET"]),
        Route(MODE_PATH, mode_route, methods=["GET", "PUT", "POST"]),
        Route("/{path:path}", unknown_route, methods=ANY_METHOD),
    ]
    app = Starlette(routes=routes, exception_handlers={Exception: internal_error})
    app.state.sim_config = config
    app.state.sim_mode = mode
    return _Fingerprinted(app)


class _Fingerprinted:
    """Adds runbook's simulator header to every response (see engine.core.fingerprint)."""

    def __init__(self, app: Starlette):
        self.app = app
        self.state = app.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *_FINGERPRINT]}
            await send(message)

        await self.app(scope, receive, send_with_header)


_FINGERPRINT = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in wire.SIMULATOR_HEADERS]


async def chat_completions(request: Request) -> Response:
    """POST /v1/chat/completions."""
    request_id = new_request_id()
    config = _config(request)
    try:
        _mode(request).raise_if_failing()
        _routed(request, config)
        _authenticated(request, config)
        _known_deployment(request, config)
        chat = validate_chat_request(await request.body(), config)
    except SimError as error:
        return error_response(error, request_id, config.profile)
    reply = make_reply(chat)
    headers = {REQUEST_ID_HEADER: request_id}
    if chat.stream:
        events = _encoded(stream_events(chat, reply))
        headers["cache-control"] = "no-cache"
        return StreamingResponse(events, media_type=wire.SSE_TYPE, headers=headers)
    return JSONResponse(completion_body(chat, reply), headers=headers)


async def list_models(request: Request) -> Response:
    """GET /v1/models: the configured models in OpenAI's list shape."""
    request_id = new_request_id()
    config = _config(request)
    try:
        _mode(request).raise_if_failing()
        _routed(request, config)
        _authenticated(request, config)
    except SimError as error:
        return error_response(error, request_id, config.profile)
    models = wire.model_list(config.models, MODELS_CREATED, MODELS_OWNER)
    return JSONResponse(models, headers={REQUEST_ID_HEADER: request_id})


async def unknown_route(request: Request) -> Response:
    """Any other path or method: the profile's `unknown_route` (CometAPI: a JSON 404, code `not_found`)."""
    error = SimError("unknown_route", method=request.method, path=request.url.path)
    return error_response(error, new_request_id(), _config(request).profile)


async def internal_error(request: Request, exc: Exception) -> Response:
    """A bug in the simulator still answers in the profile's shape, as its `internal` error (a 500)."""
    return error_response(SimError("internal"), new_request_id(), _config(request).profile)


def _routed(request: Request, config: SimConfig) -> None:
    """A profile's route exists only with its required query parameters (Azure's `api-version`)."""
    if any(name not in request.query_params for name in config.profile.required_query):
        raise SimError("unknown_route", method=request.method, path=request.url.path)


def _authenticated(request: Request, config: SimConfig) -> None:
    profile = config.profile
    check_auth(request.headers.get(profile.auth_header), config.keys, profile.auth_header, profile.auth_scheme)


def _known_deployment(request: Request, config: SimConfig) -> None:
    """A profile whose path names a deployment answers an unknown one as its provider does."""
    deployment = request.path_params.get("deployment")
    if deployment is not None and deployment not in config.models:
        raise SimError("unknown_deployment", model=deployment)


def _mode(request: Request) -> SimMode:
    mode: SimMode = request.app.state.sim_mode
    return mode


def _config(request: Request) -> SimConfig:
    config: SimConfig = request.app.state.sim_config
    return config


async def _encoded(events: Iterator[str]) -> AsyncIterator[bytes]:
    """Serve a sync event iterator from the event loop, without a worker thread."""
    for event in events:
        yield event.encode("utf-8")
