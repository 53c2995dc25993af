"""Pydantic models of the spec format: one model per YAML mapping, `extra="forbid"`.

These models say what a spec *is*; what the engine does with it lives in plan, run and judge. The
scalar types and fixed words they use are in `engine.spec.values`, the targets in
`engine.spec.targets`. Cross-references between parts (criteria -> checks, expectations -> classes)
are checked in `engine.load.semantics`, which can point at the exact list item.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BeforeValidator,
    Field,
    field_validator,
    model_validator,
)

from engine.core.registry import CLIENT_ADAPTERS
from engine.spec.targets import Target
from engine.spec.values import (
    FAULT_KINDS,
    Action,
    Duration,
    EnvName,
    HeaderName,
    HeaderValue,
    HttpUrl,
    JsonPath,
    ParserOutcomes,
    Rate,
    RelativeFolder,
    RequestHeaderName,
    Slug,
    StatusPatterns,
    Strict,
    Texts,
    TransportKinds,
    Tristate,
    UrlPath,
)


class EnvVar(Strict):
    """One environment variable the spec reads: in templates as `env.NAME`, or as the auth secret."""

    secret: bool = False  # a secret is never readable in templates; it is read only when a request is sent
    description: str = ""


class Auth(Strict):
    scheme: Literal["bearer"] = "bearer"
    header: RequestHeaderName = "Authorization"
    secret: EnvName


class Timeouts(Strict):
    connect: Duration = 5.0
    read: Duration = 30.0
    deadline: Duration = 60.0


class RetryPolicy(Strict):
    """How a production client retries; policy drills prove it (max_attempts includes the first)."""

    max_attempts: int = Field(default=3, ge=1, le=100)
    backoff: Literal["exponential", "constant"] = "exponential"
    base: Duration = 0.5
    cap: Duration = 8.0
    jitter: Literal["full", "equal", "decorrelated", "none"] = "full"
    honor_retry_after: bool = True
    retry_after_cap: Duration = 60.0
    budget: float = Field(default=0.2, ge=0, le=1)


class FallbackPolicy(Strict):
    """When a client may reissue the request elsewhere."""

    to: str | None = None
    only_if_remaining: Duration = 10.0
    never_for: list[Slug] = []


class Policy(Strict):
    retry: RetryPolicy = RetryPolicy()
    fallback: FallbackPolicy = FallbackPolicy()
    side_effects: bool = False


class ResponseContract(Strict):
    """What the client's parser needs from a successful response."""

    require: list[JsonPath] = ["choices[0].message"]
    content: JsonPath = "choices[0].message.content"


class Contract(Strict):
    docs: HttpUrl
    accessed: dt.date
    path: UrlPath
    auth: Auth
    model: str = Field(min_length=1)
    streaming: bool = False
    timeouts: Timeouts = Timeouts()
    policy_version: str
    response: ResponseContract = ResponseContract()
    max_response_bytes: int = Field(default=1_048_576, ge=1024)


CONDITIONS = ("status", "error_code", "error_type", "transport", "parser", "content_type")


class When(Strict):
    """Conditions of a classification rule: all given keys must match; a list means any of."""

    status: StatusPatterns | None = None
    error_code: Texts | None = None
    error_type: Texts | None = None
    transport: TransportKinds | None = None
    parser: ParserOutcomes | None = None
    content_type: Texts | None = None  # substring of the Content-Type, case-insensitive
    any: bool = False

    @model_validator(mode="after")
    def _has_a_condition(self) -> When:
        given = [k for k in CONDITIONS if getattr(self, k)]
        if not given and not self.any:
            raise ValueError(f"a rule needs at least one condition ({', '.join(CONDITIONS)}) or any: true")
        if given and self.any:
            raise ValueError("'any: true' matches everything; do not combine it with other conditions")
        return self


class Mergeable(Strict):
    """Directives an extending spec puts on an inherited list item; the merge consumes them."""

    drop: bool = False
    before: str | None = None
    after: str | None = None


class Rule(Mergeable):
    id: Slug
    when: When
    class_: Slug = Field(alias="class")
    retry: Tristate
    fallback: Tristate
    action: Action
    owner: str | None = None
    notes: str = ""


class RequestSpec(Strict):
    method: Literal["POST", "GET"] = "POST"
    path: UrlPath | None = None
    auth: Literal["default", "none", "invalid"] = "default"
    headers: dict[RequestHeaderName, HeaderValue] = {}
    json_: dict[str, Any] | None = Field(default=None, alias="json")
    unset: list[JsonPath] = []


