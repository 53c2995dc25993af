"""Evaluate: classify every attempt, compare with expectations, judge every criterion."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from engine.classify import classify, status_matches
from engine.results import (
    CheckResult, Classification, CriteriaCounts, CriterionResult, Counts, FixtureResult, LogRecord, Mismatch,
    Observation,
    RequestSummary, Summary,
)
from engine.plan import TargetPlan
from engine.run.executor import RunRecord, StepOutcome
from engine.spec.models import Criterion, Expect, Spec
from engine.spec.paths import get_path, has_path, parse_path
from engine.evaluate_drills import judge_drill
from engine.evidence import ABSENT, summarize_body, without_content
from engine.fixtures import compare as fixture_drift, fixture_document



@dataclass(frozen=True)
class Evaluation:
    checks: tuple[CheckResult, ...]
    criteria: tuple[CriterionResult, ...]
    summary: Summary
    drills: tuple[CheckResult, ...] = ()


def evaluate(record: RunRecord) -> Evaluation:
    """Judge every check of the run and every readiness criterion of the spec."""
    plan = record.plan
    spec = plan.spec
    by_id = {outcome.step.check.id: judge_check(outcome, spec, record.base_url, plan.target.alias)
             for outcome in record.outcomes}
    by_id.update({cid: _not_selected(spec, cid, why) for cid, why in plan.skipped})
    checks = tuple(by_id[check.id] for check in spec.checks if check.id in by_id)
    drills = tuple(judge_drill(run, spec) for run in record.drills)
    drills += tuple(_not_selected_drill(spec, drill_id, why) for drill_id, why in plan.skipped_drills)
    order = {f"drill:{d.id}": i for i, d in enumerate(spec.drills)}
    drills = tuple(sorted(drills, key=lambda d: order.get(d.id, 0)))
    by_id.update({drill.id: drill for drill in drills})
    everything = not plan.skipped and not plan.skipped_drills   # a selection that leaves nothing out is a full run
    criteria = tuple(judge_criterion(c, by_id, spec, plan.target, everything) for c in spec.criteria)
    return Evaluation(checks, criteria, summary_of(checks, criteria, drills), drills)


def _not_selected_drill(spec: Spec, drill_id: str, why: str) -> CheckResult:
    drill = next(d for d in spec.drills if d.id == drill_id)
    return CheckResult(id=f"drill:{drill_id}", title=drill.title, tags=drill.tags, status="skipped", reason=why,
                       selected=False)


def _not_selected(spec: Spec, check_id: str, why: str) -> CheckResult:
    check = next(c for c in spec.checks if c.id == check_id)
    return CheckResult(id=check_id, title=check.title, tags=check.tags, status="skipped", reason=why, selected=False)


def judge_check(outcome: StepOutcome, spec: Spec, base_url: str, base_url_alias: str = "") -> CheckResult:
    step = outcome.step
    check = step.check
    request = RequestSummary(method=step.method, url=f"{base_url}{step.path}",
                             auth=step.auth.describe(), body=summarize_body(step.body))
    common = {"id": check.id, "title": check.title, "tags": check.tags, "request": request}
    if outcome.attempt is None:
        return CheckResult(**common, status="error", reason=outcome.error)
    observation, document = outcome.attempt.observation, outcome.attempt.document
    verdict = classify(observation, spec.classification)
    mismatches = list(compare(check.expect, observation, verdict, document))
    fixture = judge_fixture(outcome, spec)
    if fixture is not None and fixture.status == "drift":
        mismatches.append(Mismatch(field="fixture", expected=f"the shape of fixture {fixture.name}",
                                   observed={"removed": fixture.removed, "changed": fixture.changed},
                                   message=f"fixture drift against {fixture.path}: " + _drift_text(fixture)))
    return CheckResult(
        **common,
        status="failed" if mismatches else "passed",
        observed=observation,
        **{"class": verdict.class_},
        action=verdict.action, retry=verdict.retry, fallback=verdict.fallback,
        owner=verdict.owner, rule=verdict.rule,
        mismatches=mismatches,
        captures=capture(check.expect.capture, document, check.keep_content),
        log=log_record(outcome, verdict, spec, base_url_alias),
        fixture=fixture,
    )


def judge_fixture(outcome: StepOutcome, spec: Spec) -> FixtureResult | None:
    """Compare the response's shape with the fixture checked in for this check."""
    step = outcome.step
    name = step.check.fixture
    if name is None or outcome.attempt is None:
        return None
    path = f"{spec.fixtures_dir}/{name}.json"
    if step.stored_fixture is None:
        return FixtureResult(name=name, path=path, status="missing")
    drift = fixture_drift(step.stored_fixture, observed_fixture(step, outcome.attempt))
    return FixtureResult(name=name, path=path, status="drift" if drift.breaking else "matched",
                         removed=list(drift.removed), changed=list(drift.changed), added=list(drift.added))


