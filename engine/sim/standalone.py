"""`runbook sim --script FILE`: serve a fault script to any client and log every attempt as JSONL."""

from __future__ import annotations

import datetime as dt
import json
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO

from engine.sim.faults import FaultServer, FaultStep, ServedAttempt


def serve_script(steps: list[FaultStep], host: str, port: int, log: IO[str] | None,
                 on_ready: Callable[[str], None]) -> None:
    """Serve until SIGINT/SIGTERM; each attempt is written to `log` as one JSON line."""
    stop = threading.Event()
    writer = _attempt_writer(log)
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with FaultServer(host, port, on_attempt=writer) as server:
            server.script("default", steps)
            on_ready(server.base_url)
            stop.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _attempt_writer(log: IO[str] | None) -> Callable[[ServedAttempt], None]:
    lock = threading.Lock()

    def write(attempt: ServedAttempt) -> None:
        if log is None:
            return
        record = {"time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"),
                  "elapsed_s": round(attempt.arrived, 4), "scope": attempt.scope, "attempt": attempt.index + 1,
                  "answer": attempt.kind if attempt.status is None else f"status {attempt.status}",
                  "path": attempt.path}
        with lock:
            log.write(json.dumps(record) + "\n")
            log.flush()

    return write


def open_log(path: Path | None) -> IO[str] | None:
    return path.open("a", encoding="utf-8") if path else None
