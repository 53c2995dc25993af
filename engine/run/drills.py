"""Run each drill: script the fault simulator, call through the reference client, keep both views.

Drills test the client's policy against scripted faults, so they always run on the built-in fault
simulator, whatever target the checks use. The primary answers with the drill's `faults`; the
fallback target named by `policy.fallback.to` is played by a fault server of its own (its own
port, its own log), answering with `fallback_faults`, so a drill can tell which target was hit.

Timing on a busy machine: while a drill runs, the scheduling latency of the client's and the
server's event loops is measured. A drill that fails while that latency was high is run again at
a larger time scale (x5, up to 1.0), where the same noise is small against the policy's envelope;
the earlier runs are kept and reported. A failure on a quiet machine is final at once.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace

import httpx

from engine.core.latency import LatencyProbe, Window
from engine.core.profiles import SimProfile
from engine.core.providers import PROFILES
from engine.plan.build import DrillStep, Plan, worst_case_attempts
from engine.run.budget import SendBudget, requested_tokens
from engine.run.client import new_client
from engine.run.http import Outgoing
from engine.run.policy import CallSettings, PolicyCall, RetryBudget, call
from engine.sim.faults import FaultServer, FaultStep, ServedAttempt
from engine.spec.models import Fault

DRILL_KEY = "sk-runbook-drill-0000"
QUIET_LATENCY = 0.010  # seconds: below this, a machine is quiet enough to judge timing as measured
ESCALATION = 5  # a drill failed under load runs again this much slower ...
MAX_SCALE = 1.0  # ... up to real time
MAX_RUNS = 3
DRILLS_AT_ONCE = 8  # independent drills in flight together, each in its own scope on the fault servers


ReportLine = dict[str, str | None]  # a client's last stdout line: each report key, as short printable text


@dataclass(frozen=True)
class ClientCall:
    """One call of a client under test: what its process did, on the primary server's clock."""

    started: float  # when the command was started
    ended: float  # when it exited (or was killed)
    deadline: float  # seconds, as given in RUNBOOK_DEADLINE
    exit_code: int | None = None  # None: it could not start, or was killed
    report: ReportLine | None = None  # its last stdout line, parsed
    problem: str | None = None  # why the call broke the contract: could not start, crashed, hung, garbage
    stderr: str = ""  # the end of what it wrote to stderr (one line, printable)


@dataclass(frozen=True)
class DrillRun:
    step: DrillStep
    calls: tuple[PolicyCall, ...] = ()
    served: tuple[tuple[ServedAttempt, ...], ...] = ()  # the primary's log, per call
    served_fallback: tuple[tuple[ServedAttempt, ...], ...] = ()  # the fallback target's log, per call
    scale: float = 1.0
    fallback_target: str | None = None
    lateness: float = 0.0  # worst scheduling latency (client or server loop) while it ran
    earlier: tuple[DrillRun, ...] = ()  # runs at smaller time scales, judged inconclusive
    not_run: str | None = None
    client: str = "reference"
    client_calls: tuple[ClientCall, ...] = ()  # a client under test: its processes (calls stays empty)


Conclusive = Callable[[DrillRun], bool]
Progress = Callable[[DrillRun, int, int], None]  # (the run that finished, how many have, of how many)


@dataclass
class Finished:
    """The drill runs that finished, in the order they did; an interrupted run keeps them."""

    total: int
    on_each: Progress | None = None
    runs: list[DrillRun] = field(default_factory=list)

    def add(self, run: DrillRun) -> None:
        self.runs.append(run)
        if self.on_each is not None:
            self.on_each(run, len(self.runs), self.total)

    def in_plan_order(self, steps: Sequence[DrillStep]) -> None:
        """Drills run side by side finish in any order; results are kept in the spec's."""
        position = {id(step): index for index, step in enumerate(steps)}
        self.runs.sort(key=lambda run: position.get(id(run.step), len(position)))