def observed_fixture(step, attempt) -> dict[str, Any]:
    seen = attempt.observation
    return fixture_document(step.method, step.path, step.body, seen.status, seen.content_type, attempt.document)


def _drift_text(fixture: FixtureResult) -> str:
    parts = [f"{label} {', '.join(paths)}" for label, paths in
             (("removed", fixture.removed), ("changed type", fixture.changed)) if paths]
    return "; ".join(parts)


def log_record(outcome: StepOutcome, verdict: Classification, spec: Spec, base_url_alias: str) -> LogRecord:
    """The attempt as the source document asks a client to log it (content redacted by omission)."""
    seen, document, step = outcome.attempt.observation, outcome.attempt.document, outcome.step
    usage = get_path(document, "usage") if has_path(document, "usage") else None
    finish = get_path(document, "choices[0].finish_reason") if has_path(document, "choices[0].finish_reason") else None
    model = step.body.get("model") if isinstance(step.body, dict) else None
    return LogRecord(
        client_request_id=seen.client_request_id, environment=spec.observability.environment,
        service=spec.observability.service, endpoint_path=step.path, base_url_alias=base_url_alias,
        model=model if isinstance(model, str) else None, streaming=bool(step.body and step.body.get("stream")),
        http_status=seen.status, error_class=None if verdict.class_ == "success" else verdict.class_,
        retry_count=0, fallback=None, total_latency_ms=seen.elapsed_ms,
        first_token_latency_ms=seen.stream.first_token_ms if seen.stream is not None else None,
        finish_reason=finish if isinstance(finish, str) else None,
        usage=without_content(usage) if isinstance(usage, dict) else None, parser_outcome=seen.parser,
    )


def compare(expect: Expect, seen: Observation, verdict: Classification, document: Any) -> Iterator[Mismatch]:
    """Every way the observation differs from the expectation."""
    observed_status = seen.status if seen.status is not None else seen.transport_error
    if expect.status is not None and not status_matches(seen.status, expect.status):
        yield _mismatch("status", " or ".join(map(str, expect.status)), observed_status)
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
            yield Mismatch(field="require", expected=path, observed=ABSENT,
                           message=f"required response path {path} is absent")
    for name, wanted in (("class", expect.class_), ("action", expect.action),
                         ("retry", expect.retry), ("fallback", expect.fallback)):
        got = getattr(verdict, "class_" if name == "class" else name)
        if wanted is not None and got != wanted:
            yield _mismatch(name, wanted, got, f" (rule {verdict.rule})")


def _mismatch(field: str, expected: Any, observed: Any, suffix: str = "") -> Mismatch:
    return Mismatch(field=field, expected=expected, observed=observed,
                    message=f"{field}: expected {expected}, observed {observed}{suffix}")


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


