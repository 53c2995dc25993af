"""One-line summaries of request bodies: shape and size, never the prompt text."""

from __future__ import annotations

from typing import Any


def summarize_body(body: dict[str, Any] | None) -> str:
    """'model=gpt-4o-mini, messages=2 (system, user; 41 chars), max_tokens=20'."""
    if body is None:
        return "(no body)"
    parts = []
    for key, value in body.items():
        if key == "messages":
            parts.append(f"messages={_messages(value)}")
        elif isinstance(value, (dict, list)):
            parts.append(f"{key}=<{type(value).__name__} of {len(value)}>")
        elif isinstance(value, str) and len(value) > 60:
            parts.append(f"{key}=<{len(value)} chars>")
        else:
            parts.append(f"{key}={value}")
    return ", ".join(parts) or "{}"


def _messages(messages: Any) -> str:
    if not isinstance(messages, list):
        return f"<{type(messages).__name__}>"
    roles = [str(m.get("role", "?")) if isinstance(m, dict) else "?" for m in messages]
    chars = sum(len(str(m.get("content", ""))) for m in messages if isinstance(m, dict))
    if not messages:
        return "0"
    return f"{len(messages)} ({', '.join(roles)}; {chars} chars)"
