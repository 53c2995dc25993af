"""Fault scripts: which step answers each attempt, and the log of attempts served.

A script is a list of `FaultStep`s for one scope; consecutive attempts in that scope get its steps
in order, the last one repeating. A request's scope comes from its path or a header (`scope_of`).
Every attempt is logged as a `ServedAttempt` with its arrival time, and marked when its answer ends.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

DEFAULT_SCOPE = "default"  # requests outside /drill/<scope>/ (a standalone script for any client)
CALL_SCOPE = "call:"  # the scope of a call named by /call/<id>/... or X-Runbook-Call: <id>
CALL_HEADER = "x-runbook-call"
REQUEST_ID_HEADERS = ("x-client-request-id", "x-request-id")
ID_LIMIT = 100


@dataclass(frozen=True)
class FaultStep:
    """How to answer one attempt. Durations are seconds, already scaled."""

    kind: str = "ok"
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0
    error_code: str = ""
    body_delay: float = 0.0
    after: int = 2
    body: bytes = b""  # a `status` step's error body, rendered in a provider's shape (empty: CometAPI's)


@dataclass(frozen=True)
class ServedAttempt:
    scope: str
    index: int
    kind: str
    arrived: float  # seconds since the server started
    path: str
    status: int | None = None
    # When the last bytes of the answer were handed to the socket (None: never, e.g. a stall).
    # Taken just *before* that write, so a pause measured from here to the next arrival is never
    # shorter than the client's own pause, whatever the scheduler does to this thread.
    answered: float | None = None


OnRequest = Callable[[ServedAttempt, str | None], None]
OnAttempt = Callable[[ServedAttempt], None]


def scope_of(path: str, headers: dict[str, str]) -> str | None:
    """/drill/<scope>/..., else /call/<id>/..., else X-Runbook-Call: <id>, else the default scope.

    None: the call id is not 1-100 of A-Z a-z 0-9 - . _ ~ (the id `default` is the default scope)."""
    if path.startswith("/drill/") and path.count("/") >= 3:
        return path.split("/")[2]
    parts = path.split("?", 1)[0].split("/", 3)
    if len(parts) >= 3 and parts[0] == "" and parts[1] == "call":
        call = parts[2]
    elif CALL_HEADER in headers:
        call = headers[CALL_HEADER]
    else:
        return DEFAULT_SCOPE
    if call == DEFAULT_SCOPE:
        return DEFAULT_SCOPE
    valid = 0 < len(call) <= ID_LIMIT and all(c.isascii() and (c.isalnum() or c in "-._~") for c in call)
    return CALL_SCOPE + call if valid else None


def request_id_of(headers: dict[str, str]) -> str | None:
    """The client's request id (X-Client-Request-Id, else X-Request-Id), cut to ID_LIMIT characters."""
    found = next((headers[name] for name in REQUEST_ID_HEADERS if headers.get(name)), None)
    return found[:ID_LIMIT] if found is not None else None


@dataclass
class Scripts:
    """The scripts of one server and its attempt log; safe to use from any thread."""

    steps: dict[str, list[FaultStep]] = field(default_factory=dict)
    served: dict[str, int] = field(default_factory=dict)
    log: list[ServedAttempt] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    on_attempt: OnAttempt | None = None
    # Serving any client (runbook sim --script): each unknown `call:<id>` scope starts a fresh copy of
    # `template`; `on_request` also hears the attempt's request id, `on_answered` when its answer ended.
    template: list[FaultStep] | None = None
    on_request: OnRequest | None = None
    on_answered: OnAttempt | None = None

    def install(self, scope: str, steps: list[FaultStep]) -> None:
        """`steps` for `scope`, from its first step (no steps: one `ok`)."""
        with self.lock:
            self.steps[scope] = list(steps) or [FaultStep()]
            self.served[scope] = 0

    def serve_any_client(
        self, steps: list[FaultStep], on_request: OnRequest | None, on_answered: OnAttempt | None
    ) -> None:
        """`steps` for the default scope (one shared sequence) and, from its first step, for every call."""
        with self.lock:
            self.template = list(steps) or [FaultStep()]
            self.steps[DEFAULT_SCOPE], self.served[DEFAULT_SCOPE] = list(self.template), 0
            self.on_request, self.on_answered = on_request, on_answered

    def attempts(self, scope: str | None = None) -> list[ServedAttempt]:
        with self.lock:
            return [a for a in self.log if scope is None or a.scope == scope]

    def answered(self, attempt: ServedAttempt, now: float) -> None:
        with self.lock:
            for position in range(len(self.log) - 1, -1, -1):
                if self.log[position] is attempt:
                    done = self.log[position] = dataclasses.replace(attempt, answered=now)
                    break
            else:
                return  # unknown, or already marked: an answer ends once
        if self.on_answered is not None:
            self.on_answered(done)

    def next_step(
        self, scope: str, path: str, now: float, request_id: str | None = None
    ) -> tuple[FaultStep, ServedAttempt] | None:
        with self.lock:
            found = self._take(scope, path, now)
        if found is not None:
            self._tell(found[1], request_id)
        return found

    def _take(self, scope: str, path: str, now: float) -> tuple[FaultStep, ServedAttempt] | None:
        steps = self.steps.get(scope)
        if not steps and self.template and scope.startswith(CALL_SCOPE):
            steps = self.steps[scope] = list(self.template)
            self.served[scope] = 0
        if not steps:
            return None
        index = self.served.get(scope, 0)
        self.served[scope] = index + 1
        step = steps[min(index, len(steps) - 1)]
        attempt = ServedAttempt(scope, index, step.kind, now, path, step.status if step.kind == "status" else None)
        self.log.append(attempt)
        return step, attempt

    def _tell(self, attempt: ServedAttempt, request_id: str | None) -> None:
        if self.on_attempt is not None:
            self.on_attempt(attempt)
        if self.on_request is not None:
            self.on_request(attempt, request_id)
