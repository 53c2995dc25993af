"""new_client over loopback: a real proxy.py is used from the environment, `.invalid` never leaves."""

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from engine.run.client import new_client

PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "REQUEST_METHOD")
VIA = "1.1 proxy.py v2.4.10"  # proxy.py adds this to every request it forwards


@pytest.fixture(scope="module")
def proxy_url(tmp_path_factory):
    """A real proxy.py on an ephemeral loopback port (it writes the port to --port-file)."""
    home = tmp_path_factory.mktemp("proxy")  # proxy.py creates ~/.proxy: keep it in here
    port_file = home / "port"
    env = {k: v for k, v in os.environ.items() if k.upper() not in PROXY_VARS}
    with (home / "log").open("wb") as log:  # the child keeps its own copy of the file
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "proxy",
                "--hostname",
                "127.0.0.1",
                "--port",
                "0",
                "--port-file",
                str(port_file),
                "--num-workers",
                "1",
                "--num-acceptors",
                "1",
            ],
            env={**env, "HOME": str(home)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 15
        while True:
            assert proc.poll() is None and time.monotonic() < deadline, (home / "log").read_text()
            text = port_file.read_text() if port_file.exists() else ""
            if text.endswith("\n"):
                try:
                    socket.create_connection(("127.0.0.1", int(text.split()[0])), timeout=1).close()
                    break
                except OSError:
                    pass
            time.sleep(0.05)
        yield f"http://127.0.0.1:{int(text.split()[0])}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def origin():
    """A loopback origin answering 200 JSON; `seen` holds the headers of each request it got."""
    seen: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append({k.lower(): v for k, v in self.headers.items()})
            body = json.dumps({"ok": True}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in PROXY_VARS:  # upper and lower case: urllib reads both
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def get(url: str, trust_env: bool) -> httpx.Response:
    async def go() -> httpx.Response:
        async with new_client(trust_env=trust_env) as client:
            return await client.get(url, timeout=10)

    return asyncio.run(go())


@pytest.mark.parametrize(
    "trust_env, no_proxy, via_proxy",
    [(True, "", True), (False, "", False), (True, "127.0.0.1", False), (True, "localhost,127.0.0.1", False)],
)
def test_environment_proxy(monkeypatch, proxy_url, origin, trust_env, no_proxy, via_proxy):
    url, seen = origin
    monkeypatch.setenv("HTTP_PROXY", proxy_url)
    monkeypatch.setenv("NO_PROXY", no_proxy)  # httpx has no implicit loopback exclusion
    seen.clear()
    response = get(f"{url}/v1/models", trust_env)
    assert response.status_code == 200 and response.json() == {"ok": True}
    assert len(seen) == 1
    assert (seen[0].get("via") == VIA) is via_proxy, seen[0]


@pytest.mark.parametrize("scheme", ["http", "https"])
@pytest.mark.parametrize("proxied", [False, True])
def test_invalid_fails_as_dns_error_without_asking_the_proxy(monkeypatch, proxy_url, scheme, proxied):
    if proxied:  # a proxy asked for this name would answer (502) or give a ProxyError, never gaierror
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
            monkeypatch.setenv(name, proxy_url)
    started = time.monotonic()
    with pytest.raises(httpx.ConnectError) as caught:
        get(f"{scheme}://foo.runbook.invalid/v1/models", trust_env=True)
    assert time.monotonic() - started < 1.0
    chain, error = [], caught.value
    while error is not None:
        chain.append(error)
        error = error.__cause__ or error.__context__
    assert any(isinstance(e, socket.gaierror) for e in chain), chain


def test_the_transport_is_aiohttps_unless_a_trusted_proxy_variable_applies(monkeypatch):
    from engine.run.aio import AiohttpTransport

    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert isinstance(new_client(trust_env=True)._transport, AiohttpTransport)
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    assert not isinstance(new_client(trust_env=True)._transport, AiohttpTransport)  # httpx's, with env proxies
    assert isinstance(new_client(trust_env=False)._transport, AiohttpTransport)  # the simulator: never proxied