class Expect(Strict):
    status: StatusPatterns | None = None
    json_: bool | None = Field(default=None, alias="json")
    parser: ParserOutcomes | None = None
    require: list[JsonPath] = []
    capture: list[JsonPath] = []
    class_: Slug | None = Field(default=None, alias="class")
    action: Action | None = None
    retry: Tristate | None = None
    fallback: Tristate | None = None
    stream: Literal["success", "partial", "failed"] | None = None

    @model_validator(mode="after")
    def _asserts_something(self) -> Expect:
        judged = ("status", "json_", "parser", "require", "class_", "action", "retry", "fallback", "stream")
        if not any(getattr(self, name) not in (None, []) for name in judged):
            raise ValueError(
                "a check must expect something: status, json, parser, require, class, action, retry or fallback"
            )
        return self


class Check(Mergeable):
    id: Slug
    title: str = ""
    tags: list[Slug] = []
    request: RequestSpec = RequestSpec()
    expect: Expect
    keep_content: bool = False
    fixture: Slug | None = None


class Criterion(Mergeable):
    id: Slug
    text: str = Field(min_length=1)
    requires: list[str] = []
    owners_for: list[Slug] = []
    fixtures_for: list[Slug] = []
    targets: list[str] | None = None
    pending: str | None = None
    client: Literal["any", "required"] | None = None  # required: drill evidence must come from a client under test


REFERENCE_CLIENT = "reference"  # runbook's own client: the policy as written


class ClientSpec(Strict):
    """A client under test: a command run once per drill call, judged from the fault simulator's log."""

    command: list[str] = []  # run in the spec's folder; `python` is runbook's interpreter
    adapter: str = "command"  # how a call is made: a command per call, or a plugin's client adapter
    timeout: Duration = 90.0  # hard stop for one call: killed and recorded as a hang
    env: dict[EnvName, str] = {}
    time_scale: float = Field(default=1.0, gt=0, le=1)  # below 1 only for a client that scales its own sleeps
    concurrency: int = Field(default=8, ge=1, le=32)  # drill calls in flight at once

    @field_validator("adapter")
    @classmethod
    def _adapter_is_registered(cls, adapter: str) -> str:
        if adapter not in CLIENT_ADAPTERS:
            raise ValueError(f"unknown client adapter {adapter!r}; use one of: {', '.join(CLIENT_ADAPTERS.names())}")
        return adapter

    @model_validator(mode="after")
    def _command_for_the_command_adapter(self) -> ClientSpec:
        if self.adapter == "command" and not self.command:
            raise ValueError("a client run as a command needs `command:` (the program and its arguments)")
        return self


TRIGGERS = ("release", "sdk_change", "credential_rotation", "model_config_change", "reference_change", "incident")


class Schedule(Strict):
    """When a subset of checks runs: `runbook run --schedule NAME` selects it."""

    text: str = ""
    tags: list[Slug] = []
    only: list[Slug] = []
    skip: list[Slug] = []
    every: Duration | None = None  # for a scheduler (cron, CI) to honour
    on: list[Literal[TRIGGERS]] = []  # type: ignore[valid-type]


class Observability(Strict):
    """The fields every attempt is logged with (the source document's 'capture observability fields')."""

    service: str = "runbook"
    environment: str = "test"
    request_id_header: RequestHeaderName = "X-Client-Request-Id"


def _fault_shorthand(value: Any) -> Any:
    """'reset' -> {kind: reset}; {status: 503} -> {kind: status, status: 503}."""
    if isinstance(value, str):
        return {"kind": value}
    if isinstance(value, dict) and "status" in value and "kind" not in value:
        return {"kind": "status", **value}
    return value


class Fault(Strict):
    """How the simulator answers one attempt of a drill."""

    kind: Literal[FAULT_KINDS] = "ok"  # type: ignore[valid-type]
    status: int | None = Field(default=None, ge=100, le=599)
    headers: dict[HeaderName, HeaderValue] = {}
    delay: Duration | None = None  # before the response head
    body_delay: Duration | None = None  # between body chunks (slow_body), or before the first token
    error_code: str = ""
    after: int = Field(default=2, ge=0, le=100)  # stream faults: chunks sent before the fault

    @model_validator(mode="after")
    def _status_with_status(self) -> Fault:
        if (self.kind == "status") != (self.status is not None):
            raise ValueError("a 'status' fault needs a status code, and only a status fault takes one")
        return self


