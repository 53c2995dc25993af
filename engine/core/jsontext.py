"""JSON from a server, read with a bound on nesting: a document nested deeper than any real API answer
is refused as data (the caller records it as invalid JSON), so nothing later recurses into it."""

from __future__ import annotations

import json
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


def loads_bounded(text: str | bytes, max_depth: int = MAX_DEPTH) -> Any:
    """`json.loads`, refusing (TooDeep) a document nested deeper than `max_depth`."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise TooDeep(f"JSON nested too deeply to read (over {max_depth} levels)") from None
    if nesting_depth(value) > max_depth:
        raise TooDeep(f"JSON nested deeper than {max_depth} levels")
    return value
