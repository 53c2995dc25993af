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

from engine.core.providers import PROFILE_NAMES
from engine.core.registry import CLIENT_ADAPTERS
from engine.spec.targets import TARGET_DESCRIPTION, Target
from engine.spec.values import (
    FAULT_KINDS,
    Action,
    Duration,
    EnvName,
    HeaderName,
    HeaderValue,
    HttpUrl,
    JsonPath,
    MessagePieces,
    ParserOutcomes,
    QueryName,
    QueryValue,
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


# Empty defaults made per instance: pydantic deep-copies a shared `[]` or `{}` for every model it
# builds (five per check, about 1 s at 10,000 checks); the schema still shows the default.
def _empty_list() -> Any:
    return Field(default_factory=list, json_schema_extra={"default": []})


def _empty_dict() -> Any:
    return Field(default_factory=dict, json_schema_extra={"default": {}})


class EnvVar(Strict):
    """One environment variable the spec reads: in templates as `env.NAME`, or as the auth secret."""

    secret: bool = False
    """`true` for a secret: read only when a request is sent, never readable in templates, kept out of every output."""
    description: str = ""
    """What the variable is for, shown to whoever reviews the spec."""


class Auth(Strict):
    """How requests carry the key: the scheme, the header and the environment variable that holds it."""

    scheme: Literal["bearer", "key"] = "bearer"
    """`bearer` sends `<header>: Bearer <key>`; `key` sends the key alone (`api-key: <key>`, as Azure OpenAI)."""
    header: RequestHeaderName = "Authorization"
    """The header that carries the key."""
    secret: EnvName
    """The *name* of the environment variable holding the key (declared in `env`), never the key itself."""


class Timeouts(Strict):
    """The client's timeouts: `500ms`, `2s`, `1m`, `1h`, or seconds as a number."""

    connect: Duration = 5.0
    """Time allowed to open the connection."""
    read: Duration = 30.0
    """Time allowed to wait for the response's next bytes."""
    deadline: Duration = 60.0
    """Time allowed for the whole request, all attempts included."""


class RetryPolicy(Strict):
    """How a production client retries; policy drills prove it (max_attempts includes the first)."""

    max_attempts: int = Field(default=3, ge=1, le=100)
    """Attempts including the first (lint warns above 3)."""
    backoff: Literal["exponential", "constant"] = "exponential"
    """How the pause grows between attempts: `exponential` or `constant`."""
    base: Duration = 0.5
    """The first pause."""
    cap: Duration = 8.0
    """The largest pause."""
    jitter: Literal["full", "equal", "decorrelated", "none"] = "full"
    """How pauses are randomised: `full`, `equal`, `decorrelated` or `none` (lint warns on `none`)."""
    honor_retry_after: bool = True
    """Follow the server's `Retry-After` / `retry-after-ms` hints."""
    retry_after_cap: Duration = 60.0
    """A longer `Retry-After` hint than this means: do not retry."""
    budget: float = Field(default=0.2, ge=0, le=1)
    """Retries as a share of all requests in a run."""


class FallbackPolicy(Strict):
    """When a client may reissue the request elsewhere."""

    to: str | None = None
    """The target to fall back to; in a drill a fault server of its own plays it."""
    only_if_remaining: Duration = 10.0
    """Fall back only if this much of the deadline remains."""
    never_for: list[Slug] = _empty_list()
    """Classes that never fall back; a rule of such a class that allows fallback is an error."""


class Policy(Strict):
    """The retry and fallback policy a client implements, pinned with the contract; policy drills prove it."""

    retry: RetryPolicy = RetryPolicy()
    """How a client retries: attempts, backoff, jitter, Retry-After and the retry budget."""
    fallback: FallbackPolicy = FallbackPolicy()
    """When a client may reissue the request on another target."""
    side_effects: bool = False
    """`true` when requests trigger external actions: they are never retried."""


class ResponseContract(Strict):
    """What the client's parser needs from a successful response."""

    require: list[JsonPath] = ["choices[0].message"]
    """Paths a successful response must have (`choices[0].finish_reason`)."""
    content: JsonPath = "choices[0].message.content"
    """Where the assistant text is."""


class Contract(Strict):
    """The pinned boundary: the values to pin before the first test, printed at the top of every report."""

    docs: HttpUrl
    """URL of the API reference you verified against."""
    accessed: dt.date
    """The date you read the reference (`2026-05-08`)."""
    path: UrlPath
    """The chat-completions path your client uses (`/v1/chat/completions`)."""
    query: dict[QueryName, Annotated[QueryValue, Field(description="The parameter's value, sent as written.")]] = (
        _empty_dict()
    )
    """Fixed, non-secret query parameters every request carries (Azure OpenAI's `api-version`)."""
    auth: Auth
    """`scheme`, `header` and `secret`: the name of the environment variable holding the key."""
    model: str = Field(min_length=1)
    """The model id under test (usually `"{{ vars.model }}"`)."""
    streaming: bool = False
    """Whether your client streams."""
    timeouts: Timeouts = Timeouts()
    """`connect`, `read` and `deadline` (the whole request)."""
    policy_version: str
    """The version of your retry and fallback policy."""
    response: ResponseContract = ResponseContract()
    """`require`: paths a successful response must have; `content`: where the assistant text is."""
    max_response_bytes: int = Field(default=1_048_576, ge=1024)
    """Responses larger than this are cut and recorded as `too_large`."""


CONDITIONS = ("status", "error_code", "error_type", "message", "transport", "parser", "content_type")


class When(Strict):
    """Conditions of a classification rule: all given keys must match; a list means any of."""

    status: StatusPatterns | None = None
    """HTTP status: a code (`429`), a class (`5xx`) or a range (`500-504`)."""
    error_code: Texts | None = None
    """The provider's `error.code` (a number is compared as text)."""
    error_type: Texts | None = None
    """The provider's `error.type`."""
    message: MessagePieces | None = None
    """Pieces of the provider's error message, matched case-insensitively as plain text (never a regex),
    each at most 200 characters: for gateways that carry the meaning only in the text."""
    transport: TransportKinds | None = None
    """The transport failure (`dns`, `connect`, `read_timeout`, `reset`, `truncated`, `deadline`, ...)."""
    parser: ParserOutcomes | None = None
    """The parser outcome (`ok`, `invalid_json`, `missing_field`, `empty_content`, `error_in_body`, ...)."""
    content_type: Texts | None = None
    """A piece of the Content-Type, case-insensitive (`text/html`)."""
    any: bool = False
    """`true`: matches everything (the default rule, last in the table); combines with no other condition."""

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
    """`true` removes the item inherited through `extends` with this id."""
    before: str | None = None
    """Places this new item before the inherited item with this id."""
    after: str | None = None
    """Places this new item after the inherited item with this id."""


class Rule(Mergeable):
    """A classification rule: the first rule whose `when` matches classifies the outcome."""

    id: Slug
    """Unique id of the rule."""
    when: When
    """The conditions: every key given must match; a list means any of."""
    class_: Slug = Field(alias="class")
    """The failure class (`auth`, `throttled`, ...) that checks and criteria refer to."""
    retry: Tristate
    """Whether to retry: `yes`, `maybe` or `no` (`true`/`false` also work)."""
    fallback: Tristate
    """Whether to fall back: `yes`, `maybe` or `no` (`true`/`false` also work)."""
    action: Action
    """What to do. `none` marks a success; `fix_request`, `refresh_credentials`, `fix_configuration` and
    `reduce_input` are the client's own faults (never fallen back from); or `retry_briefly`, `fall_back`,
    `store_fixture_and_alert`, `page_owner`."""
    owner: str | None = None
    """Who acts; required when the action is `page_owner` or `refresh_credentials`."""
    notes: str = ""
    """Free text shown in reports."""


class RequestSpec(Strict):
    """Changes to the request: `defaults.request` changes the built-in one, a check's or drill's changes that."""

    method: Literal["POST", "GET"] = "POST"
    """`POST` (default) or `GET`."""
    path: UrlPath | None = None
    """Another path than `contract.path` (e.g. a typo on purpose)."""
    auth: Literal["default", "none", "invalid"] = "default"
    """`default` (the secret), `none` (no header) or `invalid` (a well-formed token nobody issued)."""
    headers: dict[RequestHeaderName, Annotated[HeaderValue, Field(description="The header's value.")]] = _empty_dict()
    """Extra headers (names and visible-ASCII values only)."""
    json_: dict[str, Annotated[Any, Field(description="A field of the request body.")]] | None = Field(
        default=None, alias="json"
    )
    """The body; merged into the default body (mappings merge, lists replace)."""
    unset: list[JsonPath] = _empty_list()
    """Paths removed from the body (`model`, `messages[0].name`)."""


def _default_of(model: type[Strict]) -> dict[str, Any]:
    """The schema's `default` for a field made by `default_factory=model`. A shared default model
    would be deep-copied by pydantic for every check (about 0.1 ms each at 10,000 checks)."""
    return {"default": model().model_dump(mode="json", by_alias=True)}


class Expect(Strict):
    """What a check must observe; at least one judgement is required, and every mismatch is listed."""

    status: StatusPatterns | None = None
    """The HTTP status: a code, class, range or a list of them. A 2xx given without `json`, `parser` or
    `stream` also requires a complete, usable answer."""
    json_: bool | None = Field(default=None, alias="json")
    """`true`: the body is valid JSON."""
    parser: ParserOutcomes | None = None
    """The parser outcome is one of these."""
    require: list[JsonPath] = _empty_list()
    """Every path is present in the JSON body (`choices[0].finish_reason`)."""
    capture: list[JsonPath] = _empty_list()
    """Values kept as evidence, content summarised (not a judgement)."""
    class_: Slug | None = Field(default=None, alias="class")
    """The class of the observed outcome."""
    action: Action | None = None
    """The action of the observed outcome's rule."""
    retry: Tristate | None = None
    """The retry decision of the observed outcome's rule."""
    fallback: Tristate | None = None
    """The fallback decision of the observed outcome's rule."""
    stream: Literal["success", "partial", "failed"] | None = None
    """For a request with `stream: true`: the stream's outcome, `success`, `partial` or `failed`."""

    @model_validator(mode="after")
    def _asserts_something(self) -> Expect:
        judged = ("status", "json_", "parser", "require", "class_", "action", "retry", "fallback", "stream")
        if not any(getattr(self, name) not in (None, []) for name in judged):
            raise ValueError(
                "a check must expect something: status, json, parser, require, class, action, retry or fallback"
            )
        return self


class Check(Mergeable):
    """A request to send and what to expect of the answer."""

    id: Slug
    """Unique id; criteria and schedules refer to it."""
    title: str = ""
    """A sentence for reports."""
    tags: list[Slug] = _empty_list()
    """Labels for selection (`smoke`, `release`, `malformed`, `destructive`, ...)."""
    request: RequestSpec = Field(default_factory=RequestSpec, json_schema_extra=_default_of(RequestSpec))
    """Changes to the default request."""
    expect: Expect
    """What must be observed; at least one judgement is required."""
    keep_content: bool = False
    """Keep assistant text in captured evidence (default: summarised as `<n chars>`)."""
    fixture: Slug | None = None
    """Name of this check's sanitized fixture, `<fixtures_dir>/NAME.json`, compared by shape."""


class Criterion(Mergeable):
    """A readiness criterion and the evidence it needs."""

    id: Slug
    """Unique id."""
    text: str = Field(min_length=1)
    """The criterion as the release manager reads it."""
    requires: list[str] = _empty_list()
    """Checks (and drills, as `drill:ID`) that must all pass."""
    owners_for: list[Slug] = _empty_list()
    """Classes whose every rule must name an owner (a static check of the table)."""
    fixtures_for: list[Slug] = _empty_list()
    """Checks whose fixture must be checked in and still match the response's shape."""
    targets: list[str] | None = None
    """Targets its checks count against. Unset: any real target; a simulator target counts only when listed."""
    pending: str | None = None
    """Why part of the evidence cannot be produced yet; the criterion is then at best `not_verified`."""
    client: Literal["any", "required"] | None = None
    """`required`: its drills count only when they exercised a client under test; `any` also accepts the
    reference client (default: `drill_settings.client`)."""


REFERENCE_CLIENT = "reference"  # runbook's own client: the policy as written


class ClientSpec(Strict):
    """A client under test: a command run once per drill call, judged from the fault simulator's log."""

    command: list[str] = _empty_list()
    """The program and its arguments, run in the spec's folder; a first word `python` is runbook's interpreter."""
    adapter: str = "command"
    """How a call is made: `command` runs the command once per call; a plugin may add others."""
    timeout: Duration = 90.0
    """Hard stop for one call: the process group is killed and the call recorded as a hang."""
    env: dict[EnvName, Annotated[str, Field(description="The variable's value.")]] = _empty_dict()
    """Extra environment variables for the client."""
    time_scale: float = Field(default=1.0, gt=0, le=1)
    """Below 1 only for a client that multiplies its own sleeps and timeouts by `RUNBOOK_TIME_SCALE`."""
    concurrency: int = Field(default=8, ge=1, le=32)
    """Drill calls in flight at once, each in an isolated scope."""

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
    """What the schedule is for."""
    tags: list[Slug] = _empty_list()
    """Selects the checks and drills with any of these tags, as `--tags`."""
    only: list[Slug] = _empty_list()
    """Selects only these ids, as `--only`."""
    skip: list[Slug] = _empty_list()
    """Leaves these ids out, as `--skip`."""
    every: Duration | None = None
    """How often (`5m`), for your scheduler (cron, CI) to honour."""
    on: list[Literal[TRIGGERS]] = []  # type: ignore[valid-type]
    """Events your pipeline runs it after: `release`, `sdk_change`, `credential_rotation`, `model_config_change`,
    `reference_change`, `incident`."""


class Observability(Strict):
    """The fields every attempt is logged with (the source document's 'capture observability fields')."""

    service: str = "runbook"
    """Service name in each log record."""
    environment: str = "test"
    """Environment name in each log record."""
    request_id_header: RequestHeaderName = "X-Client-Request-Id"
    """Header carrying the client-generated request id."""


def _fault_shorthand(value: Any) -> Any:
    """'reset' -> {kind: reset}; {status: 503} or {provider_error: NAME} -> {kind: status, ...}."""
    if isinstance(value, str):
        return {"kind": value}
    if isinstance(value, dict) and ("status" in value or "provider_error" in value) and "kind" not in value:
        return {"kind": "status", **value}
    return value


class Fault(Strict):
    """How the simulator answers one attempt of a drill."""

    kind: Literal[FAULT_KINDS] = "ok"  # type: ignore[valid-type]
    """The answer: `ok`, `status`, `reset`, `stall`, `slow_body`, `html_502`, a `stream_*` kind, ... (a bare
    name is short for `{kind: NAME}`)."""
    status: int | None = Field(default=None, ge=100, le=599)
    """The status of a `status` fault (`{status: 429}` alone means `kind: status`)."""
    headers: dict[HeaderName, Annotated[HeaderValue, Field(description="The header's value.")]] = _empty_dict()
    """Headers sent with the answer (`Retry-After: "2"`)."""
    delay: Duration | None = None
    """Wait before the response head."""
    body_delay: Duration | None = None
    """Wait between body chunks (`slow_body`), or before the first token (`stream_slow_first_token`)."""
    error_code: str = ""
    """The `error.code` in the error body of a `status` fault (sent in the shape of the drills' simulator profile)."""
    provider_error: Slug | None = None
    """An error as the drills' simulator profile sends it, by name (`context_length`, `rate_limited`, ...):
    its status, headers and body; `runbook specs --profiles` lists each profile's names."""
    after: int = Field(default=2, ge=0, le=100)
    """Stream faults: events sent before the fault."""

    @model_validator(mode="after")
    def _status_with_status(self) -> Fault:
        if self.provider_error is not None:
            if self.kind != "status" or self.status is not None or self.error_code:
                raise ValueError("a 'provider_error' fault takes its status and code from the profile: give neither")
            return self
        if (self.kind == "status") != (self.status is not None):
            raise ValueError("a 'status' fault needs a status code, and only a status fault takes one")
        return self


FaultItem = Annotated[Fault, BeforeValidator(_fault_shorthand, json_schema_input_type=Literal[FAULT_KINDS] | Fault)]


class FaultScript(Strict):
    """A file for `runbook sim --script`: the answers to consecutive attempts, for any client."""

    faults: list[FaultItem] = Field(min_length=1)
    """The answers to consecutive attempts; the last repeats."""
    time_scale: float = Field(default=1.0, gt=0, le=1)
    """Plays the script this much faster than written."""
    simulator: Literal[PROFILE_NAMES] = "cometapi"  # type: ignore[valid-type]
    """Whose errors a `status` or `provider_error` fault sends: a simulator profile (engine/core/providers.py)."""


class DrillExpect(Strict):
    """What a drill must observe; at least one expectation is required."""

    attempts: int | None = Field(default=None, ge=0)
    """Attempts on the primary target."""
    outcome: Literal["success", "failed", "fell_back"] | None = None
    """How the call ended: `success`, `failed` or `fell_back`."""
    fallback_used: bool | None = None
    """Whether the fallback target was used."""
    class_: Slug | None = Field(default=None, alias="class")
    """The class of the last primary attempt."""
    action: Action | None = None
    """The action of the last primary attempt."""
    within_deadline: bool | None = None
    """Whether the call ended within its deadline."""
    jittered: bool | None = None
    """Whether the pauses differ across the drill's repeated calls."""
    stream: Literal["success", "partial", "failed"] | None = None
    """The first attempt's stream outcome: `success`, `partial` or `failed`."""
    regenerated: bool | None = None
    """Whether a retry came after partial streamed output was shown."""

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
    """Unique id; criteria refer to the drill as `drill:ID`."""
    title: str = ""
    """A sentence for reports."""
    tags: list[Slug] = _empty_list()
    """Labels for selection, as for checks."""
    request: RequestSpec = Field(default_factory=RequestSpec, json_schema_extra=_default_of(RequestSpec))
    """Changes to the default request, as for checks."""
    faults: list[FaultItem] = Field(min_length=1)
    """The answers to consecutive attempts on the primary target; the last repeats."""
    fallback_faults: list[FaultItem] = [Fault()]
    """The answers of the fallback target (default: `[ok]`)."""
    primary: Literal["scripted", "unreachable", "unresolvable"] = "scripted"
    """`scripted` (the faults), `unreachable` (connect refused) or `unresolvable` (a name under `.invalid`)."""
    deadline: Duration | None = None
    """The call's deadline (default: `contract.timeouts.deadline`)."""
    repeat: int = Field(default=1, ge=1, le=50)
    """Calls to make (jitter is judged across calls)."""
    time_scale: float | None = Field(default=None, gt=0, le=1)
    """This drill's own time scale, instead of `drill_settings.time_scale`."""
    expect: DrillExpect
    """What must be observed: `attempts`, `outcome`, `fallback_used`, `class`, `action`, `within_deadline`, ..."""


class DrillSettings(Strict):
    """Settings of every drill: time scale, timing tolerance, and whether criteria need a client under test."""

    time_scale: float = Field(default=0.02, gt=0, le=1)
    """Drills run this much faster than written (`0.02`: 1 s takes 20 ms)."""
    tolerance: Duration = 0.025
    """Timing slack, in real time, for the pauses the simulator sees."""
    client: Literal["any", "required"] = "any"
    """The default of `criteria[].client`: `required` makes every criterion need a client under test."""
    simulator: Literal[PROFILE_NAMES] | None = None  # type: ignore[valid-type]
    """Whose errors the fault simulator sends (a simulator profile); default: the `sim` target's simulator,
    else `cometapi`."""


_Number = TypeVar("_Number", int, float)


def _tighter(mine: _Number | None, theirs: _Number | None) -> _Number | None:
    return theirs if mine is None else mine if theirs is None else min(mine, theirs)


class Limits(Strict):
    """Caps on what one run may send (cost guards); the command line can only tighten them.

    Every request counts: each check, and each drill attempt, retries and fallbacks included. A run
    that reaches a cap stops sending and reports the rest as not run; it is never ready.
    """

    max_requests: int | None = Field(default=None, ge=1)
    """The most requests the run sends."""
    max_requested_tokens: int | None = Field(default=None, ge=1)
    """The most tokens the run's requests ask for, summed (`max_completion_tokens`, else `max_tokens`)."""
    rate: Rate | None = None
    """Requests per second to the target: `5/s`, `30/min`, `600/h`."""

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
    """What every check and drill starts from."""

    request: RequestSpec = RequestSpec()
    """The request every check starts from; a check's `request` changes it."""


class Spec(Strict):
    """A reliability contract for a chat-completions API: one spec file."""

    extends: str | None = None
    """Relative path of a base spec merged under this one (the loader consumes it)."""
    version: Literal[1]
    """The spec format's version: always `1`."""
    name: Slug
    """Lowercase id (`a-z 0-9 - _ .`); report files are named after it."""
    title: str = ""
    """Free text shown in reports."""
    description: str = ""
    """Free text shown in reports."""
    vars: dict[str, Annotated[Any, Field(description="A template value, read as `{{ vars.NAME }}`.")]] = _empty_dict()
    """Values for templates; `--var NAME=VALUE` overrides them."""
    env: dict[EnvName, Annotated[EnvVar, Field(description="An environment variable the spec reads.")]] = _empty_dict()
    """The environment variables the spec reads, and which are secrets; reading any other is refused."""
    contract: Contract
    """The pinned boundary: reference, path, auth, model, timeouts, policy version."""
    targets: dict[str, Annotated[Target, Field(description=TARGET_DESCRIPTION)]] = Field(min_length=1)
    """Where checks run, by name; `sim` is the default target."""
    defaults: Defaults = Defaults()
    """`request`: the request every check starts from."""
    classification: list[Rule] = Field(min_length=1)
    """Ordered rules: failure -> class, retry, fallback, action, owner; the first match wins."""
    checks: list[Check] = _empty_list()
    """Requests to send and what to expect."""
    criteria: list[Criterion] = _empty_list()
    """The readiness criteria and the evidence each needs."""
    schedules: dict[Slug, Annotated[Schedule, Field(description="A schedule: `run --schedule NAME`.")]] = _empty_dict()
    """Named selections of checks and when to run them."""
    observability: Observability = Observability()
    """What each attempt is logged with."""
    policy: Policy = Policy()
    """The retry and fallback policy a client implements."""
    drills: list[Drill] = _empty_list()
    """The policy under scripted faults, always on the built-in fault simulator."""
    drill_settings: DrillSettings = DrillSettings()
    """`time_scale`, `tolerance` and `client` for every drill."""
    clients: dict[Slug, Annotated[ClientSpec, Field(description="A client under test: `run --client NAME`.")]] = (
        _empty_dict()
    )
    """Clients under test: commands the drills can exercise instead of runbook's reference client."""
    fixtures_dir: RelativeFolder = "fixtures"
    """Folder of the sanitized fixtures, relative to the spec file."""
    limits: Limits = Limits()
    """Cost guards: the most requests, requested tokens and request rate one run may use."""

    @property
    def drill_simulator(self) -> str:
        """Whose errors the drills' fault simulator sends: `drill_settings.simulator`, else the simulator
        of the `sim` target, else `cometapi`."""
        return drill_simulator(self.drill_settings.simulator, self.targets.get("sim"))


def drill_simulator(chosen: object, sim_target: object) -> str:
    """The drills' profile from `drill_settings.simulator` and the `sim` target (a model or its raw mapping)."""
    if chosen in PROFILE_NAMES:
        return str(chosen)
    named = sim_target.get("simulator") if isinstance(sim_target, dict) else getattr(sim_target, "simulator", None)
    return named if isinstance(named, str) and named in PROFILE_NAMES else "cometapi"
