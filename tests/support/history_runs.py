"""Runs to record in a history store, and the trend they make, worked out by hand.

Both stores are tested with these (tests/unit/test_history_store.py on SQLite,
tests/services/test_history_postgres.py on PostgreSQL), so the two prove equal. The results are
built from the engine's own result models, with the fields the history reads set on purpose.

Spec "bulk" on target "sim"; the window is [WINDOW_START, NOW]:

    run  started            verdict    a                 b                 c                  d        drill
    0    05-01 10:00 (before) partial  passed 10 drift   passed 20 match   passed 30 ft 5
    1    05-02 10:00          ready    passed 12 drift   passed 22 match   passed 31 ft 6 missing   e: passed, no timing
    2    05-03 10:00          not_ready failed 40 (A)    passed 24 drift   error 100 (T)      skipped 7
    3    05-04 10:00          not_ready failed 50 (A)    passed 26 drift   passed 33 ft 7              failed 5 (R)
    4    05-05 10:00          ready    passed 14 drift   passed 28 match   passed 35 ft 8 drift
    5    05-07 10:00 (after)  not_ready failed 60 (A)
    and one run of another spec, "other", on 05-03 12:00, with a failing check.

    (A) class server_error, owner provider; (T) class transport, no owner; (R) class rate_limit, owner client-team.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine.judge.results import (
    CheckResult,
    Counts,
    CriteriaCounts,
    FixtureResult,
    LogRecord,
    Results,
    SpecFile,
    SpecRef,
    Summary,
    TargetRef,
)
from engine.run.observation import Observation, StreamSummary

UTC = dt.UTC
WINDOW_START = dt.datetime(2026, 5, 2, 0, 0, tzinfo=UTC)
NOW = dt.datetime(2026, 5, 6, 0, 0, tzinfo=UTC)
USAGE = {"prompt_tokens": 10, "completion_tokens": 4, "total_tokens": 14}
SERVER_ERROR = {"class_": "server_error", "owner": "provider", "action": "retry_briefly"}


def item(
    ident: str,
    status: str,
    latency: float | None = None,
    first_token: float | None = None,
    fixture: str | None = None,
    **classified: Any,
) -> CheckResult:
    """A check (or a drill, `drill:` ids) as the history reads it: status, class, latencies, usage, fixture."""
    stream = None if first_token is None else StreamSummary(outcome="success", events=3, chunks=2, done_events=1,
                                                             keep_alives=0, content_chars=5, first_token_ms=first_token)  # fmt: skip
    observed = None if latency is None else Observation(status=200, elapsed_ms=latency, stream=stream)
    return CheckResult(
        id=ident,
        status=status,
        observed=observed,
        log=_log(latency) if status == "passed" and latency is not None else None,
        fixture=FixtureResult(name=ident, path=f"fixtures/{ident}.json", status=fixture) if fixture else None,
        **{"class_": "success", "action": "none", **classified},
    )


def _log(latency: float) -> LogRecord:
    return LogRecord(
        client_request_id=None, environment="test", service="llm-client", endpoint_path="/v1/chat/completions",
        base_url_alias="sim", model="gpt-4o-mini", streaming=False, http_status=200, error_class=None,
        retry_count=0, fallback=None, total_latency_ms=latency, first_token_latency_ms=None, finish_reason="stop",
        usage=USAGE, parser_outcome="ok",
    )  # fmt: skip


def results(
    started: str,
    verdict: str,
    checks: list[CheckResult],
    drills: list[CheckResult] | None = None,
    spec: str = "bulk",
    target: str = "sim",
) -> Results:
    """A run's results around its checks and drills, with the summary counts they add up to."""
    drills = drills or []
    return Results(
        tool={"name": "runbook", "version": "0.1.0"},
        spec=SpecRef(
            name=spec, path=f"specs/{spec}.yaml", files=[SpecFile(path=f"specs/{spec}.yaml", sha256="ab" * 32)]
        ),
        target=TargetRef(name=target, kind="simulator", base_url="http://127.0.0.1:8765"),
        contract={},
        started=started,
        finished=started,
        duration_ms=1000.0,
        summary=Summary(verdict=verdict, checks=_counts(checks), drills=_counts(drills), criteria=CriteriaCounts()),
        checks=checks,
        drills=drills,
        criteria=[],
        classification=[],
    )


def _counts(items: list[CheckResult]) -> Counts:
    statuses = [i.status for i in items]
    return Counts(total=len(items), **{name: statuses.count(name) for name in ("passed", "failed", "error", "skipped")})


