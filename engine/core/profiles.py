"""Simulator profiles: how the built-in simulators differ per provider, as data.

A profile holds what a provider pack's checks and drills see differ: the chat-completions path, the
header (and scheme) that carries the key, and the provider's errors — the body's shape, and for each
situation the status, code, type and message the provider sends. The simulator (engine.sim.app) and
the fault simulator (engine.sim.playback) both render errors from here, so a pack's checks and its
drills meet the same answers. The values follow the pack of the same name in specs/providers/, whose
comments cite the provider's documentation; engine/core/providers.py holds them.

Shapes of an error body:

    openai        {"error": {"message", "type", "param", "code"}}
    top_level     {"object": "error", "message", "type", "param", "code"}   (Mistral, older vLLM)
    flat          {"message", "type", "param", "code"}                      (Fireworks' 404)
    code_message  {"error": {"code", "message"}}                            (OpenRouter)
    detail        {"detail": "<message>"}                                   (FastAPI)
    detail_list   {"detail": [{"type", "loc", "msg"}]}                      (FastAPI's validation error)
    string        {"error": "<message>"}                                    (vLLM's auth middleware)

Situations the simulator meets (every profile answers each; BASE_ERRORS gives the defaults):
missing_auth, invalid_key, invalid_request, unknown_model, context_length, unknown_route,
unknown_deployment, internal. A profile may name more, for drills: `faults: [{provider_error: NAME}]`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Shape = Literal["openai", "top_level", "flat", "code_message", "detail", "detail_list", "string"]
StatusAsCode = Literal["", "number", "string"]

# Filled into a message for a drill, where no real request names them.
DRILL_FACTS: Mapping[str, object] = {
    "model": "runbook-drill-model",
    "limit": 8192,
    "tokens": 9000,
    "path": "/v1/chat/completion",
    "method": "POST",
    "header": "Authorization",
    "expected": "'Bearer <key>'",
    "detail": "scripted invalid request",
    "param": "",
}


@dataclass(frozen=True)
class ProviderError:
    """One error as a provider sends it. `message` may name facts of the request: {model}, {limit},
    {tokens}, {path}, {method}, {header}, {expected}, {detail} (the validator's own words), {param}."""

    status: int
    message: str
    code: str | int | None = ""  # None: JSON null
    type: str | None = None  # None: the profile's type for the status
    param: str | None = "{param}"
    shape: Shape | None = None  # None: the profile's shape for the status
    headers: tuple[tuple[str, str], ...] = ()


BASE_ERRORS: Mapping[str, ProviderError] = {  # OpenAI's codes where OpenAI has one, else null
    "missing_auth": ProviderError(401, "Missing {header} header; expected {expected}", None),
    "invalid_key": ProviderError(401, "Invalid API key provided", "invalid_api_key"),
    "invalid_request": ProviderError(400, "{detail}", None),
    "unknown_model": ProviderError(
        404, "The model `{model}` does not exist or you do not have access to it.", "model_not_found", param="model"
    ),
    "context_length": ProviderError(
        400,
        "This model's maximum context length is {limit} tokens. However, your messages resulted in {tokens} tokens."
        " Please reduce the length of the messages.",
        "context_length_exceeded",
        param="messages",
    ),
    "unknown_route": ProviderError(404, "Invalid URL ({method} {path})", None),
    "unknown_deployment": ProviderError(404, "The model `{model}` does not exist.", "model_not_found"),
    "internal": ProviderError(500, "The simulator failed to handle the request.", None),
}
DEPLOYMENT_SITUATION = "unknown_deployment"  # answered only where the path names a deployment


@dataclass(frozen=True)
class SimProfile:
    name: str
    chat_path: str = "/v1/chat/completions"  # Starlette syntax: `{deployment}` is a path segment
    auth_header: str = "authorization"
    auth_scheme: Literal["bearer", "key"] = "bearer"  # `key`: the header carries the key alone
    required_query: tuple[str, ...] = ()  # without these query parameters a path is `unknown_route`
    shape: Shape = "openai"
    shapes: Mapping[int, Shape] = field(default_factory=dict)  # a status answered in another shape
    default_type: str | None = None
    types: Mapping[int, str] = field(default_factory=dict)  # the error type per status
    status_as_code: StatusAsCode = ""  # a scripted error names no code: send the status (as a number, a string)
    request_id_in_message: bool = False  # CometAPI: "... (request id: <id>)"
    errors: Mapping[str, ProviderError] = field(default_factory=dict)  # beyond or instead of BASE_ERRORS

    @property
    def models_path(self) -> str:
        return self.chat_path.removesuffix("chat/completions") + "models"

    @property
    def situations(self) -> tuple[str, ...]:
        """Every error name this profile answers: the base situations and its own."""
        names = dict.fromkeys([*BASE_ERRORS, *self.errors])
        if "{deployment}" not in self.chat_path:
            names.pop(DEPLOYMENT_SITUATION, None)
        return tuple(names)

    def error(self, situation: str) -> ProviderError:
        return self.errors.get(situation) or BASE_ERRORS[situation]

    def scripted(self, status: int, code: str = "") -> ProviderError:
        """A drill's plain `{status: N, error_code: C}`: the status in this provider's shape."""
        if not code and self.status_as_code:
            return ProviderError(
                status, f"scripted {status}", status if self.status_as_code == "number" else str(status)
            )
        return ProviderError(status, f"scripted {status}", code)

    def body(self, error: ProviderError, facts: Mapping[str, object] = DRILL_FACTS) -> dict[str, Any]:
        """The JSON body of `error`, its message filled from `facts` (missing ones from DRILL_FACTS)."""
        filled = {**DRILL_FACTS, **facts}
        message = error.message.format_map(filled)
        if self.request_id_in_message and "request_id" in filled:
            message = f"{message} (request id: {filled['request_id']})"
        param = error.param.format_map(filled) if error.param is not None else None
        error_type = error.type if error.type is not None else self.types.get(error.status, self.default_type)
        return _shaped(self.shape_of(error), message, error_type, param, error.code)

    def shape_of(self, error: ProviderError) -> Shape:
        """The body shape `error` is sent in: its own, else this profile's for its status."""
        return error.shape or self.shapes.get(error.status, self.shape)


def _shaped(
    shape: Shape, message: str, error_type: str | None, param: str | None, code: str | int | None
) -> dict[str, Any]:
    if shape == "detail":
        return {"detail": message}
    if shape == "detail_list":
        return {"detail": [{"type": "value_error", "loc": ["body", *([param] if param else [])], "msg": message}]}
    if shape == "string":
        return {"error": message}
    if shape == "code_message":
        return {"error": {"code": code, "message": message}}
    fields = {"message": message, "type": error_type, "param": param, "code": code}
    if shape == "flat":
        return fields
    return {"object": "error", **fields} if shape == "top_level" else {"error": fields}
