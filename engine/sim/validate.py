"""Validation of a chat-completions request body, in CometAPI's order.

`validate_chat_request` runs the checks that follow authentication; the first
failure wins and is raised as a `SimError`:

    body is a JSON object -> model -> messages -> each message -> model exists
    -> prompt fits the context window
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.core.jsontext import loads_bounded
from engine.sim.config import SimConfig
from engine.sim.errors import SimError, invalid_request
from engine.sim.tokens import estimate_prompt_tokens

ROLES = frozenset({"system", "user", "assistant", "tool", "developer"})


@dataclass(frozen=True)
class ChatRequest:
    """The parts of a valid request the simulator acts on; other fields are ignored."""

    model: str
    messages: tuple[dict[str, Any], ...]
    prompt_tokens: int
    stream: bool = False
    include_usage: bool = False
    max_tokens: int | None = None


def validate_chat_request(body: bytes, config: SimConfig) -> ChatRequest:
    """Parse and check a request body, raising the first `SimError` found."""
    data = _json_object(body)
    model = _model(data)
    messages = _messages(data)
    if model not in config.models:
        raise SimError("unknown_model", model=model)
    prompt_tokens = estimate_prompt_tokens(messages)
    _check_context(prompt_tokens, config.context_tokens)
    return ChatRequest(
        model=model,
        messages=messages,
        prompt_tokens=prompt_tokens,
        stream=data.get("stream") is True,
        include_usage=_include_usage(data),
        max_tokens=_max_tokens(data),
    )


def _json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or a 400 with an empty param."""
    try:
        data = loads_bounded(body)
    except (UnicodeDecodeError, ValueError):  # too deep (TooDeep) is a ValueError too
        raise invalid_request("The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise invalid_request("The request body must be a JSON object.")
    return data


def _model(data: dict[str, Any]) -> str:
    """The `model` field, which must be a non-empty string."""
    model = data.get("model")
    if not isinstance(model, str) or not model.strip():
        raise invalid_request("you must provide a model parameter", param="model")
    return model


def _messages(data: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    """The `messages` field: a non-empty list of valid messages."""
    messages = data.get("messages")
    if not isinstance(messages, list) or not messages:
        raise invalid_request("'messages' must be a non-empty array.", param="messages")
    for index, message in enumerate(messages):
        _check_message(index, message)
    return tuple(messages)


def _check_message(index: int, message: object) -> None:
    """One message: an object with a known role and content allowed for that role."""
    where = f"messages[{index}]"
    if not isinstance(message, dict):
        raise invalid_request(f"'{where}' must be an object.", param=where)
    role = message.get("role")
    if role not in ROLES:
        allowed = ", ".join(sorted(ROLES))
        raise invalid_request(f"'{where}.role' must be one of: {allowed}.", param=f"{where}.role")
    if not _content_ok(role, message.get("content")):
        raise invalid_request(
            f"'{where}.content' must be a string or an array of content parts (null only for assistant messages).",
            param=f"{where}.content",
        )


def _content_ok(role: str, content: object) -> bool:
    """A string, a list of typed parts, or null (absent) for an assistant."""
    if isinstance(content, str):
        return True
    if isinstance(content, list):
        return all(isinstance(part, dict) and isinstance(part.get("type"), str) for part in content)
    return content is None and role == "assistant"


def _check_context(prompt_tokens: int, limit: int) -> None:
    """The profile's `context_length` error when the estimate is over the window."""
    if prompt_tokens > limit:
        raise SimError("context_length", limit=limit, tokens=prompt_tokens)


def _include_usage(data: dict[str, Any]) -> bool:
    """True when `stream_options.include_usage` is true."""
    options = data.get("stream_options")
    return isinstance(options, dict) and options.get("include_usage") is True


def _max_tokens(data: dict[str, Any]) -> int | None:
    """`max_completion_tokens`, else `max_tokens`, when it is an int (not a bool)."""
    for field in ("max_completion_tokens", "max_tokens"):
        value = data.get(field)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None
