"""The results document: the one source every report is rendered from.

`Results.model_dump(mode="json", by_alias=True)` is what `runbook run` writes as
`<spec>.json`. Other tools read it, so field names are stable; additions bump the minor part of
SCHEMA_VERSION, renames or removals the major part.
"""

from __future__ import annotations

from typing import Any, Literal, Required, TypedDict

from pydantic import BaseModel, ConfigDict, Field

from engine.load.fixtures import GitState
from engine.run.observation import Observation
from engine.spec.classify import Classification, Tristate

SCHEMA_VERSION = "2.2"

CheckStatus = Literal["passed", "failed", "error", "skipped"]
CriterionVerdict = Literal["met", "not_met", "not_verified"]
Verdict = Literal["ready", "not_ready", "not_verified", "partial", "interrupted"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)


class LogRecord(_Frozen):
    """One attempt as a production client should log it: no key, no prompt, no answer."""

    client_request_id: str | None
    environment: str
    service: str
    endpoint_path: str
    base_url_alias: str
    model: str | None
    streaming: bool
    http_status: int | None
    error_class: str | None
    retry_count: int
    fallback: str | None
    total_latency_ms: float
    first_token_latency_ms: float | None
    finish_reason: str | None
    usage: dict[str, Any] | None
    parser_outcome: str


class FixtureResult(_Frozen):
    name: str
    path: str
    status: Literal["matched", "drift", "missing", "updated"]
    git: GitState | None = None  # None: not in git
    removed: list[str] = []
    changed: list[str] = []
    added: list[str] = []


class DrillAttempt(_Frozen):
    target: str  # primary or fallback
    number: int
    started_ms: float  # since the call began, real (scaled) time
    status: int | None
    transport_error: str | None
    class_: str = Field(alias="class")
    decision: str
    pause_ms: float | None = None


class ClientReport(_Frozen):
    """What a client under test did in one call: its exit, its last stdout line, any broken contract."""

    exit_code: int | None = None
    outcome: str | None = None  # as the client reported it
    served_by: str | None = None
    finish_reason: str | None = None
    error: str | None = None
    problem: str | None = None  # could not start, crashed, hung, garbage on stdout
    stderr: str = ""


class DrillCall(_Frozen):
    outcome: str
    elapsed_ms: float
    deadline_ms: float
    attempts: list[DrillAttempt]
    server_attempts: int  # what the simulator received on the primary
    server_fallback_attempts: int
    client: ClientReport | None = None  # a client under test: what its process did


class DrillRound(_Frozen):
    """An earlier run of the drill, inconclusive because the machine was busy."""

    time_scale: float
    scheduling_latency_ms: float
    failures: list[str]


class DrillSummary(_Frozen):
    time_scale: float
    repeat: int
    calls: list[DrillCall]
    client: str = "reference"  # whose behaviour this is: runbook's reference client or a client under test
    fallback_target: str | None = None  # the target fallback went to (played by its own fault server)
    scheduling_latency_ms: float = 0.0  # worst loop wake-up delay measured while it ran
    slack_ms: float = 0.0  # timing slack used for pauses and the deadline
    earlier: list[DrillRound] = []


class Mismatch(_Frozen):
    field: str
    expected: Any
    observed: Any
    message: str


class RequestSummary(_Frozen):
    method: str
    url: str  # base URL alias + path, never a secret
    auth: str  # "bearer $COMETAPI_API_KEY", "none", "invalid"
    body: str  # a one-line summary, not the prompt


class CheckResult(_Frozen):
    id: str
    title: str = ""
    tags: list[str] = []
    status: CheckStatus
    reason: str | None = None  # why error/skipped
    selected: bool = True  # false: left out by --tags/--only/--skip/--schedule
    request: RequestSummary | None = None
    observed: Observation | None = None
    class_: str | None = Field(default=None, alias="class")
    action: str | None = None
    retry: Tristate | None = None
    fallback: Tristate | None = None
    owner: str | None = None
    rule: str | None = None
    mismatches: list[Mismatch] = []
    captures: dict[str, Any] = {}
    log: LogRecord | None = None
    fixture: FixtureResult | None = None
    drill: DrillSummary | None = None


class Heading(TypedDict, total=False):
    """What every result of one check or drill repeats, by field name: `CheckResult(**heading, ...)`."""

    id: Required[str]
    title: str
    tags: list[str]
    request: RequestSummary


class Classified(TypedDict, total=False):
    """The classification's fields as a CheckResult keeps them, by field name (empty: nothing classified)."""

    class_: str
    action: str
    retry: Tristate
    fallback: Tristate
    owner: str | None
    rule: str


def classified(verdict: Classification | None) -> Classified:
    """The fields a CheckResult takes from the rule that matched: `CheckResult(..., **classified(verdict))`."""
    if verdict is None:
        return {}
    return Classified(
        class_=verdict.class_,
        action=verdict.action,
        retry=verdict.retry,
        fallback=verdict.fallback,
        owner=verdict.owner,
        rule=verdict.rule,
    )


class Evidence(_Frozen):
    ref: str  # check id, drill:<id>, owner:<class>, fixture:<check>
    status: str  # passed / failed / error / skipped / met / not_met / not_verified
    source: str  # where it came from: a target, the fault simulator, the repository


class CriterionResult(_Frozen):
    id: str
    text: str
    verdict: CriterionVerdict
    applicable: bool = True  # false: the selection left out evidence it needs
    decided_by: list[str] = []
    reasons: list[str] = []
    evidence: list[Evidence] = []
    next_step: str | None = None  # the one command or change that would move it to met