FaultItem = Annotated[Fault, BeforeValidator(_fault_shorthand, json_schema_input_type=Literal[FAULT_KINDS] | Fault)]


class FaultScript(Strict):
    """A file for `runbook sim --script`: the answers to consecutive attempts, for any client."""

    faults: list[FaultItem] = Field(min_length=1)
    time_scale: float = Field(default=1.0, gt=0, le=1)


class DrillExpect(Strict):
    attempts: int | None = Field(default=None, ge=0)  # attempts on the primary target
    outcome: Literal["success", "failed", "fell_back"] | None = None
    fallback_used: bool | None = None
    class_: Slug | None = Field(default=None, alias="class")  # class of the last primary attempt
    action: Action | None = None
    within_deadline: bool | None = None
    jittered: bool | None = None  # pauses differ across repeats
    stream: Literal["success", "partial", "failed"] | None = None  # of the first attempt's stream
    regenerated: bool | None = None  # retried after partial output was shown

    @model_validator(mode="after")
    def _asserts_something(self) -> DrillExpect:
        if all(
            value is None
            for value in (
                self.attempts,
                self.outcome,
                self.fallback_used,
                self.class_,
                self.action,
                self.within_deadline,
                self.jittered,
                self.stream,
                self.regenerated,
            )
        ):
            raise ValueError(
                "a drill must expect something: attempts, outcome, fallback_used, class, action, "
                "within_deadline or jittered"
            )
        return self


class Drill(Mergeable):
    """The policy under scripted faults (simulator targets only)."""

    id: Slug
    title: str = ""
    tags: list[Slug] = []
    request: RequestSpec = RequestSpec()
    faults: list[FaultItem] = Field(min_length=1)
    fallback_faults: list[FaultItem] = [Fault()]
    primary: Literal["scripted", "unreachable", "unresolvable"] = "scripted"
    deadline: Duration | None = None  # the call's deadline; default contract.timeouts.deadline
    repeat: int = Field(default=1, ge=1, le=50)
    time_scale: float | None = Field(default=None, gt=0, le=1)  # overrides drill_settings.time_scale
    expect: DrillExpect


class DrillSettings(Strict):
    time_scale: float = Field(default=0.02, gt=0, le=1)  # drills run this much faster than written
    tolerance: Duration = 0.025  # real seconds of timing slack on loopback
    client: Literal["any", "required"] = "any"  # criteria's default for `criteria[].client`


_Number = TypeVar("_Number", int, float)


def _tighter(mine: _Number | None, theirs: _Number | None) -> _Number | None:
    return theirs if mine is None else mine if theirs is None else min(mine, theirs)


class Limits(Strict):
    """Caps on what one run may send (cost guards); the command line can only tighten them.

    Every request counts: each check, and each drill attempt, retries and fallbacks included. A run
    that reaches a cap stops sending and reports the rest as not run; it is never ready.
    """

    max_requests: int | None = Field(default=None, ge=1)
    max_requested_tokens: int | None = Field(default=None, ge=1)  # the max_tokens the requests ask for, summed
    rate: Rate | None = None  # requests per second to the target: 5/s, 30/min

    def tightened(self, other: Limits) -> Limits:
        """The tighter of two sets of caps, field by field."""
        return Limits.model_construct(
            max_requests=_tighter(self.max_requests, other.max_requests),
            max_requested_tokens=_tighter(self.max_requested_tokens, other.max_requested_tokens),
            rate=_tighter(self.rate, other.rate),
        )

    @property
    def any(self) -> bool:
        return any(value is not None for value in (self.max_requests, self.max_requested_tokens, self.rate))


class Defaults(Strict):
    request: RequestSpec = RequestSpec()


class Spec(Strict):
    extends: str | None = None  # consumed by the loader: the base is merged in
    version: Literal[1]
    name: Slug
    title: str = ""
    description: str = ""
    vars: dict[str, Any] = {}
    env: dict[EnvName, EnvVar] = {}  # the environment variables the spec may read; anything else is refused
    contract: Contract
    targets: dict[str, Target] = Field(min_length=1)
    defaults: Defaults = Defaults()
    classification: list[Rule] = Field(min_length=1)
    checks: list[Check] = []
    criteria: list[Criterion] = []
    schedules: dict[Slug, Schedule] = {}
    observability: Observability = Observability()
    policy: Policy = Policy()
    drills: list[Drill] = []
    drill_settings: DrillSettings = DrillSettings()
    clients: dict[Slug, ClientSpec] = {}
    fixtures_dir: RelativeFolder = "fixtures"
    limits: Limits = Limits()
