"""Target kinds: how the endpoint a plan's checks are sent to comes to exist for the length of a run.

Each kind is registered in engine.core.registry.TARGET_KINDS: `http` (a provider's base URL and its
secret from the environment) and `simulator` (the built-in simulator, started on loopback with a
fresh key) are built in; a plugin adds its own kind by registering an object shaped like
`TargetKind` under the `runbook.target_kinds` entry point group.
"""

from __future__ import annotations

import contextlib
import secrets as token
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Protocol

from pydantic import BaseModel

from engine.core.errors import EngineError, UsageError
from engine.core.registry import TARGET_KINDS, PluginError
from engine.plan.build import Plan, TargetPlan

Endpoint = tuple[str, dict[str, str]]  # base URL, {secret name: value} to scrub from everything written


class TargetKind(Protocol):
    """What a target kind provides. `settings` checks the target's keys besides `kind` and `alias`;
    `live` says whether its checks are evidence about a real provider; `endpoint` yields the base URL
    and secrets for one run and cleans up after it."""

    @property
    def name(self) -> str: ...
    @property
    def settings(self) -> type[BaseModel]: ...
    @property
    def live(self) -> bool: ...
    def endpoint(
        self, target: TargetPlan, secret_name: str, environ: Mapping[str, str]
    ) -> AbstractContextManager[Endpoint]: ...


@dataclass(frozen=True)
class BuiltinKind:
    """A built-in kind: the spec's own models check it, and the plan knows whether it is live."""

    name: str
    endpoint: Callable[[TargetPlan, str, Mapping[str, str]], AbstractContextManager[Endpoint]]


@dataclass
class Started:
    """The endpoint of one run: its base URL, the secrets to scrub from everything written, and any
    failure of a plugin's endpoint to clean up after itself (reported once the reports are written)."""

    base_url: str
    secrets: dict[str, str]
    cleanup_problems: list[str] = field(default_factory=list)


@contextmanager
def target_endpoint(the_plan: Plan, environ: Mapping[str, str]) -> Iterator[Started]:
    """The plan's target, started for as long as the block runs."""
    target = the_plan.target
    try:
        kind: TargetKind = TARGET_KINDS.get(target.kind)
    except (KeyError, PluginError) as exc:
        raise UsageError(f"target {target.name!r}: kind {target.kind!r} is not available ({exc})") from None
    secret_name = the_plan.spec.contract.auth.secret
    needs_secret = any(step.auth.mode == "default" for step in the_plan.steps)
    if target.kind == "http" and needs_secret and not environ.get(secret_name):
        raise UsageError(
            f"target {target.name!r} needs {secret_name} in the environment "
            f"(export it, or run against the simulator with --target sim)"
        )
    if target.kind == "simulator" and len(the_plan.steps) >= SIM_PROCESS_FROM:
        with _simulator_endpoint(target, secret_name, environ, own_process=True) as (base_url, secrets):
            yield Started(base_url, secrets)
        return
    if target.kind in BUILTIN_KINDS:
        with kind.endpoint(target, secret_name, environ) as (base_url, secrets):
            yield Started(base_url, secrets)
        return
    with _plugin_endpoint(kind, target, secret_name, environ) as started:
        yield started


@contextmanager
def _plugin_endpoint(
    kind: TargetKind, target: TargetPlan, secret_name: str, environ: Mapping[str, str]
) -> Iterator[Started]:
    """A plugin's endpoint, whatever it does: a failure to start is an engine error that names the
    plugin; a failure to clean up is kept, so the run's reports are still written."""
    plugin = f"target {target.name!r} (kind {target.kind!r}, {TARGET_KINDS.origin(target.kind)})"
    stack = ExitStack()
    try:
        base_url, secrets = stack.enter_context(kind.endpoint(target, secret_name, environ))
        if not isinstance(base_url, str) or not isinstance(secrets, dict):
            raise TypeError("its endpoint must yield (base URL, {secret name: value})")
        started = Started(base_url, {str(name): str(value) for name, value in secrets.items()})
    except Exception as exc:  # the plugin's own failure, whatever it is
        with contextlib.suppress(Exception):
            stack.close()
        raise EngineError(f"{plugin} did not start: {exc}") from exc
    try:
        yield started
    finally:
        try:
            stack.close()
        except Exception as exc:  # recorded, not raised: what the run found is still written
            started.cleanup_problems.append(f"{plugin} did not stop cleanly: {exc}")


@contextmanager
def _http_endpoint(target: TargetPlan, secret_name: str, environ: Mapping[str, str]) -> Iterator[Endpoint]:
    yield target.base_url or "", {secret_name: environ.get(secret_name, "")}


@contextmanager
def _simulator_endpoint(
    target: TargetPlan, secret_name: str, environ: Mapping[str, str], own_process: bool = False
) -> Iterator[Endpoint]:
    """The built-in simulator: in a thread, or (own_process, for large runs) in a process of its own."""
    from engine.core.providers import PROFILES
    from engine.sim import DEFAULT_MODELS, SimConfig, SimServer
    from engine.sim.process import SimProcess

    key = f"sk-runbook-sim-{token.token_hex(16)}"
    sim = target.simulator
    assert sim is not None, "a simulator target plan carries its simulator settings"
    models = tuple(sim.models or DEFAULT_MODELS)
    config = SimConfig(keys=(key,), models=models, context_tokens=sim.context_tokens, profile=PROFILES[sim.simulator])
    server: SimServer | SimProcess
    try:
        if own_process:
            server = SimProcess(config).start()
        else:
            server = SimServer(config).start()
    except (OSError, RuntimeError) as exc:
        raise EngineError(f"the built-in simulator did not start: {exc}") from None
    try:
        yield server.base_url, {secret_name: key}
    finally:
        server.stop()


# From this many checks the simulator gets its own process (a second core for its answers); below,
# the process's start-up (about 0.3 s) would cost more than it saves.
SIM_PROCESS_FROM = 200

HTTP = BuiltinKind("http", _http_endpoint)
SIMULATOR = BuiltinKind("simulator", _simulator_endpoint)
BUILTIN_KINDS = ("http", "simulator")
