"""The simulator in a process of its own, so a large run's checks and its answers use two cores.

A simulator served from a thread of the run's own process shares one interpreter lock with the
client: at thousands of checks the server's work (about 1 ms an answer) and the client's take
turns on one core. `SimProcess` starts `python -m engine.sim.process`, hands it the settings on
stdin (the accepted key never appears in a process listing), reads back `port N`, and stops it by
closing stdin: a child whose parent dies stops too. Starting one costs a Python start-up (about
0.3 s), so engine.run.targets uses it only for large runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO

from engine.sim.config import SimConfig

START_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])  # the directory holding `engine`


class SimProcess:
    """`with SimProcess(SimConfig(keys=(key,))) as sim: sim.base_url` (the profile goes by its name)."""

    def __init__(self, config: SimConfig) -> None:
        self._settings = {
            "keys": list(config.keys),
            "models": list(config.models),
            "context_tokens": config.context_tokens,
            "profile": config.profile.name,
        }
        self._process: subprocess.Popen[str] | None = None
        self._stderr: IO[str] | None = None
        self.base_url = ""

    def start(self, timeout: float = START_TIMEOUT) -> SimProcess:
        self._stderr = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 - closed in stop()
        path = os.pathsep.join(filter(None, (_PACKAGE_ROOT, os.environ.get("PYTHONPATH"))))
        self._process = subprocess.Popen(
            [sys.executable, "-m", "engine.sim.process"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            env={**os.environ, "PYTHONPATH": path},
        )
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(json.dumps(self._settings) + "\n")
        self._process.stdin.flush()
        line = _read_line(self._process.stdout, timeout)
        if not line.startswith("port "):
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(1)  # a child that failed has written why: let it finish
            failure = self._failure(line)
            self.stop()
            raise RuntimeError(f"the simulator process did not start: {failure}")
        self.base_url = f"http://127.0.0.1:{int(line.split()[1])}"
        return self

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        try:
            if process.stdin is not None:
                process.stdin.close()  # the child's signal to stop
            process.wait(STOP_TIMEOUT)
        except (OSError, subprocess.TimeoutExpired):
            process.kill()
            process.wait(STOP_TIMEOUT)
        finally:
            if process.stdout is not None:
                process.stdout.close()
            if self._stderr is not None:
                self._stderr.close()

    def _failure(self, line: str) -> str:
        if self._stderr is None:
            return line or "no answer"
        self._stderr.seek(0)
        lines = self._stderr.read().strip().splitlines()
        return (lines[-1] if lines else line) or "no answer"

    def __enter__(self) -> SimProcess:
        return self.start() if self._process is None else self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _read_line(stream: IO[str], timeout: float) -> str:
    """The child's first line, or "" when it says nothing within `timeout`."""
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if selector.select(max(0.0, deadline - time.monotonic())):
                return stream.readline().strip()
    return ""


def _child() -> None:
    """The child: read the settings, serve, print the port, stop when stdin closes."""
    from engine.core.providers import PROFILES
    from engine.sim.server import SimServer

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the parent's run; the parent stops this
    settings = json.loads(sys.stdin.readline())
    config = SimConfig(
        keys=tuple(settings["keys"]),
        models=tuple(settings["models"]),
        context_tokens=int(settings["context_tokens"]),
        profile=PROFILES[settings["profile"]],
    )
    with SimServer(config) as server:
        print(f"port {server.port}", flush=True)
        sys.stdin.read()  # until the parent closes it, or dies


if __name__ == "__main__":
    _child()
