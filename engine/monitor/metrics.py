"""Prometheus metrics of a watch: what each run of a spec found, and whether the watch itself keeps up.

`RunMetrics` owns its own `CollectorRegistry` (never prometheus_client's global one). The watch loop
calls `observe(results)` after every run, `watch_health(...)` after every tick and `run_skipped(reason)`
when a run could not start; `serve(port)` exposes `/metrics` on loopback until `.stop()`.

Metrics (every name starts with `runbook_`):

| metric | type | labels | meaning |
| --- | --- | --- | --- |
| `runbook_check_up` | gauge | spec, target, check | 1: the check passed in its latest run; 0: it failed, erred or was skipped |
| `runbook_check_latency_seconds` | histogram | spec, target, check | time to the whole answer, for every check that got an HTTP status |
| `runbook_first_token_seconds` | histogram | spec, target, check | time to the first token, for streamed checks that saw one |
| `runbook_failures_total` | counter | spec, target, kind, rule, class, action, owner | failed or erred items, one per item per run |
| `runbook_failing_items` | gauge | spec, target, kind, rule, class, action, owner | items failing in their latest run; the alerts of `alert_rules` read it |
| `runbook_verdict` | gauge | spec, target, verdict | 1 for the latest run's verdict, 0 for the others |
| `runbook_runs_total` | counter | spec, target, verdict | runs finished, by verdict |
| `runbook_drills` | gauge | spec, target, status | drills of the latest run by status |
| `runbook_watch_last_run_timestamp_seconds` | gauge | spec | when the latest run finished (Unix time; NaN: none yet) |
| `runbook_watch_next_run_timestamp_seconds` | gauge | spec | when the next run is due (Unix time; NaN: none scheduled) |
| `runbook_watch_interval_seconds` | gauge | spec | the watch's interval between runs, before jitter (NaN: not given) |
| `runbook_watch_failures_in_a_row` | gauge | spec | runs in a row that could not complete |
| `runbook_watch_skipped_total` | counter | spec, reason | starts skipped: `overlap` (the previous run was still going), `budget` (the hourly caps left no room) |

Labels and the values they take:

- `spec`, `target`: the spec's name and the target's name in the spec.
- `check`: a check's id; drills are counted by `runbook_drills`, not per id.
- `kind`: `check` (sent to the target) or `drill` (the policy under scripted faults, on the fault simulator).
- `rule`, `class`, `action`, `owner`: the classification rule that matched the item's last attempt, its
  class, action and owner. An item no rule classified (it erred before any attempt) has `none` for
  the first three; a rule without an owner has owner `unowned`.
- `verdict`: ready, not_ready, not_verified, partial, interrupted. `status`: passed, failed, error, skipped.

Cardinality is bounded by the spec: label values come only from the ids, classes, actions and
owners the spec defines and from the fixed sets above, never from request ids, URLs or model output.
Every value has control and format characters removed and is cut to 80 characters. A check that the
latest run did not select (`--schedule`, `--only`) keeps its last value; a check that left the spec
loses its `runbook_check_up`, latency and first-token series. Failure series of every rule are created
at 0 on the first run, so the first failure is already an increase. The watch's own series carry the
`spec` label of the spec it watches (`RunMetrics(spec, interval)`), so many watches scraped by one
Prometheus stay apart, and the stalled-watch alert of `alert_rules` can compare a watch's next run
with its interval.
"""

from __future__ import annotations

import math
import socket
import threading
import unicodedata
from collections import Counter as Tally
from collections.abc import Iterable, Sequence
from socketserver import ThreadingMixIn
from typing import NamedTuple, get_args
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, make_wsgi_app

from engine.judge.results import CheckResult, CheckStatus, Results, RuleRow, Verdict

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0)  # seconds, for LLM calls
MAX_LABEL_LENGTH = 80  # a spec's ids are at most 80 characters (engine.spec.values.Slug)
VERDICTS: tuple[str, ...] = get_args(Verdict)
STATUSES: tuple[str, ...] = get_args(CheckStatus)
SKIP_REASONS = ("overlap", "budget")
FAILING = ("failed", "error")
NONE = "none"
UNOWNED = "unowned"
KINDS = ("check", "drill")

FAILURE_LABELS = ("spec", "target", "kind", "rule", "class", "action", "owner")
FAILING_ITEMS = "runbook_failing_items"
LAST_RUN = "runbook_watch_last_run_timestamp_seconds"
NEXT_RUN = "runbook_watch_next_run_timestamp_seconds"
INTERVAL = "runbook_watch_interval_seconds"

_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def label_value(text: str | None, empty: str = NONE) -> str:
    """A label value safe to expose: no control or format characters, at most MAX_LABEL_LENGTH long."""
    kept = "".join(c for c in text or "" if unicodedata.category(c) not in _UNSAFE_CATEGORIES).strip()
    return kept[:MAX_LABEL_LENGTH] or empty


