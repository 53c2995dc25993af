"""JSON from a server, read with a bound on nesting: a document nested deeper than any real API answer
is refused as data (the caller records it as invalid JSON), so nothing later recurses into it."""

from __future__ import annotations

import json
import json.scanner
from typing import Any

MAX_DEPTH = 64  # real chat-completions answers nest under 10 levels


class TooDeep(ValueError):
    """A JSON document nested deeper than MAX_DEPTH."""


def nesting_depth(value: Any) -> int:
    """How many arrays and objects deep `value` goes (counted without recursion)."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, depth)
        pending.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


_SCAN = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type] # json's C scanner, without the whitespace regexes


def loads_bounded(text: str | bytes, max_depth: int = MAX_DEPTH) -> Any:
    """`json.loads`, refusing (TooDeep) a document nested deeper than `max_depth`."""
    try:
        value = _loads(text)
    except RecursionError:
        raise TooDeep(f"JSON nested too deeply to read (over {max_depth} levels)") from None
    if _openings(text) <= max_depth:  # no deeper than it has brackets: the walk can be skipped
        return value
    if nesting_depth(value) > max_depth:
        raise TooDeep(f"JSON nested deeper than {max_depth} levels")
    return value


def _openings(text: str | bytes) -> int:
    """How many `{` and `[` the text holds (inside strings too): a bound on its nesting depth."""
    if isinstance(text, bytes):
        return text.count(b"{") + text.count(b"[")
    return text.count("{") + text.count("[")


def _loads(text: str | bytes) -> Any:
    """`json.loads(text)`; a text that starts with `{` or `[` is scanned directly (each event of a
    stream is one: the scanner alone is about 1.5x cheaper), anything else goes through json.loads."""
    if isinstance(text, str) and text[:1] in ("{", "["):
        try:
            value, end = _SCAN(text, 0)
        except StopIteration:
            return json.loads(text)  # raises json's own error
        if end == len(text):
            return value
    return json.loads(text)
