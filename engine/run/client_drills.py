"""Run the drills against a client under test: one process per drill call, judged from the wire.

For each call the client command gets its own scope on the fault simulator (and on the fallback
target's fault server), the request to send, the deadline, and openai-SDK style variables, in its
environment. It prints one JSON object as its last stdout line. Whatever it does instead (crash,
hang past its timeout, print garbage, fail to start) is recorded as data; the run goes on.

Client drills run in real time (a client's sleeps cannot be scaled) unless the client declares its
own `time_scale`, several calls at once, each in an isolated scope.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import signal
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from engine.core.jsontext import loads_bounded
from engine.core.latency import LatencyProbe
from engine.core.redact import printable
from engine.core.registry import CLIENT_ADAPTERS, PluginError
from engine.plan.build import ClientPlan, DrillStep, Plan, worst_case_attempts
from engine.run.budget import SendBudget, requested_tokens
from engine.run.drills import (
    DRILL_KEY,
    ClientCall,
    DrillRun,
    Finished,
    ReportLine,
    fault_steps,
    primary_url,
)
from engine.sim.faults import FaultServer, ServedAttempt

CLIENT_JITTER_CALLS = 20  # calls of a jitter drill: enough to tell full jitter from narrow jitter or a constant
EXIT_POLL = 0.02  # seconds between looks at whether the client exited
OUTPUT_GRACE = 0.5  # seconds to finish reading a client's output after it exited
OUTPUT_LIMIT = 1 << 20  # bytes of stdout kept (the tail): a client that floods cannot exhaust memory
STDERR_KEPT = 400  # characters of stderr shown
REPORT_KEYS = ("outcome", "content", "finish_reason", "served_by", "error")
CANNOT_START, HUNG = "the client command cannot be started", "hung"
ADAPTER_GRACE = 2.0  # seconds past the client's timeout before an adapter that has not answered is stopped


class ClientAdapter(Protocol):
    """How one drill call reaches a client under test. Given the client's plan, the call's environment
    (the client contract: RUNBOOK_* and OPENAI_* variables), its deadline and the fault server's clock,
    it makes the call and says what happened; it never raises for anything the client does.
    Registered in engine.core.registry.CLIENT_ADAPTERS; a spec picks one with `clients.NAME.adapter`."""

    @property
    def name(self) -> str: ...
    async def call(
        self, client: ClientPlan, env: dict[str, str], deadline: float, clock: Callable[[], float]
    ) -> ClientCall: ...


@dataclass(frozen=True)
class CommandAdapter:
    """The built-in adapter: the client's command, run once per call (see `run_call`)."""

    name: str = "command"

    async def call(
        self, client: ClientPlan, env: dict[str, str], deadline: float, clock: Callable[[], float]
    ) -> ClientCall:
        return await run_call(client, env, deadline, clock)


@dataclass(frozen=True)
class _UnavailableAdapter:
    """A registered adapter that cannot be loaded: every call records why."""

    name: str
    why: str

    async def call(
        self, client: ClientPlan, env: dict[str, str], deadline: float, clock: Callable[[], float]
    ) -> ClientCall:
        now = clock()
        return ClientCall(now, now, deadline, problem=f"{CANNOT_START}: {printable(self.why)}")


COMMAND = CommandAdapter()


def client_adapter(name: str) -> ClientAdapter:
    """The adapter called `name`, or one that records why it is unavailable."""
    try:
        adapter: ClientAdapter = CLIENT_ADAPTERS.get(name)
    except (KeyError, PluginError) as exc:
        return _UnavailableAdapter(name, f"client adapter {name!r} is not available ({exc})")
    return adapter


async def run_client_drills(plan: Plan, done: Finished, budget: SendBudget) -> None:
    """Every selected drill against the plan's client, `concurrency` calls at once; appends as each finishes."""
    client = plan.client
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="runbook-client-") as folder:
        primary = stack.enter_context(FaultServer())
        fallback = stack.enter_context(FaultServer()) if plan.spec.policy.fallback.to else None
        servers = _Servers(primary, fallback, plan.spec.policy.fallback.to, LatencyProbe().start())
        adapter = client_adapter(client.adapter)
        gate = asyncio.Semaphore(client.concurrency)
        timed, others = _jitter_drills_apart(plan.drills)
        tasks: list[asyncio.Task[DrillRun]] = []
        try:
            # Jitter is told from noise on a quiet machine: those drills run first, one call at a time.
            for step in timed:
                tasks.append(
                    asyncio.create_task(
                        _drill(plan, step, servers, adapter, asyncio.Semaphore(1), Path(folder), budget)
                    )
                )
                done.add(await tasks[-1])
            tasks += [
                asyncio.create_task(_drill(plan, step, servers, adapter, gate, Path(folder), budget)) for step in others
            ]
            for task in asyncio.as_completed(tasks[len(timed) :]):
                done.add(await task)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await servers.probe.stop()


def _jitter_drills_apart(steps: tuple[DrillStep, ...]) -> tuple[list[DrillStep], list[DrillStep]]:
    timed = [step for step in steps if step.drill.expect.jittered is not None]
    return timed, [step for step in steps if step not in timed]


