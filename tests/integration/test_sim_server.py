"""SimServer and serve_forever over real loopback sockets."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from engine.sim import SimConfig, SimServer

ROOT = Path(__file__).resolve().parents[2]
KEY_A = "sk-sim-server-a-4e1b"
KEY_B = "sk-sim-server-b-9c07"


# One client for the module: loading the CA bundle per call would dominate the run time.
HTTP = httpx.Client(timeout=5)


@pytest.fixture(scope="module", autouse=True)
def _close_http() -> Iterator[None]:
    yield
    HTTP.close()


def models_status(base_url: str, key: str) -> int:
    response = HTTP.get(base_url + "/v1/models", headers={"Authorization": f"Bearer {key}"})
    return response.status_code


def test_start_serves_on_an_ephemeral_port_and_stop_closes_it() -> None:
    server = SimServer(SimConfig(keys=(KEY_A,))).start()
    try:
        assert server.port > 0
        assert server.base_url == f"http://127.0.0.1:{server.port}"
        assert server.running
        assert models_status(server.base_url, KEY_A) == 200
    finally:
        server.stop()
    assert not server.running
    with pytest.raises(httpx.ConnectError):
        models_status(server.base_url, KEY_A)


def test_two_servers_run_side_by_side_with_their_own_config() -> None:
    with SimServer(SimConfig(keys=(KEY_A,))) as a, SimServer(SimConfig(keys=(KEY_B,))) as b:
        assert a.port != b.port
        assert (models_status(a.base_url, KEY_A), models_status(b.base_url, KEY_B)) == (200, 200)
        assert (models_status(a.base_url, KEY_B), models_status(b.base_url, KEY_A)) == (401, 401)


def test_port_is_released_after_stop() -> None:
    with SimServer(SimConfig(keys=(KEY_A,))) as first:
        port = first.port
        assert models_status(first.base_url, KEY_A) == 200
    with SimServer(SimConfig(keys=(KEY_B,)), port=port) as second:
        assert second.port == port
        assert models_status(second.base_url, KEY_B) == 200


def test_busy_port_fails_to_start() -> None:
    with SimServer(SimConfig(keys=(KEY_A,))) as running, pytest.raises(OSError):
        SimServer(SimConfig(keys=(KEY_A,)), port=running.port).start()


def test_stop_is_prompt_with_an_idle_keep_alive_client() -> None:
    server = SimServer(SimConfig(keys=(KEY_A,))).start()
    with httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {KEY_A}"}) as client:
        assert client.get("/v1/models").status_code == 200
        began = time.monotonic()
        server.stop()
        assert time.monotonic() - began < 2
    server.stop()  # a second stop is harmless


def test_a_server_starts_only_once() -> None:
    with SimServer(SimConfig(keys=(KEY_A,))) as server, pytest.raises(RuntimeError):
        server.start()


def test_streaming_over_a_socket_ends_with_done() -> None:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    with SimServer(SimConfig(keys=(KEY_A,))) as server:
        headers = {"Authorization": f"Bearer {KEY_A}"}
        url = server.base_url + "/v1/chat/completions"
        with HTTP.stream("POST", url, json=body, headers=headers) as response:
            lines = [line for line in response.iter_lines() if line]
    assert response.headers["content-type"].startswith("text/event-stream")
    assert lines[-1] == "data: [DONE]"
    assert len(lines) >= 4


SERVE_SCRIPT = textwrap.dedent(
    f"""
    from engine.sim import SimConfig, serve_forever
    serve_forever(SimConfig(keys=("{KEY_A}",)), on_ready=lambda url: print(url, flush=True))
    print("returned", flush=True)
    """
)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_serve_forever_reports_its_url_and_returns_on_signal(sig: signal.Signals) -> None:
    paths = [str(ROOT), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path for path in paths if path)}
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE_SCRIPT],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), process.stderr.read() if process.stderr else ""
        assert models_status(url, KEY_A) == 200
        process.send_signal(sig)
        stdout, stderr = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    assert stdout.strip() == "returned"
    assert "Traceback" not in stderr
