"""Evaluate: classify every attempt, compare with expectations, judge every criterion and the verdict."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.core.fingerprint import SIMULATOR_HEADER
from engine.judge.client_drills import judge_client_drill
from engine.judge.criteria import Gate, judge_criteria, summarize
from engine.judge.drift import compare as fixture_drift
from engine.judge.drift import fixture_document
from engine.judge.drills import judge_drill
from engine.judge.evidence import ABSENT, summarize_body, without_content
from engine.judge.results import (
    CheckResult,
    CriterionResult,
    FixtureResult,
    Heading,
    LogRecord,
    Mismatch,
    RequestSummary,
    Summary,
    classified,
)
from engine.load.fixtures import fixture_path
from engine.plan.build import Step
from engine.run.executor import RunRecord, StepOutcome
from engine.run.http import Attempt
from engine.run.observation import Observation
from engine.spec.classify import Classification, classify, status_matches
from engine.spec.durations import parse_status_pattern
from engine.spec.models import Check, Drill, Expect, Spec
from engine.spec.paths import get_path, has_path, parse_path


@dataclass(frozen=True)
class Evaluation:
    checks: tuple[CheckResult, ...]
    criteria: tuple[CriterionResult, ...]
    summary: Summary
    drills: tuple[CheckResult, ...] = ()
    gate: Gate | None = None
    refreshed: tuple[tuple[Path, dict[str, Any]], ...] = ()  # --update-fixtures: where each observed shape goes


def evaluate(record: RunRecord, options: str = "", update_fixtures: bool = False) -> Evaluation:
    """Judge every check and drill of the run, every readiness criterion, and the verdict.

    `options` (such as `--var model=x`) are repeated in the commands the criteria suggest. With
    `update_fixtures`, every observed fixture is `updated` (listed in `refreshed` for writing), and
    that run does not count them as checked in.
    """
    plan = record.plan
    spec = plan.spec
    by_id = {
        outcome.step.check.id: judge_check(outcome, spec, record.base_url, plan.target.alias, update_fixtures)
        for outcome in record.outcomes
    }
    by_id.update({cid: _not_selected(spec.checks, cid, why) for cid, why in plan.skipped})
    checks = tuple(by_id[check.id] for check in spec.checks if check.id in by_id)
    drills = {
        f"drill:{run.step.drill.id}": (judge_client_drill if run.client_calls else judge_drill)(run, spec)
        for run in record.drills
    }
    drills.update({f"drill:{did}": _not_selected(spec.drills, did, why, "drill:") for did, why in plan.skipped_drills})
    ordered = tuple(drills[f"drill:{d.id}"] for d in spec.drills if f"drill:{d.id}" in drills)
    gate = Gate(spec, str(plan.spec_path), plan.target, self_test(record), options)
    criteria = judge_criteria(spec, {**by_id, **drills}, gate)
    return Evaluation(
        checks,
        criteria,
        summarize(checks, ordered, criteria, record.interrupted, record.budget.stopped),
        ordered,
        gate,
        refreshed_fixtures(record) if update_fixtures else (),
    )


def refreshed_fixtures(record: RunRecord) -> tuple[tuple[Path, dict[str, Any]], ...]:
    """Each check's observed fixture and the file it belongs in, next to the spec."""
    spec, spec_path = record.plan.spec, Path(record.plan.spec_path)
    return tuple(
        (fixture_path(spec_path, spec.fixtures_dir, name), observed_fixture(outcome.step, outcome.attempt))
        for outcome in record.outcomes
        if (name := outcome.step.check.fixture) and outcome.attempt is not None
    )


def self_test(record: RunRecord) -> str | None:
    """Why an http target is really runbook's own simulator, when its answers say so."""
    if not record.plan.target.live:
        return None
    seen = next(
        (
            o.attempt.observation.simulator
            for o in record.outcomes
            if o.attempt is not None and o.attempt.observation.simulator
        ),
        None,
    )
    if seen is None:
        return None
    return (
        f"target {record.plan.target.name} answered as runbook's own simulator ({SIMULATOR_HEADER}: {seen}): "
        "runbook would be judging itself, so its checks prove the spec, not a provider"
    )


