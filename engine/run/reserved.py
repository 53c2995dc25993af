"""RFC 6761 reserved names: `.invalid` never resolves, so runbook answers that itself.

A name under `.invalid` fails name resolution at once, without asking any DNS server: this is what
the RFC asks of resolvers, and it lets drills exercise a real DNS failure on machines whose only
allowed network is loopback.
"""

from __future__ import annotations

import socket

import httpx


class ReservedNames(httpx.AsyncBaseTransport):
    """Wraps a transport; requests to `*.invalid` fail as a name-resolution error."""

    def __init__(self, inner: httpx.AsyncBaseTransport | None = None):
        self._inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host.rstrip(".").lower()
        if host == "invalid" or host.endswith(".invalid"):
            cause = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            raise httpx.ConnectError(
                f"[Errno {socket.EAI_NONAME}] {host}: Name or service not known", request=request
            ) from cause
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()
