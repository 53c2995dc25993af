"""Every server the bench talks to runs in its own process, never in a thread of the measuring one.

`ServerProcess(argv)` starts the command and waits for the first `http://127.0.0.1:PORT` it prints
(runbook sim says "runbook simulator listening on http://127.0.0.1:PORT ..."; the bench's own stub
and stream servers print their address the same way). Loopback only.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType

from pairs import MeasureError

BENCH = Path(__file__).resolve().parent
ADDRESS = re.compile(r"http://127\.0\.0\.1:\d+")
START_TIMEOUT = 30.0
KEY = "sk-bench-0123456789abcdef"


class ServerProcess:
    """A server in a child process; `base_url` is what it printed. Stopped on exit."""

    def __init__(self, argv: Sequence[str], name: str) -> None:
        self.argv, self.name = list(argv), name
        self.base_url = ""
        self._child: subprocess.Popen[str] | None = None
        self._seen: list[str] = []

    def __enter__(self) -> ServerProcess:
        self._child = subprocess.Popen(
            self.argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True
        )
        found = threading.Event()
        threading.Thread(target=self._read, args=(found,), daemon=True).start()
        deadline = time.monotonic() + START_TIMEOUT
        while not found.wait(0.05):
            if self._child.poll() is not None or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise MeasureError(f"the {self.name} did not start: {' / '.join(self._seen[-3:]) or 'no output'}")
        return self

    @property
    def alive(self) -> bool:
        return self._child is not None and self._child.poll() is None

    @property
    def seen(self) -> list[str]:
        return self._seen

    def _read(self, found: threading.Event) -> None:
        assert self._child is not None and self._child.stdout is not None
        for line in self._child.stdout:  # keep draining, so the server never blocks on a full pipe
            if not found.is_set() or len(self._seen) < 50:
                self._seen.append(line.strip())
                match = ADDRESS.search(line)
                if match:
                    self.base_url = match.group(0)
                    found.set()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._child is not None and self._child.poll() is None:
            self._child.terminate()
            try:
                self._child.wait(10)
            except subprocess.TimeoutExpired:
                self._child.kill()
                self._child.wait()


class Shared:
    """A server started on first use and kept for every row after it; `close()` stops it."""

    def __init__(self, make: Callable[[], ServerProcess]) -> None:
        self._make = make
        self._server: ServerProcess | None = None
        self._error: str | None = None

    def base_url(self) -> str:
        if self._error:
            raise MeasureError(self._error)
        if self._server is None:
            try:
                self._server = self._make().__enter__()
            except MeasureError as exc:
                self._error = str(exc)
                raise
        if not self._server.alive:
            self._error = f"the {self._server.name} exited: {' / '.join(self._server.seen[-3:])}"
            raise MeasureError(self._error)
        return self._server.base_url

    def close(self) -> None:
        if self._server is not None:
            self._server.__exit__(None, None, None)


def runbook_exe() -> str:
    return str(Path(sys.executable).parent / "runbook")


def simulator() -> ServerProcess:
    """runbook's built-in simulator (`runbook sim --port 0`), accepting KEY."""
    return ServerProcess([runbook_exe(), "sim", "--port", "0", "--key", KEY], "simulator")


def stub() -> ServerProcess:
    """The bench's uvicorn + starlette stub: one fixed chat completion, as fast as a server gets."""
    return ServerProcess([sys.executable, str(BENCH / "stub_server.py")], "stub server")


def stream_server(megabytes: float) -> ServerProcess:
    """bench_sse's stream server: `megabytes` of chat.completion.chunk events to every request."""
    return ServerProcess(
        [sys.executable, str(BENCH / "bench_sse.py"), "serve", "--mb", str(megabytes)], "stream server"
    )
