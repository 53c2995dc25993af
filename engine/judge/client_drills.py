"""Judge a client under test from the wire: the fault simulator's log of each call, against the policy.

runbook cannot see what the client parsed or decided, only what arrived and what was sent back. So
every attempt is classified as what the simulator sent (engine.judge.sent), and the client's own
report is checked against it: a client that reports success when no complete answer was ever sent
is in the source document's dangerous state, "a partial answer looked complete".
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.judge.drills import (
    LATENCY_FACTOR,
    _first_gap,
    drill_heading,
    expectation_missed,
    pause_violations,
    rule_broken,
    timing_slack,
    unique,
)
from engine.judge.results import (
    CheckResult,
    ClientReport,
    DrillAttempt,
    DrillCall,
    DrillSummary,
    Mismatch,
    classified,
)
from engine.judge.sent import BROKEN_STREAMS, answered_step, sent_observation
from engine.run.client_drills import CANNOT_START, HUNG
from engine.run.drills import ClientCall, DrillRun, fault_steps
from engine.sim.faults import FaultStep, ServedAttempt
from engine.spec.backoff import backoff_window
from engine.spec.classify import Classification, classify
from engine.spec.models import Spec
from engine.spec.values import NEVER_FALL_BACK_ACTIONS

EXIT_SLACK = 0.05  # share of the deadline a client process may take to exit after its last attempt
CLIENT_NOISE = 0.08  # seconds: process scheduling noise a constant pause may show across calls
JITTER_SPREAD = 0.3  # share of the first backoff window that jittered pauses must spread over


class _Call:
    """One call as the wire saw it: what arrived where, what was sent back, and what the client said."""

    def __init__(self, run: DrillRun, index: int, spec: Spec):
        drill = run.step.drill
        self.process: ClientCall = run.client_calls[index]
        self.primary: tuple[ServedAttempt, ...] = run.served[index]
        self.fallback: tuple[ServedAttempt, ...] = run.served_fallback[index]
        self.steps = fault_steps(drill.faults, run.scale, spec.drill_simulator)
        fallback_steps = fault_steps(drill.fallback_faults, run.scale, spec.drill_simulator)
        self.sent = [answered_step(self.steps, k) for k in range(len(self.primary))]
        self.sent_fallback = [answered_step(fallback_steps, k) for k in range(len(self.fallback))]
        self.verdicts = [classify(sent_observation(step), spec.classification) for step in self.sent]
        self.fallback_verdicts = [classify(sent_observation(s), spec.classification) for s in self.sent_fallback]
        self.label = f" (call {index + 1})" if drill.repeat > 1 or len(run.client_calls) > 1 else ""
        self.scripted = drill.primary == "scripted"

    @property
    def reported(self) -> str | None:
        return self.process.report["outcome"] if self.process.report and not self.process.problem else None

    @property
    def outcome(self) -> str:
        if self.reported == "success" and self.fallback:
            return "fell_back"
        return self.reported or "broken contract"

    @property
    def first_arrival(self) -> float | None:
        """When the call began on the wire; for a primary the simulator cannot log (closed port, no DNS),
        when the client started: its attempts there left no trace."""
        if not self.scripted:
            return self.process.started
        arrivals = [a.arrived for a in (*self.primary, *self.fallback)]
        return min(arrivals) if arrivals else None

    def elapsed(self) -> float:
        start = self.first_arrival if self.first_arrival is not None else self.process.started
        return self.process.ended - start


def judge_client_drill(run: DrillRun, spec: Spec) -> CheckResult:
    drill = run.step.drill
    common = drill_heading(drill)
    if run.not_run:
        return CheckResult(**common, status="skipped", reason=run.not_run)
    calls = [_Call(run, index, spec) for index in range(len(run.client_calls))]
    summary = _summary(run, calls, spec)
    unstartable = [c.process.problem for c in calls if (c.process.problem or "").startswith(CANNOT_START)]
    if unstartable and len(unstartable) == len(calls):
        return CheckResult(**common, status="error", reason=unstartable[0], drill=summary)
    mismatches = unique(
        [m for call in calls for m in _call_mismatches(call, run, spec)] + list(_jitter(run, calls, spec))
    )
    last = next((c.verdicts[-1] for c in reversed(calls) if c.verdicts), None)
    return CheckResult(
        **common,
        status="failed" if mismatches else "passed",
        mismatches=mismatches,
        drill=summary,
        **classified(last),
    )


def _call_mismatches(call: _Call, run: DrillRun, spec: Spec) -> Iterator[Mismatch]:
    if call.process.problem:
        yield Mismatch(
            field="client",
            expected="the client contract",
            observed=call.process.problem,
            message=f"client{call.label}: {call.process.problem}",
        )
    yield from _expectations(call, run, spec)
    yield from _dangerous_success(call)
    yield from _policy(call, run, spec)


def _expectations(call: _Call, run: DrillRun, spec: Spec) -> Iterator[Mismatch]:
    expect, label = run.step.drill.expect, call.label
    if expect.attempts is not None and run.step.drill.primary == "scripted" and len(call.primary) != expect.attempts:
        yield expectation_missed(
            "attempts",
            expect.attempts,
            len(call.primary),
            label,
            f"the simulator's log; policy.retry.max_attempts is {spec.policy.retry.max_attempts}",
        )
    if expect.outcome is not None and call.reported is not None and call.outcome != expect.outcome:
        yield expectation_missed("outcome", expect.outcome, call.outcome, label, _report_text(call.process))
    if expect.fallback_used is not None and bool(call.fallback) != expect.fallback_used:
        yield expectation_missed(
            "fallback_used",
            expect.fallback_used,
            bool(call.fallback),
            label,
            f"target {run.fallback_target} received {len(call.fallback)} attempt(s)",
        )
    last = call.verdicts[-1] if call.verdicts else None
    if expect.class_ is not None and last is not None and last.class_ != expect.class_:
        yield expectation_missed("class", expect.class_, last.class_, label, f"rule {last.rule}, of what was sent last")
    within = _within_deadline(call, run, spec)
    if expect.within_deadline is not None and within != expect.within_deadline:
        yield expectation_missed(
            "within_deadline",
            expect.within_deadline,
            within,
            label,
            f"{call.elapsed() * 1000:.0f}ms from {_start_text(call)} to the client's exit, "
            f"against a {call.process.deadline * 1000:.0f}ms deadline",
        )


def _dangerous_success(call: _Call) -> Iterator[Mismatch]:
    """A success reported when nothing usable was ever sent: the partial answer that looked complete."""
    if call.reported != "success" or any(v.is_success for v in (*call.verdicts, *call.fallback_verdicts)):
        return
    kinds = [
        step.kind if step.kind != "status" else f"status {step.status}" for step in (*call.sent, *call.sent_fallback)
    ]
    broken = [kind for kind in kinds if kind in BROKEN_STREAMS]
    what = (
        f"the simulator sent a broken stream ({', '.join(broken)})"
        if broken
        else f"the simulator never sent a complete answer (it sent: {', '.join(kinds) or 'nothing'})"
    )
    yield Mismatch(
        field="partial_answer",
        expected="a failure, or a marked partial answer",
        observed="success",
        message=f"partial answer looked complete{call.label}: {what}, and the client reported success",
    )


def _policy(call: _Call, run: DrillRun, spec: Spec) -> Iterator[Mismatch]:
    policy = spec.policy
    if len(call.primary) > policy.retry.max_attempts:
        yield rule_broken(
            "policy.retry.max_attempts",
            f"the simulator received {len(call.primary)} attempts, at most {policy.retry.max_attempts} allowed",
        )
    if policy.side_effects and len(call.primary) > 1:
        yield rule_broken("policy.side_effects", "a request with side effects was retried")
    for verdict, step in zip(call.verdicts[:-1], call.sent[:-1], strict=True):  # every attempt that was retried
        if verdict.retry == "no" and dict(step.headers).get("x-should-retry") != "true":
            yield rule_broken(
                f"classification.{verdict.rule}.retry",
                f"class {verdict.class_} was retried although its rule says retry: no",
            )
    yield from _fallback(call, run, spec)
    yield from pause_violations(call.primary, [sent_observation(s).hints for s in call.sent], run, spec)
    if not _within_deadline(call, run, spec):
        yield rule_broken(
            "deadline",
            f"{call.elapsed() * 1000:.0f}ms from {_start_text(call)} to the client's exit, "
            f"against a {call.process.deadline * 1000:.0f}ms deadline",
        )


def _fallback(call: _Call, run: DrillRun, spec: Spec) -> Iterator[Mismatch]:
    if not call.fallback:
        return
    yield from _fallback_in_time(call, run, spec)
    if not call.verdicts:
        return  # nothing the simulator sent on the primary to judge the fallback against
    last = call.verdicts[-1]
    if last.action in NEVER_FALL_BACK_ACTIONS:
        yield rule_broken(
            "fallback", f"fell back after class {last.class_} ({last.action}): the client's own faults never fall back"
        )
    if last.fallback == "no":
        yield rule_broken(
            f"classification.{last.rule}.fallback", f"fell back on class {last.class_}, whose rule says fallback: no"
        )
    if last.class_ in spec.policy.fallback.never_for:
        yield rule_broken("policy.fallback.never_for", f"fell back on class {last.class_}")


def _fallback_in_time(call: _Call, run: DrillRun, spec: Spec) -> Iterator[Mismatch]:
    fallback = spec.policy.fallback
    if spec.policy.side_effects:
        yield rule_broken("policy.side_effects", "a request with side effects was sent to the fallback target")
    used = call.fallback[0].arrived - (call.first_arrival or 0.0)
    left = call.process.deadline - used
    if left + timing_slack(run, spec) < fallback.only_if_remaining * run.scale:
        yield rule_broken(
            "policy.fallback.only_if_remaining",
            f"fell back with {left:.1f}s of the deadline left; the policy needs "
            f"{fallback.only_if_remaining * run.scale:g}s",
        )


def _start_text(call: _Call) -> str:
    if not call.scripted:
        return "the client's start"
    return "the first arrival" if call.primary or call.fallback else "the client's start (nothing arrived)"


def _within_deadline(call: _Call, run: DrillRun, spec: Spec) -> bool:
    """From the first arrival to the client's exit; a client killed at its timeout never made it."""
    if (call.process.problem or "").startswith(HUNG):
        return False
    if call.first_arrival is None:
        return True
    return call.elapsed() <= call.process.deadline + timing_slack(run, spec) + EXIT_SLACK * call.process.deadline


