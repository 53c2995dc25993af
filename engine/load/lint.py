"""Lint: mistakes a valid spec can still make in its classification table, checks and criteria.

Errors (exit 2): a rule that can never match because an earlier rule matches everything it does;
a rule whose action pages someone or refreshes credentials without naming an owner; a success
(`action: none`) that may be retried or sent elsewhere.
Warnings: HTTP statuses 400-599 and transport failures that only the default rule catches; checks
that no criterion uses; a table with no success rule.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from engine.core.errors import Problem
from engine.load.loader import LoadedSpec
from engine.load.yaml_tree import SourceMap
from engine.spec.classify import classify
from engine.spec.durations import parse_status_pattern
from engine.spec.models import CONDITIONS, Rule, When
from engine.spec.values import NEVER_FALL_BACK_ACTIONS, SUCCESS_ACTION, TRANSPORT_KINDS

OWNED_ACTIONS = ("page_owner", "refresh_credentials")


def lint_spec(loaded: LoadedSpec) -> list[Problem]:
    """Every lint finding for a spec that already validates."""
    spec, source = loaded.spec, loaded.source
    rules = spec.classification
    return [
        *_shadowed_rules(rules, source),
        *_unowned_rules(rules, source),
        *_success_rules(rules, source),
        *_default_only_coverage(rules, source),
        *_unused_checks(loaded),
        *_policy_findings(loaded),
        *_client_findings(loaded),
    ]


def _shadowed_rules(rules: Sequence[Rule], source: SourceMap) -> Iterator[Problem]:
    for later_index, later in enumerate(rules):
        for earlier_index, earlier in enumerate(rules[:later_index]):
            if not earlier.when.any and covers(earlier.when, later.when):
                where = source.locate(("classification", earlier_index))
                yield Problem(
                    source.locate(("classification", later_index)),
                    f"classification[{later_index}]",
                    f"rule {later.id!r} can never match: rule {earlier.id!r} at {where} matches everything "
                    f"it matches; move {later.id!r} above {earlier.id!r}",
                )
                break


def covers(wide: When, narrow: When) -> bool:
    """True when every observation that `narrow` matches is matched by `wide` too."""
    if narrow.any:
        return wide.any
    return all(_condition_covers(name, getattr(wide, name), getattr(narrow, name)) for name in CONDITIONS)


def _condition_covers(name: str, wide: Sequence[int | str] | None, narrow: Sequence[int | str] | None) -> bool:
    if wide is None:
        return True
    if narrow is None:
        return False
    if name == "status":
        spans = [parse_status_pattern(p) for p in wide]
        return all(
            any(lo <= n_lo and n_hi <= hi for lo, hi in spans) for n_lo, n_hi in map(parse_status_pattern, narrow)
        )
    if name == "content_type":
        return all(any(str(w).lower() in str(n).lower() for w in wide) for n in narrow)
    return set(map(str, narrow)) <= set(map(str, wide))


def _unowned_rules(rules: Sequence[Rule], source: SourceMap) -> Iterator[Problem]:
    for index, rule in enumerate(rules):
        if rule.action in OWNED_ACTIONS and not rule.owner:
            yield Problem(
                source.locate(("classification", index, "action")),
                f"classification[{index}].owner",
                f"rule {rule.id!r} ({rule.action}) must name an owner: who is paged for class {rule.class_!r}?",
            )


def _success_rules(rules: Sequence[Rule], source: SourceMap) -> Iterator[Problem]:
    """`action: none` is how a spec says "this is a usable answer": the engine needs no class name."""
    successes = [(index, rule) for index, rule in enumerate(rules) if rule.action == SUCCESS_ACTION]
    for index, rule in successes:
        for key in ("retry", "fallback"):
            if getattr(rule, key) != "no":
                yield Problem(
                    source.locate(("classification", index, key)),
                    f"classification[{index}].{key}",
                    f"rule {rule.id!r} is a success (action: none), so it cannot also {key}; write {key}: no",
                )
    if rules and not successes:
        yield Problem(
            source.locate(("classification",)),
            "classification",
            "no rule has action: none, so no answer can ever count as a success",
            "warning",
        )


@dataclass(frozen=True)
class _Probe:
    """An imagined answer, to see which rule would catch it."""

    status: int | None = None
    transport_error: str | None = None
    parser: str = "none"
    error_code: str | None = None
    error_type: str | None = None
    error_message: str | None = None
    content_type: str | None = None


def _default_only_coverage(rules: Sequence[Rule], source: SourceMap) -> Iterator[Problem]:
    default = rules[-1].id if rules and rules[-1].when.any else None
    if default is None:
        return
    statuses = [
        s for s in range(400, 600) if classify(_Probe(status=s, parser="error_envelope"), rules).rule == default
    ]
    kinds = [k for k in TRANSPORT_KINDS if classify(_Probe(transport_error=k), rules).rule == default]
    where = source.locate(("classification", len(rules) - 1))
    if statuses:
        yield Problem(
            where,
            f"classification[{len(rules) - 1}]",
            f"only the default rule catches HTTP {_ranges(statuses)}",
            "warning",
        )
    if kinds:
        yield Problem(
            where,
            f"classification[{len(rules) - 1}]",
            f"only the default rule catches transport failures: {', '.join(kinds)}",
            "warning",
        )


def _ranges(numbers: list[int]) -> str:
    spans: list[list[int]] = []
    for number in numbers:
        if spans and number == spans[-1][1] + 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def _unused_checks(loaded: LoadedSpec) -> Iterator[Problem]:
    used = {ref for criterion in loaded.spec.criteria for ref in criterion.requires}
    for index, check in enumerate(loaded.spec.checks):
        if check.id not in used:
            yield Problem(
                loaded.source.locate(("checks", index, "id")),
                f"checks[{index}]",
                f"check {check.id!r} is not required by any criterion, so no readiness verdict depends on it",
                "warning",
            )


def _policy_findings(loaded: LoadedSpec) -> Iterator[Problem]:
    """The source document: one or two bounded retries with jitter; no fallback for the client's own faults."""
    policy, source = loaded.spec.policy, loaded.source
    if policy.retry.max_attempts > 3:
        yield Problem(
            source.locate(("policy", "retry", "max_attempts")),
            "policy.retry.max_attempts",
            f"{policy.retry.max_attempts} attempts: more than one or two retries turns an incident into a retry storm",
            "warning",
        )
    if policy.retry.max_attempts > 1 and policy.retry.jitter == "none":
        yield Problem(
            source.locate(("policy", "retry", "jitter")),
            "policy.retry.jitter",
            "retries without jitter synchronise clients; use full, equal or decorrelated",
            "warning",
        )
    for index, rule in enumerate(loaded.spec.classification):
        if rule.action in NEVER_FALL_BACK_ACTIONS and rule.fallback != "no":
            yield Problem(
                source.locate(("classification", index, "fallback")),
                f"classification[{index}].fallback",
                f"rule {rule.id!r} is the client's own fault ({rule.action}), which never falls back; "
                "write fallback: no",
            )
        if rule.class_ in policy.fallback.never_for and rule.fallback != "no":
            yield Problem(
                source.locate(("classification", index, "fallback")),
                f"classification[{index}].fallback",
                f"rule {rule.id!r} allows fallback for class {rule.class_!r}, which policy.fallback.never_for excludes",
            )


def _client_findings(loaded: LoadedSpec) -> Iterator[Problem]:
    """A client killed before a drill's deadline is up would be judged as hung, not as the client it is."""
    spec = loaded.spec
    longest = max((drill.deadline or spec.contract.timeouts.deadline for drill in spec.drills), default=0.0)
    for name, client in spec.clients.items():
        if client.timeout < longest * client.time_scale:
            yield Problem(
                loaded.source.locate(("clients", name, "timeout")),
                f"clients.{name}.timeout",
                f"{client.timeout:g}s is shorter than the longest drill deadline "
                f"({longest * client.time_scale:g}s): a client that keeps that deadline would be killed "
                "as hung",
                "warning",
            )
