"""Run every step of a plan against a base URL; each step becomes a recorded attempt."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import secrets as token
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from engine import __version__
from engine.plan import Plan, Step
from engine.redact import header_safe, one_line, scrub
from engine.run.client import new_client
from engine.run.http import Attempt, Outgoing, send, stream_flags

USER_AGENT = f"runbook/{__version__}"


@dataclass(frozen=True)
class StepOutcome:
    step: Step
    attempt: Attempt | None = None
    error: str | None = None          # the step could not be run at all (not a server failure)


@dataclass(frozen=True, repr=False)
class RunRecord:
    plan: Plan
    base_url: str
    started: dt.datetime
    finished: dt.datetime
    outcomes: tuple[StepOutcome, ...]
    drills: tuple = ()             # DrillRun records (engine.run.drills)

    def __repr__(self) -> str:
        # asyncio formats the finished task's result in places; keep that cheap for big runs.
        return f"RunRecord({self.plan.spec.name!r}, {self.base_url!r}, {len(self.outcomes)} outcomes)"


def new_invalid_token() -> str:
    """A well-formed bearer token that no provider has issued (fresh for every run)."""
    return f"sk-runbook-invalid-{token.token_hex(16)}"


def execute_plan(plan: Plan, base_url: str, secrets: Mapping[str, str], concurrency: int = 1,
                 invalid_token: str | None = None) -> RunRecord:
    """Execute the plan; never raises for anything the server does."""
    token_value = invalid_token or new_invalid_token()
    return asyncio.run(_execute(plan, base_url.rstrip("/"), secrets, max(1, concurrency), token_value))


async def _execute(plan: Plan, base_url: str, secrets: Mapping[str, str], concurrency: int,
                   invalid_token: str) -> RunRecord:
    started = dt.datetime.now(dt.timezone.utc)
    outcomes: list[StepOutcome | None] = [None] * len(plan.steps)
    pending = iter(enumerate(plan.steps))
    trust_env = plan.target.kind == "http"
    async with new_client(trust_env=trust_env, headers={"user-agent": USER_AGENT}) as client:
        async def worker() -> None:
            # Workers fill `outcomes` in place: no future ever holds the (large) results.
            for index, step in pending:
                outcomes[index] = await _guarded_step(client, step, base_url, secrets, invalid_token)

        workers = [asyncio.create_task(worker()) for _ in range(min(concurrency, len(plan.steps)))]
        await asyncio.gather(*workers)
    finished = dt.datetime.now(dt.timezone.utc)
    return RunRecord(plan, base_url, started, finished, tuple(o for o in outcomes if o is not None))


async def _guarded_step(client: httpx.AsyncClient, step: Step, base_url: str,
                        secrets: Mapping[str, str], invalid_token: str) -> StepOutcome:
    """One step; an unexpected failure is recorded against this step and the run goes on."""
    try:
        return await _run_step(client, step, base_url, secrets, invalid_token)
    except Exception as exc:  # noqa: BLE001 - a failing step must not stop the others
        detail = scrub(one_line(str(exc)), (*secrets.values(), invalid_token))
        return StepOutcome(step, error=f"the request could not be made ({type(exc).__name__}: {detail})")


async def _run_step(client: httpx.AsyncClient, step: Step, base_url: str,
                    secrets: Mapping[str, str], invalid_token: str) -> StepOutcome:
    headers = {"accept-encoding": "identity"}
    if step.body is not None:
        headers["content-type"] = "application/json"
    headers.update(step.headers)
    if step.auth.mode == "default":
        secret = secrets.get(step.auth.secret)
        if not secret:
            return StepOutcome(step, error=f"secret {step.auth.secret} is not set in the environment")
        if not header_safe(secret):
            return StepOutcome(step, error=f"secret {step.auth.secret} holds characters an HTTP header cannot carry "
                                           "(spaces at the ends, control or non-ASCII characters)")
        headers[step.auth.header] = f"{step.auth.scheme} {secret}"
    elif step.auth.mode == "invalid":
        headers[step.auth.header] = f"{step.auth.scheme} {invalid_token}"
    client_request_id = f"rb-{uuid.uuid4().hex[:24]}"
    headers.setdefault(step.request_id_header, client_request_id)
    outgoing = Outgoing(
        method=step.method,
        url=base_url + step.path,
        headers=headers,
        body=json.dumps(step.body).encode() if step.body is not None else None,
        connect_timeout=step.timeouts.connect,
        read_timeout=step.timeouts.read,
        deadline=step.timeouts.deadline,
        max_response_bytes=step.max_response_bytes,
        secrets=tuple(v for v in (*secrets.values(), invalid_token) if v),
        client_request_id=headers[step.request_id_header],
        **stream_flags(step.body),
    )
    return StepOutcome(step, attempt=await send(client, outgoing, step.response_contract))