class _Servers:
    def __init__(
        self, primary: FaultServer, fallback: FaultServer | None, fallback_target: str | None, probe: LatencyProbe
    ):
        self.primary, self.fallback, self.fallback_target, self.probe = primary, fallback, fallback_target, probe
        # Fallback arrivals are put on the primary server's clock (both count from their own start).
        self.offset = fallback.now() - primary.now() if fallback else 0.0


async def _drill(
    plan: Plan,
    step: DrillStep,
    servers: _Servers,
    adapter: ClientAdapter,
    gate: asyncio.Semaphore,
    folder: Path,
    budget: SendBudget,
) -> DrillRun:
    drill, client = step.drill, plan.client
    scale = client.time_scale
    repeat = max(drill.repeat, CLIENT_JITTER_CALLS) if drill.expect.jittered is not None else drill.repeat
    worst, tokens = worst_case_attempts(plan, step, repeat), requested_tokens(step.request.body)
    refused = budget.take(worst, tokens)  # the client's own requests are counted from the simulator's log
    if refused:
        return DrillRun(step, not_run=refused, client=client.name)
    request_file = folder / f"{drill.id}.json"
    request_file.write_text(json.dumps(step.request.body or {}), encoding="utf-8")
    scopes = [f"{client.name}-{drill.id}-{call}" for call in range(repeat)]
    calls = await asyncio.gather(
        *(_scoped_call(plan, step, servers, adapter, gate, scope, request_file) for scope in scopes)
    )
    served = tuple(tuple(servers.primary.attempts(scope)) for scope in scopes)
    served_fallback = tuple(_on_primary_clock(servers, scope) for scope in scopes)
    budget.settle(worst, sum(map(len, served)) + sum(map(len, served_fallback)), tokens)
    lateness = servers.probe.worst  # the worst scheduling noise of the client run so far
    return DrillRun(
        step,
        (),
        served,
        served_fallback,
        scale,
        servers.fallback_target,
        lateness,
        client=client.name,
        client_calls=tuple(calls),
    )


def _on_primary_clock(servers: _Servers, scope: str) -> tuple[ServedAttempt, ...]:
    if servers.fallback is None:
        return ()
    return tuple(
        dataclasses.replace(
            a, arrived=a.arrived - servers.offset, answered=None if a.answered is None else a.answered - servers.offset
        )
        for a in servers.fallback.attempts(scope)
    )


async def _scoped_call(
    plan: Plan,
    step: DrillStep,
    servers: _Servers,
    adapter: ClientAdapter,
    gate: asyncio.Semaphore,
    scope: str,
    request_file: Path,
) -> ClientCall:
    drill, scale = step.drill, plan.client.time_scale
    profile = plan.spec.drill_simulator
    primary = primary_url(servers.primary, scope, drill.faults, drill.primary, scale, profile)
    fallback = (
        servers.fallback.script(scope, fault_steps(drill.fallback_faults, scale, profile)) if servers.fallback else ""
    )
    deadline = (drill.deadline or step.request.timeouts.deadline) * scale
    env = call_environment(plan, step, primary, fallback, request_file, deadline)
    async with gate:
        return await guarded_call(adapter, plan.client, env, deadline, servers.primary.now)


async def guarded_call(
    adapter: ClientAdapter, client: ClientPlan, env: dict[str, str], deadline: float, clock: Callable[[], float]
) -> ClientCall:
    """One call through the adapter, held to the client's timeout; whatever the adapter does is data."""
    started = clock()
    try:
        call: object = await asyncio.wait_for(
            adapter.call(client, env, deadline, clock), client.timeout + ADAPTER_GRACE
        )
    except TimeoutError:
        return ClientCall(
            started, clock(), deadline, problem=f"{HUNG}: still running after its {client.timeout:g}s timeout"
        )
    except Exception as exc:  # a plugin adapter's own failure, whatever it is
        why = printable(f"{type(exc).__name__}: {exc}")[:200]
        return ClientCall(started, clock(), deadline, problem=f"crashed: the {adapter.name!r} adapter raised {why}")
    if not isinstance(call, ClientCall):
        return ClientCall(started, clock(), deadline, problem=f"the {adapter.name!r} adapter returned no ClientCall")
    return call