def judge_criterion(criterion: Criterion, checks: Mapping[str, CheckResult], spec: Spec, target: TargetPlan,
                    everything_selected: bool = True) -> CriterionResult:
    """met / not_met / not_verified, with the reasons that decided it."""
    if not everything_selected and (why := _outside_selection(criterion, checks, target)):
        return CriterionResult(id=criterion.id, text=criterion.text, verdict="not_verified", applicable=False,
                               decided_by=list(criterion.requires), reasons=[why])
    if why := _wrong_target(criterion, target):
        return CriterionResult(id=criterion.id, text=criterion.text, verdict="not_verified",
                               decided_by=list(criterion.requires), reasons=[why])
    failed, unverified = [], []
    for check_id in criterion.requires:
        result = checks.get(check_id)
        if result is None or result.status in ("error", "skipped"):
            unverified.append(f"check {check_id} did not run" + (f": {result.reason}" if result and result.reason else ""))
        elif result.status == "failed":
            failed.append(f"check {check_id} failed")
    failed += list(_missing_owners(criterion.owners_for, spec))
    for check_id in criterion.fixtures_for:
        result = checks.get(check_id)
        if result is None or result.fixture is None:
            unverified.append(f"the fixture of {check_id} was not compared (the check did not run)")
        elif result.fixture.status == "missing":
            failed.append(f"no fixture checked in for {check_id} ({result.fixture.path}; run with --update-fixtures)")
        elif result.fixture.status == "drift":
            failed.append(f"{check_id} drifted from its fixture: {_drift_text(result.fixture)}")
    if criterion.pending:
        unverified.append(f"not verifiable yet: {criterion.pending}")
    verdict = "not_met" if failed else ("not_verified" if unverified else "met")
    return CriterionResult(id=criterion.id, text=criterion.text, verdict=verdict,
                           decided_by=list(criterion.requires) + [f"owner:{c}" for c in criterion.owners_for]
                           + [f"fixture:{c}" for c in criterion.fixtures_for],
                           reasons=failed + unverified)


def _wrong_target(criterion: Criterion, target: TargetPlan) -> str | None:
    """Checks against the simulator prove the spec, not the provider: only an explicit opt-in counts.

    Drills are the exception: they prove the client's policy, which only the simulator can script.
    """
    if criterion.targets:
        if target.name in criterion.targets:
            return None
        return f"verifiable only against target {', '.join(criterion.targets)}; this run used {target.name}"
    provider_checks = [ref for ref in criterion.requires if not ref.startswith("drill:")]
    if target.kind == "simulator" and provider_checks:
        return (f"checks against the simulator ({target.name}) prove the spec, not the provider; "
                f"run against a real target, or list {target.name} in this criterion's targets")
    return None


def _outside_selection(criterion: Criterion, checks: Mapping[str, CheckResult], target: TargetPlan) -> str | None:
    """Why a partial run (--tags, --only, ...) cannot judge this criterion at all, if it cannot."""
    left_out = [ref for ref in criterion.requires if ref not in checks or not checks[ref].selected]
    if not criterion.requires:
        return "not applicable to a partial run: it is judged from the whole spec"
    if criterion.pending:
        return "not applicable to a partial run: it also needs evidence that does not exist yet"
    if left_out:
        return f"not applicable to this partial run: {', '.join(left_out)} not selected"
    if _wrong_target(criterion, target):
        return "not applicable to this partial run: not verifiable against this target"
    return None


def _missing_owners(classes: list[str], spec: Spec) -> Iterator[str]:
    for name in classes:
        rules = [rule for rule in spec.classification if rule.class_ == name]
        if not rules:
            yield f"no classification rule yields class {name}"
        for rule in rules:
            if not rule.owner:
                yield f"rule {rule.id} (class {name}) names no owner"


def _counts(items: tuple[CheckResult, ...]) -> Counts:
    return Counts(total=len(items), **{s: sum(c.status == s for c in items) for s in ("passed", "failed", "error", "skipped")})


def summary_of(checks: tuple[CheckResult, ...], criteria: tuple[CriterionResult, ...],
               drills: tuple[CheckResult, ...] = ()) -> Summary:
    """Counts of everything; the verdict only from selected checks and drills and applicable criteria."""
    counts, drill_counts = _counts(checks), _counts(drills)
    applicable = [c for c in criteria if c.applicable]
    board = CriteriaCounts(total=len(criteria), not_applicable=len(criteria) - len(applicable),
                           **{v: sum(c.verdict == v for c in applicable) for v in ("met", "not_met", "not_verified")})
    unfinished = any(c.selected and c.status in ("error", "skipped") for c in (*checks, *drills))
    notes = [] if applicable or not all(c.selected for c in checks) else ["the spec defines no readiness criteria"]
    if counts.failed or drill_counts.failed or board.not_met:
        verdict = "not_ready"
    elif unfinished or board.not_verified or notes:
        verdict = "not_verified"
    else:
        verdict = "ready"
    return Summary(verdict=verdict, checks=counts, drills=drill_counts, criteria=board, notes=notes)