def _not_selected(items: Sequence[Check | Drill], item_id: str, why: str, prefix: str = "") -> CheckResult:
    item = next(i for i in items if i.id == item_id)
    return CheckResult(
        id=f"{prefix}{item_id}", title=item.title, tags=item.tags, status="skipped", reason=why, selected=False
    )


def judge_check(
    outcome: StepOutcome, spec: Spec, base_url: str, base_url_alias: str = "", updated_fixture: bool = False
) -> CheckResult:
    step = outcome.step
    check = step.check
    request = RequestSummary(
        method=step.method, url=f"{base_url}{step.path}", auth=step.auth.describe(), body=summarize_body(step.body)
    )
    common = Heading(id=check.id, title=check.title, tags=check.tags, request=request)
    if outcome.not_run:
        return CheckResult(**common, status="skipped", reason=outcome.not_run)
    if outcome.attempt is None:
        return CheckResult(**common, status="error", reason=outcome.error)
    observation, document = outcome.attempt.observation, outcome.attempt.document
    verdict = classify(observation, spec.classification)
    mismatches = list(compare(check.expect, observation, verdict, document))
    fixture = judge_fixture(outcome, spec, updated_fixture)
    if fixture is not None and fixture.status == "drift":
        mismatches.append(
            Mismatch(
                field="fixture",
                expected=f"the shape of fixture {fixture.name}",
                observed={"removed": fixture.removed, "changed": fixture.changed},
                message=f"fixture drift against {fixture.path}: " + _drift_text(fixture),
            )
        )
    return CheckResult(
        **common,
        status="failed" if mismatches else "passed",
        observed=observation,
        **classified(verdict),
        mismatches=mismatches,
        captures=capture(check.expect.capture, document, check.keep_content),
        log=log_record(step, outcome.attempt, verdict, spec, base_url_alias),
        fixture=fixture,
    )


def judge_fixture(outcome: StepOutcome, spec: Spec, updated: bool = False) -> FixtureResult | None:
    """Compare the response's shape with the fixture checked in for this check (`updated`: this run
    rewrites it, so nothing is compared)."""
    step = outcome.step
    name = step.check.fixture
    if name is None or outcome.attempt is None:
        return None
    path = step.fixture_path or f"{spec.fixtures_dir}/{name}.json"
    if updated:
        return FixtureResult(name=name, path=path, status="updated", git=step.fixture_git)
    if step.stored_fixture is None:
        return FixtureResult(name=name, path=path, status="missing", git=step.fixture_git)
    drift = fixture_drift(step.stored_fixture, observed_fixture(step, outcome.attempt))
    return FixtureResult(
        name=name,
        path=path,
        status="drift" if drift.breaking else "matched",
        git=step.fixture_git,
        removed=list(drift.removed),
        changed=list(drift.changed),
        added=list(drift.added),
    )


def observed_fixture(step: Step[Check], attempt: Attempt) -> dict[str, Any]:
    seen = attempt.observation
    return fixture_document(step.method, step.path, step.body, seen.status, seen.content_type, attempt.document)


def _drift_text(fixture: FixtureResult) -> str:
    parts = [
        f"{label} {', '.join(paths)}"
        for label, paths in (("removed", fixture.removed), ("changed type", fixture.changed))
        if paths
    ]
    return "; ".join(parts)


