"""What the fault simulator sent for one scripted step, as the client would have observed it.

A client under test is judged from the wire: runbook does not see what the client parsed, so it
classifies what it sent. Each fault kind maps to the observation runbook's own HTTP layer records
for it (engine.run.http), so the classification table gives the same class either way.
"""

from __future__ import annotations

from engine.run.http import read_error_body
from engine.run.observation import Observation
from engine.sim.faults import FaultStep
from engine.sim.playback import status_body
from engine.sim.wire import HTML_TYPE, JSON_TYPE, SSE_TYPE
from engine.spec.backoff import HINT_HEADERS

BROKEN_STREAMS = frozenset(
    {
        "stream_disconnect",
        "stream_clean_cut",
        "stream_no_done",
        "stream_malformed",
        "stream_stall",
        "stream_error_event",
        "stream_finish_error",
    }
)

_SENT = {
    "ok": (200, None, "ok"),
    "slow_body": (200, None, "ok"),
    "extra_fields": (200, None, "ok"),
    "empty_content": (200, None, "empty_content"),
    "invalid_json": (200, None, "invalid_json"),
    "html_502": (502, None, "invalid_json"),
    "redirect": (301, None, "invalid_json"),
    "schema_drift": (200, None, "missing_field"),
    "error_in_200": (200, None, "error_in_body"),
    "reset": (None, "reset", "none"),
    "close_mid_body": (200, "truncated", "none"),
    "stall": (None, "read_timeout", "none"),
    "stream_ok": (200, None, "ok"),
    "stream_keepalive": (200, None, "ok"),
    "stream_crlf": (200, None, "ok"),
    "stream_split": (200, None, "ok"),
    "stream_bom": (200, None, "ok"),
    "stream_slow_first_token": (200, None, "ok"),
    "stream_disconnect": (200, None, "stream_truncated"),
    "stream_clean_cut": (200, None, "stream_truncated"),
    "stream_no_done": (200, None, "stream_truncated"),
    "stream_stall": (200, "read_timeout", "stream_truncated"),
    "stream_malformed": (200, None, "stream_malformed"),
    "stream_error_event": (200, None, "error_in_body"),
    "stream_finish_error": (200, None, "error_in_body"),
}


def sent_observation(step: FaultStep) -> Observation:
    """The observation a careful client makes of this step's answer."""
    if step.kind == "status":
        parser, error = read_error_body(step.status, status_body(step))
        return Observation(
            status=step.status,
            parser=parser,
            missing=["error"] if parser == "missing_field" else [],
            error_code=error.get("code"),
            error_type=error.get("type"),
            error_message=error.get("message"),
            hints=hints_of(step),
        )
    status, transport, parser = _SENT[step.kind]
    content_type = (
        HTML_TYPE
        if step.kind in ("html_502", "redirect")
        else (SSE_TYPE if step.kind.startswith("stream_") else JSON_TYPE)
    )
    return Observation(
        status=status, transport_error=transport, parser=parser, content_type=content_type, hints=hints_of(step)
    )


def hints_of(step: FaultStep) -> dict[str, str]:
    return {name.lower(): value for name, value in step.headers if name.lower() in HINT_HEADERS}


def answered_step(steps: list[FaultStep], index: int) -> FaultStep:
    """The step that answered attempt `index` (0-based): the script's, the last one repeating."""
    return steps[min(index, len(steps) - 1)] if steps else FaultStep()
