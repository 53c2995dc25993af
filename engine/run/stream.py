"""Judge a chat-completions SSE stream as it arrives: never call a partial answer complete.

The stream is parsed incrementally; only the assembled content (capped) and counters are kept, not
the raw stream. At the end the stream gets an outcome: `success` only with every chunk well formed,
one id throughout, a finish_reason, exactly one terminal `[DONE]` and nothing after it; `partial`
when content arrived but the stream broke, stalled, was truncated or carried a malformed chunk;
`failed` when nothing usable arrived or the stream carried an error — an error event, or a
finish_reason of "error" (Mistral ends a failed generation that way).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.core.jsontext import MAX_DEPTH, TooDeep, loads_bounded
from engine.run.observation import StreamOutcome
from engine.run.sse import MAX_LINE, Event, SSEParser

CONTENT_CAP = 65_536


@dataclass
class StreamState:
    parser: SSEParser = field(default_factory=SSEParser)
    events: int = 0
    chunks: int = 0
    done: int = 0
    after_done: int = 0
    ids: set[str] = field(default_factory=set)
    model: str | None = None
    role: str | None = None
    content: list[str] = field(default_factory=list)
    content_chars: int = 0
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    malformed: str | None = None
    first_token_at: float | None = None

    def feed(self, chunk: bytes, now: float) -> None:
        for event in self.parser.feed(chunk):
            self._take(event, now)
        self._note_overlong()

    def close(self, now: float) -> None:
        for event in self.parser.close():
            self._take(event, now)
        self._note_overlong()

    def _note_overlong(self) -> None:
        if self.parser.overlong and not self.malformed:
            self.malformed = f"a line or event longer than {MAX_LINE:,} characters (dropped, not buffered)"

    def _take(self, event: Event, now: float) -> None:
        self.events += 1
        if self.done:
            self.after_done += 1
            return
        if event.data.strip() == "[DONE]":
            self.done += 1
            return
        try:
            payload = loads_bounded(event.data)
        except TooDeep:
            self.malformed = self.malformed or f"event {self.events} nests deeper than {MAX_DEPTH} levels"
            return
        except ValueError:
            self.malformed = self.malformed or f"event {self.events} is not JSON"
            return
        self._take_payload(payload, now)

    def _take_payload(self, payload: Any, now: float) -> None:
        if isinstance(payload, dict) and payload.get("error"):
            self.error = payload["error"] if isinstance(payload["error"], dict) else {"message": str(payload["error"])}
            return
        if (
            not isinstance(payload, dict)
            or payload.get("object") != "chat.completion.chunk"
            or not isinstance(payload.get("choices"), list)
        ):
            self.malformed = self.malformed or f"event {self.events} is not a chat.completion.chunk"
            return
        self.chunks += 1
        if len(self.ids) < 2:  # two different ids already make the stream malformed: keep no more
            self.ids.add(str(payload.get("id")))
        self.model = self.model or payload.get("model")
        if isinstance(payload.get("usage"), dict):
            self.usage = payload["usage"]
        for choice in payload["choices"]:
            self._take_choice(choice, now)

    def _take_choice(self, choice: Any, now: float) -> None:
        delta = choice.get("delta") if isinstance(choice, dict) else None
        if not isinstance(delta, dict):
            self.malformed = self.malformed or f"event {self.events} has a choice without a delta"
            return
        self.role = self.role or delta.get("role")
        text = delta.get("content")
        if isinstance(text, str) and text:
            if self.first_token_at is None:
                self.first_token_at = now
            if self.content_chars < CONTENT_CAP:
                self.content.append(text[: CONTENT_CAP - self.content_chars])
            self.content_chars += len(text)
        if choice.get("finish_reason"):
            self.finish_reason = choice["finish_reason"]


def stream_outcome(
    state: StreamState, transport_error: str | None, wants_usage: bool
) -> tuple[StreamOutcome, str, list[str]]:
    """(outcome, parser outcome, missing fields)."""
    got_content = state.content_chars > 0
    if state.error is not None or state.finish_reason == "error":
        return "failed", "error_in_body", []
    if state.malformed or len(state.ids) > 1 or state.after_done:
        return ("partial" if got_content else "failed"), "stream_malformed", []
    if transport_error is not None or not state.done:
        return ("partial" if got_content or state.chunks else "failed"), "stream_truncated", []
    if state.finish_reason is None:  # no finish_reason: the answer itself may be incomplete
        return (
            "partial",
            "missing_field",
            ["finish_reason", *(["usage"] if wants_usage and state.usage is None else [])],
        )
    if wants_usage and state.usage is None:  # the answer is complete; only usage accounting drifted
        return "success", "missing_usage", ["usage"]
    return "success", ("ok" if got_content else "empty_content"), []


def assembled_document(state: StreamState) -> dict[str, Any]:
    """The stream as the completion it adds up to, so `require`, `capture` and fixtures apply."""
    document: dict[str, Any] = {
        "id": next(iter(state.ids), None),
        "object": "chat.completion",
        "model": state.model,
        "choices": [
            {
                "index": 0,
                "message": {"role": state.role or "assistant", "content": "".join(state.content)},
                "finish_reason": state.finish_reason,
            }
        ],
    }
    if state.usage is not None:
        document["usage"] = state.usage
    return document
