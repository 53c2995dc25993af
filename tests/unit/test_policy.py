"""The reference client's decisions, one rule at a time (over the loopback fault server)."""

from __future__ import annotations

import asyncio
import random

import httpx
import pytest

from engine.run.http import Outgoing
from engine.run.policy import CallSettings, RetryBudget, _backoff, call
from engine.sim.faults import FaultServer, FaultStep

SCALE = 0.02


@pytest.fixture(scope="module")
def settings(cometapi_loaded):
    """settings(**policy_changes): the shipped spec's call settings at SCALE, with some policy changed."""
    spec = cometapi_loaded.spec

    def make(**policy_changes) -> CallSettings:
        policy = spec.policy
        for section, values in policy_changes.items():
            policy = policy.model_copy(
                update={section: getattr(policy, section).model_copy(update=values)}
                if isinstance(values, dict)
                else {section: values}
            )
        return CallSettings(
            policy,
            tuple(spec.classification),
            spec.contract.response,
            connect=2 * SCALE,
            read=30 * SCALE,
            deadline=45 * SCALE,
            scale=SCALE,
        )

    return make


def run_call(steps: list[FaultStep], config: CallSettings, budget: RetryBudget | None = None):
    with FaultServer() as server:
        primary, fallback = server.script("p", steps), server.script("f", [FaultStep()])

        def outgoing(url: str) -> Outgoing:
            return Outgoing("POST", url + "/v1/chat/completions", {}, b"{}", 1, 1, 1, 1_000_000)

        async def go():
            async with httpx.AsyncClient() as client:
                return await call(
                    client, outgoing(primary), outgoing(fallback), config, budget or RetryBudget(1.0), random.Random(7)
                )

        return asyncio.run(go())


@pytest.mark.parametrize("jitter, low, high", [("full", 0, 40), ("equal", 20, 40), ("none", 40, 40)])
def test_backoff_stays_in_its_jitter_window(settings, jitter, low, high):
    config = settings(retry={"jitter": jitter})
    rng = random.Random(3)
    pauses = [_backoff(2, config, 0.0, rng)[0] * 1000 for _ in range(200)]  # retry 3: 0.5s * 2^2 = 2s -> 40ms
    assert all(low - 1e-9 <= p <= high + 1e-9 for p in pauses)
    assert (max(pauses) - min(pauses) > 5) is (jitter != "none")


def test_backoff_is_capped(settings):
    pause, rule = _backoff(10, settings(retry={"jitter": "none"}), 0.0, random.Random(1))
    assert pause == pytest.approx(8 * SCALE) and rule.startswith("no jitter")


def test_decorrelated_jitter_grows_from_the_previous_pause(settings):
    config = settings(retry={"jitter": "decorrelated"})
    pause, _ = _backoff(0, config, 0.05, random.Random(2))
    assert 0.5 * SCALE <= pause <= min(8 * SCALE, 0.15)


def test_retry_after_is_honoured_and_retry_after_ms_wins(settings):
    result = run_call(
        [FaultStep("status", 429, (("retry-after", "5"), ("retry-after-ms", "100"))), FaultStep()], settings()
    )
    assert result.attempts[0].sleep == pytest.approx(0.1 * SCALE) and result.outcome == "success"


def test_x_should_retry_false_stops_a_retryable_failure(settings):
    result = run_call([FaultStep("status", 503, (("x-should-retry", "false"),))], settings(fallback={"to": None}))
    assert len(result.attempts) == 1 and "x-should-retry: false" in result.attempts[0].decision


def test_x_should_retry_true_cannot_overrule_a_non_retryable_class(settings):
    result = run_call([FaultStep("status", 400, (("x-should-retry", "true"),)), FaultStep()], settings())
    assert [a.observation.status for a in result.attempts] == [400] and "not retryable" in result.attempts[0].decision


def test_requests_with_side_effects_are_never_retried_or_sent_elsewhere(settings):
    result = run_call([FaultStep("status", 503)], settings(side_effects=True))
    assert len(result.attempts) == 1 and result.outcome == "failed"
    assert "side effects" in result.attempts[0].decision


def test_the_retry_budget_stops_a_retry_storm(settings):
    budget = RetryBudget(ratio=0.0, minimum=2)
    outcomes = [
        run_call([FaultStep("status", 503), FaultStep()], settings(fallback={"to": None}), budget) for _ in range(4)
    ]
    assert [len(o.attempts) for o in outcomes] == [2, 2, 1, 1]
    assert "retry budget is spent" in outcomes[2].attempts[0].decision


def test_an_attempt_never_outlives_the_deadline(settings):
    result = run_call([FaultStep("stall")], settings(fallback={"to": None}))
    assert result.elapsed <= 45 * SCALE + 0.05
    assert result.attempts[0].observation.transport_error in ("read_timeout", "deadline")
