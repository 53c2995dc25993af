"""A real OpenAI-compatible server from PyPI (tests/peers/), started on a free loopback port and
stopped afterwards: `with serving(name, command_for_port, key, log) as base_url: ...`."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

START_LIMIT = 120  # seconds


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(name: str, command: Callable[[int], list[str]], key: str, log: Path, **popen: object) -> Iterator[str]:
    """Start `command(port)`, wait until GET /v1/models answers with `key`, yield the base URL; its
    output goes to `log`, whose end is shown when it exits early."""
    port = free_port()
    with log.open("wb") as sink:
        process = subprocess.Popen(command(port), stdout=sink, stderr=subprocess.STDOUT, **popen)  # type: ignore[call-overload]
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(name, process, base_url, key, log)
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_until_up(name: str, process: subprocess.Popen[bytes], base_url: str, key: str, log: Path) -> None:
    deadline = time.monotonic() + START_LIMIT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the {name} exited ({process.returncode}): {log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"{base_url}/v1/models", headers={"authorization": f"Bearer {key}"}).is_success:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    pytest.fail(f"the {name} did not start within {START_LIMIT} s")
