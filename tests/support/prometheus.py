"""A real Prometheus server (Debian's `prometheus` package) for the services tests, and its `promtool`.

    with running_prometheus(tmp_path, ["127.0.0.1:9464"], rule_files=[rules]) as prom:
        series = prom.wait_for("runbook_check_up")  # polls /api/v1/query until a sample comes back
        firing = prom.wait_for_alert("RunbookAuthFailing")

The server scrapes the given loopback targets every second (and evaluates rules every second), keeps
its data in a folder under the test's tmp_path, listens on a free loopback port, and is stopped at
the end of the `with` block whatever happened in it: terminated, then killed after a timeout.
`require_prometheus()` skips the test, with the command that installs the package, where a binary
is missing; `promtool_check_rules(path)` runs `promtool check rules`. `auth_failure_spec(folder)` and
`run_with_an_auth_failure(spec)` give real run results, with a check that fails as class `auth`, to
feed a `RunMetrics` that the server scrapes.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from engine.judge.results import Results

INSTALL = "apt-get install prometheus"
START_TIMEOUT = 30.0  # seconds for /-/ready
STOP_TIMEOUT = 10.0  # seconds between terminate and kill
POLL_INTERVAL = 0.2


@dataclass(frozen=True)
class Binaries:
    prometheus: str
    promtool: str


def require_prometheus() -> Binaries:
    """The paths of `prometheus` and `promtool`; skips the test, loudly, when either is missing."""
    found = {name: shutil.which(name) for name in ("prometheus", "promtool")}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        reason = f"SERVICES TEST NOT RUN: {', '.join(missing)} not found on PATH; install it with `{INSTALL}`"
        warnings.warn(reason, stacklevel=2)
        pytest.skip(reason)
    return Binaries(prometheus=str(found["prometheus"]), promtool=str(found["promtool"]))


def promtool_check_rules(path: Path) -> subprocess.CompletedProcess[str]:
    """`promtool check rules PATH`, its exit code and output."""
    binaries = require_prometheus()
    return subprocess.run([binaries.promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PrometheusServer:
    """A running Prometheus: its base URL and HTTP API, and the log it writes."""

    url: str
    folder: Path
    process: subprocess.Popen[bytes]

    @property
    def log(self) -> str:
        return (self.folder / "prometheus.log").read_text(encoding="utf-8", errors="replace")

    def api(self, path: str, **params: str) -> Any:
        """The `data` of a Prometheus API answer (`/api/v1/<path>`); fails on an error status."""
        answer = httpx.get(f"{self.url}/api/v1/{path}", params=params, timeout=10, trust_env=False)
        body = answer.json()
        assert answer.status_code == 200 and body["status"] == "success", answer.text
        return body["data"]

    def query(self, promql: str) -> list[dict[str, Any]]:
        """The instant vector of a query: [{"metric": {labels}, "value": [time, "text"]}, ...]."""
        data = self.api("query", query=promql)
        assert data["resultType"] == "vector", data
        return list(data["result"])

    def wait_for(
        self,
        promql: str,
        accept: Callable[[list[dict[str, Any]]], bool] = bool,
        timeout: float = 20.0,
    ) -> list[dict[str, Any]]:
        """Poll a query until `accept(result)` (default: any sample) or fail, with the last result and targets."""
        return self._poll(lambda: self.query(promql), accept, timeout, promql)

    def alerts(self) -> list[dict[str, Any]]:
        """Active alerts (pending and firing): [{"labels": {...}, "annotations": {...}, "state": ...}, ...]."""
        return list(self.api("alerts")["alerts"])

    def wait_for_alert(self, name: str, state: str = "firing", timeout: float = 20.0) -> list[dict[str, Any]]:
        """Poll until an alert of this name is in this state; returns those alerts."""

        def matching() -> list[dict[str, Any]]:
            return [a for a in self.alerts() if a["labels"].get("alertname") == name and a["state"] == state]

        return self._poll(matching, bool, timeout, f"alert {name} {state}")

    def wait_for_no_alert(self, name: str, timeout: float = 20.0) -> None:
        """Poll until no alert of this name is pending or firing (it resolved)."""

        def active() -> list[dict[str, Any]]:
            return [a for a in self.alerts() if a["labels"].get("alertname") == name]

        self._poll(active, lambda alerts: not alerts, timeout, f"alert {name} resolved")

    def _poll(
        self,
        ask: Callable[[], list[dict[str, Any]]],
        accept: Callable[[list[dict[str, Any]]], bool],
        timeout: float,
        what: str,
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            result = ask()
            if accept(result):
                return result
            if time.monotonic() > deadline:
                targets = json.dumps(self.api("targets")["activeTargets"], indent=1)
                raise AssertionError(f"{what}: not seen within {timeout}s; last {result!r}\ntargets: {targets}")
            time.sleep(POLL_INTERVAL)


def write_config(folder: Path, targets: Sequence[str], rule_files: Sequence[Path]) -> Path:
    """prometheus.yml: scrape the targets every second, evaluate the rule files every second."""
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(path) for path in rule_files],
        "scrape_configs": [{"job_name": "runbook", "static_configs": [{"targets": list(targets)}]}],
    }
    path = folder / "prometheus.yml"
    path.write_text(json.dumps(config, indent=1), encoding="utf-8")  # JSON is YAML
    return path


@contextmanager
def running_prometheus(
    tmp_path: Path, targets: Sequence[str], rule_files: Sequence[Path] = ()
) -> Iterator[PrometheusServer]:
    """A Prometheus scraping `targets` (host:port on loopback), ready, and stopped on leaving the block."""
    binaries = require_prometheus()
    folder = tmp_path / "prometheus"
    folder.mkdir()
    port = free_port()
    command = [
        binaries.prometheus,
        f"--config.file={write_config(folder, targets, rule_files)}",
        f"--storage.tsdb.path={folder / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    with (folder / "prometheus.log").open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=folder)
    server = PrometheusServer(f"http://127.0.0.1:{port}", folder, process)
    try:
        _wait_ready(server)
        yield server
    finally:
        _stop(process)


def _wait_ready(server: PrometheusServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"prometheus exited with {server.process.returncode}:\n{server.log}")
        try:
            if httpx.get(f"{server.url}/-/ready", timeout=1, trust_env=False).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(POLL_INTERVAL)
    raise AssertionError(f"prometheus not ready within {START_TIMEOUT}s:\n{server.log}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT)


# ---- results to feed a RunMetrics: real runs of the shipped spec on the built-in simulator ---------

SHIPPED_SPEC = Path(__file__).resolve().parents[2] / "specs" / "cometapi" / "chat-completions.yaml"
FAILING_CHECK = "auth-must-pass"  # sends an invalid token, expects a 2xx: fails as class auth


def auth_failure_spec(folder: Path, name: str = "watched") -> Path:
    """A spec extending the shipped one with a check that fails, classified by its `auth` rule
    (page_owner, owner platform-secrets)."""
    path = folder / f"{name}.yaml"
    check = f"  - id: {FAILING_CHECK}\n    request: {{auth: invalid}}\n    expect: {{status: 2xx}}\n"
    path.write_text(f"extends: {SHIPPED_SPEC}\nversion: 1\nname: {name}\nchecks:\n{check}", encoding="utf-8")
    return path


def run_with_an_auth_failure(
    spec: Path, only: Sequence[str] = ("happy-path", "stream-happy-path", FAILING_CHECK)
) -> Results:
    """One real run of `spec` (see auth_failure_spec) on the simulator, no reports written: its Results."""
    from engine import api

    return api.run(spec, out_dir=None, selection=api.Selection(only=tuple(only))).results