class RuleKey(NamedTuple):
    """The failure labels one classification rule gives: rule, class, action, owner (all cleaned)."""

    rule: str
    class_: str
    action: str
    owner: str


NO_RULE = RuleKey(NONE, NONE, NONE, UNOWNED)


def rule_key(rule: str | None, class_: str | None, action: str | None, owner: str | None) -> RuleKey:
    if rule is None and class_ is None:
        return NO_RULE
    return RuleKey(label_value(rule), label_value(class_), label_value(action), label_value(owner, UNOWNED))


def _key_of(item: CheckResult) -> RuleKey:
    return rule_key(item.rule, item.class_, item.action, item.owner)


def _key_of_row(row: RuleRow) -> RuleKey:
    return rule_key(row.id, row.class_, row.action, row.owner)


def _latency_seconds(item: CheckResult) -> float | None:
    """The time to the whole answer, when the check got one (a status): the log's, else the observation's."""
    if item.observed is None or item.observed.status is None:
        return None
    total = item.log.total_latency_ms if item.log is not None else item.observed.elapsed_ms
    return total / 1000


def _first_token_seconds(item: CheckResult) -> float | None:
    stream = item.observed.stream if item.observed is not None else None
    if stream is not None and stream.first_token_ms is not None:
        return stream.first_token_ms / 1000
    if item.log is not None and item.log.first_token_latency_ms is not None:
        return item.log.first_token_latency_ms / 1000
    return None


