"""Policy drills over real loopback sockets: each passes for the right reason, and a broken policy
fails the drill that exercises it with a message naming the violated rule."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from engine import api


def run_drills(child_spec: Callable[..., Path], body: str = "", *, only: tuple[str, ...]) -> dict:
    """Just the named drills of the shipped spec extended by `body`; {drill id: result}."""
    outcome = api.run(child_spec(body, name="drills"), out_dir=None, selection=api.Selection(only=only))
    return {d.id.removeprefix("drill:"): d for d in outcome.results.drills if d.selected}


@pytest.fixture
def shipped(cometapi_run):
    """The shipped drills, from the session's one full run of the shipped spec."""
    return {d.id.removeprefix("drill:"): d for d in cometapi_run.outcome.results.drills if d.selected}


def test_every_shipped_drill_passes(shipped):
    assert len(shipped) == 37
    failed = {name: [m.message for m in d.mismatches] for name, d in shipped.items() if d.status != "passed"}
    assert failed == {}


def test_drills_pass_for_the_right_reason(shipped):
    auth = shipped["auth-401-no-fallback"].drill.calls[0]
    assert [a.decision for a in auth.attempts] == [
        "no retry: class auth is not retryable (rule auth); no fallback: class auth does not fall back (rule auth)"
    ]
    assert auth.server_attempts == 1 and auth.server_fallback_attempts == 0
    exhausted = shipped["server-503-exhausts-then-falls-back"].drill.calls[0]
    assert [a.target for a in exhausted.attempts] == ["primary"] * 3 + ["fallback"]
    assert exhausted.server_attempts == 3 and exhausted.server_fallback_attempts == 1
    late = shipped["server-503-deadline-nearly-spent"].drill.calls[0]
    assert (
        "no fallback:" in late.attempts[-1].decision
        and "policy.fallback.only_if_remaining" in late.attempts[-1].decision
    )
    waited = shipped["throttled-429-retry-after"].drill.calls[0].attempts[0]
    assert waited.pause_ms == pytest.approx(40.0)  # Retry-After: 2 (s) at time scale 0.02
    capped = shipped["retry-after-above-cap"].drill.calls[0].attempts[0]
    assert "above policy.retry.retry_after_cap" in capped.decision
    unresolvable = shipped["dns-failure-falls-back"].drill.calls[0]
    assert {a.transport_error for a in unresolvable.attempts if a.target == "primary"} == {"dns"}
    unreachable = shipped["connect-failure-falls-back"].drill.calls[0]
    refused = [a for a in unreachable.attempts if a.target == "primary"]
    # A closed loopback port refuses at once, but the drill's connect timeout is 2 s x 0.02 = 40 ms:
    # on a busy runner the timeout can win the race (seen in CI). Both are the connect stage, and the
    # same rule classes them as network; what must never appear is a DNS failure or an HTTP answer.
    assert {a.transport_error for a in refused} <= {"connect", "connect_timeout"}
    assert [(a.status, a.class_) for a in refused] == [(None, "network")] * 3


def test_no_jitter_fails_the_jitter_drill(child_spec, at_the_written_scale):
    drills = run_drills(child_spec, "policy: {retry: {jitter: none}}\n", only=("retry-jitter",))
    messages = [m.message for m in drills["retry-jitter"].mismatches if m.field == "jittered"]
    assert len(messages) == 1 and messages[0].startswith("jittered: expected True, observed False")
    assert "policy.retry.jitter is none" in messages[0]


def test_too_many_attempts_fail_the_exhaustion_drill(child_spec):
    drills = run_drills(
        child_spec,
        "policy: {retry: {max_attempts: 50, base: 1ms, cap: 1ms}}\n",
        only=("server-503-exhausts-then-falls-back",),
    )
    messages = [m.message for m in drills["server-503-exhausts-then-falls-back"].mismatches]
    assert any(m.startswith("attempts: expected 3, observed") and "policy.retry.max_attempts" in m for m in messages)


