"""Cost guards (issue 11, failure 11) over real loopback sockets: a run that reaches a cap stops
sending, says so, reports the rest as not run, and is never ready. The server counts what arrives."""

from __future__ import annotations

import json
import time

import pytest

from engine import api
from engine.run import executor
from engine.spec.models import Limits
from support.provider import AlwaysOkServer

KEY = "sk-cost-guard-0000000000000000"
CHECKS_ONLY = api.Selection(tags=("smoke", "malformed"))


@pytest.fixture
def ok_server():
    with AlwaysOkServer() as server:
        yield server


def live_run(spec, server, tmp_path, limits=Limits(), selection=CHECKS_ONLY, **options):
    environ = {"COMETAPI_BASE_URL": server.base_url, "COMETAPI_API_KEY": KEY}
    return api.run(
        spec, "live", environ=environ, out_dir=tmp_path, limits=limits, selection=selection, **options
    ).results


def test_the_request_cap_stops_sending_and_the_rest_is_not_run(cometapi_spec, ok_server, tmp_path):
    results = live_run(cometapi_spec, ok_server, tmp_path, Limits(max_requests=3))
    assert len(ok_server.arrivals) == 3  # what the server saw, not what runbook says
    sent = [c for c in results.checks if c.status != "skipped"]
    not_run = [c for c in results.checks if c.status == "skipped"]
    assert len(sent) == 3 and len(not_run) == 7
    assert all("limits.max_requests" in (c.reason or "") for c in not_run)
    assert results.sent.requests == 3 and results.sent.max_requests == 3
    assert results.summary.limited and results.summary.verdict != "ready"
    assert any("the run stopped sending" in note for note in results.summary.notes)


def test_the_spec_caps_and_the_command_line_can_only_tighten_them(child_spec, ok_server, tmp_path):
    spec = child_spec("limits: {max_requests: 2}\n")
    results = live_run(spec, ok_server, tmp_path, Limits(max_requests=5))
    assert len(ok_server.arrivals) == 2 and results.sent.max_requests == 2


def test_the_token_cap_counts_each_request_max_tokens(cometapi_spec, ok_server, tmp_path):
    results = live_run(cometapi_spec, ok_server, tmp_path, Limits(max_requested_tokens=45))
    assert len(ok_server.arrivals) == 2  # 20 + 20; a third would ask for 60
    assert results.sent.requested_tokens == 40 and "limits.max_requested_tokens" in (results.summary.limited or "")


def test_the_rate_paces_requests_to_the_target(cometapi_spec, ok_server, tmp_path, monkeypatch):
    """The k-th request is sent no sooner than k/rate after the first: later slots are fixed from the
    first one, so a busy machine can only make them later. Send times are taken as runbook sends."""
    sent_at: list[float] = []
    real_send = executor.send

    async def timed_send(*args, **kwargs):
        sent_at.append(time.monotonic())
        return await real_send(*args, **kwargs)

    monkeypatch.setattr(executor, "send", timed_send)
    live_run(cometapi_spec, ok_server, tmp_path, Limits(rate=20), selection=api.Selection(tags=("malformed",)))
    assert len(sent_at) == len(ok_server.arrivals) >= 5
    for k, when in enumerate(sent_at):
        assert when - sent_at[0] >= k / 20 - 0.005, f"request {k} went {when - sent_at[0]:.3f}s after the first"


def test_drill_attempts_count_retries_and_fallbacks_and_a_drill_never_stops_half_way(cometapi_spec, tmp_path):
    """connect-failure-falls-back may send 4 requests a round (3 attempts, then the fallback): three
    rounds fit in 12 even on a busy machine; retry-jitter's worst case (4 calls x 4) never does."""
    only = api.Selection(only=("connect-failure-falls-back", "retry-jitter"))
    results = api.run(cometapi_spec, out_dir=tmp_path, selection=only, limits=Limits(max_requests=12)).results
    ran, capped = [d for d in results.drills if d.selected]
    assert ran.status == "passed" and ran.drill is not None
    attempts = [a.target for call in ran.drill.calls for a in call.attempts]
    assert attempts == ["primary", "primary", "primary", "fallback"]  # retries and the fallback, all counted
    assert len(attempts) <= results.sent.requests <= 12  # a round run again under load counts too
    assert capped.status == "skipped" and "limits.max_requests" in (capped.reason or "")
    assert results.summary.verdict != "ready"


def test_the_command_line_says_what_was_sent_and_exits_not_ready_or_not_verified(cometapi_spec, ok_server, tmp_path):
    from click.testing import CliRunner

    from engine.cli.commands import main

    env = {"COMETAPI_BASE_URL": ok_server.base_url, "COMETAPI_API_KEY": KEY}
    args = ["run", str(cometapi_spec), "--target", "live", "--tags", "smoke", "--max-requests", "1", "--rate", "10/s"]
    done = CliRunner().invoke(main, [*args, "--out", str(tmp_path)], env=env)
    document = json.loads((tmp_path / "cometapi-chat-completions.json").read_text())
    assert done.exit_code in (1, 4), done.output
    assert "Sent: 1 request(s), 20 requested token(s) · caps: 1 requests, 10/s to the target" in done.output
    assert "the run stopped sending" in done.output and document["summary"]["limited"]
    assert len(ok_server.arrivals) == 1
