"""Simulator modes: switch a running simulator from answering normally to failing, and back.

A mode is `normal` or the name of one of the profile's errors (`runbook specs --profiles` lists
them: `invalid_key`, `internal`, CometAPI's and OpenAI's `overloaded`, ...). In an error mode every
API request (chat completions and the model list) gets that error, as the profile's provider sends
it, whatever the request: a revoked key, an outage, a spent quota. It is the failure a watch
should see, alert on and recover from, without restarting the simulator:

    curl -X PUT -H 'Authorization: Bearer sk-test' -d '{"mode": "invalid_key"}' \\
         http://127.0.0.1:8787/_runbook/mode
    curl -X PUT -H 'Authorization: Bearer sk-test' -d '{"mode": "normal"}' http://127.0.0.1:8787/_runbook/mode

`GET /_runbook/mode` answers {"mode": ..., "modes": [...]}; `PUT` (or `POST`) sets it and answers
the same. The control route takes an accepted key in the profile's auth header, as the API does, so
a page in a browser cannot switch it (a custom header needs a CORS preflight it never passes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from engine.core.profiles import SimProfile
from engine.sim.auth import check_auth
from engine.sim.config import NORMAL, SimConfig, modes_of, situation_of
from engine.sim.errors import REQUEST_ID_HEADER, SimError, error_response, invalid_request, new_request_id

MODE_PATH = "/_runbook/mode"
MAX_BODY_BYTES = 4096


@dataclass
class SimMode:
    """The mode a simulator is in: `situation` None answers normally, else every API request gets it."""

    situation: str | None = None

    @property
    def name(self) -> str:
        return self.situation or NORMAL

    def raise_if_failing(self) -> None:
        """In an error mode: raise that error, so the request is answered with it."""
        if self.situation is not None:
            raise SimError(self.situation)


async def mode_route(request: Request) -> Response:
    """GET /_runbook/mode: the mode; PUT or POST {"mode": NAME}: switch to it."""
    request_id = new_request_id()
    config: SimConfig = request.app.state.sim_config
    mode: SimMode = request.app.state.sim_mode
    try:
        check_auth(
            request.headers.get(config.profile.auth_header),
            config.keys,
            config.profile.auth_header,
            config.profile.auth_scheme,
        )
        if request.method != "GET":
            mode.situation = _asked_situation(await request.body(), config.profile)
    except SimError as error:
        return error_response(error, request_id, config.profile)
    answer = {"mode": mode.name, "modes": list(modes_of(config.profile))}
    return JSONResponse(answer, headers={REQUEST_ID_HEADER: request_id})


def _asked_situation(body: bytes, profile: SimProfile) -> str | None:
    if len(body) > MAX_BODY_BYTES:
        raise invalid_request(f"a mode request is at most {MAX_BODY_BYTES} bytes")
    try:
        asked = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise invalid_request('send {"mode": NAME} as JSON') from None
    if not isinstance(asked, dict) or not isinstance(asked.get("mode"), str):
        raise invalid_request('send {"mode": NAME} as JSON', param="mode")
    try:
        return situation_of(asked["mode"], profile)
    except ValueError as exc:
        raise invalid_request(_printable(str(exc)), param="mode") from None


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in text)[:500]