def sample_runs() -> list[Results]:
    """The runs of the table above, in the order they are recorded (not the order they started)."""
    return [
        results("2026-05-01T10:00:00Z", "partial", [
            item("a", "passed", 10, fixture="drift"), item("b", "passed", 20, fixture="matched"),
            item("c", "passed", 30, first_token=5)]),
        results("2026-05-07T10:00:00Z", "not_ready", [item("a", "failed", 60, **SERVER_ERROR)]),
        results("2026-05-02T10:00:00+00:00", "ready", [
            item("a", "passed", 12, fixture="drift"), item("b", "passed", 22, fixture="matched"),
            item("c", "passed", 31, first_token=6, fixture="missing"), item("e", "passed")]),
        results("2026-05-03T12:00:00+02:00", "not_ready", [  # 10:00 UTC
            item("a", "failed", 40, **SERVER_ERROR), item("b", "passed", 24, fixture="drift"),
            item("c", "error", 100, class_="transport", action="retry_briefly"), item("d", "skipped", 7)]),
        results("2026-05-03T12:00:00Z", "not_ready", [item("a", "failed", 9, **SERVER_ERROR)], spec="other"),
        results("2026-05-04T10:00:00", "not_ready", [  # no zone: UTC
            item("a", "failed", 50, **SERVER_ERROR), item("b", "passed", 26, fixture="drift"),
            item("c", "passed", 33, first_token=7)],
            drills=[item("drill:rate-limit", "failed", 5, class_="rate_limit", owner="client-team", action="back_off")]),
        results("2026-05-05T10:00:00Z", "ready", [
            item("a", "passed", 14, fixture="drift"), item("b", "passed", 28, fixture="matched"),
            item("c", "passed", 35, first_token=8, fixture="drift")]),
    ]  # fmt: skip


def at(day: int) -> dt.datetime:
    """10:00 UTC on a day of May 2026: when the sample runs started."""
    return dt.datetime(2026, 5, day, 10, 0, tzinfo=UTC)


# The trend of "bulk" over [WINDOW_START, NOW], by hand (percentiles by nearest rank: the value at
# rank ceil(p * n / 100) of the n values sorted).
EXPECTED = {
    "runs": 4,  # runs 1 to 4
    "checks_ran": 13,  # 4 + 3 + 3 + 3; d was skipped
    "checks_passed": 10,  # 4 + 1 + 2 + 3
    "pass_rate": 10 / 13,  # over the checks, not the mean of the runs' rates (0.75)
    "per_run_pass_rate": [1.0, 1 / 3, 2 / 3, 1.0],
    # 12, 14, 22, 24, 26, 28, 31, 33, 35, 40, 50, 100: checks that ran (not d's 7: it was skipped), not the
    # drill (its 5 ms were the fault simulator's, not the target's)
    "latency": (28.0, 100.0, 12),  # rank 6 and rank ceil(11.4) = 12
    "per_run_latency": [(22.0, 31.0), (40.0, 100.0), (33.0, 50.0), (28.0, 35.0)],  # 3 values a run: ranks 2 and 3
    "first_token": (7.0, 8.0, 3),  # 6, 7, 8: ranks 2 and 3 (run 2's c erred without a first token)
    # run 1 against run 0, the last run before the window, too
    "verdict_changes": [(at(2), "partial", "ready"), (at(3), "ready", "not_ready"), (at(5), "not_ready", "ready")],
    # a drifted before the window already (run 1: not new), stopped in run 2 and drifts again in run 4;
    # b from run 2 (run 3 still: not new); c in run 4 (its missing fixture in run 1 is no drift)
    "new_drift": [(at(3), "b", "check"), (at(5), "a", "check"), (at(5), "c", "check")],
    "failing": {"provider": {"server_error": 2}, "(no owner)": {"transport": 1}, "client-team": {"rate_limit": 1}},
}


def summary(trend: Any) -> dict[str, Any]:
    """A Trend in EXPECTED's shape, so that one comparison shows every difference at once."""
    return {
        "runs": trend.runs,
        "checks_ran": trend.checks_ran,
        "checks_passed": trend.checks_passed,
        "pass_rate": trend.pass_rate,
        "per_run_pass_rate": [point.pass_rate for point in trend.series],
        "latency": _spread(trend.latency),
        "per_run_latency": [_spread(point.latency)[:2] for point in trend.series],
        "first_token": _spread(trend.first_token),
        "verdict_changes": [(shift.started, shift.old, shift.new) for shift in trend.verdict_changes],
        "new_drift": [(drift.started, drift.item_id, drift.kind) for drift in trend.new_drift],
        "failing": {owner: dict(classes) for owner, classes in trend.failing.items()},
    }


def _spread(values: Any) -> tuple[Any, ...]:
    return (None, None, 0) if values is None else (values.p50, values.p95, values.count)


def check_pruning(store: Any) -> None:
    """Pruning the sample runs (recorded in `store`, a History) before 05-03 10:00: bulk's two older
    runs go with their items, the rest of bulk and the other spec stay, and a second prune finds none."""
    kept_ids = {run.id for run in store.runs("bulk") if run.started >= at(3)}
    assert store.prune("bulk", at(3)) == 2
    assert [run.started for run in store.runs("bulk")] == [at(3), at(4), at(5), at(7)]
    assert {row.run_id for row in store.items("bulk")} == kept_ids
    assert len(store.runs("other")) == 1
    assert store.prune("bulk", at(3)) == 0
    assert store.prune("no-such-spec", at(30)) == 0
