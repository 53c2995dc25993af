"""RunMetrics (engine/monitor/metrics.py) through its seam: real run results in, `/metrics` scraped over
loopback and parsed as Prometheus parses it."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from engine.judge.results import CheckResult, Results
from engine.monitor.metrics import MAX_LABEL_LENGTH, VERDICTS, MetricsServer, RunMetrics, label_value
from support.prometheus import FAILING_CHECK, auth_failure_spec, run_with_an_auth_failure

WATCHED = "watched"  # the spec name of auth_failure_spec
INTERVAL = 60.0
AUTH = {"kind": "check", "rule": "auth", "class": "auth", "action": "page_owner", "owner": "platform-secrets"}


class Sample(NamedTuple):
    name: str
    labels: dict[str, str]
    value: float


class Scrape:
    """One scrape of /metrics, parsed by prometheus_client's own parser."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.samples = [
            Sample(s.name, dict(s.labels), s.value) for f in text_string_to_metric_families(text) for s in f.samples
        ]

    def matching(self, name: str, **labels: str) -> list[Sample]:
        return [s for s in self.samples if s.name == name and labels.items() <= s.labels.items()]

    def value(self, name: str, **labels: str) -> float:
        (found,) = self.matching(name, **labels)
        return found.value

    @property
    def series(self) -> set[tuple[str, tuple[tuple[str, str], ...]]]:
        return {(s.name, tuple(sorted(s.labels.items()))) for s in self.samples}


class Served(NamedTuple):
    metrics: RunMetrics
    server: MetricsServer

    def scrape(self) -> Scrape:
        answer = httpx.get(self.server.url, timeout=5, trust_env=False)
        assert answer.status_code == 200
        return Scrape(answer.text)


@pytest.fixture
def served() -> Iterator[Served]:
    metrics = RunMetrics(WATCHED, INTERVAL)
    with metrics.serve(0) as server:
        yield Served(metrics, server)


@pytest.fixture(scope="module")
def failing_run(tmp_path_factory: pytest.TempPathFactory) -> Results:
    """A real run on the simulator: happy-path and stream-happy-path pass, auth-must-pass fails as auth."""
    return run_with_an_auth_failure(auth_failure_spec(tmp_path_factory.mktemp("watched")))


@pytest.fixture(scope="module")
def full_run(cometapi_run: Any) -> Results:
    """The shipped spec, every check and drill, on the simulator (the session's shared run)."""
    results: Results = cometapi_run.outcome.results
    return results


def with_check(results: Results, check_id: str, **changes: object) -> Results:
    checks = [c.model_copy(update=changes) if c.id == check_id else c for c in results.checks]
    return results.model_copy(update={"checks": checks})


def test_every_check_of_a_passing_run_is_up_with_its_latency_observed(served: Served, full_run: Results) -> None:
    served.metrics.observe(full_run)
    scrape = served.scrape()
    where = {"spec": full_run.spec.name, "target": full_run.target.name}
    for check in full_run.checks:
        assert scrape.value("runbook_check_up", **where, check=check.id) == 1
        assert scrape.value("runbook_check_latency_seconds_count", **where, check=check.id) == 1
    latency = scrape.value("runbook_check_latency_seconds_sum", **where, check="happy-path")
    log = full_run.checks[0].log
    assert log is not None and latency == pytest.approx(log.total_latency_ms / 1000)
    assert scrape.value("runbook_first_token_seconds_count", **where, check="stream-happy-path") == 1
    assert scrape.matching("runbook_first_token_seconds_count", check="happy-path") == []  # not a stream


def test_the_verdict_gauge_is_one_for_the_run_verdict_and_zero_for_the_others(
    served: Served, full_run: Results
) -> None:
    served.metrics.observe(full_run)
    scrape = served.scrape()
    verdict = full_run.summary.verdict
    assert {s.labels["verdict"]: s.value for s in scrape.matching("runbook_verdict")} == {
        v: (1.0 if v == verdict else 0.0) for v in VERDICTS
    }
    assert scrape.value("runbook_runs_total", verdict=verdict) == 1


def test_drills_are_counted_by_status_not_per_drill(served: Served, full_run: Results) -> None:
    served.metrics.observe(full_run)
    scrape = served.scrape()
    assert scrape.value("runbook_drills", status="passed") == len(full_run.drills) > 0
    assert scrape.value("runbook_drills", status="failed") == 0
    assert not [s for s in scrape.matching("runbook_check_up") if s.labels["check"].startswith("drill:")]


