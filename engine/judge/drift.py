"""Fixture drift: the shape of a response (and its request) with its content replaced by placeholders,
and how an observed shape differs from the stored one.

A fixture holds no content: strings become "<string>", numbers "<number>", except values under
content-free keys (object, role, finish_reason, type, ...), which are kept because they are the
contract. Drift is judged by shape: a field that disappeared or changed type is drift; a new field
is reported but tolerated (the parser must tolerate extra fields).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

KEPT_VALUES = frozenset({"object", "role", "finish_reason", "type"})
FIXTURE_VERSION = 1


def shape_of(value: Any, key: str | None = None) -> Any:
    """The value with content replaced by type placeholders."""
    if isinstance(value, dict):
        return {k: shape_of(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [shape_of(item, key) for item in value]
    if isinstance(value, str):
        return value if key in KEPT_VALUES and len(value) <= 40 else "<string>"
    if isinstance(value, bool):
        return "<boolean>"
    if isinstance(value, (int, float)):
        return "<number>"
    return value


def fixture_document(
    method: str, path: str, request_body: Any, status: int | None, content_type: str | None, response_body: Any
) -> dict[str, Any]:
    return {
        "fixture_version": FIXTURE_VERSION,
        "request": {"method": method, "path": path, "body": shape_of(request_body)},
        "response": {
            "status": status,
            "content_type": (content_type or "").split(";")[0] or None,
            "body": shape_of(response_body),
        },
    }


@dataclass(frozen=True)
class Drift:
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    added: tuple[str, ...] = ()

    @property
    def breaking(self) -> bool:
        return bool(self.removed or self.changed)


def compare(stored: Any, observed: Any) -> Drift:
    """How the observed response shape differs from the stored one."""
    old, new = dict(_leaves(stored.get("response", {}), "")), dict(_leaves(observed.get("response", {}), ""))
    removed = tuple(
        p for p in old if p not in new and not any(n.startswith(p + ".") or n.startswith(p + "[") for n in new)
    )
    added = tuple(
        p for p in new if p not in old and not any(o.startswith(p + ".") or o.startswith(p + "[") for o in old)
    )
    changed = tuple(p for p in old if p in new and old[p] != new[p])
    return Drift(removed=removed, changed=changed, added=added)


def _leaves(node: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict) and node:
        for key, value in node.items():
            yield from _leaves(value, f"{prefix}.{key}" if prefix else key)
    elif isinstance(node, list) and node:
        for index, value in enumerate(node):
            yield from _leaves(value, f"{prefix}[{index}]")
    else:
        yield prefix, node
