"""The built-in simulator: an OpenAI-compatible HTTP server modelling CometAPI.

SimConfig       accepted keys, existing models, context window
create_app      the starlette app for a config
SimServer       the app served on loopback from a background thread
serve_forever   the app served in the foreground until Ctrl-C / SIGTERM
"""

from engine.sim.app import create_app
from engine.sim.config import DEFAULT_MODELS, SimConfig
from engine.sim.server import SimServer, serve_forever

__all__ = ["DEFAULT_MODELS", "SimConfig", "SimServer", "create_app", "serve_forever"]
