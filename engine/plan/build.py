"""Plan: a loaded spec + a target choice -> frozen, ordered steps. No I/O happens here."""

from __future__ import annotations

import copy
import sys
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Literal

from pydantic import BaseModel

from engine.core.errors import UsageError
from engine.core.registry import TARGET_KINDS
from engine.load.fixtures import GitState
from engine.load.loader import LoadedSpec, StoredFixture
from engine.plan.environment import EnvRead, SecretRoute, environment_reads, secret_route
from engine.plan.select import Item, Selection, partition, resolve
from engine.spec.models import REFERENCE_CLIENT, Check, Drill, Limits, RequestSpec, ResponseContract, Spec, Timeouts
from engine.spec.paths import delete_path
from engine.spec.targets import HttpTarget, PluginTarget, SimulatorTarget, Target

DEFAULT_TARGET = "sim"


@dataclass(frozen=True)
class AuthPlan:
    mode: Literal["default", "none", "invalid"]
    header: str
    scheme: str  # "Bearer", or "" when the header carries the key alone
    secret: str

    def describe(self) -> str:
        """How the request authenticates, with the secret shown only as a reference."""
        if self.mode == "none":
            return "none"
        return self.value("<invalid token>" if self.mode == "invalid" else f"${self.secret}")

    def value(self, token: str) -> str:
        """The header value that carries `token`: `Bearer <token>`, or the token alone (scheme `key`)."""
        return f"{self.scheme} {token}" if self.scheme else token


@dataclass(frozen=True)
class Step(Generic[Item]):
    """One fully resolved request: a contract check's (Step[Check]) or a drill's calls' (Step[Drill])."""

    check: Item
    method: str
    path: str
    headers: dict[str, str]
    auth: AuthPlan
    body: dict[str, Any] | None
    timeouts: Timeouts
    max_response_bytes: int
    response_contract: ResponseContract
    request_id_header: str = "X-Client-Request-Id"
    stored_fixture: dict[str, Any] | None = None
    fixture_path: str | None = None  # as shown to the user (relative to the working directory)
    fixture_git: GitState | None = None  # None: not in git


@dataclass(frozen=True)
class DrillStep:
    """A drill and the request its calls send (the default request, changed by the drill's own)."""

    drill: Drill
    request: Step[Drill]


@dataclass(frozen=True)
class TargetPlan:
    """Where the checks go. `live` targets are real providers: their checks are live evidence."""

    name: str
    kind: str  # simulator, http, or a plugin's kind (engine.core.registry.TARGET_KINDS)
    base_url: str | None
    alias: str
    simulator: SimulatorTarget | None = None
    live: bool = True
    settings: BaseModel | None = None  # a plugin kind's validated settings


@dataclass(frozen=True)
class ClientPlan:
    """The client a run's drills exercise: runbook's reference client, or a command under test."""

    name: str = REFERENCE_CLIENT
    command: tuple[str, ...] = ()
    folder: Path = Path(".")  # the command runs here: the spec's folder
    timeout: float = 90.0
    env: tuple[tuple[str, str], ...] = ()
    time_scale: float = 1.0
    concurrency: int = 1
    adapter: str = "command"  # engine.core.registry.CLIENT_ADAPTERS: how one call is made

    @property
    def is_reference(self) -> bool:
        return self.name == REFERENCE_CLIENT


@dataclass(frozen=True)
class Plan:
    spec: Spec
    spec_path: Path
    target: TargetPlan
    steps: tuple[Step[Check], ...]
    skipped: tuple[tuple[str, str], ...] = field(default=())
    selection: Selection = field(default_factory=Selection)
    drills: tuple[DrillStep, ...] = ()
    skipped_drills: tuple[tuple[str, str], ...] = field(default=())
    client: ClientPlan = ClientPlan()
    secret_route: SecretRoute | None = None  # where the secret goes (None: it goes to no host the plan knows)
    environment: tuple[EnvRead, ...] = ()  # every declared environment variable: set? read by what?
    limits: Limits = field(default_factory=Limits)  # the spec's caps, tightened by the command line's
    rule_locations: dict[str, str] = field(default_factory=dict)  # rule id -> "file:line" in the spec
    spec_files: tuple[tuple[str, str], ...] = ()  # (path, sha256) of the spec and its bases


