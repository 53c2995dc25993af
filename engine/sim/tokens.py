"""The simulator's token estimate: one token per four characters, rounded up."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any


def estimate_tokens(text: str) -> int:
    """Tokens in `text`: ceil(len(text) / 4)."""
    return math.ceil(len(text) / 4)


def content_text(message: dict[str, Any]) -> str:
    """The text of a message's content: the string, or its text parts joined, or ""."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = (part.get("text") for part in content if isinstance(part, dict))
        return "".join(text for text in texts if isinstance(text, str))
    return ""


def estimate_prompt_tokens(messages: Iterable[dict[str, Any]]) -> int:
    """Tokens of a prompt: ceil(characters of all message contents / 4)."""
    return estimate_tokens("".join(content_text(message) for message in messages))