def test_fallback_allowed_on_401_fails_the_auth_drill(child_spec):
    body = "classification:\n  - {id: auth, fallback: yes}\npolicy: {fallback: {never_for: [request_invalid]}}\n"
    drills = run_drills(child_spec, body, only=("auth-401-no-fallback",))
    messages = [m.message for m in drills["auth-401-no-fallback"].mismatches]
    assert drills["auth-401-no-fallback"].status == "failed"
    assert "fallback_used: expected False, observed True (done: fallback answered)" in messages


def test_a_client_that_falls_back_after_its_own_fault_breaks_a_rule(child_spec, monkeypatch):
    import engine.run.policy as policy

    monkeypatch.setattr(policy, "_why_no_fallback", lambda *_args: "")  # a client that always falls back
    drills = run_drills(child_spec, only=("bad-request-not-retried",))
    messages = [m.message for m in drills["bad-request-not-retried"].mismatches]
    assert any(
        m.startswith(
            "fallback violated: fell back after class request_invalid (fix_request): the client's "
            "own faults never fall back"
        )
        for m in messages
    )


def test_a_client_that_ignores_the_policy_is_caught_by_the_simulators_log(
    child_spec, monkeypatch, at_the_written_scale
):
    import engine.run.policy as policy

    def far_too_long(*_args, **_kwargs):
        return 0.4, "a pause the policy does not allow"

    monkeypatch.setattr(policy, "_backoff", far_too_long)
    drills = run_drills(child_spec, only=("server-500-retried",))
    messages = [m.message for m in drills["server-500-retried"].mismatches]
    assert any(
        m.startswith("policy.retry.exponential backoff with full jitter violated: the simulator saw a")
        and "allows 0.0-10.0ms" in m
        for m in messages
    )


def test_a_client_that_reports_jitter_but_sleeps_a_constant_is_caught(child_spec, monkeypatch):
    import engine.run.policy as policy

    real_sleep = policy._sleep

    async def constant(_seconds):
        await real_sleep(0.05)  # always 50ms (the client still *reports* jittered pauses)

    monkeypatch.setattr(policy, "_sleep", constant)
    drills = run_drills(child_spec, only=("retry-jitter",))
    assert any(m.field == "jittered" for m in drills["retry-jitter"].mismatches)


def test_an_attempt_that_outlives_the_deadline_is_a_violation(child_spec, monkeypatch, at_the_written_scale):
    import engine.run.policy as policy

    monkeypatch.setattr(
        policy,
        "_bounded",
        lambda outgoing, settings, remaining: policy.Outgoing(
            method=outgoing.method,
            url=outgoing.url,
            headers=outgoing.headers,
            body=outgoing.body,
            connect_timeout=settings.connect,
            read_timeout=settings.read,
            deadline=settings.read,
            max_response_bytes=settings.max_response_bytes,
        ),
    )
    drills = run_drills(child_spec, only=("stall-cut-by-the-deadline",))
    assert any(
        m.message.startswith("deadline violated: the call took") for m in drills["stall-cut-by-the-deadline"].mismatches
    )


def test_drills_run_on_the_fault_simulator_whatever_target_the_checks_use(monkeypatch, cometapi_spec):
    from support.provider import WellBehavedProvider

    with WellBehavedProvider(keys=("sk-live-0123456789",), models=("gpt-4o-mini",)) as provider:
        monkeypatch.setenv("COMETAPI_BASE_URL", provider.base_url)
        monkeypatch.setenv("COMETAPI_API_KEY", "sk-live-0123456789")
        outcome = api.run(
            cometapi_spec,
            target="live",
            out_dir=None,
            selection=api.Selection(only=("happy-path", "auth-401-no-fallback", "server-503-exhausts-then-falls-back")),
        )
    drills = {d.id: d for d in outcome.results.drills if d.selected}
    assert {d.status for d in drills.values()} == {"passed"}
    assert outcome.results.evidence_sources["checks"].startswith("target live (cometapi-live")
    assert outcome.results.evidence_sources["drills"].startswith("the built-in fault simulator")
    exhausted = drills["drill:server-503-exhausts-then-falls-back"].drill
    assert exhausted.fallback_target == "backup" and exhausted.calls[0].server_fallback_attempts == 1


