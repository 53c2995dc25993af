"""The one-screen terminal summary of a run."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from engine.judge.evidence import summarize_body
from engine.judge.results import CheckResult, DrillCall, Results
from engine.plan.build import Plan, Step, worst_case_attempts
from engine.run.observation import Observation
from engine.spec.durations import format_duration, format_rate
from engine.spec.models import Check

_MARK = {
    "passed": "PASS",
    "failed": "FAIL",
    "error": "ERR ",
    "skipped": "SKIP",
    "met": "met",
    "not_met": "NOT MET",
    "not_verified": "not verified",
}
_VERDICT = {
    "ready": "READY for controlled production traffic",
    "not_ready": "NOT READY",
    "not_verified": "NOT VERIFIED (nothing failed, but some criteria could not be checked)",
    "partial": "PARTIAL (the selection left out evidence some criteria need; no readiness is claimed)",
    "interrupted": "INTERRUPTED (stopped before the end; what finished is reported, no readiness is claimed)",
}


def summary_lines(results: Results, written: Sequence[Path], verbose: bool = False) -> list[str]:
    """The one-screen summary; `verbose` adds, under each failed or errored item, what it saw and why."""
    lines = [
        f"runbook {results.tool['version']} · {results.spec.name} · target {results.target.name} "
        f"({results.target.base_url}) · {results.selection} · {results.duration_ms / 1000:.2f}s",
        "",
    ]
    lines += _item_lines(results.checks, verbose)
    if any(d.selected for d in results.drills):
        lines += ["", _drills_heading(results)]
        lines += _item_lines([d for d in results.drills if d.status in ("failed", "error")], verbose)
    lines += ["", "Readiness criteria:"]
    for criterion in results.criteria:
        why = f" — {criterion.reasons[0]}" if criterion.reasons else ""
        mark = _MARK[criterion.verdict] if criterion.applicable else "n/a"
        lines.append(f"  {mark:<12} {criterion.id}{why}")
    counts, drills = results.summary.checks, results.summary.drills
    board = results.summary.criteria
    tally = f"Checks: {counts.passed} passed, {counts.failed} failed, {counts.error} error, {counts.skipped} skipped · "
    if drills.total:
        tally += f"drills: {drills.passed} passed, {drills.failed} failed, {drills.skipped} skipped · "
    tally += f"criteria: {board.met} met, {board.not_met} not met, {board.not_verified} not verified"
    if board.not_applicable:
        tally += f", {board.not_applicable} not applicable"
    lines += ["", tally, *_sent_lines(results), *_evidence_lines(results), _verdict_line(results)]
    lines += [f"  note: {note}" for note in results.summary.notes]
    lines += [f"  warning: {warning}" for warning in results.warnings]
    lines += _blocking_lines(results)
    return lines + _report_lines(written)


def quiet_lines(results: Results, written: Sequence[Path]) -> list[str]:
    """`run --quiet`: only the verdict, its notes and the reports written."""
    return [_verdict_line(results), *(f"  note: {note}" for note in results.summary.notes), *_report_lines(written)]


def _report_lines(written: Sequence[Path]) -> list[str]:
    return ["Reports:", *(f"  {path}" for path in written)] if written else []


def _caps(max_requests: int | None, max_tokens: int | None, rate: float | None) -> list[str]:
    return [
        *([f"{max_requests} requests"] if max_requests is not None else []),
        *([f"{max_tokens} requested tokens"] if max_tokens is not None else []),
        *([f"{format_rate(rate)} to the target"] if rate is not None else []),
    ]


def _sent_lines(results: Results) -> list[str]:
    """What the run sent, against its caps (only when it had caps)."""
    sent = results.sent
    caps = _caps(sent.max_requests, sent.max_requested_tokens, sent.rate_per_second)
    if not caps:
        return []
    return [f"Sent: {sent.requests} request(s), {sent.requested_tokens} requested token(s) · caps: {', '.join(caps)}"]


def _drills_heading(results: Results) -> str:
    drills = results.summary.drills
    scale = results.contract.get("drill_time_scale")
    selected = [d for d in results.drills if d.selected]
    not_run = [d for d in selected if d.status == "skipped"]
    slower = [d for d in selected if d.drill is not None and d.drill.earlier]
    if results.client != "reference":
        scale = ", ".join(sorted({f"{d.drill.time_scale:g}" for d in selected if d.drill is not None})) or scale
    text = (
        f"Drills (the {'policy' if results.client == 'reference' else f'client {results.client}'} under scripted "
        f"faults on the built-in fault simulator, time scale {scale}): {drills.passed} of {len(selected)} selected passed"
    )
    if drills.failed or drills.error:
        text += f", {drills.failed + drills.error} failed (below)"
    if not_run:
        text += f", {len(not_run)} not run ({not_run[0].reason})"
    if slower:
        text += f", {len(slower)} run again slower because the machine was busy"
    return text + "; every attempt and decision is in the report"


def _item_lines(items: Sequence[CheckResult], verbose: bool = False) -> list[str]:
    width = max((len(item.id) for item in items), default=10)
    lines = [_check_line(item, width) for item in items]
    for item in items:
        lines += [f"    {item.id}: {m.message}" for m in item.mismatches]
        if item.reason and item.selected and item.status in ("error", "skipped"):
            lines.append(f"    {item.id}: {item.reason}")
        if verbose and item.status in ("failed", "error"):
            lines += [f"    {item.id}: {text}" for text in _details(item)]
    return lines


def _details(item: CheckResult) -> Iterator[str]:
    """--verbose: what a failed or errored item saw beyond its mismatches: the answer, the rule that
    classified it, and for a drill every call and attempt."""
    if item.reason and item.status == "failed":
        yield item.reason
    if item.observed is not None:
        yield "observed " + _observed(item.observed)
        if item.observed.body_excerpt:
            yield f"body: {item.observed.body_excerpt}"
    if item.rule:
        owner = f", owner {item.owner}" if item.owner else ""
        yield (
            f"classified by rule {item.rule}: class {item.class_}, retry {item.retry}, "
            f"fallback {item.fallback}, action {item.action}{owner}"
        )
    for number, call in enumerate(item.drill.calls if item.drill else [], 1):
        yield from _call_details(number, call)


def _observed(seen: Observation) -> str:
    """`200 in 3ms, parser ok, content-type application/json, ...`: the answer, without its content."""
    head = str(seen.status) if seen.status is not None else f"transport error {seen.transport_error}"
    head += f" ({seen.transport_detail})" if seen.transport_detail else ""
    parts = [f"{head} in {seen.elapsed_ms:.0f}ms", f"parser {seen.parser}"]
    parts += [f"content-type {seen.content_type}"] if seen.content_type else []
    parts += [f"error type {seen.error_type}"] if seen.error_type else []
    parts += [f"error code {seen.error_code}"] if seen.error_code else []
    parts += [f"message {seen.error_message!r}"] if seen.error_message else []
    parts += [f"request id {seen.request_id}"] if seen.request_id else []
    return ", ".join(parts)


def _call_details(number: int, call: DrillCall) -> Iterator[str]:
    fallback = f", {call.server_fallback_attempts} on the fallback" if call.server_fallback_attempts else ""
    yield (
        f"call {number}: {call.outcome} in {call.elapsed_ms:.0f}ms (deadline {call.deadline_ms:.0f}ms); "
        f"the simulator saw {call.server_attempts} attempt(s){fallback}"
    )
    for attempt in call.attempts:
        seen = attempt.status if attempt.status is not None else attempt.transport_error
        yield (
            f"  attempt {attempt.number} ({attempt.target}) at {attempt.started_ms:.0f}ms: {seen} "
            f"→ {attempt.class_}, {attempt.decision}"
        )
    report = call.client
    if report is not None:
        said = ", ".join(
            f"{name} {value}"
            for name, value in (
                ("exit", report.exit_code),
                ("outcome", report.outcome),
                ("served by", report.served_by),
                ("error", report.error),
                ("problem", report.problem),
            )
            if value is not None
        )
        yield f"  client: {said or 'nothing reported'}" + (f"; stderr: {report.stderr}" if report.stderr else "")


def _verdict_line(results: Results) -> str:
    verdict = _VERDICT[results.summary.verdict]
    return f"Verdict: {verdict}" + ("" if results.selection == "all checks" else f" ({results.selection})")


def _evidence_lines(results: Results) -> list[str]:
    return [f"Evidence: {kind} from {source}" for kind, source in results.evidence_sources.items()]


def _blocking_lines(results: Results) -> list[str]:
    """Which criteria keep the verdict from READY, and the one step that would move each."""
    blocking = [c for c in results.criteria if c.id in results.summary.blocking]
    if not blocking:
        return []
    lines = ["Blocking readiness:"]
    for criterion in blocking:
        lines.append(f"  {criterion.id}: {criterion.reasons[0] if criterion.reasons else criterion.verdict}")
        if criterion.next_step:
            lines.append(f"    next: {criterion.next_step}")
    return lines


def _check_line(check: CheckResult, width: int) -> str:
    observed = check.observed
    if not check.selected:
        return f"  {_MARK[check.status]} {check.id:<{width}}  {check.reason}"
    if observed is None:
        seen = "not run"
    else:
        seen = str(observed.status) if observed.status is not None else observed.transport_error or "?"
        seen += f" {observed.elapsed_ms:.0f}ms"
        if check.drill is not None:
            call = check.drill.calls[-1]
            seen = f"{sum(a.target == 'primary' for a in call.attempts)}x → {call.outcome}"
    outcome = (
        f"{check.class_} · retry {check.retry} · fallback {check.fallback} · {check.action}" if check.class_ else ""
    )
    return f"  {_MARK[check.status]} {check.id:<{width}}  {seen:<12} {outcome}"


def plan_lines(plan: Plan, concurrency: int = 1) -> list[str]:
    """What a run would send, with secrets shown as references. Nothing is sent."""
    target = plan.target
    base = target.base_url or "http://127.0.0.1:<ephemeral port> (built-in simulator, started by run)"
    lines = [
        f"plan · {plan.spec.name} · target {target.name} ({target.kind}) · {plan.selection.describe()}",
        f"base URL: {base}",
        "",
    ]
    for number, step in enumerate(plan.steps, 1):
        lines += _step_lines(number, step)
    lines += [f"  not selected: {check_id} ({why.removeprefix('not selected: ')})" for check_id, why in plan.skipped]
    if plan.drills:
        lines += [
            "",
            f"drills: {len(plan.drills)} on the built-in fault simulator (whatever the target), reference client, "
            f"time scale {plan.spec.drill_settings.time_scale:g}"
            + (f"; fallback goes to target {plan.spec.policy.fallback.to}" if plan.spec.policy.fallback.to else ""),
        ]
    lines += _environment_lines(plan)
    worst = sum(step.timeouts.deadline for step in plan.steps) / max(1, concurrency)
    lines += [
        "",
        f"budget: {len(plan.steps)} request(s) to the target, one attempt each, at most {concurrency} in flight; "
        f"worst case {format_duration(worst) if worst else '0s'} if every request runs to its deadline",
        *_limit_lines(plan),
        "nothing was sent",
    ]
    return lines


def _limit_lines(plan: Plan) -> list[str]:
    """The drills' worst case, the run's caps, and whether the caps would stop it."""
    attempts = sum(worst_case_attempts(plan, step) for step in plan.drills)
    lines = [f"drills: at most {attempts} attempt(s) on the fault simulator (retries and fallbacks included)"]
    limits = plan.limits
    if not plan.drills:
        lines = []
    if not limits.any:
        return [*lines, "caps: none (limits, --max-requests, --max-tokens, --rate)"]
    caps = _caps(limits.max_requests, limits.max_requested_tokens, limits.rate)
    lines.append(f"caps: {', '.join(caps)}")
    total = len(plan.steps) + attempts
    if limits.max_requests is not None and total > limits.max_requests:
        lines.append(
            f"  warning: up to {total} request(s) are planned; the run stops sending at {limits.max_requests} "
            "and reports the rest as not run (never ready)"
        )
    return lines


def _environment_lines(plan: Plan) -> list[str]:
    """Each declared environment variable (set or not, what reads it) and where the secret goes."""
    lines = ["", "environment (declared under env:; values are never shown):"]
    for read in plan.environment:
        kind = "secret, " if read.secret else ""
        lines.append(f"  {read.name} ({kind}{'set' if read.set else 'not set'}): {read.read}")
    if not plan.environment:
        lines.append("  none: this spec reads nothing from the environment")
    route = plan.secret_route
    if route is not None and route.warning():
        lines.append(f"  warning: {route.warning()}")
    return lines


def _step_lines(number: int, step: Step[Check]) -> list[str]:
    timeouts = step.timeouts
    headers = {"content-type": "application/json"} if step.body is not None else {}
    headers.update(step.headers)
    if step.auth.mode != "none":
        headers[step.auth.header] = step.auth.describe()
    return [
        f"{number:>3}. {step.check.id}  [{', '.join(step.check.tags) or 'no tags'}]",
        f"     {step.method} {step.path}",
        *(f"     {name}: {value}" for name, value in headers.items()),
        *(["     (no auth header: this check sends none)"] if step.auth.mode == "none" else []),
        f"     body: {summarize_body(step.body)}",
        f"     timeouts: connect {format_duration(timeouts.connect)}, read {format_duration(timeouts.read)}, "
        f"deadline {format_duration(timeouts.deadline)}; response capped at {step.max_response_bytes} bytes",
    ]
