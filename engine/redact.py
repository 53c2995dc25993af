"""Keep secrets and content out of everything the engine writes."""

from __future__ import annotations

from collections.abc import Iterable

REDACTED = "[REDACTED]"


def scrub(text: str | None, secrets: Iterable[str]) -> str | None:
    """Replace every occurrence of a secret value in `text`."""
    if text is None:
        return None
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    return text


def one_line(text: str, limit: int = 200) -> str:
    """Collapse whitespace and cut to `limit` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