def log_record(
    step: Step[Check], attempt: Attempt, verdict: Classification, spec: Spec, base_url_alias: str
) -> LogRecord:
    """The attempt as the source document asks a client to log it (content redacted by omission)."""
    seen, document = attempt.observation, attempt.document
    usage = get_path(document, "usage") if has_path(document, "usage") else None
    finish = get_path(document, "choices[0].finish_reason") if has_path(document, "choices[0].finish_reason") else None
    model = step.body.get("model") if isinstance(step.body, dict) else None
    return LogRecord(
        client_request_id=seen.client_request_id,
        environment=spec.observability.environment,
        service=spec.observability.service,
        endpoint_path=step.path,
        base_url_alias=base_url_alias,
        model=model if isinstance(model, str) else None,
        streaming=bool(step.body and step.body.get("stream")),
        http_status=seen.status,
        error_class=None if verdict.is_success else verdict.class_,
        retry_count=0,
        fallback=None,
        total_latency_ms=seen.elapsed_ms,
        first_token_latency_ms=seen.stream.first_token_ms if seen.stream is not None else None,
        finish_reason=finish if isinstance(finish, str) else None,
        usage=without_content(usage) if isinstance(usage, dict) else None,
        parser_outcome=seen.parser,
    )


def compare(expect: Expect, seen: Observation, verdict: Classification, document: Any) -> Iterator[Mismatch]:
    """Every way the observation differs from the expectation."""
    observed_status = seen.status if seen.status is not None else seen.transport_error
    if expect.status is not None:
        statuses = " or ".join(map(str, expect.status))
        if not status_matches(seen.status, expect.status):
            yield _mismatch("status", statuses, observed_status)
        elif _wants_a_complete_answer(expect) and (broken := _incomplete(seen)):
            yield Mismatch(
                field="complete",
                expected="a complete, parseable answer",
                observed=broken,
                message=f"status: expected a complete, parseable {statuses} answer; "
                f"observed {observed_status} but {broken}",
            )
    if expect.json_ is not None and (seen.parser not in ("invalid_json", "none")) != expect.json_:
        yield _mismatch("json", "valid JSON" if expect.json_ else "not JSON", seen.parser)
    if expect.stream is not None:
        got = seen.stream.outcome if seen.stream is not None else "not a stream"
        if got != expect.stream:
            yield _mismatch("stream", expect.stream, got)
    if expect.parser is not None and seen.parser not in expect.parser:
        yield _mismatch("parser", " or ".join(expect.parser), seen.parser)
    for path in expect.require:
        if not has_path(document, path):
            yield Mismatch(
                field="require", expected=path, observed=ABSENT, message=f"required response path {path} is absent"
            )
    for name, wanted in (
        ("class", expect.class_),
        ("action", expect.action),
        ("retry", expect.retry),
        ("fallback", expect.fallback),
    ):
        got = getattr(verdict, "class_" if name == "class" else name)
        if wanted is not None and got != wanted:
            yield _mismatch(name, wanted, got, f" (rule {verdict.rule})")


def _mismatch(field: str, expected: Any, observed: Any, suffix: str = "") -> Mismatch:
    return Mismatch(
        field=field,
        expected=expected,
        observed=observed,
        message=f"{field}: expected {expected}, observed {observed}{suffix}",
    )


def capture(paths: list[str], document: Any, keep_content: bool) -> dict[str, Any]:
    """Values worth keeping as evidence; anything that could be content is summarised unless kept."""
    captured: dict[str, Any] = {}
    for path in paths:
        if not has_path(document, path):
            captured[path] = ABSENT
            continue
        value = get_path(document, path)
        captured[path] = value if keep_content else without_content(value, str(parse_path(path)[-1]))
    return captured


def _wants_a_complete_answer(expect: Expect) -> bool:
    """A success status alone means a usable answer, unless the check says what else it expects of the body."""
    if expect.status is None or any(v is not None for v in (expect.json_, expect.parser, expect.stream)):
        return False
    return all(low >= 200 and high <= 299 for low, high in map(parse_status_pattern, expect.status))


def _incomplete(seen: Observation) -> str | None:
    """What keeps an answer from being complete and parseable (None: nothing)."""
    if seen.transport_error:
        return f"the exchange ended with {seen.transport_error}"
    if seen.stream is not None:
        return (
            None if seen.stream.outcome == "success" else f"the stream was {seen.stream.outcome} (parser {seen.parser})"
        )
    return (
        None if seen.parser in ("ok", "empty_content") else f"the body was not a usable answer (parser {seen.parser})"
    )