@dataclass
class _Servers:
    primary: FaultServer
    fallback: FaultServer | None
    fallback_target: str | None
    probe: LatencyProbe

    def lateness_windows(self) -> Callable[[], float]:
        """Start recording the worst lateness of the client's and the servers' loops for one drill
        round; the returned function ends the recording and gives that worst (seconds)."""
        servers = [self.primary] + ([self.fallback] if self.fallback else [])
        mine = self.probe.window()
        theirs: list[tuple[FaultServer, Window]] = [(server, server.lateness_window()) for server in servers]

        def close() -> float:
            return max(self.probe.close(mine), *(server.close_window(window) for server, window in theirs))

        return close


async def run_drills(
    plan: Plan, conclusive: Conclusive, done: Finished, budget: SendBudget | None = None, seed: int | None = None
) -> None:
    """Run every selected drill, adding each to `done` as it finishes (an interrupted run keeps them).
    Each drill round is taken from `budget` at its worst case first, and settled when it ends."""
    budget = budget or SendBudget()
    if not plan.drills:
        return
    if not plan.client.is_reference:
        from engine.run.client_drills import run_client_drills

        await run_client_drills(plan, done, budget)
        return
    fallback_target = plan.spec.policy.fallback.to
    with ExitStack() as stack:
        primary = stack.enter_context(FaultServer())
        fallback = stack.enter_context(FaultServer()) if fallback_target else None
        probe = LatencyProbe().start()
        servers = _Servers(primary, fallback, fallback_target, probe)
        try:
            async with new_client(trust_env=False) as client:
                await _side_by_side(plan, servers, client, seed, conclusive, budget, done)
        finally:
            await probe.stop()
            done.in_plan_order(plan.drills)


async def _side_by_side(
    plan: Plan,
    servers: _Servers,
    client: httpx.AsyncClient,
    seed: int | None,
    conclusive: Conclusive,
    budget: SendBudget,
    done: Finished,
) -> None:
    """Up to DRILLS_AT_ONCE drills at a time; one at a time under cost guards, so that a drill's
    worst case taken from the budget never refuses another that would have fitted after it."""
    gate = asyncio.Semaphore(1 if plan.limits.any else DRILLS_AT_ONCE)

    async def one(index: int, step: DrillStep) -> None:
        async with gate:
            rng = random.Random(None if seed is None else f"{seed}-{index}")  # jitter draws per drill
            done.add(await _until_conclusive(plan, step, servers, client, rng, conclusive, budget))

    async with asyncio.TaskGroup() as group:
        for index, step in enumerate(plan.drills):
            group.create_task(one(index, step))


async def _until_conclusive(
    plan: Plan,
    step: DrillStep,
    servers: _Servers,
    client: httpx.AsyncClient,
    rng: random.Random,
    conclusive: Conclusive,
    budget: SendBudget,
) -> DrillRun:
    scale = step.drill.time_scale or plan.spec.drill_settings.time_scale
    earlier: list[DrillRun] = []
    worst, tokens = worst_case_attempts(plan, step), requested_tokens(step.request.body)
    while True:
        refused = budget.take(worst, tokens)
        if refused:
            return DrillRun(step, not_run=refused, earlier=tuple(earlier))
        run = await _run_drill(plan, step, servers, client, rng, scale, len(earlier))
        budget.settle(worst, sum(len(call.attempts) for call in run.calls), tokens)
        if conclusive(run) or run.lateness < QUIET_LATENCY or scale >= MAX_SCALE or len(earlier) + 1 >= MAX_RUNS:
            return replace(run, earlier=tuple(earlier))
        earlier.append(run)
        scale = min(MAX_SCALE, scale * ESCALATION)


