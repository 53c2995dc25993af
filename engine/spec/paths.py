"""Response/request paths as written in specs: `choices[0].message.content`, `usage`."""

from __future__ import annotations

import functools
import re
from typing import Any

_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_MISSING = object()


@functools.lru_cache(maxsize=4096)
def parse_path(path: str) -> tuple[str | int, ...]:
    """'choices[0].message' -> ['choices', 0, 'message']; raises ValueError on bad syntax."""
    parts: list[str | int] = []
    position = 0
    for match in _TOKEN.finditer(path):
        gap = path[position : match.start()]
        if gap not in ("", ".") or (gap == "" and parts and match.group(1)):
            raise ValueError(f"bad path {path!r}")
        parts.append(int(match.group(2)) if match.group(2) is not None else match.group(1))
        position = match.end()
    if not parts or position != len(path):
        raise ValueError(f"bad path {path!r}")
    return tuple(parts)


def get_path(document: Any, path: str) -> Any:
    """The value at `path`, or MISSING."""
    return _walk(document, parse_path(path))


def _walk(node: Any, parts: tuple[str | int, ...]) -> Any:
    for part in parts:
        node = _child(node, part)
        if node is _MISSING:
            break
    return node


def _child(node: Any, part: str | int) -> Any:
    """An index into a list or a key of a mapping, or MISSING."""
    if isinstance(part, int):
        return node[part] if isinstance(node, list) and -len(node) <= part < len(node) else _MISSING
    return node[part] if isinstance(node, dict) and part in node else _MISSING


def has_path(document: Any, path: str) -> bool:
    return get_path(document, path) is not _MISSING


def delete_path(document: Any, path: str) -> None:
    """Remove the value at `path` if it exists."""
    parts = parse_path(path)
    parent, last = _walk(document, parts[:-1]), parts[-1]
    if isinstance(parent, dict) and isinstance(last, str):
        parent.pop(last, None)
    elif isinstance(parent, list) and isinstance(last, int) and -len(parent) <= last < len(parent):
        del parent[last]