class RuleRow(_Frozen):
    id: str
    when: str
    class_: str = Field(alias="class")
    retry: Tristate
    fallback: Tristate
    action: str
    owner: str | None = None
    notes: str = ""
    where: str | None = None  # the rule's place in the spec: file:line


class Counts(_Frozen):
    total: int = 0
    passed: int = 0
    failed: int = 0
    error: int = 0
    skipped: int = 0


class CriteriaCounts(_Frozen):
    total: int = 0
    met: int = 0
    not_met: int = 0
    not_verified: int = 0
    not_applicable: int = 0


class Summary(_Frozen):
    verdict: Verdict
    checks: Counts
    drills: Counts
    criteria: CriteriaCounts
    notes: list[str] = []
    blocking: list[str] = []  # criteria that keep the verdict from ready
    interrupted: str | None = None  # SIGINT / SIGTERM: the run stopped early
    limited: str | None = None  # the cap (limits) that stopped the run sending


class SpecFile(_Frozen):
    path: str
    sha256: str


class SpecRef(_Frozen):
    name: str
    path: str
    title: str = ""
    files: list[SpecFile] = []  # the spec and every base it extends, with their content hashes


class TargetRef(_Frozen):
    name: str
    kind: str  # simulator, http or a plugin's target kind
    base_url: str
    self_test: str | None = None  # why this http target is runbook's own simulator, if it is


class EnvironmentRead(_Frozen):
    """One environment variable the spec declares: is it set, and what read it (never its value)."""

    name: str
    secret: bool = False
    set: bool
    read: str


class Sent(_Frozen):
    """What the run sent, against its caps (limits: the spec's, tightened by the command line)."""

    requests: int = 0  # checks and drill attempts, retries and fallbacks included
    requested_tokens: int = 0  # the max_tokens those requests asked for
    max_requests: int | None = None
    max_requested_tokens: int | None = None
    rate_per_second: float | None = None


class Results(_Frozen):
    schema_version: str = SCHEMA_VERSION
    tool: dict[str, str]
    spec: SpecRef
    target: TargetRef
    selection: str = "all checks"
    client: str = "reference"  # whose behaviour the drills show
    contract: dict[str, Any]
    started: str
    finished: str
    duration_ms: float
    summary: Summary
    checks: list[CheckResult]
    drills: list[CheckResult] = []
    criteria: list[CriterionResult]
    classification: list[RuleRow]
    evidence_sources: dict[str, str] = {}  # checks / drills / repository: where each kind of evidence came from
    environment: list[EnvironmentRead] = []  # what the spec read from the environment
    sent: Sent = Sent()
    warnings: list[str] = []  # things the operator should know that do not change the verdict
    baseline: Comparison | None = None  # what changed since an earlier run (runbook run --baseline)

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


# ---- comparing two runs (engine/judge/compare.py) ------------------------------------------

ItemKind = Literal["check", "drill", "criterion"]
LatencyMetric = Literal["total", "first_token"]  # observed elapsed_ms; a stream's time to the first token


class RunRef(_Frozen):
    """One of the two runs compared: enough to say which run it was."""

    spec: str
    target: str
    client: str = "reference"
    started: str
    verdict: Verdict
    path: str | None = None  # the results file it was read from, when it came from one


class VerdictChange(_Frozen):
    old: Verdict
    new: Verdict
    worse: bool = False  # further from ready: ready, then not_verified or partial, then not_ready or interrupted

    @property
    def changed(self) -> bool:
        return self.old != self.new


class ItemChange(_Frozen):
    """A check, drill or criterion whose status (or verdict) differs between the runs; None: absent."""

    id: str
    kind: ItemKind
    old: str | None
    new: str | None


class LatencyChange(_Frozen):
    id: str  # the check
    metric: LatencyMetric
    old_ms: float
    new_ms: float


class FixtureChange(_Frozen):
    """A fixture that drifts now and did not before, or drifts in more places than before."""

    id: str  # the check
    name: str
    path: str
    old: str | None  # the fixture's status in the baseline; None: no fixture then
    new: str
    removed: list[str] = []  # response paths missing now and not before
    changed: list[str] = []  # response paths whose type changed now and not before


class Comparison(_Frozen):
    """What changed between two runs of one spec (`runbook diff OLD NEW`, `runbook run --baseline`)."""

    old: RunRef
    new: RunRef
    verdict: VerdictChange
    regressed: bool  # something newly fails or the verdict got worse
    latency_threshold: float  # a latency change counts from this ratio (0.5: 1.5x slower or faster)
    latency_floor_ms: float  # ... and this many milliseconds
    newly_failing: list[ItemChange] = []
    fixed: list[ItemChange] = []
    still_failing: list[ItemChange] = []
    newly_skipped: list[ItemChange] = []  # ran (or was judged) before, skipped / not verified now
    newly_run: list[ItemChange] = []  # skipped / not verified before, passed or met now
    added: list[ItemChange] = []
    removed: list[ItemChange] = []
    slower: list[LatencyChange] = []
    faster: list[LatencyChange] = []
    new_drift: list[FixtureChange] = []

    @property
    def unchanged(self) -> bool:
        """Nothing to report: the same verdict, and no item, latency or fixture changed (still failing is no change)."""
        lists = (self.newly_failing, self.fixed, self.newly_skipped, self.newly_run, self.added, self.removed)
        return not self.verdict.changed and not any((*lists, self.slower, self.faster, self.new_drift))


Results.model_rebuild()  # Results.baseline names Comparison, defined after it