async def _run_drill(
    plan: Plan,
    step: DrillStep,
    servers: _Servers,
    client: httpx.AsyncClient,
    rng: random.Random,
    scale: float,
    round_: int,
) -> DrillRun:
    drill = step.drill
    settings = _settings(plan, step, scale)
    budget = RetryBudget(plan.spec.policy.retry.budget)
    calls, served, served_fallback = [], [], []
    lateness = servers.lateness_windows()
    for repeat in range(drill.repeat):
        scope = f"{drill.id}-{round_}-{repeat}"
        primary = primary_url(servers.primary, scope, drill.faults, drill.primary, scale, plan.spec.drill_simulator)
        fallback = (
            servers.fallback.script(scope, fault_steps(drill.fallback_faults, scale, plan.spec.drill_simulator))
            if servers.fallback
            else None
        )
        calls.append(
            await call(
                client,
                _outgoing(step, primary),
                _outgoing(step, fallback) if fallback else None,
                settings,
                budget,
                rng,
            )
        )
        served.append(tuple(servers.primary.attempts(scope)))
        served_fallback.append(tuple(servers.fallback.attempts(scope)) if servers.fallback else ())
    return DrillRun(
        step,
        tuple(calls),
        tuple(served),
        tuple(served_fallback),
        scale,
        servers.fallback_target,
        lateness(),
    )


def _settings(plan: Plan, step: DrillStep, scale: float) -> CallSettings:
    spec, timeouts = plan.spec, step.request.timeouts
    deadline = step.drill.deadline or timeouts.deadline
    return CallSettings(
        policy=spec.policy,
        rules=tuple(spec.classification),
        contract=spec.contract.response,
        connect=timeouts.connect * scale,
        read=timeouts.read * scale,
        deadline=deadline * scale,
        scale=scale,
        max_response_bytes=step.request.max_response_bytes,
    )


def primary_url(
    server: FaultServer, scope: str, faults: list[Fault], primary: str, scale: float, profile: str = "cometapi"
) -> str:
    if primary == "unreachable":
        return f"http://127.0.0.1:{closed_port()}"
    if primary == "unresolvable":
        return f"http://{scope}.runbook.invalid"
    return server.script(scope, fault_steps(faults, scale, profile))


def fault_steps(faults: list[Fault], scale: float, profile: str = "cometapi") -> list[FaultStep]:
    """The simulator's steps for `faults`; a `status` fault's error is rendered as `profile`'s provider sends it."""
    return [_fault_step(fault, scale, PROFILES[profile]) for fault in faults]


def _fault_step(fault: Fault, scale: float, profile: SimProfile) -> FaultStep:
    status, headers, body = fault.status or 200, tuple(fault.headers.items()), b""
    if fault.kind == "status":
        error = (
            profile.error(fault.provider_error) if fault.provider_error else profile.scripted(status, fault.error_code)
        )
        status, headers = error.status, (*error.headers, *headers)
        body = json.dumps(profile.body(error), indent=1).encode()
    return FaultStep(
        kind=fault.kind,
        status=status,
        headers=headers,
        delay=(fault.delay or 0) * scale,
        error_code=fault.error_code,
        body_delay=(fault.body_delay or 0) * scale,
        after=fault.after,
        body=body,
    )


def _outgoing(step: DrillStep, base_url: str) -> Outgoing:
    """The drill's request; the policy bounds each attempt's timeouts by the (scaled) call settings."""
    request = step.request
    headers = {"content-type": "application/json", "accept-encoding": "identity", **request.headers}
    if request.auth.mode != "none":
        headers[request.auth.header] = request.auth.value(DRILL_KEY)
    return Outgoing.for_step(request, base_url, headers)


def closed_port() -> int:
    """A loopback port with nothing listening (bound, then released): connect attempts are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]  # (host, port) for an AF_INET socket
    return port


def not_run(plan: Plan, done: list[DrillRun], why: str) -> tuple[DrillRun, ...]:
    """Every drill of the plan: those that ran, then the rest marked as not run."""
    finished = {run.step.drill.id for run in done}
    return (*done, *(DrillRun(step, not_run=why) for step in plan.drills if step.drill.id not in finished))
