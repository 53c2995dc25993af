"""Evidence without content: request and response values reduced to shape and size.

Prompts and assistant output never reach a report unless a check sets `keep_content: true`.
Only values under keys known to carry no content (ids, model names, numbers, reasons) are kept.
"""

from __future__ import annotations

from typing import Any

SAFE_KEYS = frozenset(
    {
        "id",
        "object",
        "model",
        "created",
        "role",
        "finish_reason",
        "index",
        "type",
        "system_fingerprint",
        "service_tier",
        "stream",
        "temperature",
        "top_p",
        "max_tokens",
        "max_completion_tokens",
        "n",
        "seed",
        "presence_penalty",
        "frequency_penalty",
        "code",
        "param",
    }
)
ABSENT = "(absent)"


def summarize_body(body: dict[str, Any] | None) -> str:
    """'model=gpt-4o-mini, messages=2 (system, user; 41 chars), max_tokens=20'."""
    if body is None:
        return "(no body)"
    parts = []
    for key, value in body.items():
        if key == "messages":
            parts.append(f"messages={_messages(value)}")
        else:
            parts.append(f"{key}={_short(key, value)}")
    return ", ".join(parts) or "{}"


def _short(key: str, value: Any) -> str:
    if isinstance(value, (dict, list)):
        return f"<{type(value).__name__} of {len(value)}>"
    if isinstance(value, str) and (key not in SAFE_KEYS or len(value) > 80):
        return f"<{len(value)} chars>"
    return str(value)


def _messages(messages: Any) -> str:
    if not isinstance(messages, list):
        return f"<{type(messages).__name__}>"
    if not messages:
        return "0"
    roles = [_role(m) for m in messages]
    chars = sum(len(str(m.get("content", ""))) for m in messages if isinstance(m, dict))
    return f"{len(messages)} ({', '.join(roles)}; {chars} chars)"


def _role(message: Any) -> str:
    role = message.get("role") if isinstance(message, dict) else None
    return role if isinstance(role, str) and role.isidentifier() and len(role) <= 20 else "?"


def without_content(value: Any, key: str | None = None) -> Any:
    """A captured value with every string that could carry content replaced by its length."""
    if isinstance(value, dict):
        return {k: without_content(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [without_content(item, key) for item in value]
    if isinstance(value, str) and (key not in SAFE_KEYS or len(value) > 200):
        return f"<{len(value)} chars>"
    return value
