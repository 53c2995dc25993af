"""Run every step of a plan against a base URL; each step becomes a recorded attempt.

`progress` hears of every check and drill as it finishes (its raw outcome, how many have finished,
of how many): the run stage says what happened, and a later stage judges it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import secrets as token
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import httpx

from engine import __version__
from engine.core.redact import header_safe, one_line, scrub
from engine.plan.build import Plan, Step
from engine.run.budget import SendBudget, requested_tokens
from engine.run.client import new_client
from engine.run.drills import Conclusive, DrillRun, Finished, not_run, run_drills
from engine.run.http import Attempt, Outgoing, send
from engine.run.interrupt import Interruption
from engine.spec.models import Check

USER_AGENT = f"runbook/{__version__}"


@dataclass(frozen=True)
class StepOutcome:
    step: Step[Check]
    attempt: Attempt | None = None
    error: str | None = None  # the step could not be run at all (not a server failure)
    not_run: str | None = None  # the run stopped before this step (interrupted)


# Told of each check (its StepOutcome) or drill (its DrillRun) that finished, how many have, of how many.
OnFinished = Callable[[StepOutcome | DrillRun, int, int], None]


@dataclass
class _Tally:
    """Counts the checks and drills that finished, and tells `on_each` about each one."""

    total: int
    on_each: OnFinished | None = None
    done: int = 0

    def add(self, item: StepOutcome | DrillRun) -> None:
        self.done += 1
        if self.on_each is not None:
            self.on_each(item, self.done, self.total)


@dataclass(frozen=True, repr=False)
class RunRecord:
    """Everything one run observed: checks against the target, drills on the fault simulator.

    `started` and `finished` span both; `interrupted` names the signal that stopped the run early.
    """

    plan: Plan
    base_url: str
    started: dt.datetime
    finished: dt.datetime
    outcomes: tuple[StepOutcome, ...]
    drills: tuple[DrillRun, ...] = ()
    interrupted: str | None = None
    budget: SendBudget = field(default_factory=SendBudget)  # what was sent, and the cap that stopped it

    def __repr__(self) -> str:
        # asyncio formats the finished task's result in places; keep that cheap for big runs.
        return f"RunRecord({self.plan.spec.name!r}, {self.base_url!r}, {len(self.outcomes)} outcomes)"


def new_invalid_token() -> str:
    """A well-formed bearer token that no provider has issued (fresh for every run)."""
    return f"sk-runbook-invalid-{token.token_hex(16)}"


def _always_conclusive(_run: DrillRun) -> bool:
    return True


def execute_plan(
    plan: Plan,
    base_url: str,
    secrets: Mapping[str, str],
    concurrency: int = 1,
    invalid_token: str | None = None,
    conclusive: Conclusive = _always_conclusive,
    interruption: Interruption | None = None,
    progress: OnFinished | None = None,
) -> RunRecord:
    """Run the checks against the target, then the drills on the fault simulator.

    Never raises for anything a server does. `conclusive` tells whether a drill run can be judged
    as it is (see engine.run.drills); `interruption` stops the run cleanly on SIGINT/SIGTERM;
    `progress` is called as each check and drill finishes (checks first, counted together).
    """
    token_value = invalid_token or new_invalid_token()
    tally = _Tally(len(plan.steps) + len(plan.drills), progress)
    with contextlib.nullcontext(interruption) if interruption else Interruption() as stop:
        return asyncio.run(
            _execute(
                plan,
                base_url.rstrip("/"),
                secrets,
                max(1, concurrency),
                token_value,
                conclusive,
                stop,
                tally,
            )
        )


async def _execute(
    plan: Plan,
    base_url: str,
    secrets: Mapping[str, str],
    concurrency: int,
    invalid_token: str,
    conclusive: Conclusive,
    stop: Interruption,
    tally: _Tally,
) -> RunRecord:
    started = dt.datetime.now(dt.UTC)
    drills = Finished(len(plan.drills), lambda run, _done, _total: tally.add(run))
    budget = SendBudget(plan.limits)
    outcomes: list[StepOutcome | None] = [None] * len(plan.steps)
    loop, task = asyncio.get_running_loop(), asyncio.current_task()
    assert task is not None, "asyncio.run runs this coroutine as a task"
    with stop.calling(lambda: loop.call_soon_threadsafe(task.cancel), loop):
        try:
            await _run_checks(plan, outcomes, base_url, secrets, concurrency, invalid_token, budget, tally)
            await run_drills(plan, conclusive, drills, budget)
        except asyncio.CancelledError:
            if stop.signal is None:
                raise
            task.uncancel()
    finished = dt.datetime.now(dt.UTC)
    why = f"not run: the run was interrupted ({stop.name})"
    return RunRecord(
        plan,
        base_url,
        started,
        finished,
        tuple(o or StepOutcome(step, not_run=why) for o, step in zip(outcomes, plan.steps, strict=True)),
        not_run(plan, drills.runs, why) if stop.signal else tuple(drills.runs),
        stop.name,
        budget,
    )


async def _run_checks(
    plan: Plan,
    outcomes: list[StepOutcome | None],
    base_url: str,
    secrets: Mapping[str, str],
    concurrency: int,
    invalid_token: str,
    budget: SendBudget,
    tally: _Tally,
) -> None:
    pending = iter(enumerate(plan.steps))
    async with new_client(trust_env=plan.target.kind != "simulator", headers={"user-agent": USER_AGENT}) as client:

        async def worker() -> None:
            # Workers fill `outcomes` in place: no future ever holds the (large) results.
            for index, step in pending:
                refused = budget.take(1, requested_tokens(step.body))
                if refused:
                    outcome = StepOutcome(step, not_run=refused)
                else:
                    await budget.pace()
                    outcome = await _guarded_step(client, step, base_url, secrets, invalid_token)
                outcomes[index] = outcome
                tally.add(outcome)  # one event loop: the workers never count at once

        await asyncio.gather(*(worker() for _ in range(min(concurrency, len(plan.steps)))))


async def _guarded_step(
    client: httpx.AsyncClient, step: Step[Check], base_url: str, secrets: Mapping[str, str], invalid_token: str
) -> StepOutcome:
    """One step; an unexpected failure is recorded against this step and the run goes on."""
    try:
        return await _run_step(client, step, base_url, secrets, invalid_token)
    except Exception as exc:
        detail = scrub(one_line(str(exc)), (*secrets.values(), invalid_token))
        return StepOutcome(step, error=f"the request could not be made ({type(exc).__name__}: {detail})")


async def _run_step(
    client: httpx.AsyncClient, step: Step[Check], base_url: str, secrets: Mapping[str, str], invalid_token: str
) -> StepOutcome:
    headers = {"accept-encoding": "identity"}
    if step.body is not None:
        headers["content-type"] = "application/json"
    headers.update(step.headers)
    if step.auth.mode == "default":
        secret = secrets.get(step.auth.secret)
        if not secret:
            return StepOutcome(step, error=f"secret {step.auth.secret} is not set in the environment")
        if not header_safe(secret):
            return StepOutcome(
                step,
                error=f"secret {step.auth.secret} holds characters an HTTP header cannot carry "
                "(spaces at the ends, control or non-ASCII characters)",
            )
        headers[step.auth.header] = step.auth.value(secret)
    elif step.auth.mode == "invalid":
        headers[step.auth.header] = step.auth.value(invalid_token)
    client_request_id = f"rb-{uuid.uuid4().hex[:24]}"
    headers.setdefault(step.request_id_header, client_request_id)
    outgoing = Outgoing.for_step(
        step,
        base_url,
        headers,
        secrets=tuple(v for v in (*secrets.values(), invalid_token) if v),
        client_request_id=headers[step.request_id_header],
    )
    return StepOutcome(step, attempt=await send(client, outgoing, step.response_contract))
