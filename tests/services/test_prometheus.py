"""A real Prometheus (Debian's `prometheus` package) scrapes runbook's metrics and evaluates the alert
rules runbook writes; `promtool` checks those rules. Skipped, saying so, where the package is missing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from engine import api
from engine.judge.results import Results
from engine.monitor.alerts import alert_rules
from engine.monitor.metrics import RunMetrics
from support.prometheus import (
    FAILING_CHECK,
    PrometheusServer,
    auth_failure_spec,
    promtool_check_rules,
    require_prometheus,
    run_with_an_auth_failure,
    running_prometheus,
)

pytestmark = pytest.mark.services

REPO_ROOT = Path(__file__).resolve().parents[2]
SHIPPED = [REPO_ROOT / "specs" / "cometapi" / "chat-completions.yaml", *sorted((REPO_ROOT / "specs" / "providers").glob("*.yaml"))]  # fmt: skip


class Watched(NamedTuple):
    prometheus: PrometheusServer
    results: Results  # what the metrics were fed: a real run with a failing check
    scraped: str  # the job's instance label: host:port of runbook's /metrics


@pytest.fixture(scope="module")
def watched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Watched]:
    """RunMetrics fed one real run, served on loopback, scraped by a Prometheus that evaluates the
    spec's alert rules."""
    require_prometheus()
    folder = tmp_path_factory.mktemp("watched")
    spec = auth_failure_spec(folder)
    rules = folder / "alerts.yml"
    rules.write_text(alert_rules(api.load(spec).spec), encoding="utf-8")
    metrics = RunMetrics("watched", 5.0)
    results = run_with_an_auth_failure(spec)
    metrics.observe(results)
    with metrics.serve(0) as served:
        instance = f"127.0.0.1:{served.port}"
        with running_prometheus(folder, [instance], rule_files=[rules]) as prometheus:
            yield Watched(prometheus, results, instance)


def by_check(series: list[dict[str, Any]]) -> dict[str, float]:
    return {s["metric"]["check"]: float(s["value"][1]) for s in series}


def test_prometheus_scrapes_every_check_up_or_down(watched: Watched) -> None:
    checks = [c.id for c in watched.results.checks if c.selected]
    series = watched.prometheus.wait_for('runbook_check_up{spec="watched"}', lambda r: len(r) == len(checks))
    assert by_check(series) == {"happy-path": 1.0, "stream-happy-path": 1.0, FAILING_CHECK: 0.0}
    labels = series[0]["metric"]
    assert {k: labels[k] for k in ("job", "instance", "spec", "target")} == {
        "job": "runbook",
        "instance": watched.scraped,
        "spec": "watched",
        "target": "sim",
    }


def test_prometheus_sees_the_failure_by_class_action_and_owner(watched: Watched) -> None:
    (series,) = watched.prometheus.wait_for('runbook_failures_total{kind="check"} > 0')
    labels = {k: series["metric"][k] for k in ("rule", "class", "action", "owner")}
    assert labels == {"rule": "auth", "class": "auth", "action": "page_owner", "owner": "platform-secrets"}
    assert float(series["value"][1]) == 1


def test_prometheus_reads_the_histograms_and_the_verdict(watched: Watched) -> None:
    counts = watched.prometheus.wait_for("runbook_check_latency_seconds_count", lambda r: len(r) == 3)
    assert set(by_check(counts).values()) == {1.0}
    (first_token,) = watched.prometheus.wait_for("runbook_first_token_seconds_count")
    assert first_token["metric"]["check"] == "stream-happy-path"
    (verdict,) = watched.prometheus.wait_for("runbook_verdict == 1")
    assert verdict["metric"]["verdict"] == watched.results.summary.verdict == "not_ready"