def call_environment(
    plan: Plan, step: DrillStep, primary: str, fallback: str, request_file: Path, deadline: float
) -> dict[str, str]:
    """The client contract: what one call's command finds in its environment."""
    path, model, timeouts = step.request.path, plan.spec.contract.model, step.request.timeouts
    sdk_path = path.removesuffix("/chat/completions") if path.endswith("/chat/completions") else None
    loopback = "127.0.0.1,localhost,::1,.invalid"
    secrets = {plan.spec.contract.auth.secret, *(name for name, declared in plan.spec.env.items() if declared.secret)}
    inherited = {name: value for name, value in os.environ.items() if name not in secrets}
    return {
        **inherited,
        **dict(plan.client.env),
        "RUNBOOK_BASE_URL": primary,
        "RUNBOOK_CHAT_URL": primary + path,
        "RUNBOOK_FALLBACK_BASE_URL": fallback,
        "RUNBOOK_FALLBACK_CHAT_URL": fallback + path if fallback else "",
        "RUNBOOK_API_KEY": DRILL_KEY,
        "RUNBOOK_MODEL": model,
        "RUNBOOK_REQUEST_FILE": str(request_file),
        "RUNBOOK_DEADLINE": f"{deadline:g}",
        "RUNBOOK_TIME_SCALE": f"{plan.client.time_scale:g}",
        "RUNBOOK_CONNECT_TIMEOUT": f"{timeouts.connect * plan.client.time_scale:g}",
        "RUNBOOK_READ_TIMEOUT": f"{timeouts.read * plan.client.time_scale:g}",
        "OPENAI_BASE_URL": primary + sdk_path if sdk_path is not None else "",
        "OPENAI_API_KEY": DRILL_KEY,
        "RUNBOOK_FALLBACK_OPENAI_BASE_URL": fallback + sdk_path if fallback and sdk_path is not None else "",
        "NO_PROXY": loopback,
        "no_proxy": loopback,  # the simulator is on loopback: never through a proxy
    }


async def run_call(client: ClientPlan, env: dict[str, str], deadline: float, clock: Callable[[], float]) -> ClientCall:
    """Run the client command once; never raises for anything the command does."""
    started = clock()
    try:
        process = await asyncio.create_subprocess_exec(
            *client.command,
            cwd=client.folder,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
    except (OSError, ValueError) as exc:
        why = printable(getattr(exc, "strerror", None) or str(exc))
        return ClientCall(started, clock(), deadline, problem=f"{CANNOT_START}: {why} ({printable(client.command[0])})")
    stdout, stderr = bytearray(), bytearray()
    readers = [
        asyncio.create_task(_tail(process.stdout, stdout, OUTPUT_LIMIT)),
        asyncio.create_task(_tail(process.stderr, stderr, 16_384)),
    ]
    try:
        await asyncio.wait_for(_exited(process), client.timeout)
        ended = clock()
        await asyncio.wait(readers, timeout=OUTPUT_GRACE)  # a child may hold the pipes open: do not wait for it
    except TimeoutError:
        return ClientCall(
            started, clock(), deadline, problem=f"{HUNG}: still running after its {client.timeout:g}s timeout; killed"
        )
    finally:
        _kill(process)  # whatever it left running in its process group goes too
        for reader in readers:
            reader.cancel()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), OUTPUT_GRACE)  # its pipes close now: let asyncio finish it
        _close_pipes(process)
    return _judge_output(started, ended, deadline, process.returncode, bytes(stdout), bytes(stderr))


async def _exited(process: asyncio.subprocess.Process) -> None:
    """Until the process itself exits. (`wait()` also waits for every holder of its pipes: a child it
    left behind would make a prompt client look hung.)"""
    while process.returncode is None:
        await asyncio.sleep(EXIT_POLL)


async def _tail(stream: asyncio.StreamReader | None, kept: bytearray, limit: int) -> None:
    while stream is not None and (chunk := await stream.read(65_536)):
        kept += chunk
        del kept[:-limit]


def _close_pipes(process: asyncio.subprocess.Process) -> None:
    """Close our ends of the pipes now, inside the loop: a grandchild outside the process group may
    still hold the other ends, and a transport left to the garbage collector closes on a dead loop."""
    transport = getattr(process, "_transport", None)  # asyncio keeps it private; close() is public on it
    if transport is not None and not transport.is_closing():
        transport.close()


def _kill(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def _judge_output(
    started: float, ended: float, deadline: float, code: int | None, stdout: bytes, stderr: bytes
) -> ClientCall:
    """The call as the contract sees it: a valid last line and exit 0 or 1, or what went wrong."""
    tail = printable(" ".join(stderr.decode("utf-8", "replace").split()))[-STDERR_KEPT:]
    report, why = parse_report(stdout)
    problem: str | None = None
    if code not in (0, 1):
        problem = f"crashed (exit {code})" + (f": {tail[-160:]}" if tail else "")
    elif report is None:
        problem = why
    elif (code == 0) != (report["outcome"] == "success"):
        problem = f"exit {code} but the reported outcome is {report['outcome']} (exit 0 means success, 1 failed)"
    return ClientCall(started, ended, deadline, code, report, problem, tail)


def parse_report(stdout: bytes) -> tuple[ReportLine | None, str | None]:
    """The client's last stdout line as a report, or why it is not one."""
    lines = [line for line in stdout.decode("utf-8", "replace").split("\n") if line.strip()]
    if not lines:
        return None, "printed nothing on stdout; the contract asks for one JSON object as the last line"
    try:
        report = loads_bounded(lines[-1])
    except ValueError:
        return None, f"the last stdout line is not JSON: {printable(lines[-1])[:120]!r}"
    if not isinstance(report, dict) or report.get("outcome") not in ("success", "failed"):
        return None, 'the last stdout line has no "outcome" of "success" or "failed"'
    return {key: _short(report.get(key)) for key in REPORT_KEYS}, None


def _short(value: object) -> str | None:
    return printable(value)[:200] if isinstance(value, str) else None