def build_plan(
    loaded: LoadedSpec,
    target: str | None = None,
    selection: Selection = Selection(),
    client: str = REFERENCE_CLIENT,
    limits: Limits = Limits(),
) -> Plan:
    """Choose the target, the client and the checks, and turn each selected check into a request step."""
    spec = loaded.spec
    target_plan = _target_plan(spec, target or DEFAULT_TARGET)
    client_plan = _client_plan(spec, client, loaded.path)
    selection = resolve(spec, selection)
    chosen, left_out = partition(spec.checks, selection)
    steps = tuple(_step(spec, check, loaded.fixtures.get(check.id)) for check in chosen)
    drills, drills_left_out = partition(spec.drills, selection)
    sends_secret = target_plan.kind == "http" and any(step.auth.mode == "default" for step in steps)
    route = secret_route(spec, target_plan.name, target_plan.base_url, loaded.environment) if sends_secret else None
    return Plan(
        spec=spec,
        spec_path=loaded.path,
        target=target_plan,
        steps=steps,
        skipped=tuple(left_out),
        selection=selection,
        drills=tuple(DrillStep(drill, _step(spec, drill)) for drill in drills),
        skipped_drills=tuple(drills_left_out),
        client=client_plan,
        secret_route=route,
        environment=environment_reads(spec, loaded.environment, route),
        limits=spec.limits.tightened(limits),
        rule_locations={
            rule.id: f"{where.file}:{where.line}"
            for index, rule in enumerate(spec.classification)
            for where in [loaded.source.locate(("classification", index))]
        },
        spec_files=loaded.files,
    )


def worst_case_attempts(plan: Plan, step: DrillStep, calls: int | None = None) -> int:
    """The most requests one round of a drill can send: every call makes every attempt, then falls back."""
    per_call = plan.spec.policy.retry.max_attempts + (1 if plan.spec.policy.fallback.to else 0)
    return per_call * (step.drill.repeat if calls is None else calls)


def client_names(spec: Spec) -> list[str]:
    """What `--client all` runs: the reference client, then every client the spec declares."""
    return [REFERENCE_CLIENT, *spec.clients]


def _client_plan(spec: Spec, name: str, spec_path: Path) -> ClientPlan:
    if name == REFERENCE_CLIENT:
        return ClientPlan()
    if name not in spec.clients:
        known = ", ".join(client_names(spec))
        raise UsageError(f"spec {spec.name!r} has no client {name!r} (clients: {known})")
    client = spec.clients[name]
    command = tuple(
        sys.executable if i == 0 and part in ("python", "python3") else part for i, part in enumerate(client.command)
    )
    return ClientPlan(
        name,
        command,
        spec_path.resolve().parent,
        client.timeout,
        tuple(client.env.items()),
        client.time_scale,
        client.concurrency,
        client.adapter,
    )


def target_is_live(target: Target) -> bool:
    """A real provider: an http target, or a plugin's target whose kind says it is live."""
    if isinstance(target, PluginTarget):
        return bool(TARGET_KINDS.get(target.kind).live)
    return isinstance(target, HttpTarget)


def _target_plan(spec: Spec, name: str) -> TargetPlan:
    if name not in spec.targets:
        known = ", ".join(sorted(spec.targets))
        raise UsageError(f"spec {spec.name!r} has no target {name!r} (targets: {known})")
    target = spec.targets[name]
    if isinstance(target, SimulatorTarget):
        return TargetPlan(name, "simulator", None, f"{name} (built-in simulator)", simulator=target, live=False)
    if isinstance(target, HttpTarget):
        return TargetPlan(name, "http", target.base_url, target.alias or name)
    assert isinstance(target, PluginTarget)
    return TargetPlan(
        name, target.kind, None, target.alias or name, live=target_is_live(target), settings=target.settings
    )


def _step(spec: Spec, check: Item, fixture: StoredFixture | None = None) -> Step[Item]:
    base, own = spec.defaults.request, check.request
    auth = spec.contract.auth
    return Step(
        check=check,
        method=_pick(own, base, "method"),
        path=_with_query(own.path or base.path or spec.contract.path, spec.contract.query),
        headers={**base.headers, **own.headers},
        auth=AuthPlan(_pick(own, base, "auth"), auth.header, "Bearer" if auth.scheme == "bearer" else "", auth.secret),
        body=_body(base, own),
        timeouts=spec.contract.timeouts,
        max_response_bytes=spec.contract.max_response_bytes,
        response_contract=spec.contract.response,
        request_id_header=spec.observability.request_id_header,
        stored_fixture=fixture.document if fixture else None,
        fixture_path=fixture.path if fixture else None,
        fixture_git=fixture.git if fixture else None,
    )


def _with_query(path: str, query: dict[str, str]) -> str:
    """The path with the contract's fixed query parameters (`?api-version=...`)."""
    if not query:
        return path
    return path + ("&" if "?" in path else "?") + urllib.parse.urlencode(query)


def _pick(own: RequestSpec, base: RequestSpec, name: str) -> Any:
    return getattr(own, name) if name in own.model_fields_set else getattr(base, name)


def _body(base: RequestSpec, own: RequestSpec) -> dict[str, Any] | None:
    if base.json_ is None and own.json_ is None:
        return None
    body = deep_merge(base.json_ or {}, own.json_ or {})
    for dotted in [*base.unset, *own.unset]:
        delete_path(body, dotted)
    return body


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key; any other value (lists included) replaces."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged
