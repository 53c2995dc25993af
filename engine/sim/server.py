"""Serving the simulator on loopback: in a background thread, or in the foreground.

`SimServer` binds its own socket (so port 0 gives an ephemeral port), runs uvicorn
with its own event loop in a daemon thread, and stops it on `stop()`.
`serve_forever` is the blocking form behind `runbook sim`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from types import TracebackType

import uvicorn

from engine.core.loopback import loopback_address
from engine.sim.app import create_app
from engine.sim.config import SimConfig

START_TIMEOUT = 5.0
STOP_TIMEOUT = 5.0
GRACEFUL_SHUTDOWN_SECONDS = 2


class SimServer:
    """The simulator served on a loopback address from a background thread.

    `start()` returns once the server accepts connections; `stop()` shuts it down
    and joins the thread. A server can be started once. Use as a context manager:

        with SimServer(SimConfig(keys=("sk-test",))) as server:
            httpx.get(server.base_url + "/v1/models", ...)
    """

    def __init__(self, config: SimConfig, host: str = "127.0.0.1", port: int = 0) -> None:
        self._config = config
        self._host = loopback_address(host)
        self._requested_port = port
        self._port: int | None = None
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port (the ephemeral one when constructed with port 0)."""
        if self._port is None:
            raise RuntimeError("SimServer has not been started")
        return self._port

    @property
    def base_url(self) -> str:
        """`http://HOST:PORT`, without a trailing slash or `/v1`."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        """True while the server thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self, timeout: float = START_TIMEOUT) -> SimServer:
        """Bind, serve in a background thread, and wait until it accepts connections."""
        if self._thread is not None:
            raise RuntimeError("SimServer can be started only once")
        self._socket = _bind(self._host, self._requested_port)
        self._port = self._socket.getsockname()[1]
        self._server = uvicorn.Server(_uvicorn_config(self._config))
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name=f"runbook-sim-{self._port}",
            daemon=True,
        )
        self._thread.start()
        if not self._wait_started(timeout):
            self.stop()
            raise RuntimeError(f"simulator did not start on {self.base_url} within {timeout} s")
        return self

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Shut down, waiting at most about 2 * `timeout`; calling it again is harmless."""
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(timeout)
        if self._socket is not None:
            self._socket.close()

    def _wait_started(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._server is not None and self._server.started:
                return True
            if not self.running:
                return False
            time.sleep(0.005)
        return False

    def __enter__(self) -> SimServer:
        if self._thread is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve_forever(
    config: SimConfig,
    host: str = "127.0.0.1",
    port: int = 0,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve until Ctrl-C or SIGTERM, then return normally.

    `on_ready(base_url)` is called once the server accepts connections. Signal
    handlers are installed only when called from the main thread and are restored
    on return. Raises RuntimeError if the server cannot start or dies.
    """
    stop = threading.Event()
    with _stop_on_signals(stop), SimServer(config, host, port) as server:
        if on_ready is not None:
            on_ready(server.base_url)
        try:
            while not stop.wait(0.2):
                if not server.running:
                    raise RuntimeError("simulator stopped unexpectedly")
        except KeyboardInterrupt:
            pass


@contextlib.contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Set `stop` on SIGINT/SIGTERM while inside the block (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    handled = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, lambda _sig, _frame: stop.set()) for sig in handled}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _bind(host: str, port: int) -> socket.socket:
    """A listening-ready TCP socket bound to (host, port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        if os.name != "nt":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit TCP_NODELAY; without it a response whose head and body are
        # written separately waits ~40 ms for the client's delayed ACK (Nagle).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def _uvicorn_config(config: SimConfig) -> uvicorn.Config:
    """Quiet uvicorn settings; logging config of the host process is left alone."""
    return uvicorn.Config(
        create_app(config),
        http="httptools",
        ws="none",
        lifespan="off",
        log_config=None,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
