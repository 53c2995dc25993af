"""The watch loop through its seam: a run function handed in, the real clock at small intervals."""

from __future__ import annotations

import random
import threading
import time

from engine.monitor.watch import Allowance, RunReport, Watch, WatchSettings


def reporting(failed: list[bool], requests: int = 0, pause: float = 0.0, seen: list[Allowance] | None = None):
    calls = iter(failed)

    def run_once(allowance: Allowance) -> RunReport:
        if seen is not None:
            seen.append(allowance)
        time.sleep(pause)
        return RunReport(failed=next(calls), summary="ok", requests=requests, tokens=requests * 10)

    return run_once


def test_it_runs_the_given_number_of_times_and_counts_failures_in_a_row():
    watch = Watch(WatchSettings(every=0.01, runs=4), reporting([True, True, False, True]))
    health = watch.loop()
    assert health.runs == 4 and health.failures_in_a_row == 1 and not health.stopped
    assert [report.failed for report in health.reports] == [True, True, False, True]


def test_a_run_longer_than_the_interval_skips_starts_instead_of_stacking_them():
    skipped: list[str] = []
    watch = Watch(
        WatchSettings(every=0.02, jitter=0, runs=2), reporting([False, False], pause=0.07), on_skip=skipped.append
    )
    started = time.monotonic()
    health = watch.loop()
    assert health.runs == 2 and skipped and set(skipped) == {"overlap"}
    assert time.monotonic() - started < 0.5


def test_the_hourly_request_cap_is_shared_by_the_runs_and_then_skips_them():
    seen: list[Allowance] = []
    skipped: list[str] = []
    settings = WatchSettings(every=0.01, runs=2, max_requests_per_hour=5)
    watch = Watch(settings, reporting([False, False], requests=3, seen=seen), on_skip=skipped.append)
    thread = threading.Thread(target=watch.loop)
    thread.start()
    time.sleep(0.3)
    watch.stop()
    thread.join(5)
    assert [allowance.max_requests for allowance in seen] == [5, 2]  # the second run may send what is left
    assert watch.health.runs == 2


def test_a_spent_hour_skips_the_run_as_budget():
    skipped: list[str] = []
    settings = WatchSettings(every=0.01, runs=5, max_requests_per_hour=3)
    watch = Watch(settings, reporting([False] * 5, requests=3), on_skip=skipped.append)
    thread = threading.Thread(target=watch.loop)
    thread.start()
    time.sleep(0.2)
    watch.stop()
    thread.join(5)
    assert watch.health.runs == 1 and "budget" in skipped and watch.health.stopped


def test_stop_ends_a_sleep_at_once_and_the_run_in_progress_finishes():
    watch = Watch(WatchSettings(every=60), reporting([False] * 3))
    thread = threading.Thread(target=watch.loop)
    thread.start()
    time.sleep(0.1)
    started = time.monotonic()
    watch.stop()
    thread.join(5)
    assert not thread.is_alive() and time.monotonic() - started < 1.0
    assert watch.health.runs == 1 and watch.health.stopped and watch.health.next_run is None


def test_each_interval_is_jittered_within_its_bounds():
    watch = Watch(WatchSettings(every=10, jitter=0.1), reporting([]), rng=random.Random(7))
    intervals = [watch._interval() for _ in range(200)]
    assert all(9.0 <= value <= 11.0 for value in intervals) and len(set(intervals)) > 100
