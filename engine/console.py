"""The one-screen terminal summary of a run."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from engine.evidence import summarize_body
from engine.plan import Plan, Step
from engine.results import CheckResult, Results
from engine.spec.durations import format_duration

_MARK = {"passed": "PASS", "failed": "FAIL", "error": "ERR ", "skipped": "SKIP",
         "met": "met", "not_met": "NOT MET", "not_verified": "not verified"}
_VERDICT = {"ready": "READY for controlled production traffic",
            "not_ready": "NOT READY",
            "not_verified": "NOT VERIFIED (nothing failed, but some criteria could not be checked)"}


def summary_lines(results: Results, written: Sequence[Path]) -> list[str]:
    lines = [f"runbook {results.tool['version']} · {results.spec.name} · target {results.target.name} "
             f"({results.target.base_url}) · {results.selection} · {results.duration_ms / 1000:.2f}s", ""]
    width = max((len(c.id) for c in results.checks), default=10)
    lines += [_check_line(check, width) for check in results.checks]
    for check in results.checks:
        lines += [f"    {check.id}: {m.message}" for m in check.mismatches]
        if check.reason and check.selected and check.status in ("error", "skipped"):
            lines.append(f"    {check.id}: {check.reason}")
    lines += ["", "Readiness criteria:"]
    for criterion in results.criteria:
        why = f" — {criterion.reasons[0]}" if criterion.reasons else ""
        mark = _MARK[criterion.verdict] if criterion.applicable else "n/a"
        lines.append(f"  {mark:<12} {criterion.id}{why}")
    counts = results.summary.checks
    board = results.summary.criteria
    lines += ["", f"Checks: {counts.passed} passed, {counts.failed} failed, {counts.error} error, {counts.skipped} skipped · "
              f"criteria: {board.met} met, {board.not_met} not met, {board.not_verified} not verified"
              + (f", {board.not_applicable} not applicable" if board.not_applicable else ""),
              _verdict_line(results)]
    lines += [f"  note: {note}" for note in results.summary.notes]
    if written:
        lines += ["Reports:"] + [f"  {path}" for path in written]
    return lines


def _verdict_line(results: Results) -> str:
    verdict = results.summary.verdict
    if results.selection == "all checks":
        return f"Verdict: {_VERDICT[verdict]}"
    if verdict == "ready":
        return f"Verdict: selected checks PASSED ({results.selection}); a readiness verdict needs a full run"
    return f"Verdict: {_VERDICT[verdict]} ({results.selection})"


def _check_line(check: CheckResult, width: int) -> str:
    observed = check.observed
    if not check.selected:
        return f"  {_MARK[check.status]} {check.id:<{width}}  {check.reason}"
    if observed is None:
        seen = "not run"
    else:
        seen = str(observed.status) if observed.status is not None else observed.transport_error or "?"
        seen += f" {observed.elapsed_ms:.0f}ms"
    outcome = f"{check.class_} · retry {check.retry} · fallback {check.fallback} · {check.action}" if check.class_ else ""
    return f"  {_MARK[check.status]} {check.id:<{width}}  {seen:<12} {outcome}"


def plan_lines(plan: Plan, concurrency: int = 1) -> list[str]:
    """What a run would send, with secrets shown as references. Nothing is sent."""
    target = plan.target
    base = target.base_url or "http://127.0.0.1:<ephemeral port> (built-in simulator, started by run)"
    lines = [f"plan · {plan.spec.name} · target {target.name} ({target.kind}) · {plan.selection.describe()}",
             f"base URL: {base}", ""]
    for number, step in enumerate(plan.steps, 1):
        lines += _step_lines(number, step)
    lines += [f"  not selected: {check_id} ({why.removeprefix('not selected: ')})" for check_id, why in plan.skipped]
    worst = sum(step.timeouts.deadline for step in plan.steps) / max(1, concurrency)
    lines += ["", f"budget: {len(plan.steps)} request(s), one attempt each, at most {concurrency} in flight; "
              f"worst case {format_duration(worst) if worst else '0s'} if every request runs to its deadline",
              "nothing was sent"]
    return lines


def _step_lines(number: int, step: Step) -> list[str]:
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
