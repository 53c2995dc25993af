"""Run each drill: script the simulator, call through the reference client, keep both views.

Drills exercise the spec's client policy against scripted faults, so they run only against the
built-in simulator; on any other target they are recorded as not run.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
from dataclasses import dataclass

import httpx

from engine.plan import DrillStep, Plan
from engine.run.http import Outgoing, stream_flags
from engine.run.client import new_client
from engine.run.policy import CallSettings, PolicyCall, RetryBudget, call
from engine.sim.faults import FaultServer, FaultStep, ServedAttempt
from engine.spec.models import Fault

DRILL_KEY = "sk-runbook-drill-0000"


@dataclass(frozen=True)
class DrillRun:
    step: DrillStep
    calls: tuple[PolicyCall, ...] = ()
    served: tuple[tuple[ServedAttempt, ...], ...] = ()          # primary-side server log, per call
    served_fallback: tuple[tuple[ServedAttempt, ...], ...] = ()
    scale: float = 1.0
    not_run: str | None = None


def execute_drills(plan: Plan, seed: int | None = None) -> tuple[DrillRun, ...]:
    """Every selected drill, against a fresh fault server; never raises for a server's behaviour."""
    if not plan.drills:
        return ()
    if plan.target.kind != "simulator":
        reason = f"drills run only against the built-in simulator; target {plan.target.name} is not one"
        return tuple(DrillRun(step, not_run=reason) for step in plan.drills)
    rng = random.Random(seed)
    with FaultServer() as server:
        return asyncio.run(_run_all(plan, server, rng))


async def _run_all(plan: Plan, server: FaultServer, rng: random.Random) -> tuple[DrillRun, ...]:
    async with new_client(trust_env=False) as client:
        return tuple([await _run_drill(plan, step, server, client, rng) for step in plan.drills])


async def _run_drill(plan: Plan, step: DrillStep, server: FaultServer, client: httpx.AsyncClient,
                     rng: random.Random) -> DrillRun:
    spec, drill = plan.spec, step.drill
    scale = drill.time_scale or spec.drill_settings.time_scale
    settings = _settings(plan, step, scale)
    budget = RetryBudget(spec.policy.retry.budget)
    calls, served, served_fallback = [], [], []
    for repeat in range(drill.repeat):
        scope = f"{drill.id}-{repeat}"
        primary = _primary_url(server, scope, drill.faults, drill.primary, scale)
        fallback = server.script(f"{scope}-fallback", fault_steps(drill.fallback_faults, scale))
        calls.append(await call(client, _outgoing(step, primary), _outgoing(step, fallback), settings, budget, rng))
        served.append(tuple(server.attempts(scope)))
        served_fallback.append(tuple(server.attempts(f"{scope}-fallback")))
    return DrillRun(step, tuple(calls), tuple(served), tuple(served_fallback), scale)


def _settings(plan: Plan, step: DrillStep, scale: float) -> CallSettings:
    spec, timeouts = plan.spec, step.request.timeouts
    deadline = step.drill.deadline or timeouts.deadline
    return CallSettings(policy=spec.policy, rules=tuple(spec.classification), contract=spec.contract.response,
                        connect=timeouts.connect * scale, read=timeouts.read * scale, deadline=deadline * scale,
                        scale=scale, max_response_bytes=step.request.max_response_bytes)


def _primary_url(server: FaultServer, scope: str, faults: list[Fault], primary: str, scale: float) -> str:
    if primary == "unreachable":
        return f"http://127.0.0.1:{closed_port()}"
    if primary == "unresolvable":
        return f"http://{scope}.runbook.invalid"
    return server.script(scope, fault_steps(faults, scale))


def fault_steps(faults: list[Fault], scale: float) -> list[FaultStep]:
    return [FaultStep(kind=f.kind, status=f.status or 200, headers=tuple(f.headers.items()),
                      delay=(f.delay or 0) * scale, error_code=f.error_code, body_delay=(f.body_delay or 0) * scale,
                      after=f.after)
            for f in faults]


def _outgoing(step: DrillStep, base_url: str) -> Outgoing:
    request = step.request
    headers = {"content-type": "application/json", "accept-encoding": "identity", **request.headers}
    if request.auth.mode != "none":
        headers[request.auth.header] = f"{request.auth.scheme} {DRILL_KEY}"
    body = json.dumps(request.body).encode() if request.body is not None else None
    return Outgoing(method=request.method, url=base_url + request.path, headers=headers, body=body,
                    connect_timeout=1.0, read_timeout=1.0, deadline=1.0,
                    max_response_bytes=request.max_response_bytes, **stream_flags(request.body))


def closed_port() -> int:
    """A loopback port with nothing listening (bound, then released): connect attempts are refused."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port