def test_a_failing_check_is_down_and_counted_by_its_class_action_and_owner(
    served: Served, failing_run: Results
) -> None:
    served.metrics.observe(failing_run)
    scrape = served.scrape()
    assert scrape.value("runbook_check_up", check=FAILING_CHECK) == 0
    assert scrape.value("runbook_check_up", check="happy-path") == 1
    assert scrape.value("runbook_failures_total", spec="watched", target="sim", **AUTH) == 1
    assert scrape.value("runbook_failing_items", spec="watched", target="sim", **AUTH) == 1
    others = [s for s in scrape.matching("runbook_failures_total") if s.labels["rule"] != "auth" and s.value]
    assert others == []
    assert scrape.value("runbook_verdict", verdict="not_ready") == 1


def test_every_rule_has_failure_series_at_zero_from_the_first_run(served: Served, full_run: Results) -> None:
    served.metrics.observe(full_run)
    scrape = served.scrape()
    rules = {s.labels["rule"] for s in scrape.matching("runbook_failures_total", kind="check")}
    assert rules == {row.id for row in full_run.classification} | {"none"}
    assert all(s.value == 0 for s in scrape.matching("runbook_failures_total"))


def test_a_check_that_could_not_run_is_not_up(served: Served, failing_run: Results) -> None:
    errored = with_check(failing_run, "happy-path", status="error", reason="no attempt", observed=None, log=None,
                         class_=None, action=None, owner=None, rule=None)  # fmt: skip
    skipped = with_check(errored, "stream-happy-path", status="skipped", reason="limit reached", observed=None)
    served.metrics.observe(skipped)
    scrape = served.scrape()
    assert scrape.value("runbook_check_up", check="happy-path") == 0
    assert scrape.value("runbook_check_up", check="stream-happy-path") == 0
    unclassified = {"rule": "none", "class": "none", "action": "none", "owner": "unowned"}
    assert scrape.value("runbook_failures_total", kind="check", **unclassified) == 1  # the error, not the skip
    assert scrape.matching("runbook_check_latency_seconds_count", check="happy-path") == []


def test_a_fixed_check_stops_failing_but_its_failure_stays_counted(served: Served, failing_run: Results) -> None:
    served.metrics.observe(failing_run)
    fixed = with_check(failing_run, FAILING_CHECK, status="passed", mismatches=[])
    served.metrics.observe(fixed)
    scrape = served.scrape()
    assert scrape.value("runbook_check_up", check=FAILING_CHECK) == 1
    assert scrape.value("runbook_failing_items", **AUTH) == 0
    assert scrape.value("runbook_failures_total", **AUTH) == 1


def test_a_check_the_run_did_not_select_keeps_its_last_state(served: Served, failing_run: Results) -> None:
    served.metrics.observe(failing_run)
    served.metrics.observe(with_check(failing_run, FAILING_CHECK, status="skipped", selected=False, observed=None))
    scrape = served.scrape()
    assert scrape.value("runbook_check_up", check=FAILING_CHECK) == 0
    assert scrape.value("runbook_failing_items", **AUTH) == 1  # still failing as far as anyone knows
    assert scrape.value("runbook_failures_total", **AUTH) == 1  # counted once: it ran once


def test_a_check_that_left_the_spec_loses_its_series(served: Served, failing_run: Results) -> None:
    per_check = ("runbook_check_up", "runbook_check_latency_seconds_count", "runbook_first_token_seconds_count")
    served.metrics.observe(failing_run)
    before = served.scrape()
    assert all(before.matching(name, check="stream-happy-path") for name in per_check)
    served.metrics.observe(failing_run.model_copy(update={"checks": [failing_run.checks[0]]}))
    after = served.scrape()
    for gone in failing_run.checks[1:]:
        assert [name for name in per_check if after.matching(name, check=gone.id)] == []
    assert all(after.matching(name, check=failing_run.checks[0].id) for name in per_check[:2])


def test_repeated_runs_add_no_series(served: Served, failing_run: Results) -> None:
    served.metrics.observe(failing_run)
    once = served.scrape()
    for _ in range(9):
        served.metrics.observe(failing_run)
    ten = served.scrape()
    assert ten.series == once.series
    assert ten.value("runbook_runs_total", verdict="not_ready") == 10
    assert ten.value("runbook_failures_total", **AUTH) == 10
    assert ten.value("runbook_check_latency_seconds_count", check="happy-path") == 10


def test_series_grow_with_the_spec_not_with_the_checks_answers(served: Served, full_run: Results) -> None:
    served.metrics.observe(full_run)
    up = served.scrape().matching("runbook_check_up")
    assert len(up) == len(full_run.checks)
    failures = served.scrape().matching("runbook_failures_total")
    assert len(failures) == 2 * (len(full_run.classification) + 1)  # check and drill, every rule and "none"


def test_no_request_id_or_url_reaches_the_exposition(served: Served, full_run: Results) -> None:
    served.metrics.observe(full_run)
    text = served.scrape().text
    seen = [c.observed for c in (*full_run.checks, *full_run.drills) if c.observed is not None]
    ids = {i for o in seen for i in (o.request_id, o.client_request_id) if i is not None}
    assert ids and not [i for i in ids if i in text]
    assert full_run.target.base_url not in text


