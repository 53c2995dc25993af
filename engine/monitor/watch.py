"""`runbook watch`: one schedule run again and again, with a jittered interval, until stopped.

Each run is a normal run, done by the function the caller hands in (engine.api gives one that runs
the spec and records it). Runs never overlap: a run that outlasts the interval makes the watch skip
the starts it missed (counted as skipped), never stack them. Hourly caps on what the runs send are
kept here: before each run the caps minus what the last hour's runs sent is what that run may
send; a spent hour skips runs until it has room again. The first SIGINT/SIGTERM ends the watch
after the current run (a sleep ends at once); a second one ends the process at once.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import FrameType
from typing import TYPE_CHECKING

from engine.core.errors import RunbookError, UsageError, first_line

if TYPE_CHECKING:
    from engine.judge.results import Results
    from engine.monitor.history import History
    from engine.monitor.metrics import RunMetrics
    from engine.spec.models import Spec

HOUR = 3600.0


@dataclass(frozen=True)
class Allowance:
    """What the next run may send, from the hourly caps (None: no hourly cap)."""

    max_requests: int | None = None
    max_tokens: int | None = None


@dataclass(frozen=True)
class RunReport:
    """What one run did, as the watch needs it."""

    failed: bool  # a check or drill failed or erred, or the run itself could not be done
    summary: str  # one line for the terminal
    requests: int = 0  # what it sent, for the hourly caps
    tokens: int = 0


@dataclass(frozen=True)
class WatchSettings:
    every: float  # seconds between run starts
    jitter: float = 0.1  # each interval is every x (1 +- jitter), drawn afresh
    runs: int | None = None  # stop after this many runs (None: until a signal)
    max_requests_per_hour: int | None = None
    max_tokens_per_hour: int | None = None


@dataclass
class WatchHealth:
    runs: int = 0
    skipped: int = 0
    failures_in_a_row: int = 0
    last_run: float | None = None  # wall-clock start of the last run (unix seconds)
    next_run: float | None = None
    last_summary: str = ""
    stopped: bool = False  # a signal ended it
    reports: list[RunReport] = field(default_factory=list)


class Watch:
    """The loop; `run_once(allowance)` does one run. `on_health(health)` hears of every change,
    `on_skip(reason)` of every skipped start ("overlap": a run outlasted the interval; "budget":
    the hourly caps left no room)."""

    def __init__(
        self,
        settings: WatchSettings,
        run_once: Callable[[Allowance], RunReport],
        on_health: Callable[[WatchHealth], None] = lambda _health: None,
        on_skip: Callable[[str], None] = lambda _reason: None,
        rng: random.Random | None = None,
    ) -> None:
        self.settings, self._run_once, self._on_health, self._on_skip = settings, run_once, on_health, on_skip
        self._rng = rng or random.Random()
        self._stop = threading.Event()
        self._sent: deque[tuple[float, int, int]] = deque()  # (monotonic start, requests, tokens)
        self.health = WatchHealth()

    def stop(self) -> None:
        """End after the current run; a sleep between runs ends now."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def loop(self) -> WatchHealth:
        start = time.monotonic()
        while not self._stop.is_set() and not self._enough():
            allowance = self._allowance(start)
            if allowance is None:
                self._skip("budget")
            else:
                self._one_run(start, allowance)
            if self._stop.is_set() or self._enough():
                break
            start = self._next_start(start)
            self._publish(next_in=start - time.monotonic())
            self._stop.wait(max(0.0, start - time.monotonic()))
        self.health.next_run = None
        self.health.stopped = self._stop.is_set()
        self._on_health(self.health)
        return self.health

    def _one_run(self, start: float, allowance: Allowance) -> None:
        self.health.last_run = time.time()
        report = self._run_once(allowance)
        self._sent.append((start, report.requests, report.tokens))
        health = self.health
        health.runs += 1
        health.failures_in_a_row = health.failures_in_a_row + 1 if report.failed else 0
        health.last_summary = report.summary
        health.reports.append(report)

    def _enough(self) -> bool:
        return self.settings.runs is not None and self.health.runs >= self.settings.runs

    def _next_start(self, previous: float) -> float:
        """The next start after `previous`; starts that already passed (a long run) are skipped."""
        start = previous + self._interval()
        while start <= time.monotonic():
            self._skip("overlap")
            start += self._interval()
        return start

    def _interval(self) -> float:
        jitter = self.settings.jitter
        return self.settings.every * (1 + self._rng.uniform(-jitter, jitter))

    def _skip(self, reason: str) -> None:
        self.health.skipped += 1
        self._on_skip(reason)

    def _allowance(self, now: float) -> Allowance | None:
        """What the hourly caps leave for a run starting now; None when they leave nothing."""
        while self._sent and self._sent[0][0] <= now - HOUR:
            self._sent.popleft()
        requests = _left(self.settings.max_requests_per_hour, sum(sent[1] for sent in self._sent))
        tokens = _left(self.settings.max_tokens_per_hour, sum(sent[2] for sent in self._sent))
        if requests == 0 or tokens == 0:
            return None
        return Allowance(requests, tokens)

    def _publish(self, next_in: float) -> None:
        self.health.next_run = time.time() + max(0.0, next_in)
        self._on_health(self.health)