def _unknown_as_nan(value: float | None) -> float:
    return math.nan if value is None else value


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _ThreadingServer6(_ThreadingServer):
    address_family = socket.AF_INET6


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Scrapes are not logged to stderr."""


STOP_POLL_SECONDS = 0.05  # how soon .stop() returns: the serving loop's poll interval


class MetricsServer:
    """A `/metrics` endpoint on a daemon thread: `.port` is the bound port, `.stop()` ends it."""

    def __init__(self, registry: CollectorRegistry, port: int, host: str) -> None:
        server_class = _ThreadingServer6 if ":" in host else _ThreadingServer
        self._server = make_server(host, port, make_wsgi_app(registry), server_class, _QuietHandler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(STOP_POLL_SECONDS,), name="runbook-metrics", daemon=True
        )
        self._thread.start()
        self.host = host
        self.port: int = self._server.server_port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class RunMetrics:
    """The metrics of one watch, in a registry of their own (see the module docstring)."""

    def __init__(self, spec: str, interval_seconds: float | None = None) -> None:
        self.registry = CollectorRegistry()
        self.spec = label_value(spec)
        item, failure = ("spec", "target", "check"), FAILURE_LABELS
        self.check_up = self._gauge("runbook_check_up", "1: the check passed in its latest run; 0: it did not", item)
        self.latency = self._histogram("runbook_check_latency_seconds", "Time to the whole answer of a check", item)
        self.first_token = self._histogram("runbook_first_token_seconds", "Time to the first token of a stream", item)
        self.failures = Counter("runbook_failures", "Failed or erred items", failure, registry=self.registry)
        self.failing = self._gauge(FAILING_ITEMS, "Items failing in their latest run, by rule", failure)
        self.verdict = self._gauge("runbook_verdict", "1 for the latest run's verdict", ("spec", "target", "verdict"))
        self.runs = Counter("runbook_runs", "Runs finished", ("spec", "target", "verdict"), registry=self.registry)
        self.drills = self._gauge("runbook_drills", "Drills of the latest run by status", ("spec", "target", "status"))
        watch = ("spec",)
        self.last_run = self._gauge(LAST_RUN, "When the latest run finished", watch)
        self.next_run = self._gauge(NEXT_RUN, "When the next run is due", watch)
        self.interval = self._gauge(INTERVAL, "The watch's interval between runs, before jitter", watch)
        self.in_a_row = self._gauge("runbook_watch_failures_in_a_row", "Runs in a row that could not complete", watch)
        self.skipped = Counter("runbook_watch_skipped", "Runs not started", ("spec", "reason"), registry=self.registry)
        for reason in SKIP_REASONS:
            self.skipped.labels(self.spec, reason)
        self.interval.labels(self.spec).set(_unknown_as_nan(interval_seconds))
        self.watch_health(None, None, 0)
        self._checks: dict[tuple[str, str], set[str]] = {}  # (spec, target) -> checks with an up series
        self._failing: dict[tuple[str, str], dict[tuple[str, str], RuleKey | None]] = {}  # -> (kind, id) -> key
        self._keys: dict[tuple[str, str], set[tuple[str, RuleKey]]] = {}  # -> every (kind, key) with a series

    def _gauge(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Gauge:
        return Gauge(name, documentation, labels, registry=self.registry)

    def _histogram(self, name: str, documentation: str, labels: Sequence[str]) -> Histogram:
        return Histogram(name, documentation, labels, buckets=LATENCY_BUCKETS, registry=self.registry)

    def observe(self, results: Results) -> None:
        """Record one finished run."""
        where = (label_value(results.spec.name), label_value(results.target.name))
        self._observe_verdict(where, results.summary.verdict)
        self._observe_checks(where, results.checks)
        self._observe_drills(where, results.drills)
        self._observe_failures(where, results)

    def watch_health(self, last_run_unix: float | None, next_run_unix: float | None, failures_in_a_row: int) -> None:
        """The watch's own state: None for a time not known (no run yet, none scheduled) is exposed as NaN."""
        self.last_run.labels(self.spec).set(_unknown_as_nan(last_run_unix))
        self.next_run.labels(self.spec).set(_unknown_as_nan(next_run_unix))
        self.in_a_row.labels(self.spec).set(failures_in_a_row)

    def run_skipped(self, reason: str) -> None:
        """A run that did not start; `reason` is one of SKIP_REASONS."""
        if reason not in SKIP_REASONS:
            raise ValueError(f"unknown reason {reason!r} for a skipped run: one of {', '.join(SKIP_REASONS)}")
        self.skipped.labels(self.spec, reason).inc()

    def serve(self, port: int, host: str = "127.0.0.1") -> MetricsServer:
        """Serve `/metrics` on host:port (port 0: any free port) on a daemon thread until `.stop()`."""
        return MetricsServer(self.registry, port, host)

    def _observe_verdict(self, where: tuple[str, str], verdict: str) -> None:
        for each in VERDICTS:
            self.runs.labels(*where, each)
            self.verdict.labels(*where, each).set(1 if each == verdict else 0)
        self.runs.labels(*where, label_value(verdict)).inc()

    def _observe_checks(self, where: tuple[str, str], checks: Sequence[CheckResult]) -> None:
        seen = {label_value(check.id) for check in checks}
        for gone in self._checks.get(where, set()) - seen:
            self._forget_check((*where, gone))
        self._checks[where] = seen
        for check in checks:
            if check.selected:
                self._observe_check((*where, label_value(check.id)), check)

    def _forget_check(self, labels: tuple[str, str, str]) -> None:
        """Remove the series of a check that left the spec (removing one it never had is a no-op)."""
        for metric in (self.check_up, self.latency, self.first_token):
            metric.remove(*labels)

    def _observe_check(self, labels: tuple[str, str, str], check: CheckResult) -> None:
        self.check_up.labels(*labels).set(1 if check.status == "passed" else 0)
        latency, first_token = _latency_seconds(check), _first_token_seconds(check)
        if latency is not None:
            self.latency.labels(*labels).observe(latency)
        if first_token is not None:
            self.first_token.labels(*labels).observe(first_token)

    def _observe_drills(self, where: tuple[str, str], drills: Sequence[CheckResult]) -> None:
        counts: Tally[str] = Tally(drill.status for drill in drills if drill.selected)
        for status in STATUSES:
            self.drills.labels(*where, status).set(counts[status])

    def _observe_failures(self, where: tuple[str, str], results: Results) -> None:
        self._create_failure_series(where, (_key_of_row(row) for row in results.classification))
        state = self._failing.setdefault(where, {})
        items = [("check", item) for item in results.checks] + [("drill", item) for item in results.drills]
        present = {(kind, item.id) for kind, item in items}
        for gone in set(state) - present:
            del state[gone]
        for kind, item in items:
            if item.selected:
                state[(kind, item.id)] = self._count_failure(where, kind, item)
        self._set_failing(where, state)

    def _create_failure_series(self, where: tuple[str, str], keys: Iterable[RuleKey]) -> None:
        known = self._keys.setdefault(where, set())
        for key in (*keys, NO_RULE):
            for kind in KINDS:
                if (kind, key) not in known:
                    known.add((kind, key))
                    self.failures.labels(*where, kind, *key)

    def _count_failure(self, where: tuple[str, str], kind: str, item: CheckResult) -> RuleKey | None:
        """The item's rule key when it failed or erred (counted once), None when it did not."""
        if item.status not in FAILING:
            return None
        key = _key_of(item)
        self._create_failure_series(where, (key,))
        self.failures.labels(*where, kind, *key).inc()
        return key

    def _set_failing(self, where: tuple[str, str], state: dict[tuple[str, str], RuleKey | None]) -> None:
        counts = Tally((kind, key) for (kind, _), key in state.items() if key is not None)
        for kind, key in self._keys[where]:
            self.failing.labels(*where, kind, *key).set(counts[(kind, key)])
