"""Assemble the results document from a run record and its evaluation."""

from __future__ import annotations

import shlex
from typing import Any

from engine import __version__
from engine.judge.checks import Evaluation
from engine.judge.criteria import target_source
from engine.judge.results import EnvironmentRead, Results, RuleRow, Sent, SpecFile, SpecRef, TargetRef
from engine.run.executor import RunRecord
from engine.spec.classify import describe_when
from engine.spec.durations import format_duration
from engine.spec.models import Rule, Spec


def assemble(record: RunRecord, evaluation: Evaluation) -> Results:
    plan = record.plan
    spec = plan.spec
    return Results(
        tool={"name": "runbook", "version": __version__},
        spec=SpecRef(
            name=spec.name,
            path=str(plan.spec_path),
            title=spec.title,
            files=[SpecFile(path=path, sha256=digest) for path, digest in plan.spec_files],
        ),
        target=TargetRef(
            name=plan.target.name,
            kind=plan.target.kind,
            base_url=record.base_url,
            self_test=evaluation.gate.self_test if evaluation.gate else None,
        ),
        selection=plan.selection.describe(),
        client=plan.client.name,
        contract=pinned_contract(spec, plan.target.alias),
        started=record.started.isoformat(timespec="milliseconds"),
        finished=record.finished.isoformat(timespec="milliseconds"),
        duration_ms=round((record.finished - record.started).total_seconds() * 1000, 1),
        summary=evaluation.summary,
        checks=list(evaluation.checks),
        drills=list(evaluation.drills),
        criteria=list(evaluation.criteria),
        classification=[rule_row(rule, plan.rule_locations.get(rule.id)) for rule in spec.classification],
        evidence_sources=evidence_sources(record, evaluation),
        environment=[EnvironmentRead(name=e.name, secret=e.secret, set=e.set, read=e.read) for e in plan.environment],
        sent=sent(record),
        warnings=[warning for warning in [plan.secret_route and plan.secret_route.warning()] if warning],
    )


def sent(record: RunRecord) -> Sent:
    budget, limits = record.budget, record.plan.limits
    return Sent(
        requests=budget.requests,
        requested_tokens=budget.tokens,
        max_requests=limits.max_requests,
        max_requested_tokens=limits.max_requested_tokens,
        rate_per_second=limits.rate,
    )


def evidence_sources(record: RunRecord, evaluation: Evaluation) -> dict[str, str]:
    """Where each kind of evidence in this run came from."""
    plan = record.plan
    self_test = evaluation.gate.self_test if evaluation.gate else None
    sources = {"checks": target_source(plan.target, self_test, record.base_url)}
    if record.drills:
        scales = sorted({run.scale for run in record.drills if not run.not_run})
        client = plan.client
        how = shlex.join(client.command) if client.adapter == "command" else f"adapter {client.adapter}"
        who = "reference client" if client.is_reference else f"client {client.name} ({how})"
        sources["drills"] = f"the built-in fault simulator, {who}, time scale " + ", ".join(
            f"{scale:g}" for scale in scales or [plan.spec.drill_settings.time_scale]
        )
    if any(step.check.fixture for step in plan.steps):
        sources["fixtures"] = f"the repository, next to {plan.spec_path.name} ({plan.spec.fixtures_dir}/)"
    return sources


def pinned_contract(spec: Spec, base_url_alias: str) -> dict[str, Any]:
    """The values the source document asks to pin, as printed at the top of every report."""
    contract = spec.contract
    timeouts = contract.timeouts
    return {
        "docs": contract.docs,
        "accessed": contract.accessed.isoformat(),
        "base_url": base_url_alias,
        "path": contract.path,
        **({"query": dict(contract.query)} if contract.query else {}),
        "auth": f"{contract.auth.scheme} via {contract.auth.header} header, secret ${contract.auth.secret}",
        "model": contract.model,
        "streaming": contract.streaming,
        "timeouts": {name: format_duration(getattr(timeouts, name)) for name in ("connect", "read", "deadline")},
        "policy_version": contract.policy_version,
        "policy": describe_policy(spec),
        "drill_time_scale": spec.drill_settings.time_scale,
        "required_response_fields": list(contract.response.require),
    }


def rule_row(rule: Rule, where: str | None = None) -> RuleRow:
    return RuleRow(
        id=rule.id,
        when=describe_when(rule.when),
        class_=rule.class_,
        retry=rule.retry,
        fallback=rule.fallback,
        action=rule.action,
        owner=rule.owner,
        notes=rule.notes,
        where=where,
    )


def describe_policy(spec: Spec) -> dict[str, str]:
    """The declared retry and fallback policy in words (policy drills prove it)."""
    retry, fallback = spec.policy.retry, spec.policy.fallback
    retry_text = (
        f"at most {retry.max_attempts} attempts, {retry.backoff} backoff {format_duration(retry.base)}"
        f"..{format_duration(retry.cap)}, {retry.jitter} jitter, retry budget {retry.budget:.0%}"
    )
    if retry.honor_retry_after:
        retry_text += f", Retry-After honoured up to {format_duration(retry.retry_after_cap)}"
    fallback_text = (
        f"to {fallback.to} when at least {format_duration(fallback.only_if_remaining)} of the deadline remain"
        if fallback.to
        else "none"
    )
    if fallback.never_for:
        fallback_text += f"; never for {', '.join(fallback.never_for)}"
    side_effects = (
        "requests have side effects: never retried" if spec.policy.side_effects else "requests are safe to reissue"
    )
    return {"retry": retry_text, "fallback": fallback_text, "side_effects": side_effects}
