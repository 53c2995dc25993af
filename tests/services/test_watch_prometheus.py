"""The issue's end to end: `runbook watch` against the simulator, scraped by a real Prometheus that
loads the rules `runbook alerts` wrote; a failing check becomes a failing series and a firing alert
labelled with the owner the table names. Skips loudly without Debian's prometheus package."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from support.prometheus import FAILING_CHECK, auth_failure_spec, free_port, require_prometheus, running_prometheus

pytestmark = pytest.mark.services


def test_prometheus_scrapes_a_watch_and_its_alert_fires_for_the_owner(tmp_path):
    require_prometheus()
    spec = auth_failure_spec(tmp_path)
    rules = tmp_path / "rules.yml"
    made = subprocess.run([sys.executable, "-m", "engine", "alerts", str(spec), "--out", str(rules)], cwd=tmp_path)
    assert made.returncode == 0
    port = free_port()
    watch = subprocess.Popen(
        [sys.executable, "-m", "engine", "watch", str(spec), "--only", f"happy-path,{FAILING_CHECK}", "--every", "2s",
         "--metrics-port", str(port), "--history", f"sqlite:///{tmp_path / 'h.sqlite'}", "--out", "out"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        with running_prometheus(tmp_path, [f"127.0.0.1:{port}"], rule_files=[rules]) as prometheus:
            up = prometheus.wait_for('runbook_check_up{spec="watched"}', accept=lambda series: len(series) >= 2)
            values = {series["metric"]["check"]: float(series["value"][1]) for series in up}
            assert values["happy-path"] == 1 and values[FAILING_CHECK] == 0
            firing = prometheus.wait_for_alert("RunbookAuthFailing")
            labels = firing[0]["labels"]
            assert (labels["owner"], labels["action"], labels["class"]) == ("platform-secrets", "page_owner", "auth")
            health = prometheus.wait_for("runbook_watch_failures_in_a_row", accept=lambda series: bool(series))
            assert float(health[0]["value"][1]) >= 1
    finally:
        watch.send_signal(signal.SIGTERM)
        output = watch.communicate(timeout=60)[0]
    assert watch.returncode == 0, output
    assert "run 1: NOT READY" in output and "SIGTERM; ending after the current run" in output
