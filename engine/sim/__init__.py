"""The built-in simulator: an OpenAI-compatible HTTP server modelling CometAPI, and the fault server
that plays drills. It knows nothing of specs: it imports only engine.core.

    wire                        every wire answer (completion, chunks, error envelope, SSE), built once
    app, server                 the ASGI simulator (starlette) served by uvicorn on loopback
    faults                      FaultServer: scripted answers per attempt, real on the raw socket
    incoming, rawserver         h11 request reading; the raw-socket server loop the fault server uses
    scripts, playback, streams  fault scripts and their attempt log; playing each fault kind
    standalone                  `runbook sim --script`: a fault script served to any client

SimConfig       accepted keys, existing models, context window
create_app      the starlette app for a config
SimServer       the app served on loopback from a background thread
serve_forever   the app served in the foreground until Ctrl-C / SIGTERM

create_app, SimServer and serve_forever load on first use: the drills' fault server and
`runbook sim --script` need neither starlette nor uvicorn.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from engine.sim.config import DEFAULT_MODELS, SimConfig

if TYPE_CHECKING:
    from engine.sim.app import create_app
    from engine.sim.server import SimServer, serve_forever

__all__ = ["DEFAULT_MODELS", "SimConfig", "SimServer", "create_app", "serve_forever"]

_ON_FIRST_USE = {"create_app": "engine.sim.app", "SimServer": "engine.sim.server", "serve_forever": "engine.sim.server"}


def __getattr__(name: str) -> object:
    """create_app, SimServer and serve_forever, imported (with starlette and uvicorn) when first asked for."""
    if name not in _ON_FIRST_USE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_ON_FIRST_USE[name]), name)
    globals()[name] = value
    return value