HOSTILE_ID = "evil\n\x1b[31mred\x00\u202e" + "x" * 500


def test_hostile_label_text_is_cleaned_and_cut(served: Served, failing_run: Results) -> None:
    hostile = with_check(failing_run, FAILING_CHECK, id=HOSTILE_ID, owner="ops\r\nteam\u200b" + "y" * 300)
    served.metrics.observe(hostile)
    scrape = served.scrape()
    values = {value for s in scrape.samples for value in s.labels.values()}
    assert all(len(v) <= MAX_LABEL_LENGTH for v in values)
    assert not [v for v in values if any(unicodedata.category(c)[0] in "CZ" and c != " " for c in v)]
    (down,) = [s for s in scrape.matching("runbook_check_up") if s.labels["check"].startswith("evil")]
    assert down.labels["check"] == ("evil[31mred" + "x" * 500)[:MAX_LABEL_LENGTH]
    assert (
        scrape.value(
            "runbook_failures_total", kind="check", rule="auth", owner=("opsteam" + "y" * 300)[:MAX_LABEL_LENGTH]
        )
        == 1
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [("auth", "auth"), ("", "none"), (None, "none"), ("\x00\x07", "none"), ("a\tb\nc\u2028d", "abcd"), ("é", "é")],
)
def test_label_value(text: str | None, expected: str) -> None:
    assert label_value(text) == expected


def test_watch_health_is_exposed_by_spec_and_unknown_times_are_nan(served: Served) -> None:
    scrape = served.scrape()
    assert math.isnan(scrape.value("runbook_watch_last_run_timestamp_seconds", spec=WATCHED))
    assert scrape.value("runbook_watch_interval_seconds", spec=WATCHED) == INTERVAL
    served.metrics.watch_health(1_700_000_000.5, None, 3)
    scrape = served.scrape()
    assert scrape.value("runbook_watch_last_run_timestamp_seconds", spec=WATCHED) == 1_700_000_000.5
    assert math.isnan(scrape.value("runbook_watch_next_run_timestamp_seconds", spec=WATCHED))
    assert scrape.value("runbook_watch_failures_in_a_row", spec=WATCHED) == 3
    watch_series = [s for s in scrape.samples if s.name.startswith("runbook_watch_")]
    assert watch_series and {s.labels["spec"] for s in watch_series} == {WATCHED}


def test_an_interval_not_given_is_nan_and_a_hostile_spec_name_is_cleaned() -> None:
    metrics = RunMetrics("bad\x1b[31mname" + "x" * 200)
    sample = metrics.registry.get_sample_value
    spec = "bad[31mname" + "x" * (MAX_LABEL_LENGTH - len("bad[31mname"))
    assert math.isnan(sample("runbook_watch_interval_seconds", {"spec": spec}) or 0.0)
    assert sample("runbook_watch_failures_in_a_row", {"spec": spec}) == 0


def test_skipped_runs_are_counted_by_a_known_reason(served: Served) -> None:
    served.metrics.run_skipped("overlap")
    served.metrics.run_skipped("overlap")
    scrape = served.scrape()
    assert scrape.value("runbook_watch_skipped_total", spec=WATCHED, reason="overlap") == 2
    assert scrape.value("runbook_watch_skipped_total", spec=WATCHED, reason="budget") == 0
    with pytest.raises(ValueError, match="unknown reason 'request-42'"):
        served.metrics.run_skipped("request-42")


def test_serve_binds_loopback_on_a_free_port_and_stops() -> None:
    server = RunMetrics(WATCHED).serve(0)
    try:
        assert server.host == "127.0.0.1" and server.port > 0
        assert httpx.get(server.url, timeout=5, trust_env=False).status_code == 200
    finally:
        server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url, timeout=2, trust_env=False)


def test_each_watch_has_its_own_registry(failing_run: Results) -> None:
    first, second = RunMetrics(WATCHED), RunMetrics(WATCHED)
    first.observe(failing_run)
    assert first.registry.get_sample_value("runbook_runs_total", _labels(failing_run, "not_ready")) == 1
    assert second.registry.get_sample_value("runbook_runs_total", _labels(failing_run, "not_ready")) is None
    assert not [name for name in REGISTRY._names_to_collectors if name.startswith("runbook_")]


def _labels(results: Results, verdict: str) -> dict[str, str]:
    return {"spec": results.spec.name, "target": results.target.name, "verdict": verdict}


def test_check_results_used_here_are_real(failing_run: Results) -> None:
    """The runs these tests read come from the engine: the failing check failed on the simulator."""
    (check,) = [c for c in failing_run.checks if c.id == FAILING_CHECK]
    assert isinstance(check, CheckResult) and check.observed is not None
    assert (check.status, check.observed.status, check.rule) == ("failed", 401, "auth")
    assert Path(failing_run.spec.path).name == "watched.yaml"