def test_fallback_goes_to_the_target_the_policy_names(child_spec):
    body = "targets:\n  spare: {simulator: cometapi}\npolicy: {fallback: {to: spare}}\n"
    drills = run_drills(child_spec, body, only=("server-503-exhausts-then-falls-back",))
    drill = drills["server-503-exhausts-then-falls-back"]
    assert drill.status == "passed" and drill.drill.fallback_target == "spare"
    assert drill.drill.calls[0].server_fallback_attempts == 1


def test_a_drill_that_fails_on_a_busy_machine_runs_again_slower_and_keeps_the_earlier_runs(child_spec, monkeypatch):
    import engine.run.drills as drills

    monkeypatch.setattr(drills, "QUIET_LATENCY", 0.0)  # every failure counts as "the machine was busy"
    result = run_drills(child_spec, "policy: {retry: {max_attempts: 2}}\n", only=("server-503-then-success",))
    drill = result["server-503-then-success"]
    assert drill.status == "failed"  # a real break fails at every scale
    assert [run.time_scale for run in drill.drill.earlier] == [0.02, 0.1] and drill.drill.time_scale == 0.5
    assert all(any("attempts: expected 3, observed 2" in f for f in run.failures) for run in drill.drill.earlier)


def test_a_retry_after_a_hint_above_the_cap_is_a_violation(cometapi_loaded):
    import asyncio

    from engine.judge.drills import drill_mismatches
    from engine.plan.build import build_plan
    from engine.run.drills import Finished, run_drills

    loaded = cometapi_loaded
    plan = build_plan(loaded, selection=api.Selection(only=("throttled-429-retry-after",)))
    done = Finished(1)
    asyncio.run(run_drills(plan, lambda _run: True, done))  # the client waits Retry-After: 2 and retries
    spec = loaded.spec
    retry = spec.policy.retry.model_copy(update={"retry_after_cap": 1.0})
    stricter = spec.model_copy(update={"policy": spec.policy.model_copy(update={"retry": retry})})
    messages = [m.message for m in drill_mismatches(done.runs[0], stricter)]
    assert "policy.retry.retry_after_cap violated: retried after retry-after 2, above the cap of 1s" in messages


SIDE_BY_SIDE = """
drills:
  - id: slow-first
    time_scale: 1.0
    faults: [{kind: ok, delay: 1s}]
    expect: {attempts: 1, outcome: success}
  - id: quick-second
    faults: [ok]
    expect: {attempts: 1, outcome: success}
"""


def test_drills_run_side_by_side_and_are_kept_in_the_specs_order(child_spec):
    finished: list[str] = []
    outcome = api.run(
        child_spec(SIDE_BY_SIDE, name="side-by-side"),
        out_dir=None,
        selection=api.Selection(only=("slow-first", "quick-second")),
        progress=lambda event: finished.append(event.id),
    )
    ran = [d.id for d in outcome.results.drills if d.selected]
    assert ran == ["drill:slow-first", "drill:quick-second"]  # the spec's order in the results
    assert finished == ["quick-second", "slow-first"]  # the quick one did not wait for the slow one
    assert {d.status for d in outcome.results.drills if d.selected} == {"passed"}


def test_under_cost_guards_drills_run_one_at_a_time(child_spec):
    finished: list[str] = []
    outcome = api.run(
        child_spec(SIDE_BY_SIDE + "limits: {max_requests: 50}\n", name="guarded"),
        out_dir=None,
        selection=api.Selection(only=("slow-first", "quick-second")),
        progress=lambda event: finished.append(event.id),
    )
    assert [d.id for d in outcome.results.drills if d.selected] == ["drill:slow-first", "drill:quick-second"]
    assert finished == ["slow-first", "quick-second"]  # one drill's worst case is settled before the next