def test_the_generated_alert_fires_labelled_for_its_owner(watched: Watched) -> None:
    (alert,) = watched.prometheus.wait_for_alert("RunbookAuthFailing")
    labels = {k: alert["labels"][k] for k in ("owner", "action", "class", "rule", "severity", "target")}
    assert labels == {
        "owner": "platform-secrets",
        "action": "page_owner",
        "class": "auth",
        "rule": "auth",
        "severity": "critical",
        "target": "sim",
    }
    assert "on target sim " in alert["annotations"]["summary"]
    assert "matched 1 failing check(s)" in alert["annotations"]["description"]
    others = [
        a["labels"]["alertname"]
        for a in watched.prometheus.alerts()
        if a["labels"]["alertname"] != "RunbookAuthFailing"
    ]
    assert others == []  # every other rule's series is there, at 0


def test_a_watch_overdue_or_gone_makes_its_stalled_alert_pending(tmp_path: Path) -> None:
    """Three specs' rules: one watch on time, one whose next run is long past, one with no watch at all.
    RunbookWatchStalled waits 5m before it fires, so within the test it is pending for exactly two."""
    require_prometheus()
    base = api.load(SHIPPED[0]).spec
    rule_files = []
    for name in ("on-time", "overdue", "gone"):
        rule_files.append(tmp_path / f"{name}.yml")
        rule_files[-1].write_text(alert_rules(base.model_copy(update={"name": name})), encoding="utf-8")
    now = time.time()
    on_time, overdue = RunMetrics("on-time", 5.0), RunMetrics("overdue", 5.0)
    on_time.watch_health(now - 1, now + 600, 0)
    overdue.watch_health(now - 65, now - 60, 0)  # 60 s past its next run: over 2 intervals of 5 s
    with on_time.serve(0) as first, overdue.serve(0) as second:
        targets = [f"127.0.0.1:{first.port}", f"127.0.0.1:{second.port}"]
        with running_prometheus(tmp_path, targets, rule_files=rule_files) as prometheus:
            prometheus.wait_for('runbook_watch_next_run_timestamp_seconds{spec="on-time"}')
            # Before its first scrape every watch is absent; once scraped, on-time leaves the pending set.
            pending = prometheus.wait_for(
                'ALERTS{alertname="RunbookWatchStalled",alertstate="pending"}',
                lambda found: sorted(alert["metric"]["spec"] for alert in found) == ["gone", "overdue"],
            )
            assert {alert["metric"]["class"] for alert in pending} == {"watch_stalled"}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_promtool_accepts_the_alert_rules_of_every_shipped_spec(path: Path, tmp_path: Path) -> None:
    rules = tmp_path / "alerts.yml"
    rules.write_text(alert_rules(api.load(path).spec), encoding="utf-8")
    checked = promtool_check_rules(rules)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout


def test_promtool_accepts_rules_from_hostile_notes_and_owners(tmp_path: Path) -> None:
    spec = api.load(SHIPPED[0]).spec
    hostile = {"notes": 'Call {{ .Owner }} "now" \\ }} {{ $labels.x \x07', "owner": 'sec"ops {{x}}'}
    rules = [r.model_copy(update=hostile) if r.id == "auth" else r for r in spec.classification]
    path = tmp_path / "alerts.yml"
    path.write_text(alert_rules(spec.model_copy(update={"classification": rules})), encoding="utf-8")
    checked = promtool_check_rules(path)
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize(
    ("breakage", "said"),
    [
        (lambda text: text.replace("} > 0", "} > > 0", 1), "parse error"),
        (lambda text: text.replace("{{ $labels.target }}", "{{ $labels.target ", 1), "template"),
    ],
    ids=["bad-expression", "bad-template"],
)
def test_promtool_rejects_a_broken_rule_file(breakage: Any, said: str, tmp_path: Path) -> None:
    path = tmp_path / "alerts.yml"
    path.write_text(breakage(alert_rules(api.load(SHIPPED[0]).spec)), encoding="utf-8")
    checked = promtool_check_rules(path)
    assert checked.returncode != 0
    assert said in (checked.stdout + checked.stderr).lower()
