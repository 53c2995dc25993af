"""A results document at scale, built from the engine's own result models: thousands of checks
shaped like the shipped spec's happy path (request, response, captures, log record, fixture), with a
failure, an error and a skip mixed in at fixed intervals, a few drills, and a criterion that
requires every check. Deterministic: the same arguments give the same document.
"""

from __future__ import annotations

from typing import Any

from engine.judge.results import (
    CheckResult,
    Counts,
    CriteriaCounts,
    CriterionResult,
    DrillAttempt,
    DrillCall,
    DrillSummary,
    Evidence,
    FixtureResult,
    LogRecord,
    Mismatch,
    RequestSummary,
    Results,
    RuleRow,
    SpecRef,
    Summary,
    TargetRef,
)
from engine.run.observation import Observation

SOURCE = "target sim (the built-in simulator)"
USAGE = {"prompt_tokens": 10, "completion_tokens": 4, "total_tokens": 14}
FAILED_MESSAGE = "status: expected 4xx, got 200"


def check_id(index: int) -> str:
    return f"bulk-{index:05d}"


def status_of(index: int, fail_every: int, error_every: int, skip_every: int) -> str:
    """Which check is which: every `fail_every`-th fails, every `error_every`-th errs, and so on."""
    for status, every in (("skipped", skip_every), ("error", error_every), ("failed", fail_every)):
        if every and index % every == 0:
            return status
    return "passed"


def _observed(index: int, status: str) -> Observation | None:
    if status == "skipped":
        return None
    if status == "error":
        return Observation(
            transport_error="read_timeout", transport_detail="ReadTimeout after 30.0s", elapsed_ms=30001.4
        )
    elapsed = 3.0 + (index * 37 % 400) / 10
    return Observation(
        status=200,
        parser="ok",
        content_type="application/json",
        request_id=f"req_{index:024x}",
        response_bytes=455,
        ttfb_ms=elapsed - 0.5,
        elapsed_ms=elapsed,
        client_request_id=f"rb-{index:032x}",
        simulator="runbook/0.1.0",
        body_excerpt='{"id": "chatcmpl-1", "object": "chat.completion"}' if status == "failed" else None,
    )


def _log(index: int, seen: Observation) -> LogRecord:
    return LogRecord(
        client_request_id=seen.client_request_id,
        environment="test",
        service="llm-client",
        endpoint_path="/v1/chat/completions",
        base_url_alias="sim (built-in simulator)",
        model="gpt-4o-mini",
        streaming=False,
        http_status=seen.status,
        error_class=None,
        retry_count=0,
        fallback=None,
        total_latency_ms=seen.elapsed_ms,
        first_token_latency_ms=None,
        finish_reason="stop",
        usage=USAGE,
        parser_outcome=seen.parser,
    )


def _check(index: int, status: str) -> CheckResult:
    ident = check_id(index)
    heading: dict[str, Any] = {"id": ident, "title": f"Bulk copy {index} of the happy path", "tags": ["bulk"]}
    if status == "skipped":
        return CheckResult(**heading, status="skipped", reason="streaming is disabled in the pinned contract")
    seen = _observed(index, status)
    assert seen is not None
    request = RequestSummary(
        method="POST",
        url="http://127.0.0.1:8765/v1/chat/completions",
        auth="Bearer $COMETAPI_API_KEY",
        body="model=gpt-4o-mini, messages=2 (system, user; 40 chars), temperature=0, max_tokens=20",
    )
    if status == "error":
        return CheckResult(
            **heading,
            status="error",
            reason="no response within the 30s read timeout; expectation could not be judged",
            request=request,
            observed=seen,
            class_="transport",
            action="retry_briefly",
            retry="maybe",
            fallback="maybe",
            rule="transport",
        )
    failed = status == "failed"
    return CheckResult(
        **heading,
        status="passed" if not failed else "failed",
        request=request,
        observed=seen,
        class_="success",
        action="none",
        retry="no",
        fallback="no",
        rule="success",
        mismatches=[Mismatch(field="status", expected="4xx", observed=200, message=FAILED_MESSAGE)] if failed else [],
        captures={"id": f"chatcmpl-{index:024x}", "model": "gpt-4o-mini", "usage": USAGE},
        log=_log(index, seen),
        fixture=FixtureResult(name=ident, path=f"specs/bulk/fixtures/{ident}.json", status="missing"),
    )


