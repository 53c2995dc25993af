"""Judge drills: the expectations, and the policy's envelope checked from the simulator's own log.

Every mismatch names the policy rule or expectation it breaks, so a broken policy fails the drill
that exercises it with a reason a reviewer can act on.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping, Sequence

from engine.judge.results import (
    CheckResult,
    DrillAttempt,
    DrillCall,
    DrillRound,
    DrillSummary,
    Heading,
    Mismatch,
    classified,
)
from engine.run.drills import DrillRun
from engine.run.policy import PolicyAttempt, PolicyCall
from engine.sim.faults import ServedAttempt
from engine.spec.backoff import allowed_pause
from engine.spec.models import Drill, Spec
from engine.spec.values import NEVER_FALL_BACK_ACTIONS

LOWER_SLACK = 0.001  # seconds: clock granularity between the server's two timestamps
LATENCY_FACTOR = 2  # timing slack grows by this many times the scheduling latency measured in the drill


def judge_drill(run: DrillRun, spec: Spec) -> CheckResult:
    drill = run.step.drill
    common = drill_heading(drill)
    if run.not_run:
        return CheckResult(**common, status="skipped", reason=run.not_run)
    mismatches = drill_mismatches(run, spec)
    last = _last_primary(run.calls[-1]) or (run.calls[-1].attempts[-1] if run.calls[-1].attempts else None)
    if last is None:
        return CheckResult(
            **common,
            status="failed" if mismatches else "error",
            drill=_summary(run, spec),
            reason="no attempt could start within the deadline",
            mismatches=unique(mismatches),
        )
    return CheckResult(
        **common,
        status="failed" if mismatches else "passed",
        observed=last.observation,
        **classified(last.verdict),
        mismatches=unique(mismatches),
        drill=_summary(run, spec),
    )


def drill_heading(drill: Drill) -> Heading:
    """The id, title and tags every result of this drill carries."""
    return Heading(id=f"drill:{drill.id}", title=drill.title, tags=drill.tags)


def drill_mismatches(run: DrillRun, spec: Spec) -> list[Mismatch]:
    """Every way one run of a drill broke its expectations or the policy (empty: it passed)."""
    return unique([*_expectations(run, spec), *_policy_envelope(run, spec)])


def drill_passed(run: DrillRun, spec: Spec) -> bool:
    return not run.not_run and not drill_mismatches(run, spec) and bool(run.calls) and bool(run.calls[-1].attempts)


CLIENT_OVERHEAD = 0.25  # seconds a client process may spend between an answer and its next request (new
# connections, its own scheduling), on top of its pause


def timing_slack(run: DrillRun, spec: Spec) -> float:
    """Seconds of slack for a pause or a deadline: the spec's tolerance plus the measured scheduling noise
    (plus a client process's own overhead, for a client under test)."""
    overhead = CLIENT_OVERHEAD if run.client_calls else 0.0
    return spec.drill_settings.tolerance + LATENCY_FACTOR * run.lateness + overhead


def _expectations(run: DrillRun, spec: Spec) -> Iterator[Mismatch]:
    expect = run.step.drill.expect
    for index, policy_call in enumerate(run.calls):
        label = f" (call {index + 1})" if len(run.calls) > 1 else ""
        primary = [a for a in policy_call.attempts if a.target == "primary"]
        last = primary[-1] if primary else None
        if expect.attempts is not None and len(primary) != expect.attempts:
            yield expectation_missed(
                "attempts",
                expect.attempts,
                len(primary),
                label,
                f"policy.retry.max_attempts is {spec.policy.retry.max_attempts}; {_attempts_reason(run, primary)}",
            )
        if expect.outcome is not None and policy_call.outcome != expect.outcome:
            yield expectation_missed(
                "outcome", expect.outcome, policy_call.outcome, label, _final_decision(policy_call)
            )
        if expect.fallback_used is not None and policy_call.fallback_used != expect.fallback_used:
            yield expectation_missed(
                "fallback_used", expect.fallback_used, policy_call.fallback_used, label, _final_decision(policy_call)
            )
        if expect.class_ is not None and last is not None and last.verdict.class_ != expect.class_:
            yield expectation_missed("class", expect.class_, last.verdict.class_, label, f"rule {last.verdict.rule}")
        if expect.action is not None and last is not None and last.verdict.action != expect.action:
            yield expectation_missed("action", expect.action, last.verdict.action, label, f"rule {last.verdict.rule}")
        first = primary[0] if primary else None
        if expect.stream is not None:
            got = first.observation.stream.outcome if first and first.observation.stream else "not a stream"
            if got != expect.stream:
                yield expectation_missed(
                    "stream", expect.stream, got, label, f"parser {first.observation.parser if first else 'none'}"
                )
        if expect.regenerated is not None and policy_call.regenerated != expect.regenerated:
            yield expectation_missed(
                "regenerated", expect.regenerated, policy_call.regenerated, label, _final_decision(policy_call)
            )
        within = _within_deadline(run, index, timing_slack(run, spec))
        if expect.within_deadline is not None and within != expect.within_deadline:
            yield expectation_missed(
                "within_deadline",
                expect.within_deadline,
                within,
                label,
                f"{policy_call.elapsed * 1000:.1f}ms against a {policy_call.deadline * 1000:.1f}ms deadline",
            )
    if expect.jittered is not None:
        gaps = [gap for index in range(len(run.calls)) if (gap := _first_gap(run, index)) is not None]
        # Jitter shows as a spread wider than scheduling noise: 6% of the first backoff step, and more
        # than the scheduling latency measured in this drill could make of a constant pause.
        threshold = max(
            0.002, 0.06 * min(spec.policy.retry.cap, spec.policy.retry.base) * run.scale, LATENCY_FACTOR * run.lateness
        )
        jittered = len(gaps) >= 2 and max(gaps) - min(gaps) > threshold
        if len(gaps) < 2 or jittered != expect.jittered:
            shown = ", ".join(f"{g * 1000:.1f}ms" for g in gaps) or "none"
            yield expectation_missed(
                "jittered",
                expect.jittered,
                jittered,
                "",
                f"first pauses seen by the simulator: {shown}; policy.retry.jitter is {spec.policy.retry.jitter}",
            )


def _first_gap(run: DrillRun, index: int) -> float | None:
    served = run.served[index] if index < len(run.served) else ()
    if len(served) < 2 or served[0].answered is None:
        return None
    return served[1].arrived - served[0].answered


def _policy_envelope(run: DrillRun, spec: Spec) -> Iterator[Mismatch]:
    policy = spec.policy
    for index, policy_call in enumerate(run.calls):
        primary = [a for a in policy_call.attempts if a.target == "primary"]
        if len(primary) > policy.retry.max_attempts:
            yield rule_broken(
                "policy.retry.max_attempts", f"{len(primary)} attempts, at most {policy.retry.max_attempts} allowed"
            )
        if policy.side_effects and len(primary) > 1:
            yield rule_broken("policy.side_effects", "a request with side effects was retried")
        for earlier in primary[:-1]:  # every attempt that was followed by a retry
            if earlier.verdict.retry == "no" and earlier.observation.hints.get("x-should-retry") != "true":
                yield rule_broken(
                    f"classification.{earlier.verdict.rule}.retry",
                    f"class {earlier.verdict.class_} was retried although its rule says retry: no",
                )
        yield from _fallback_rules(policy_call, spec)
        yield from _pauses(run, index, primary, spec)
        if not _within_deadline(run, index, timing_slack(run, spec)):
            yield rule_broken(
                "deadline",
                f"the call took {policy_call.elapsed * 1000:.1f}ms of a {policy_call.deadline * 1000:.1f}ms deadline",
            )
        yield from _views_agree(run, index, primary, policy_call)


def _views_agree(
    run: DrillRun, index: int, primary: list[PolicyAttempt], policy_call: PolicyCall
) -> Iterator[Mismatch]:
    """The client's account must match what the simulator received."""
    served, served_fallback = len(run.served[index]), len(run.served_fallback[index])
    if run.step.drill.primary == "scripted" and served != len(primary):
        yield Mismatch(
            field="simulator",
            expected=len(primary),
            observed=served,
            message=f"the client reports {len(primary)} attempts but the simulator received {served}",
        )
    fallback_attempts = sum(a.target == "fallback" for a in policy_call.attempts)
    if served_fallback != fallback_attempts:
        where = f"target {run.fallback_target}" if run.fallback_target else "no fallback target"
        yield Mismatch(
            field="simulator",
            expected=fallback_attempts,
            observed=served_fallback,
            message=f"the client reports {fallback_attempts} fallback attempts but {where} "
            f"(policy.fallback.to) received {served_fallback}",
        )


def _fallback_rules(policy_call: PolicyCall, spec: Spec) -> Iterator[Mismatch]:
    if not policy_call.fallback_used:
        return
    last = _last_primary(policy_call)
    if last is None:
        return
    if last.verdict.action in NEVER_FALL_BACK_ACTIONS:
        yield rule_broken(
            "fallback",
            f"fell back after class {last.verdict.class_} ({last.verdict.action}): the client's "
            "own faults never fall back, whatever the spec says",
        )
    if spec.policy.side_effects:
        yield rule_broken("policy.side_effects", "a request with side effects was sent to the fallback target")
    if last.verdict.fallback == "no":
        yield rule_broken(
            f"classification.{last.verdict.rule}.fallback",
            f"fell back on class {last.verdict.class_}, whose rule says fallback: no",
        )
    if last.verdict.class_ in spec.policy.fallback.never_for:
        yield rule_broken("policy.fallback.never_for", f"fell back on class {last.verdict.class_}")


def _pauses(run: DrillRun, index: int, primary: list[PolicyAttempt], spec: Spec) -> Iterator[Mismatch]:
    served = run.served[index] if index < len(run.served) else ()
    yield from pause_violations(served, [a.observation.hints for a in primary], run, spec)


def pause_violations(
    served: Sequence[ServedAttempt], hints: Sequence[Mapping[str, str]], run: DrillRun, spec: Spec
) -> Iterator[Mismatch]:
    """Each pause the simulator saw (from its last write of an answer to the next arrival) must fit the policy.

    `hints` are the retry headers each attempt was answered with. That measure is never shorter than
    the client's own pause, so "too short" needs no slack; "too long" allows the spec's tolerance, a
    quarter of the window, and the scheduling noise of the run.
    """
    retry = spec.policy.retry
    previous: float | None = None
    for k, (answered, arrival) in enumerate(itertools.pairwise(served)):
        if answered.answered is None:
            previous = math.inf  # never answered (a stall): no pause to judge, and the next window may be widest
            continue
        pause = arrival.arrived - answered.answered
        window = allowed_pause(retry, k, hints[k] if k < len(hints) else {}, previous, run.scale)
        previous = pause
        if window.rule == "policy.retry.honor_retry_after" and window.low > retry.retry_after_cap * run.scale:
            yield rule_broken(
                "policy.retry.retry_after_cap",
                f"retried after {window.text}, above the cap of {retry.retry_after_cap:g}s",
            )
        elif pause < window.low - LOWER_SLACK or pause > window.high + 0.25 * window.high + timing_slack(run, spec):
            yield rule_broken(
                window.rule,
                f"the simulator saw a {pause * 1000:.1f}ms pause before attempt {k + 2}; "
                f"the policy allows {window.low * 1000:.1f}-{window.high * 1000:.1f}ms",
            )


def _within_deadline(run: DrillRun, index: int, slack: float) -> bool:
    """The client's view (elapsed) and the simulator's (no attempt arrived after the deadline)."""
    policy_call = run.calls[index]
    served = run.served[index] + run.served_fallback[index]
    if served:
        first = min(a.arrived for a in served)
        if max(a.arrived for a in served) - first > policy_call.deadline + slack:
            return False
    return policy_call.elapsed <= policy_call.deadline + slack


def _attempts_reason(run: DrillRun, primary: list[PolicyAttempt]) -> str:
    served = len(run.served[0]) if run.served else 0
    parts = [primary[-1].decision] if primary else ["no attempt was made"]
    if run.step.drill.primary == "scripted" and served != len(primary) and len(run.calls) == 1:
        parts.append(f"the simulator saw {served}")
    return "; ".join(parts)


def _final_decision(policy_call: PolicyCall) -> str:
    return policy_call.attempts[-1].decision if policy_call.attempts else "no attempt was made"


def _last_primary(policy_call: PolicyCall) -> PolicyAttempt | None:
    primary = [a for a in policy_call.attempts if a.target == "primary"]
    return primary[-1] if primary else None


def expectation_missed(field: str, expected: object, observed: object, label: str, why: str) -> Mismatch:
    return Mismatch(
        field=field,
        expected=expected,
        observed=observed,
        message=f"{field}{label}: expected {expected}, observed {observed} ({why})",
    )


def rule_broken(rule: str, what: str) -> Mismatch:
    return Mismatch(field=rule, expected="the policy", observed=what, message=f"{rule} violated: {what}")


def unique(mismatches: list[Mismatch]) -> list[Mismatch]:
    seen: set[str] = set()
    out: list[Mismatch] = []
    for mismatch in mismatches:
        if mismatch.message not in seen:
            seen.add(mismatch.message)
            out.append(mismatch)
    return out


def _summary(run: DrillRun, spec: Spec) -> DrillSummary:
    calls = [
        DrillCall(
            outcome=c.outcome,
            elapsed_ms=round(c.elapsed * 1000, 2),
            deadline_ms=round(c.deadline * 1000, 2),
            attempts=[_attempt(a) for a in c.attempts],
            server_attempts=len(run.served[i]),
            server_fallback_attempts=len(run.served_fallback[i]),
        )
        for i, c in enumerate(run.calls)
    ]
    earlier = [
        DrillRound(
            time_scale=e.scale,
            scheduling_latency_ms=_ms(e.lateness),
            failures=[m.message for m in drill_mismatches(e, spec)],
        )
        for e in run.earlier
    ]
    return DrillSummary(
        time_scale=run.scale,
        repeat=len(run.calls),
        calls=calls,
        fallback_target=run.fallback_target,
        scheduling_latency_ms=_ms(run.lateness),
        slack_ms=_ms(timing_slack(run, spec)),
        earlier=earlier,
    )


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _attempt(attempt: PolicyAttempt) -> DrillAttempt:
    seen = attempt.observation
    return DrillAttempt(
        target=attempt.target,
        number=attempt.number,
        started_ms=round(attempt.started * 1000, 2),
        status=seen.status,
        transport_error=seen.transport_error,
        class_=attempt.verdict.class_,
        decision=attempt.decision,
        pause_ms=round(attempt.sleep * 1000, 2) if attempt.sleep else None,
    )
