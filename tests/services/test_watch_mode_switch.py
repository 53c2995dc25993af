"""The issue's "done when", as an operator lives it: `runbook watch` of the shipped CometAPI spec
against an external `runbook sim`, scraped by a real Prometheus that loads `runbook alerts`' rules.
The simulator is switched to failing (`invalid_key`: a revoked key) under the running watch, and back.
The series go down and the owner's alert fires with the labels the table names; after the switch
back they recover and the alert resolves; `runbook history` then shows the failing runs by owner.
Skips loudly without Debian's prometheus package."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from support.prometheus import SHIPPED_SPEC, free_port, require_prometheus, running_prometheus

pytestmark = pytest.mark.services

KEY = "sk-watch-switch-5e0b"
HAPPY = 'runbook_check_up{spec="cometapi-chat-completions",check="happy-path"}'


@contextmanager
def external_sim() -> Iterator[str]:
    """`runbook sim` in a process of its own; its base URL (without /v1)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "engine", "sim", "--port", "0", "--key", KEY],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        found = re.search(r"listening on (http://127\.0\.0\.1:\d+)", banner)
        assert found, f"unexpected banner: {banner!r}"
        yield found.group(1)
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=10)


def switch(sim_url: str, mode: str) -> None:
    answer = httpx.put(f"{sim_url}/_runbook/mode", json={"mode": mode}, headers={"Authorization": f"Bearer {KEY}"})
    assert answer.status_code == 200 and answer.json()["mode"] == mode, answer.text


def only_value(series: list[dict[str, object]]) -> float:
    (one,) = series
    value = one["value"]
    assert isinstance(value, list)
    return float(value[1])


def test_a_simulator_switched_to_failing_under_one_watch_fails_its_series_and_pages_the_owner(tmp_path: Path) -> None:
    require_prometheus()
    rules = tmp_path / "rules.yml"
    made = subprocess.run([sys.executable, "-m", "engine", "alerts", str(SHIPPED_SPEC), "--out", str(rules)])
    assert made.returncode == 0
    history = f"sqlite:///{tmp_path / 'history.sqlite'}"
    port = free_port()
    with external_sim() as sim_url:
        environ = {**os.environ, "COMETAPI_BASE_URL": sim_url, "COMETAPI_API_KEY": KEY}
        watch = subprocess.Popen(
            [sys.executable, "-m", "engine", "watch", str(SHIPPED_SPEC), "--target", "live", "--schedule", "continuous",
             "--every", "1s", "--metrics-port", str(port), "--history", history, "--out", str(tmp_path / "out")],
            env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        try:
            with running_prometheus(tmp_path, [f"127.0.0.1:{port}"], rule_files=[rules]) as prometheus:
                assert only_value(prometheus.wait_for(HAPPY)) == 1
                assert not [a for a in prometheus.alerts() if a["labels"]["alertname"] == "RunbookAuthFailing"]

                switch(sim_url, "invalid_key")
                prometheus.wait_for(HAPPY, accept=lambda series: bool(series) and only_value(series) == 0)
                firing = prometheus.wait_for_alert("RunbookAuthFailing")
                labels = firing[0]["labels"]
                assert (labels["owner"], labels["action"], labels["class"]) == (
                    "platform-secrets",
                    "page_owner",
                    "auth",
                )
                assert (labels["spec"], labels["target"], labels["rule"]) == (
                    "cometapi-chat-completions",
                    "live",
                    "auth",
                )
                failures = prometheus.query(
                    'runbook_failures_total{kind="check",class="auth",owner="platform-secrets"}'
                )
                assert failures and float(failures[0]["value"][1]) >= 1

                switch(sim_url, "normal")
                prometheus.wait_for(HAPPY, accept=lambda series: bool(series) and only_value(series) == 1)
                prometheus.wait_for_no_alert("RunbookAuthFailing")
        finally:
            watch.send_signal(signal.SIGTERM)
            output = watch.communicate(timeout=60)[0]
    assert watch.returncode == 0, output
    lines = [line for line in output.splitlines() if line.startswith("run ")]
    assert any("checks 0 passed, 2 failed" in line for line in lines), output
    assert "checks 2 passed, 0 failed" in lines[-1], output

    trend = subprocess.run(
        [sys.executable, "-m", "engine", "history", str(SHIPPED_SPEC), "--history", history, "--since", "1h"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert trend.returncode == 0, trend.stderr
    assert "auth" in trend.stdout and "platform-secrets" in trend.stdout, trend.stdout
