"""The scripted-fault simulator: consecutive attempts get scripted answers, real on the wire.

Each drill scripts its own scope (`/drill/<scope>/...`), so drills can run side by side. Faults are
produced on the raw socket: a TCP reset is a reset, a truncated body is a truncated body. Every
attempt the server receives is logged with its arrival time, so a drill can be judged from the
server's side as well as the client's.

The parts: scripts.py (steps, scopes, the attempt log), playback.py and streams.py (each fault
kind on the wire), rawserver.py and incoming.py (the loop, the thread, reading requests with h11),
wire.py (the bodies). The names other stages use are importable from here.
"""

from __future__ import annotations

import asyncio
import time

from engine.core.latency import LatencyProbe, Window
from engine.sim import wire
from engine.sim.incoming import Incoming
from engine.sim.playback import comet_error_response, play
from engine.sim.rawserver import Channel, RawServer
from engine.sim.scripts import (
    CALL_SCOPE,
    DEFAULT_SCOPE,
    FaultStep,
    OnAttempt,
    OnRequest,
    Scripts,
    ServedAttempt,
    request_id_of,
    scope_of,
)

__all__ = ["CALL_SCOPE", "DEFAULT_SCOPE", "FaultServer", "FaultStep", "ServedAttempt"]

BAD_CALL_ID = "a call id (/call/<id>/ or X-Runbook-Call) is 1-100 characters of A-Z a-z 0-9 - . _ ~"


class FaultServer(RawServer):
    """`with FaultServer() as server: url = server.script("drill-1", [FaultStep("status", 503), FaultStep()])`."""

    thread_name = "runbook-faults"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, on_attempt: OnAttempt | None = None) -> None:
        super().__init__(host, port)
        self._scripts = Scripts(on_attempt=on_attempt)
        self._epoch = time.monotonic()
        self._probe = LatencyProbe()

    def script(self, scope: str, steps: list[FaultStep]) -> str:
        """Install a script; returns the base URL a client uses for this scope."""
        self._scripts.install(scope, steps)
        return f"{self.base_url}/drill/{scope}"

    def serve_any_client(
        self, steps: list[FaultStep], on_request: OnRequest | None = None, on_answered: OnAttempt | None = None
    ) -> None:
        """`steps` for requests naming no drill: the default scope, and every call from its first step."""
        self._scripts.serve_any_client(steps, on_request, on_answered)

    def attempts(self, scope: str | None = None) -> list[ServedAttempt]:
        return self._scripts.attempts(scope)

    def now(self) -> float:
        """Seconds since the server was made: the clock of every ServedAttempt."""
        return time.monotonic() - self._epoch

    def lateness_window(self) -> Window:
        """Record the server loop's worst lateness from now on, for one drill among several at once."""
        return self._probe.window()

    def close_window(self, window: Window) -> float:
        return self._probe.close(window)

    async def on_loop_started(self) -> None:
        self._probe.start()

    async def answer(self, request: Incoming, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        scope = scope_of(request.target, request.headers)
        if scope is None:
            return await _refuse(writer, 400, BAD_CALL_ID, "invalid_call_id")
        found = self._scripts.next_step(scope, request.target, self.now(), request_id_of(request.headers))
        if found is None:
            return await _refuse(writer, 404, "no script for this path", "not_found")
        step, attempt = found
        if step.delay:
            await asyncio.sleep(step.delay)

        def mark() -> None:
            self._scripts.answered(attempt, self.now())

        return await play(step, Channel(reader, writer, mark, wire.SIMULATOR_HEADERS))


async def _refuse(writer: asyncio.StreamWriter, status: int, message: str, code: str) -> bool:
    """An error of the server's own (not a scripted answer); the connection stays usable."""
    writer.write(comet_error_response(status, message, code, wire.SIMULATOR_HEADERS))
    await writer.drain()
    return True
