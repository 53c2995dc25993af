"""The one-screen terminal summary of a run."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from engine.results import CheckResult, Results

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
