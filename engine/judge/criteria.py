"""Judge the readiness criteria and the run's verdict from the judged checks and drills.

Evidence comes from three places, and each criterion names the source of every piece: checks
against the run's target (the provider's contract), drills on the built-in fault simulator (the
client's policy), and the repository (owners named in the table, fixtures tracked by git).

Checks against a simulator prove the spec, not a provider: they count for a criterion only when it
lists that target in `targets`. An http target that answers with runbook's own simulator header is
treated the same way: runbook would be judging itself.

Verdicts: ready (every criterion judged and met) · not_ready (something failed or is not met) ·
partial (the selection left out evidence some criterion needs) · not_verified (nothing failed,
something could not be checked) · interrupted (the run was stopped early).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from engine.judge.results import (
    CheckResult,
    Counts,
    CriteriaCounts,
    CriterionResult,
    CriterionVerdict,
    Evidence,
    Summary,
    Verdict,
)
from engine.plan.build import DEFAULT_TARGET, TargetPlan, target_is_live
from engine.spec.models import REFERENCE_CLIENT, Criterion, Spec
from engine.spec.targets import SimulatorTarget


@dataclass(frozen=True)
class Gate:
    """What the evidence of one run counts for."""

    spec: Spec
    spec_path: str
    target: TargetPlan
    self_test: str | None = None  # why an http target is really runbook's simulator
    options: str = ""  # the run's --var options, for the commands suggested

    @property
    def real_targets(self) -> list[str]:
        return [name for name, t in self.spec.targets.items() if target_is_live(t)]

    def run_command(self, target: str | None = None) -> str:
        chosen = target or self.target.name
        target_option = "" if chosen == DEFAULT_TARGET else f" --target {chosen}"
        return f"runbook run {self.spec_path}{target_option}{self.options}"


@dataclass(frozen=True)
class Finding:
    kind: Literal["failed", "not_selected", "unverified"]
    reason: str
    next_step: str


ORDER = {"failed": 0, "not_selected": 1, "unverified": 2}


def judge_criteria(spec: Spec, items: Mapping[str, CheckResult], gate: Gate) -> tuple[CriterionResult, ...]:
    return tuple(judge_criterion(criterion, items, gate) for criterion in spec.criteria)


def judge_criterion(criterion: Criterion, items: Mapping[str, CheckResult], gate: Gate) -> CriterionResult:
    """met / not_met / not_verified, with every reason, the source of each piece of evidence, and what to do next."""
    findings = [*_required(criterion, items, gate), *_owners(criterion, gate.spec), *_fixtures(criterion, items, gate)]
    if criterion.pending:
        findings.append(Finding("unverified", f"not verifiable yet: {criterion.pending}", criterion.pending))
    findings = _unique(sorted(findings, key=lambda f: ORDER[f.kind]))
    kinds = {f.kind for f in findings}
    verdict: CriterionVerdict = "not_met" if "failed" in kinds else ("not_verified" if findings else "met")
    judged = "failed" in kinds or "not_selected" not in kinds  # a failure counts whatever was selected
    return CriterionResult(
        id=criterion.id,
        text=criterion.text,
        verdict=verdict,
        applicable=judged,
        decided_by=list(criterion.requires)
        + [f"owner:{c}" for c in criterion.owners_for]
        + [f"fixture:{c}" for c in criterion.fixtures_for],
        reasons=[f.reason for f in findings],
        evidence=list(_evidence(criterion, items, gate)),
        next_step=findings[0].next_step if findings else None,
    )


def _required(criterion: Criterion, items: Mapping[str, CheckResult], gate: Gate) -> Iterator[Finding]:
    wrong_target = target_reason(criterion, gate)
    needs_client = (criterion.client or gate.spec.drill_settings.client) == "required"
    for ref in criterion.requires:
        result, kind = items.get(ref), "drill" if ref.startswith("drill:") else "check"
        name = ref.removeprefix("drill:")
        if result is None or not result.selected:
            yield Finding("not_selected", f"{kind} {name} was not selected in this run", gate.run_command())
        elif result.status == "failed":
            yield Finding(
                "failed", f"{kind} {name} failed", f"fix what {kind} {name} reports, then: {gate.run_command()}"
            )
        elif result.status in ("error", "skipped"):
            reason = (result.reason or "").removeprefix("not run: ")
            capped = "(limits." in reason
            yield Finding(
                "unverified",
                f"{kind} {name} did not run" + (f": {reason}" if reason else ""),
                f"raise the cap (limits in the spec, or --max-requests / --max-tokens), then: {gate.run_command()}"
                if capped
                else f"make {kind} {name} runnable, then: {gate.run_command()}",
            )
        elif kind == "check" and wrong_target:
            yield Finding("unverified", wrong_target, _target_step(criterion, gate))
        elif kind == "drill" and needs_client and result.drill is not None and result.drill.client == REFERENCE_CLIENT:
            yield Finding(
                "unverified",
                "its drills must exercise a client under test, not runbook's reference client",
                _client_step(gate),
            )


def target_reason(criterion: Criterion, gate: Gate) -> str | None:
    """Why checks of this run do not count for the criterion, if they do not."""
    target = gate.target
    if criterion.targets:
        if target.name not in criterion.targets:
            return f"its checks count only against target {', '.join(criterion.targets)}; this run used {target.name}"
        simulated = [t for t in criterion.targets if isinstance(gate.spec.targets.get(t), SimulatorTarget)]
        return gate.self_test if gate.self_test and not simulated else None
    if gate.self_test:
        return gate.self_test
    if not target.live:
        return (
            f"checks against the simulator ({target.name}) prove the spec, not the provider; "
            f"run against a real target, or list {target.name} in this criterion's targets"
        )
    return None


def _target_step(criterion: Criterion, gate: Gate) -> str:
    if gate.self_test:
        return f"point target {gate.target.name} at the provider itself, not at runbook's simulator"
    candidates = [t for t in (criterion.targets or gate.real_targets) if t in gate.real_targets]
    if not candidates:
        return f"list {gate.target.name} in the criterion's targets, or add a real target to the spec"
    return gate.run_command(candidates[0])


def _client_step(gate: Gate) -> str:
    names = list(gate.spec.clients)
    if not names:
        return "declare your client under `clients:` in the spec, then run it with --client NAME"
    return f"{gate.run_command()} --client {names[0]}"


def _owners(criterion: Criterion, spec: Spec) -> Iterator[Finding]:
    for name in criterion.owners_for:
        rules = [rule for rule in spec.classification if rule.class_ == name]
        if not rules:
            yield Finding(
                "failed", f"no classification rule yields class {name}", f"add a rule for class {name} with an owner"
            )
        for rule in rules:
            if not rule.owner:
                yield Finding(
                    "failed", f"rule {rule.id} (class {name}) names no owner", f"name an owner on rule {rule.id}"
                )


def _fixtures(criterion: Criterion, items: Mapping[str, CheckResult], gate: Gate) -> Iterator[Finding]:
    record = f"{gate.run_command(_fixture_target(gate))} --update-fixtures"
    wrong_target = target_reason(criterion, gate)
    if wrong_target and criterion.fixtures_for:  # a simulator's answer proves nothing about the provider's shape
        yield Finding("unverified", wrong_target, _target_step(criterion, gate))
        return
    for check_id in criterion.fixtures_for:
        result = items.get(check_id)
        fixture = result.fixture if result is not None else None
        if result is None or not result.selected:
            yield Finding(
                "not_selected",
                f"check {check_id} was not selected, so its fixture was not compared",
                gate.run_command(),
            )
        elif fixture is None:
            yield Finding(
                "unverified", f"the fixture of {check_id} was not compared (the check did not run)", gate.run_command()
            )
        elif fixture.status == "missing":
            yield Finding(
                "failed",
                f"no fixture checked in for {check_id} ({fixture.path})",
                f"record it: {record}, then commit {fixture.path}",
            )
        elif fixture.status == "updated":
            yield Finding(
                "failed",
                f"the fixture of {check_id} was written by this run (--update-fixtures): "
                "a run cannot judge the fixtures it wrote itself",
                f"commit {fixture.path}, then run again without --update-fixtures",
            )
        elif fixture.status == "drift":
            yield Finding(
                "failed",
                f"{check_id} drifted from its fixture {fixture.path}",
                f"review the drift; if the provider changed on purpose: {record}",
            )
        elif fixture.git not in (None, "committed"):
            yield Finding(
                "failed",
                f"the fixture {fixture.path} is not checked in (git: {fixture.git.replace('_', ' ')})",
                f"git add {fixture.path} && git commit",
            )


def _fixture_target(gate: Gate) -> str | None:
    if gate.target.live:
        return gate.target.name
    return gate.real_targets[0] if gate.real_targets else None


def _evidence(criterion: Criterion, items: Mapping[str, CheckResult], gate: Gate) -> Iterator[Evidence]:
    for ref in criterion.requires:
        result = items.get(ref)
        status = (result.status if result.selected else "not selected") if result is not None else "not selected"
        yield Evidence(ref=ref, status=status, source=evidence_source(ref, result, gate))
    for name in criterion.owners_for:
        owned = all(rule.owner for rule in gate.spec.classification if rule.class_ == name)
        yield Evidence(
            ref=f"owner:{name}", status="met" if owned else "not_met", source="the spec's classification table"
        )
    for check_id in criterion.fixtures_for:
        result = items.get(check_id)
        fixture = result.fixture if result is not None else None
        where = (
            f"repository: {fixture.path}" + (f" (git: {fixture.git})" if fixture.git else " (not in a git work tree)")
            if fixture
            else "repository"
        )
        yield Evidence(ref=f"fixture:{check_id}", status=fixture.status if fixture else "not compared", source=where)


def evidence_source(ref: str, result: CheckResult | None, gate: Gate) -> str:
    if ref.startswith("drill:"):
        drill = result.drill if result is not None else None
        scale = drill.time_scale if drill is not None else gate.spec.drill_settings.time_scale
        client = drill.client if drill is not None else REFERENCE_CLIENT
        who = "reference client" if client == REFERENCE_CLIENT else f"client {client}"
        return f"the built-in fault simulator at time scale {scale:g}, {who}"
    return target_source(gate.target, gate.self_test)


def target_source(target: TargetPlan, self_test: str | None, base_url: str | None = None) -> str:
    """'target live (cometapi-live)': where the checks of a run were sent."""
    where = "the built-in simulator" if target.kind == "simulator" else target.alias
    if base_url and target.live:
        where += f", {base_url}"
    return f"target {target.name} ({where})" + (" — runbook's own simulator" if self_test else "")


def _unique(findings: list[Finding]) -> list[Finding]:
    """The first finding of each reason (two required checks against the wrong target give one)."""
    first: dict[str, Finding] = {}
    for finding in findings:
        first.setdefault(finding.reason, finding)
    return list(first.values())


def _counts(items: Sequence[CheckResult]) -> Counts:
    statuses = [c.status for c in items]
    return Counts(
        total=len(items),
        passed=statuses.count("passed"),
        failed=statuses.count("failed"),
        error=statuses.count("error"),
        skipped=statuses.count("skipped"),
    )


def summarize(
    checks: Sequence[CheckResult],
    drills: Sequence[CheckResult],
    criteria: Sequence[CriterionResult],
    interrupted: str | None = None,
    limited: str | None = None,
) -> Summary:
    """The verdict: ready only when every criterion was judged and met and nothing selected failed or was skipped."""
    applicable = [c for c in criteria if c.applicable]
    verdicts = [c.verdict for c in applicable]
    board = CriteriaCounts(
        total=len(criteria),
        not_applicable=len(criteria) - len(applicable),
        met=verdicts.count("met"),
        not_met=verdicts.count("not_met"),
        not_verified=verdicts.count("not_verified"),
    )
    selected = [item for item in (*checks, *drills) if item.selected]
    notes = [] if criteria else ["the spec defines no readiness criteria, so nothing can be called ready"]
    if limited:
        not_run = sum(1 for item in selected if item.status == "skipped" and limited in (item.reason or ""))
        notes.append(f"the run stopped sending: {limited}; {not_run} item(s) did not run, so no readiness is claimed")
    verdict: Verdict
    if interrupted:
        verdict = "interrupted"
        notes.append(f"the run was stopped by {interrupted}; what finished is reported, the rest did not run")
    elif any(item.status == "failed" for item in selected) or board.not_met:
        verdict = "not_ready"
    elif board.not_applicable:
        verdict = "partial"
    elif limited or not criteria or board.not_verified or any(item.status in ("error", "skipped") for item in selected):
        verdict = "not_verified"
    else:
        verdict = "ready"
    return Summary(
        verdict=verdict,
        checks=_counts(checks),
        drills=_counts(drills),
        criteria=board,
        notes=notes,
        blocking=[c.id for c in criteria if c.verdict != "met"],
        interrupted=interrupted,
        limited=limited,
    )
