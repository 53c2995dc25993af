"""The reference client: a spec's retry and fallback policy, executed exactly as written.

One call = attempts against the primary target, bounded by `max_attempts` (the first included),
spaced by backoff with jitter or by the server's Retry-After (up to a cap), all inside one deadline;
then, only if the policy and the failure's class allow it and enough of the deadline remains, one
attempt against the fallback target. Every decision is recorded with its reason, so a drill can
show *why* the client did what it did.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field, replace
from typing import Literal

import httpx

from engine.run.http import Outgoing, send
from engine.run.observation import Observation
from engine.spec.backoff import backoff_window, retry_after_window
from engine.spec.classify import Classification, classify
from engine.spec.models import Policy, ResponseContract, Rule
from engine.spec.values import NEVER_FALL_BACK_ACTIONS

Outcome = Literal["success", "failed", "fell_back"]


@dataclass(frozen=True)
class PolicyAttempt:
    target: str
    number: int
    started: float  # seconds since the call began (client clock)
    ended: float
    observation: Observation
    verdict: Classification
    decision: str
    sleep: float | None = None  # the pause chosen before the next attempt
    sleep_rule: str = ""


@dataclass(frozen=True)
class PolicyCall:
    outcome: Outcome
    attempts: tuple[PolicyAttempt, ...]
    elapsed: float
    deadline: float

    @property
    def fallback_used(self) -> bool:
        return any(a.target == "fallback" for a in self.attempts)

    @property
    def regenerated(self) -> bool:
        """A retry or fallback came after part of a streamed answer had been shown."""
        return any("regenerates the answer" in a.decision for a in self.attempts)


@dataclass
class RetryBudget:
    """Retries allowed across many calls: `minimum` + `ratio` x calls made, so an incident cannot
    turn into a retry storm."""

    ratio: float
    minimum: int = 3
    calls: int = 0
    retries: int = 0

    def allows_retry(self) -> bool:
        return self.retries < self.minimum + self.ratio * self.calls


@dataclass(frozen=True)
class CallSettings:
    policy: Policy
    rules: tuple[Rule, ...]
    contract: ResponseContract
    connect: float
    read: float
    deadline: float
    scale: float = 1.0
    max_response_bytes: int = 1_048_576


@dataclass
class _State:
    started: float
    attempts: list[PolicyAttempt] = field(default_factory=list)
    previous_sleep: float = 0.0


async def call(
    client: httpx.AsyncClient,
    primary: Outgoing,
    fallback: Outgoing | None,
    settings: CallSettings,
    budget: RetryBudget,
    rng: random.Random,
) -> PolicyCall:
    """One call under the policy; never raises for anything a server does."""
    state = _State(started=time.monotonic())
    budget.calls += 1
    retry = settings.policy.retry
    for number in range(1, retry.max_attempts + 1):
        attempt = await _attempt(client, primary, "primary", number, settings, state)
        if attempt is None:
            break
        if attempt.verdict.is_success:
            return _finish(state, settings, "success", attempt, "done: success")
        pause, why_not = _next_pause(attempt, number, settings, state, budget, rng)
        if pause is None:
            state.attempts.append(_decided(attempt, f"no retry: {why_not}"))
            break
        budget.retries += 1
        shown = attempt.observation.stream is not None and attempt.observation.stream.content_chars > 0
        note = "; partial output was shown, the retry regenerates the answer" if shown else ""
        state.attempts.append(_decided(attempt, f"retry after {pause[0] * 1000:.1f}ms{note}", *pause))
        state.previous_sleep = pause[0]
        await _sleep(pause[0])
    return await _maybe_fall_back(client, fallback, settings, state)


async def _attempt(
    client: httpx.AsyncClient, outgoing: Outgoing, target: str, number: int, settings: CallSettings, state: _State
) -> PolicyAttempt | None:
    remaining = settings.deadline - _elapsed(state)
    if remaining < settings.connect:
        last = state.attempts[-1] if state.attempts else None
        if last is not None:
            state.attempts[-1] = _decided(last, last.decision + "; deadline too close to start another attempt")
        return None
    request = _bounded(outgoing, settings, remaining)
    started = _elapsed(state)
    result = await send(client, request, settings.contract)
    verdict = classify(result.observation, settings.rules)
    return PolicyAttempt(target, number, started, _elapsed(state), result.observation, verdict, decision="")


def _bounded(outgoing: Outgoing, settings: CallSettings, remaining: float) -> Outgoing:
    """The attempt may not outlive the call's deadline."""
    return replace(
        outgoing,
        connect_timeout=min(settings.connect, remaining),
        read_timeout=min(settings.read, remaining),
        deadline=remaining,
        max_response_bytes=settings.max_response_bytes,
    )


