"""Errors the simulator answers, in the shape of its profile, and request ids.

A `SimError` names a situation (`unknown_model`, `context_length`, ...) and the facts of the
request its message may quote; the profile (engine/core/profiles.py) says what the provider sends
for it: the status, the body's shape, code, type and wording. CometAPI's profile, the default,
sends {"error": {"message": "<text> (request id: <rid>)", "type": "comet_api_error", "param",
"code"}}. Every response, success or error, carries its request id in an `x-request-id` header.
"""

from __future__ import annotations

import secrets

from starlette.responses import JSONResponse

from engine.core.profiles import SimProfile

REQUEST_ID_HEADER = "x-request-id"


def new_request_id() -> str:
    """Return a fresh request id: "req_" and 24 hex digits."""
    return "req_" + secrets.token_hex(12)


class SimError(Exception):
    """A request the simulated API rejects; it becomes exactly one error response."""

    def __init__(self, situation: str, **facts: object) -> None:
        super().__init__(situation)
        self.situation = situation
        self.facts = facts


def invalid_request(detail: str, param: str = "") -> SimError:
    """A malformed request: the profile's `invalid_request` answer, quoting `detail`."""
    return SimError("invalid_request", detail=detail, param=param)


def error_response(error: SimError, request_id: str, profile: SimProfile) -> JSONResponse:
    """The HTTP response for `error` as `profile`'s provider sends it, with the request-id header."""
    answer = profile.error(error.situation)
    body = profile.body(answer, {**error.facts, "request_id": request_id})
    headers = {REQUEST_ID_HEADER: request_id, **dict(answer.headers)}
    return JSONResponse(body, status_code=answer.status, headers=headers)
