"""The HTTP client runbook runs with: environment proxies kept, `.invalid` names answered locally.

httpx ignores HTTPS_PROXY / HTTP_PROXY / ALL_PROXY / NO_PROXY as soon as a custom `transport=` is
passed, so wrapping the default transport in `ReservedNames` made live runs bypass a corporate proxy
silently. Instead the default transport (and httpx's proxy mounts) stay, and the reserved-name
failure is *mounted* for `.invalid` hosts only: those still fail at once as a DNS error, before any
proxy or DNS server is asked.
"""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Mapping

import httpx

from engine.run.aio import AiohttpTransport
from engine.run.reserved import ReservedNames

# RUNBOOK_TRANSPORT=httpcore runs on httpx's own transport (for comparison: `make bench`).
FAST_TRANSPORT = os.environ.get("RUNBOOK_TRANSPORT", "aiohttp") != "httpcore"

# URLPattern matching: "*.invalid" is any name under .invalid (not "invalid" itself); port-less
# patterns match every port. httpx keeps a trailing dot in `url.host`, hence the dotted forms.
RESERVED_PATTERNS = ("all://invalid", "all://*.invalid", "all://invalid.", "all://*.invalid.")


class _Unreachable(httpx.AsyncBaseTransport):
    """Inner transport of the mounted ReservedNames: only `.invalid` hosts are routed there."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise RuntimeError(f"reserved-name mount reached for {request.url.host!r}")


def new_client(*, trust_env: bool, headers: Mapping[str, str] | None = None) -> httpx.AsyncClient:
    """An AsyncClient that never follows redirects; with trust_env it honours the proxy variables.

    Its transport is aiohttp's (engine.run.aio) unless a proxy variable is set and trusted: httpx
    drops its environment proxies once a transport is given, so a proxied run keeps httpcore.
    """
    reserved = ReservedNames(_Unreachable())
    proxied = trust_env and any(scheme != "no" for scheme in urllib.request.getproxies())
    return httpx.AsyncClient(
        trust_env=trust_env,
        follow_redirects=False,
        headers=headers,
        transport=None if proxied or not FAST_TRANSPORT else AiohttpTransport(),
        mounts={pattern: reserved for pattern in RESERVED_PATTERNS},
    )
