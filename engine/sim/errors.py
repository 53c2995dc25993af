"""CometAPI's error envelope and request ids.

Every error the simulator sends has the shape CometAPI documents:

    {"error": {"message": "<text> (request id: <rid>)", "type": "comet_api_error",
               "param": "<param or empty>", "code": "<code or empty>"}}

and every response, success or error, carries the same id in an `x-request-id` header.
"""

from __future__ import annotations

import secrets
from typing import Any

from starlette.responses import JSONResponse

from engine.sim import wire

ERROR_TYPE = wire.COMET_ERROR_TYPE
REQUEST_ID_HEADER = "x-request-id"


def new_request_id() -> str:
    """Return a fresh request id: "req_" and 24 hex digits."""
    return "req_" + secrets.token_hex(12)


class SimError(Exception):
    """A request the simulated API rejects; it becomes exactly one error response."""

    def __init__(self, status: int, message: str, code: str = "", param: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.param = param


def invalid_request(message: str, param: str = "") -> SimError:
    """A 400 with CometAPI's `invalid_request` code."""
    return SimError(400, message, code="invalid_request", param=param)


def error_body(error: SimError, request_id: str) -> dict[str, Any]:
    """The JSON envelope for `error`, with the request id inside the message."""
    message = f"{error.message} (request id: {request_id})"
    return wire.error_envelope(message, error.code, ERROR_TYPE, error.param)


def error_response(error: SimError, request_id: str) -> JSONResponse:
    """The HTTP response for `error`: its status, the envelope and the request-id header."""
    return JSONResponse(
        error_body(error, request_id),
        status_code=error.status,
        headers={REQUEST_ID_HEADER: request_id},
    )
