"""The cost guard's arithmetic (engine.run.budget) and how caps are written (spec, command line)."""

from __future__ import annotations

import asyncio

import pytest

from engine import api
from engine.core.errors import UsageError
from engine.run import budget as budget_module
from engine.run.budget import SendBudget, requested_tokens
from engine.spec.durations import format_rate, parse_rate
from engine.spec.models import Limits


def test_requests_are_taken_until_the_cap_then_everything_is_refused_with_the_same_reason():
    budget = SendBudget(Limits(max_requests=3))
    assert [budget.take(1, 20) for _ in range(3)] == [None, None, None]
    refused = budget.take(1, 20)
    assert refused == "not run: the run's cap of 3 request(s) was reached (limits.max_requests)"
    assert budget.stopped and budget.take(1, 20) == refused and budget.requests == 3


def test_a_drill_that_does_not_fit_its_worst_case_is_refused_and_stops_the_run():
    budget = SendBudget(Limits(max_requests=10))
    assert budget.take(8, 20) is None  # a drill round reserves its worst case
    budget.settle(8, 2, 20)  # it sent two: six go back
    assert (budget.requests, budget.tokens) == (2, 40)
    assert budget.take(9, 20) is not None and budget.take(1, 20) is not None  # stopped: nothing smaller slips in


def test_the_token_cap_counts_what_each_request_asks_for():
    budget = SendBudget(Limits(max_requested_tokens=45))
    assert budget.take(1, 20) is None and budget.take(1, 20) is None
    assert "45 requested token(s)" in (budget.take(1, 20) or "")


def test_under_a_token_cap_a_request_without_max_tokens_is_not_sent_but_the_run_goes_on():
    budget = SendBudget(Limits(max_requested_tokens=100))
    assert "sets no max_tokens" in (budget.take(1, None) or "")
    assert budget.stopped is None and budget.take(1, 20) is None


def test_a_client_under_test_that_sends_more_than_its_reservation_is_charged_and_stops_the_run():
    budget = SendBudget(Limits(max_requests=10))
    assert budget.take(4, None) is None
    budget.settle(4, 12, None)  # its own retries went past the policy
    assert budget.requests == 12 and "client under test" in (budget.stopped or "")


def test_without_caps_nothing_is_refused():
    budget = SendBudget()
    assert all(budget.take(50, None) is None for _ in range(100)) and budget.requests == 5000


@pytest.mark.parametrize(
    "body, tokens",
    [
        ({"max_tokens": 20}, 20),
        ({"max_completion_tokens": 7, "max_tokens": 20}, 7),
        ({"max_tokens": True}, None),
        ({"max_tokens": "20"}, None),
        ({}, None),
        (None, None),
    ],
)
def test_requested_tokens(body, tokens):
    assert requested_tokens(body) == tokens


def test_the_rate_spaces_requests_by_one_over_the_rate(monkeypatch):
    """A fake clock: the pacing decisions, not this machine's timing, are what is checked."""
    now, slept = [100.0], []

    async def fake_sleep(seconds: float) -> None:
        slept.append(round(seconds, 6))

    monkeypatch.setattr(budget_module.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(budget_module.asyncio, "sleep", fake_sleep)
    budget = SendBudget(Limits(rate=4))

    async def four_at_once() -> None:
        await asyncio.gather(*(budget.pace() for _ in range(4)))

    asyncio.run(four_at_once())
    assert slept == [0.25, 0.5, 0.75]  # the first goes at once


@pytest.mark.parametrize("text, per_second", [("5/s", 5.0), ("30/min", 0.5), ("3600/h", 1.0), ("2", 2.0), (0.5, 0.5)])
def test_parse_rate(text, per_second):
    assert parse_rate(text) == per_second


@pytest.mark.parametrize("text", ["0/s", "fast", "5/day", "-1", True])
def test_parse_rate_refuses_nonsense(text):
    with pytest.raises(ValueError):
        parse_rate(text)


def test_format_rate():
    assert (format_rate(5), format_rate(0.5), format_rate(0.3), format_rate(1 / 7)) == (
        "5/s",
        "30/min",
        "18/min",
        "0.142857/s",
    )


def test_the_command_line_only_tightens_the_spec():
    spec = Limits(max_requests=20, rate=2)
    merged = spec.tightened(api.limits_from_options(max_requests=50, max_tokens=100, rate="1/s"))
    assert (merged.max_requests, merged.max_requested_tokens, merged.rate) == (20, 100, 1.0)


def test_a_bad_command_line_limit_is_a_usage_error():
    with pytest.raises(UsageError, match="not a rate"):
        api.limits_from_options(rate="lots")