def _next_pause(
    attempt: PolicyAttempt, number: int, settings: CallSettings, state: _State, budget: RetryBudget, rng: random.Random
) -> tuple[tuple[float, str] | None, str]:
    """(pause in seconds, the rule that set it) or (None, why there is no retry)."""
    retry = settings.policy.retry
    hint = _header(attempt, "x-should-retry")
    if settings.policy.side_effects:
        return None, "the request has side effects (policy.side_effects)"
    if hint == "false":
        return None, "the server said x-should-retry: false"
    if attempt.verdict.retry == "no":  # a server's x-should-retry: true cannot overrule the table
        return None, f"class {attempt.verdict.class_} is not retryable (rule {attempt.verdict.rule})"
    if number >= retry.max_attempts:
        return None, f"{retry.max_attempts} attempts made (policy.retry.max_attempts)"
    if not budget.allows_retry():
        return None, "the run's retry budget is spent (policy.retry.budget)"
    hinted = retry_after_window(retry, attempt.observation.hints, settings.scale)
    if hinted is not None and hinted.low > retry.retry_after_cap * settings.scale:
        return None, f"Retry-After {hinted.low / settings.scale:g}s is above policy.retry.retry_after_cap"
    pause = (hinted.low, hinted.text) if hinted else _backoff(number - 1, settings, state.previous_sleep, rng)
    if _elapsed(state) + pause[0] + settings.connect > settings.deadline:
        return None, "the pause would run past the deadline"
    return pause, ""


def _backoff(retry_index: int, settings: CallSettings, previous: float, rng: random.Random) -> tuple[float, str]:
    window = backoff_window(settings.policy.retry, retry_index, previous, settings.scale)
    return (window.low if window.low == window.high else rng.uniform(window.low, window.high)), window.text


def _header(attempt: PolicyAttempt, name: str) -> str | None:
    return attempt.observation.hints.get(name)


async def _maybe_fall_back(
    client: httpx.AsyncClient, fallback: Outgoing | None, settings: CallSettings, state: _State
) -> PolicyCall:
    last = state.attempts[-1] if state.attempts else None
    why_not = _why_no_fallback(fallback, last, settings, state)
    if why_not or fallback is None:  # no fallback always has a reason
        if last is not None:
            state.attempts[-1] = _decided(last, f"{last.decision}; no fallback: {why_not}")
        return _result(state, settings, "failed")
    attempt = await _attempt(client, fallback, "fallback", 1, settings, state)
    if attempt is None:
        return _result(state, settings, "failed")
    outcome: Outcome = "fell_back" if attempt.verdict.is_success else "failed"
    state.attempts.append(
        _decided(attempt, "done: fallback answered" if outcome == "fell_back" else "fallback failed too")
    )
    return _result(state, settings, outcome)


def _why_no_fallback(
    fallback: Outgoing | None, last: PolicyAttempt | None, settings: CallSettings, state: _State
) -> str:
    policy = settings.policy
    if fallback is None or not policy.fallback.to:
        return "the policy has no fallback target"
    if last is None:
        return "no attempt was made"
    if policy.side_effects:
        return "the request has side effects (policy.side_effects)"
    if last.verdict.fallback == "no":
        return f"class {last.verdict.class_} does not fall back (rule {last.verdict.rule})"
    if last.verdict.action in NEVER_FALL_BACK_ACTIONS:
        return f"class {last.verdict.class_} is the client's own fault ({last.verdict.action})"
    if last.verdict.class_ in policy.fallback.never_for:
        return f"class {last.verdict.class_} is in policy.fallback.never_for"
    remaining = settings.deadline - _elapsed(state)
    if remaining < policy.fallback.only_if_remaining * settings.scale:
        return (
            f"{remaining / settings.scale:.1f}s of the deadline left, policy.fallback.only_if_remaining "
            f"needs {policy.fallback.only_if_remaining:g}s"
        )
    return ""


def _decided(attempt: PolicyAttempt, decision: str, sleep: float | None = None, rule: str = "") -> PolicyAttempt:
    return replace(attempt, decision=decision, sleep=sleep, sleep_rule=rule)


def _finish(
    state: _State, settings: CallSettings, outcome: Outcome, attempt: PolicyAttempt, decision: str
) -> PolicyCall:
    state.attempts.append(_decided(attempt, decision))
    return _result(state, settings, outcome)


def _result(state: _State, settings: CallSettings, outcome: Outcome) -> PolicyCall:
    return PolicyCall(outcome, tuple(state.attempts), _elapsed(state), settings.deadline)


def _elapsed(state: _State) -> float:
    return time.monotonic() - state.started


async def _sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)
