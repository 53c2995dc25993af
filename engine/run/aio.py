"""An httpx transport on aiohttp: the httpx API runbook is built on, with aiohttp's faster HTTP/1.1.

Chosen by measurement (`make bench`, "HTTP layer" rows): at 16 requests in flight httpx's own
transport (httpcore) is slower than at one, because it walks its pool on every request; aiohttp's
connector and C parser are not. Everything runbook pins stays as it was with httpcore:

- no redirects followed, no body decoded (runbook's bounded decoder undoes gzip/deflate itself),
  no cookies kept, no headers added beyond the ones httpx already put on the request;
- connect, read and pool timeouts, and failures, raised as the httpx exceptions (and with the
  wording) engine.run.http classifies: a reset before the answer, a truncated body, a DNS failure;
- proxies: this transport is only used when no proxy variable applies (see engine.run.client).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import httpx

# aiohttp counts a limit of 0 as "unlimited"; runbook's own concurrency bounds what is in flight.
_CONNECTIONS = 0


class AiohttpTransport(httpx.AsyncBaseTransport):
    """One aiohttp session per client, made in the running event loop on first use."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._session or self._open()
        timeout = request.extensions.get("timeout", {})
        body = request.content or None
        with _as_httpx_errors(request, sent=False):
            response = await session.request(
                request.method,
                str(request.url),
                headers=request.headers.multi_items(),
                data=body,
                allow_redirects=False,
                auto_decompress=False,
                compress=None,
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    connect=timeout.get("pool"),
                    sock_connect=timeout.get("connect"),
                    sock_read=timeout.get("read"),
                ),
            ).__aenter__()
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=_Body(response, request),
            request=request,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": (response.reason or "").encode("latin-1")},
        )

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(limit=_CONNECTIONS, ttl_dns_cache=None, enable_cleanup_closed=False)
        self._session = aiohttp.ClientSession(
            connector=connector,
            trust_env=False,
            cookie_jar=aiohttp.DummyCookieJar(),
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
            auto_decompress=False,
        )
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class _Body(httpx.AsyncByteStream):
    """The response body as it arrives, read errors raised as httpx's."""

    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._response, self._request = response, request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _as_httpx_errors(self._request, sent=True):
            async for chunk in self._response.content.iter_any():
                yield chunk

    async def aclose(self) -> None:
        self._response.close()


@contextlib.contextmanager
def _as_httpx_errors(request: httpx.Request, *, sent: bool) -> Iterator[None]:
    """aiohttp's failures as the httpx exception (and wording) httpcore raises for the same event."""
    try:
        yield
    except asyncio.CancelledError:
        raise
    except aiohttp.ConnectionTimeoutError as exc:
        raise httpx.ConnectTimeout(str(exc) or "connect timed out", request=request) from exc
    except (aiohttp.SocketTimeoutError, aiohttp.ServerTimeoutError) as exc:
        raise httpx.ReadTimeout(str(exc) or "read timed out", request=request) from exc
    except aiohttp.ClientConnectorError as exc:
        raise httpx.ConnectError(str(exc), request=request) from _cause(exc)
    except aiohttp.ServerDisconnectedError as exc:
        message = "peer closed connection without sending complete message body (incomplete chunked read)"
        raise httpx.RemoteProtocolError(
            message if sent else "Server disconnected without sending a response.", request=request
        ) from exc
    except aiohttp.ClientPayloadError as exc:
        raise httpx.RemoteProtocolError(
            f"peer closed connection without sending complete message body ({exc})", request=request
        ) from exc
    except aiohttp.ClientResponseError as exc:  # a malformed status line or headers
        raise httpx.RemoteProtocolError(str(exc.message or exc), request=request) from exc
    except (aiohttp.ClientOSError, ConnectionError) as exc:
        error = httpx.ReadError if sent else httpx.WriteError
        raise error(str(exc) or type(exc).__name__, request=request) from exc
    except TimeoutError as exc:  # a timeout aiohttp did not name
        raise httpx.ReadTimeout("timed out", request=request) from exc
    except aiohttp.ClientError as exc:
        raise httpx.RemoteProtocolError(str(exc) or type(exc).__name__, request=request) from exc


def _cause(exc: aiohttp.ClientConnectorError) -> BaseException:
    """The OSError under a connect failure (a socket.gaierror is how a DNS failure is recognised)."""
    os_error: Any = getattr(exc, "os_error", None)
    return os_error if isinstance(os_error, (OSError, socket.gaierror)) else exc
