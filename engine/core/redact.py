"""Keep secrets and content out of everything the engine writes."""

from __future__ import annotations

import base64
import functools
import json
import re
import urllib.parse
from collections.abc import Iterable
from typing import Any, overload

REDACTED = "[REDACTED]"


def _variants(secret: str) -> set[str]:
    """The secret as it may appear in text: raw, stripped, escaped in a message, URL-encoded, or in
    base64 (a Basic header echoed back). Case is ignored when matching (an upper-cased echo)."""
    raw = secret.encode("utf-8", errors="replace")
    forms = {
        secret,
        secret.strip(),
        secret.encode("unicode_escape").decode("ascii"),
        repr(secret)[1:-1],
        urllib.parse.quote(secret, safe=""),
        urllib.parse.quote_plus(secret),
        base64.b64encode(raw).decode("ascii").rstrip("="),
        base64.urlsafe_b64encode(raw).decode("ascii").rstrip("="),
    }
    return {form for form in forms if len(form) >= 4}


@functools.lru_cache(maxsize=64)
def _pattern(secrets: tuple[str, ...]) -> re.Pattern[str] | None:
    """One case-insensitive pattern for every form of every secret, longest first."""
    forms = sorted({form for secret in secrets if secret for form in _variants(secret)}, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, forms)), re.IGNORECASE) if forms else None


@overload
def scrub(text: str, secrets: Iterable[str]) -> str: ...
@overload
def scrub(text: None, secrets: Iterable[str]) -> None: ...
@overload
def scrub(text: str | None, secrets: Iterable[str]) -> str | None: ...


def scrub(text: str | None, secrets: Iterable[str]) -> str | None:
    """Replace every occurrence of a secret value in `text`."""
    if text is None:
        return None
    pattern = _pattern(tuple(secrets))
    return pattern.sub(REDACTED, text) if pattern else text


def scrub_tree(value: Any, secrets: Iterable[str]) -> Any:
    """Every string in a JSON-like tree (keys included) with secret values replaced.

    In one pass over the tree's JSON text when every form of every secret is plain JSON text (no
    quote, backslash or control character: a match can then only lie inside one string, never
    across strings or in a number, where the bracketed REDACTED would make the text invalid JSON
    and the walk below is taken instead). Thousands of results scrub in C, not string by string."""
    secrets = tuple(secrets)
    pattern = _pattern(secrets)
    if pattern is None:
        return value
    if _plain_forms(secrets):
        try:
            return json.loads(pattern.sub(REDACTED, json.dumps(value, ensure_ascii=False)))
        except (TypeError, ValueError):
            pass  # not JSON data, or a form matched outside a string (digits in a number): walk instead
    return _scrub_walk(value, pattern)


def _scrub_walk(value: Any, pattern: re.Pattern[str]) -> Any:
    if isinstance(value, str):
        return pattern.sub(REDACTED, value)
    if isinstance(value, dict):
        return {pattern.sub(REDACTED, str(k)): _scrub_walk(v, pattern) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_walk(item, pattern) for item in value]
    return value


@functools.lru_cache(maxsize=64)
def _plain_forms(secrets: tuple[str, ...]) -> bool:
    """True when every form of every secret is written as itself inside a JSON string."""
    forms = {form for secret in secrets if secret for form in _variants(secret)}
    return all(json.dumps(form, ensure_ascii=False)[1:-1] == form for form in forms)


def header_safe(value: str) -> bool:
    """True when a secret can be sent in an HTTP header as it is (visible ASCII, no edge spaces)."""
    return bool(value) and value == value.strip() and all(32 <= ord(ch) < 127 for ch in value)


def one_line(text: str, limit: int = 200) -> str:
    """Collapse whitespace and cut to `limit` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def printable(text: str) -> str:
    """Text from a server, a spec or a client command, safe for a terminal: control characters escaped."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)