def _jitter(run: DrillRun, calls: list[_Call], spec: Spec) -> Iterator[Mismatch]:
    expect = run.step.drill.expect
    if expect.jittered is None:
        return
    gaps = [gap for index in range(len(calls)) if (gap := _first_gap(run, index)) is not None]
    # A process only ever adds delay to a pause, now and then a lot: the largest quarter of the pauses
    # is left out, and the rest must spread over 30% of the first window. Simulated with the noise a
    # loaded machine adds, twenty calls of full jitter fail that about once in 5,000 runs; a client
    # whose pauses are 0.75-1x of the backoff passes it about once in 50,000; a constant pause with
    # 50 ms of noise about once in 5,000. (Twelve calls at a fifth of the window passed the 0.75-1x
    # client in about one run in eight.)
    window = backoff_window(spec.policy.retry, 0, None, run.scale)
    threshold = max(JITTER_SPREAD * (window.high - window.low), CLIENT_NOISE, LATENCY_FACTOR * run.lateness)
    kept = sorted(gaps)[: len(gaps) - len(gaps) // 4]
    jittered = len(kept) >= 2 and kept[-1] - kept[0] > threshold
    if len(gaps) < 2 or jittered != expect.jittered:
        shown = ", ".join(f"{g * 1000:.0f}ms" for g in gaps) or "none"
        yield expectation_missed(
            "jittered",
            expect.jittered,
            jittered,
            "",
            f"first pauses seen by the simulator across {len(calls)} calls: {shown}",
        )


def _report_text(process: ClientCall) -> str:
    report = process.report or {}
    parts = [f"exit {process.exit_code}"] + [
        f"{key} {report[key]}" for key in ("served_by", "error") if report.get(key)
    ]
    return "the client reported: " + ", ".join(parts)


def _summary(run: DrillRun, calls: list[_Call], spec: Spec) -> DrillSummary:
    return DrillSummary(
        time_scale=run.scale,
        repeat=len(calls),
        client=run.client,
        fallback_target=run.fallback_target,
        calls=[_drill_call(call) for call in calls],
        slack_ms=round(timing_slack(run, spec) * 1000, 1),
        scheduling_latency_ms=round(run.lateness * 1000, 1),
    )


def _drill_call(call: _Call) -> DrillCall:
    process, report = call.process, call.process.report or {}
    start = call.first_arrival if call.first_arrival is not None else process.started
    attempts = [
        _attempt("primary", k, a, call.sent[k], call.verdicts[k], start, call.primary)
        for k, a in enumerate(call.primary)
    ]
    attempts += [
        _attempt("fallback", k, a, call.sent_fallback[k], call.fallback_verdicts[k], start, call.fallback)
        for k, a in enumerate(call.fallback)
    ]
    client = ClientReport(
        exit_code=process.exit_code,
        outcome=report.get("outcome"),
        served_by=report.get("served_by"),
        finish_reason=report.get("finish_reason"),
        error=report.get("error"),
        problem=process.problem,
        stderr=process.stderr,
    )
    return DrillCall(
        outcome=call.outcome,
        elapsed_ms=round(call.elapsed() * 1000, 1),
        deadline_ms=round(process.deadline * 1000, 1),
        attempts=attempts,
        server_attempts=len(call.primary),
        server_fallback_attempts=len(call.fallback),
        client=client,
    )


def _attempt(
    target: str,
    k: int,
    served: ServedAttempt,
    step: FaultStep,
    verdict: Classification,
    start: float,
    log: tuple[ServedAttempt, ...],
) -> DrillAttempt:
    sent = sent_observation(step)
    previous = log[k - 1] if k else None
    pause = served.arrived - previous.answered if previous is not None and previous.answered is not None else None
    kind = f"status {step.status}" if step.kind == "status" else step.kind
    return DrillAttempt(
        target=target,
        number=k + 1,
        started_ms=round((served.arrived - start) * 1000, 1),
        status=sent.status,
        transport_error=sent.transport_error,
        class_=verdict.class_,
        decision=f"the simulator sent {kind}",
        pause_ms=round(pause * 1000, 1) if pause is not None else None,
    )
