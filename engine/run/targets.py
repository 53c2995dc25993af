"""The endpoint a plan's checks are sent to, for as long as the run lasts: an http target's base URL
and its secret from the environment, or the built-in simulator started on loopback with a fresh key.
"""

from __future__ import annotations

import secrets as token
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from engine.core.errors import EngineError, UsageError
from engine.plan.build import Plan


@contextmanager
def target_endpoint(the_plan: Plan, environ: Mapping[str, str]) -> Iterator[tuple[str, dict[str, str]]]:
    """(base URL, {secret name: value}) for the plan's target; a simulator is stopped on exit."""
    secret_name = the_plan.spec.contract.auth.secret
    target = the_plan.target
    if target.kind == "http":
        needs_secret = any(step.auth.mode == "default" for step in the_plan.steps)
        if needs_secret and not environ.get(secret_name):
            raise UsageError(
                f"target {target.name!r} needs {secret_name} in the environment "
                f"(export it, or run against the simulator with --target sim)"
            )
        yield target.base_url or "", {secret_name: environ.get(secret_name, "")}
        return
    from engine.sim import DEFAULT_MODELS, SimConfig, SimServer

    key = f"sk-runbook-sim-{token.token_hex(16)}"
    sim = target.simulator
    config = SimConfig(keys=(key,), models=tuple(sim.models or DEFAULT_MODELS), context_tokens=sim.context_tokens)
    try:
        server = SimServer(config).start()
    except (OSError, RuntimeError) as exc:
        raise EngineError(f"the built-in simulator did not start: {exc}") from None
    try:
        yield server.base_url, {secret_name: key}
    finally:
        server.stop()
