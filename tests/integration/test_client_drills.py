"""Drills against clients under test, run as commands and judged from the fault simulator's log.

Each deliberately bad client fails exactly the drills it should, with the rule named; a client that
crashes, hangs, prints garbage or cannot start is recorded as that, and the run goes on.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from engine import api

CLIENTS = Path(__file__).resolve().parents[1] / "clients"  # tests/clients: the deliberately bad clients


def drills_against(
    child_spec: Callable[..., Path], client: str, only: tuple[str, ...], timeout: str = "40s", extra: str = ""
) -> dict:
    """Run the selected drills against tests/clients/<client>.py; {drill id: result}."""
    spec = child_spec(
        f"clients:\n  {client.replace('_', '-')}:\n    command: [python, {CLIENTS / (client + '.py')}]\n"
        f"    timeout: {timeout}\n{extra}",
        name="client-test",
    )
    outcome = api.run(spec, out_dir=None, client=client.replace("_", "-"), selection=api.Selection(only=only))
    return {d.id.removeprefix("drill:"): d for d in outcome.results.drills if d.selected}


def messages(drill) -> list[str]:
    return [m.message for m in drill.mismatches]


def test_a_client_that_retries_a_401_fails_the_auth_drill_only(child_spec):
    drills = drills_against(child_spec, "retries_401", ("auth-401-no-fallback", "server-503-then-success"))
    assert drills["server-503-then-success"].status == "passed", messages(drills["server-503-then-success"])
    auth = drills["auth-401-no-fallback"]
    assert auth.status == "failed"
    assert "classification.auth.retry violated: class auth was retried although its rule says retry: no" in messages(
        auth
    )
    assert auth.drill.client == "retries-401" and auth.drill.calls[0].server_attempts == 3


def test_a_client_that_sleeps_a_constant_fails_jitter_and_retry_after(child_spec):
    drills = drills_against(child_spec, "sleeps_constant", ("retry-jitter", "throttled-429-retry-after"))
    jitter = drills["retry-jitter"]
    assert jitter.status == "failed" and any(
        m.startswith("jittered: expected True, observed False") for m in messages(jitter)
    )
    assert len(jitter.drill.calls) == 20  # enough calls to tell jitter from noise
    waited = drills["throttled-429-retry-after"]
    assert any(m.startswith("policy.retry.honor_retry_after violated: the simulator saw a") for m in messages(waited))


def test_a_client_without_a_deadline_fails_the_deadline_drill(child_spec):
    shorter = "drills:\n  - {id: stall-cut-by-the-deadline, deadline: 3s}\n"  # the shipped 20s, shortened
    drills = drills_against(
        child_spec, "no_deadline", ("stall-cut-by-the-deadline", "server-503-then-success"), timeout="8s", extra=shorter
    )
    assert drills["server-503-then-success"].status == "passed", messages(drills["server-503-then-success"])
    stalled = drills["stall-cut-by-the-deadline"]
    assert stalled.status == "failed"
    assert any(
        m.startswith("deadline violated:") or m.startswith("within_deadline: expected True, observed False")
        for m in messages(stalled)
    )


def test_a_client_that_calls_a_cut_stream_complete_is_the_dangerous_state(child_spec):
    drills = drills_against(
        child_spec, "trusts_truncated_stream", ("stream-clean-cut-is-partial", "stream-keepalive-comments-ignored")
    )
    assert drills["stream-keepalive-comments-ignored"].status == "passed"
    cut = drills["stream-clean-cut-is-partial"]
    assert cut.status == "failed"
    assert (
        "partial answer looked complete: the simulator sent a broken stream (stream_clean_cut), and the client "
        "reported success"
    ) in messages(cut)


@pytest.mark.parametrize(
    "client, problem",
    [
        ("crashes", "crashed (exit 3)"),
        ("garbage", "the last stdout line is not JSON: 'not json'"),
        ("hangs", "hung: still running after its 2s timeout; killed"),
    ],
)
def test_a_broken_client_is_recorded_as_broken_and_the_run_goes_on(child_spec, client, problem):
    drills = drills_against(child_spec, client, ("bad-request-not-retried", "auth-401-no-fallback"), timeout="2s")
    for drill in drills.values():
        assert drill.status == "failed" and any(m.startswith(f"client: {problem}") for m in messages(drill))


def test_a_client_that_cannot_start_leaves_its_drills_not_verified(child_spec):
    spec = child_spec("clients:\n  missing:\n    command: [./no-such-client]\n", name="client-test")
    outcome = api.run(spec, out_dir=None, client="missing", selection=api.Selection(only=("bad-request-not-retried",)))
    (drill,) = [d for d in outcome.results.drills if d.selected]
    assert drill.status == "error" and drill.reason.startswith("the client command cannot be started: No such file")
    assert outcome.results.summary.verdict == "partial" and outcome.exit_code == 4


def test_the_contract_reaches_the_client(tmp_path, child_spec):
    echo = tmp_path / "echo_env.py"
    echo.write_text(
        "import json, os, sys\n"
        "names = ['RUNBOOK_BASE_URL', 'RUNBOOK_CHAT_URL', 'RUNBOOK_FALLBACK_BASE_URL', 'RUNBOOK_API_KEY',\n"
        "         'RUNBOOK_MODEL', 'RUNBOOK_DEADLINE', 'RUNBOOK_TIME_SCALE', 'OPENAI_BASE_URL', 'OPENAI_API_KEY']\n"
        "sys.stderr.write(json.dumps({n: os.environ[n] for n in names}))\n"
        "body = json.load(open(os.environ['RUNBOOK_REQUEST_FILE']))\n"
        "print(json.dumps({'outcome': 'failed', 'error': body['model']}))\nsys.exit(1)\n"
    )
    spec = child_spec("clients:\n  echo:\n    command: [python, echo_env.py]\n", name="client-test")
    outcome = api.run(spec, out_dir=None, client="echo", selection=api.Selection(only=("auth-401-no-fallback",)))
    (drill,) = [d for d in outcome.results.drills if d.selected]
    call = drill.drill.calls[0]
    assert call.client.exit_code == 1 and call.client.error == "gpt-4o-mini" and call.client.problem is None
    seen = call.client.stderr
    assert '"RUNBOOK_DEADLINE": "45"' in seen and '"RUNBOOK_TIME_SCALE": "1"' in seen
    assert "/v1/chat/completions" in seen and '/v1"' in seen  # RUNBOOK_CHAT_URL and OPENAI_BASE_URL
    assert messages(drill) == ["attempts: expected 1, observed 0 (the simulator's log; policy.retry.max_attempts is 3)"]


def inline_client(
    child_spec: Callable[..., Path], name: str, program: str, drill: str, extra: str = "", timeout: str = "40s"
):
    """Run one drill against a client written here as `program` (next to the spec); the judged drill."""
    spec = child_spec(
        f"clients:\n  {name}:\n    command: [python, {name}.py]\n    timeout: {timeout}\n{extra}", name="client-test"
    )
    (spec.parent / f"{name}.py").write_text(program)
    outcome = api.run(spec, out_dir=None, client=name, selection=api.Selection(only=(drill,)))
    (judged,) = [d for d in outcome.results.drills if d.selected]
    return judged


def test_a_client_that_falls_back_too_late_from_an_unreachable_primary_is_caught(child_spec):
    drill = inline_client(
        child_spec,
        "late",
        "import json, os, sys, time, httpx\ntime.sleep(3)\n"
        "body = json.load(open(os.environ['RUNBOOK_REQUEST_FILE']))\n"
        "httpx.post(os.environ['RUNBOOK_FALLBACK_CHAT_URL'], json=body)\n"
        "print(json.dumps({'outcome': 'success', 'served_by': 'fallback'}))\n",
        "connect-failure-falls-back",
        extra="drills:\n  - {id: connect-failure-falls-back, deadline: 2s}\n",
    )
    assert drill.status == "failed"
    assert any(
        m.message.startswith("deadline violated:") and "from the client's start" in m.message for m in drill.mismatches
    )


def test_a_client_whose_child_keeps_its_output_open_is_not_a_hang(child_spec):
    drill = inline_client(
        child_spec,
        "forks",
        "import json, subprocess, sys\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)'])   # inherits stdout\n"
        "print(json.dumps({'outcome': 'failed', 'error': 'gave up'}), flush=True)\nsys.exit(1)\n",
        "bad-request-not-retried",
        timeout="10s",
    )
    call = drill.drill.calls[0]
    assert call.client.problem is None and call.client.exit_code == 1 and call.elapsed_ms < 5000