def _left(cap: int | None, used: int) -> int | None:
    return None if cap is None else max(0, cap - used)


@contextlib.contextmanager
def stopped_by_signals(watch: Watch, say: Callable[[str], None]) -> Iterator[None]:
    """The first SIGINT/SIGTERM asks `watch` to stop after its run; a second ends the process
    with 128 + the signal (the run in progress is then not recorded)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if watch.stopping:
            say(f"runbook watch: second {name}; ending now (the run in progress is not recorded)")
            os._exit(128 + signum)
        say(f"runbook watch: {name}; ending after the current run (send it again to end now)")
        watch.stop()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def interval_of(spec: Spec, schedule: str | None, every: float | None) -> float:
    """`every` (seconds), else the `every:` of the spec's schedule `schedule`."""
    if every is not None:
        return every
    found = spec.schedules.get(schedule) if schedule else None
    if found is None or found.every is None:
        raise UsageError("say how often: --every 60s (or a --schedule whose `every:` is set)")
    return float(found.every)


def report_of(results: Results, history: History | None, metrics: RunMetrics | None) -> RunReport:
    """One finished run shown on the metrics, recorded in the history, and summed up for the watch.
    A history that cannot record it (a database down for a while) fails the run, not the watch."""
    if metrics is not None:
        metrics.observe(results)
    unrecorded = _unrecorded(history, results)
    checks, drills = results.summary.checks, results.summary.drills
    failed = any(count.failed or count.error for count in (checks, drills)) or bool(unrecorded)
    return RunReport(failed, _run_line(results) + unrecorded, results.sent.requests, results.sent.requested_tokens)


def _unrecorded(history: History | None, results: Results) -> str:
    """ "" when the run is in the history (or there is none); else why not, for the run's line."""
    if history is None:
        return ""
    try:
        history.record(results)
    except RunbookError as exc:
        return f" · not recorded in the history: {first_line(exc)}"
    return ""


def _run_line(results: Results) -> str:
    checks, drills = results.summary.checks, results.summary.drills
    verdict = results.summary.verdict.upper().replace("_", " ")
    line = f"{verdict} · checks {checks.passed} passed, {checks.failed} failed, {checks.error} error"
    ran = drills.passed + drills.failed + drills.error
    line += f" · drills {drills.passed} of {ran} passed" if ran else ""
    return line + f" · {results.duration_ms:.0f} ms"


class WatchOutput:
    """What a watch says as it goes: each run's line once (with the next start and failures in a
    row), each skipped start; and the same health on the metrics, when there are any."""

    def __init__(self, metrics: RunMetrics | None, say: Callable[[str], None]) -> None:
        self._metrics, self._say = metrics, say
        self._shown = 0  # runs whose line was said

    def health(self, health: WatchHealth) -> None:
        if self._metrics is not None:
            self._metrics.watch_health(health.last_run, health.next_run, health.failures_in_a_row)
        if health.runs == self._shown:
            if health.next_run is None:  # the end, after a run whose line was said
                self._say(f"the watch ends after {health.runs} run(s)")
            return
        self._shown = health.runs
        after = "the watch ends"
        if health.next_run is not None:
            after = "next at " + datetime.fromtimestamp(health.next_run, UTC).strftime("%H:%M:%SZ")
        self._say(f"run {health.runs}: {health.last_summary} · {after} · failures in a row: {health.failures_in_a_row}")

    def skipped(self, reason: str) -> None:
        if self._metrics is not None:
            self._metrics.run_skipped(reason)
        why = "the previous run was still going" if reason == "overlap" else "the hourly caps are spent"
        self._say(f"skipped a start: {why}")