def _drill(index: int) -> CheckResult:
    attempts = [
        DrillAttempt(target="primary", number=1, started_ms=0.02, status=503, transport_error=None,
                     class_="provider_unavailable", decision="retry after 3.9ms", pause_ms=None),
        DrillAttempt(target="primary", number=2, started_ms=14.7, status=200, transport_error=None,
                     class_="success", decision="done: success", pause_ms=3.88),
    ]  # fmt: skip
    call = DrillCall(
        outcome="success", elapsed_ms=21.8, deadline_ms=900.0, attempts=attempts, server_attempts=2,
        server_fallback_attempts=0,
    )  # fmt: skip
    return CheckResult(
        id=f"drill:server-503-retried-{index}",
        title="A 503 is retried with backoff",
        tags=["drill", "release"],
        status="passed",
        observed=Observation(status=200, parser="ok", elapsed_ms=21.8),
        class_="success",
        action="none",
        retry="no",
        fallback="no",
        rule="success",
        drill=DrillSummary(time_scale=0.02, repeat=1, calls=[call], fallback_target="backup", slack_ms=30.4),
    )


def _counts(items: list[CheckResult]) -> Counts:
    statuses = [item.status for item in items]
    return Counts(
        total=len(items),
        passed=statuses.count("passed"),
        failed=statuses.count("failed"),
        error=statuses.count("error"),
        skipped=statuses.count("skipped"),
    )


def _criterion(checks: list[CheckResult]) -> CriterionResult:
    reasons = [f"check {c.id} failed" for c in checks if c.status == "failed"]
    reasons += [f"check {c.id} did not run: {c.reason}" for c in checks if c.status in ("error", "skipped")]
    return CriterionResult(
        id="every-bulk-check-passes",
        text="Every copy of the happy path succeeds.",
        verdict="not_met" if reasons else "met",
        decided_by=[c.id for c in checks],
        reasons=reasons,
        evidence=[Evidence(ref=c.id, status=c.status, source=SOURCE) for c in checks],
        next_step="fix what the failing checks report, then: runbook run specs/bulk.yaml" if reasons else None,
    )


def _rules() -> list[RuleRow]:
    return [
        RuleRow(id="success", when="status 2xx", class_="success", retry="no", fallback="no", action="none"),
        RuleRow(id="transport", when="transport in [read_timeout]", class_="transport", retry="maybe",
                fallback="maybe", action="retry_briefly"),
    ]  # fmt: skip


def many_results(
    count: int = 10_000, fail_every: int = 100, error_every: int = 250, skip_every: int = 500, drills: int = 40
) -> dict[str, Any]:
    """The results document (JSON dict) of a run of `count` checks and `drills` drills."""
    checks = [_check(i, status_of(i, fail_every, error_every, skip_every)) for i in range(1, count + 1)]
    drilled = [_drill(i) for i in range(1, drills + 1)]
    criterion = _criterion(checks)
    not_met = criterion.verdict == "not_met"
    results = Results(
        tool={"name": "runbook", "version": "0.1.0"},
        spec=SpecRef(name="bulk", path="specs/bulk.yaml", title="Bulk copies of the happy path"),
        target=TargetRef(name="sim", kind="simulator", base_url="http://127.0.0.1:8765"),
        contract={"path": "/v1/chat/completions", "model": "gpt-4o-mini", "streaming": False},
        started="2026-05-08T10:00:00Z",
        finished="2026-05-08T10:00:31Z",
        duration_ms=31250.0,
        summary=Summary(
            verdict="not_ready" if not_met else "ready",
            checks=_counts(checks),
            drills=_counts(drilled),
            criteria=CriteriaCounts(total=1, met=int(not not_met), not_met=int(not_met)),
            blocking=[criterion.id] if not_met else [],
        ),
        checks=checks,
        drills=drilled,
        criteria=[criterion],
        classification=_rules(),
    )
    return results.to_json_dict()
