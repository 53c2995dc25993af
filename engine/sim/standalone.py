"""`runbook sim --script FILE`: serve a fault script to any client and log every attempt as JSONL.

Each call a client names gets the script from its first step: `/call/<id>/...` (an SDK's base_url
`http://127.0.0.1:8788/call/<id>/v1`) or the header `X-Runbook-Call: <id>`; requests naming no call
share one sequence (the scope "default") whose last step repeats. The log has two kinds of line:

    {"event": "attempt", "time", "elapsed_s", "call", "attempt", "answer", "path", "request_id"}
    {"event": "answered", "time", "elapsed_s", "call", "attempt"}

`attempt` counts from 1 within its call; `elapsed_s` is seconds since the server started (for an
answered line: just before the answer's last bytes were written; a stall is never answered).
No header value is logged but the request id (X-Client-Request-Id, else X-Request-Id, cut to 100
characters), and `path` leaves out the query string.
"""

from __future__ import annotations

import datetime as dt
import json
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO

from engine.sim.faults import CALL_SCOPE, DEFAULT_SCOPE, FaultServer, FaultStep, ServedAttempt


def serve_script(
    steps: list[FaultStep],
    host: str,
    port: int,
    log: IO[str] | None,
    on_ready: Callable[[str], None],
    stop: threading.Event | None = None,
) -> None:
    """Serve until SIGINT/SIGTERM (or `stop` is set, from another thread); attempts go to `log` as JSON lines."""
    in_main_thread = threading.current_thread() is threading.main_thread()
    stop = stop or threading.Event()
    attempt_log = _AttemptLog(log)
    previous = (
        {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
        if in_main_thread
        else {}
    )
    try:
        server = FaultServer(host, port)
        # Configured before it listens, so no request can arrive to a half-installed script.
        server.serve_any_client(steps, attempt_log.attempt if log else None, attempt_log.answered if log else None)
        with server:
            on_ready(server.base_url)
            stop.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def call_of(scope: str) -> str:
    """The call id a log line names: the id of a `call:<id>` scope, else the scope ("default")."""
    return scope.removeprefix(CALL_SCOPE) if scope != DEFAULT_SCOPE else DEFAULT_SCOPE


class _AttemptLog:
    def __init__(self, log: IO[str] | None):
        self._log, self._lock = log, threading.Lock()

    def attempt(self, attempt: ServedAttempt, request_id: str | None) -> None:
        self._write(
            {
                "event": "attempt",
                "time": _now(),
                "elapsed_s": round(attempt.arrived, 4),
                "call": call_of(attempt.scope),
                "attempt": attempt.index + 1,
                "answer": attempt.kind if attempt.status is None else f"status {attempt.status}",
                "path": attempt.path.split("?", 1)[0],
                "request_id": request_id,
            }
        )

    def answered(self, attempt: ServedAttempt) -> None:
        self._write(
            {
                "event": "answered",
                "time": _now(),
                "elapsed_s": round(attempt.answered or 0.0, 4),
                "call": call_of(attempt.scope),
                "attempt": attempt.index + 1,
            }
        )

    def _write(self, record: dict[str, object]) -> None:
        if self._log is None:
            return
        with self._lock:
            self._log.write(json.dumps(record) + "\n")
            self._log.flush()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def open_log(path: Path | None) -> IO[str] | None:
    return path.open("a", encoding="utf-8") if path else None
