"""A loopback HTTP/1.1 server that answers on the raw socket, on its own event loop in a thread.

Requests are read with h11 (incoming.py); a subclass's `answer` writes whatever bytes it likes,
resets included, and says whether the connection may carry another request. The fault simulator
(faults.py) and runbook's hostile test server are such subclasses.

    with MyServer() as server:   # start() returns once it listens; stop() ends every connection
        httpx.get(server.base_url + "/anything")
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Self

from engine.core.loopback import loopback_address
from engine.sim.incoming import BadRequest, Incoming, RequestReader
from engine.sim.wire import Headers

START_TIMEOUT = 5.0
STALL_LIMIT = 300.0  # seconds a connection is held without an answer at the most


@dataclass(frozen=True)
class Channel:
    """One connection as an answer writes to it.

    `mark` is called just before the answer's last bytes (the fault simulator logs the time);
    `server_headers` end every head the answer writes (the simulators' fingerprint)."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    mark: Callable[[], None] = lambda: None
    server_headers: Headers = ()


class RawServer:
    """Serve `answer` to every request until `stop()`. Port 0 gives an ephemeral port."""

    thread_name = "runbook-raw-http"

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host, self._port = loopback_address(host, "the fault server"), port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._error: OSError | None = None

    async def answer(self, request: Incoming, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Write the answer to `request`; False: close the connection after it."""
        raise NotImplementedError

    async def on_loop_started(self) -> None:
        """Called in the server's loop once it listens, before `start()` returns."""

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} has not been started")
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def start(self) -> Self:
        self._thread = threading.Thread(target=self._serve, name=self.thread_name, daemon=True)
        self._thread.start()
        if not self._started.wait(START_TIMEOUT):
            raise RuntimeError(f"{type(self).__name__} did not start")
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _serve(self) -> None:
        loop = self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            server = self._server = loop.run_until_complete(self._listen())
        except OSError as exc:  # e.g. the port is taken: start() re-raises it
            self._error = exc
            loop.close()
            self._started.set()
            return
        loop.run_until_complete(self.on_loop_started())
        self._started.set()
        try:
            loop.run_forever()
        finally:
            _close(loop, server)

    async def _listen(self) -> asyncio.Server:
        server = await asyncio.start_server(self._connection, self._host, self._port, reuse_address=True)
        for sock in server.sockets:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return server

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Answer the connection's requests in turn until one answer closes it or the client leaves."""
        requests = RequestReader(reader)
        try:
            while (request := await requests.next()) is not None:
                if not await self.answer(request, reader, writer):
                    break
        except (ConnectionError, BadRequest, ValueError):
            pass
        except asyncio.CancelledError:
            return  # the server is stopping; ending quietly keeps asyncio's stream callback quiet
        finally:
            if not writer.is_closing():
                writer.close()


def _close(loop: asyncio.AbstractEventLoop, server: asyncio.Server) -> None:
    """Stop listening, cancel every connection still open (stalled or kept alive), close the loop."""
    server.close()
    pending = asyncio.all_tasks(loop)
    for task in pending:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.run_until_complete(server.wait_closed())
    loop.close()


async def until_client_leaves(reader: asyncio.StreamReader, limit: float = STALL_LIMIT) -> None:
    """Hold a connection without answering until the client gives up (or `limit` passes)."""
    with contextlib.suppress(TimeoutError, ConnectionError):
        await asyncio.wait_for(reader.read(), limit)
