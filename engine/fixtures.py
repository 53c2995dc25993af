"""Sanitized fixtures: the shape of a response (and its request), kept in the repository so that
contract drift shows up as a diff before it reaches users.

A fixture holds no content: strings become "<string>", numbers "<number>", except values under
content-free keys (object, role, finish_reason, type, ...), which are kept because they are the
contract. Drift is judged by shape: a field that disappeared or changed type is drift; a new field
is reported but tolerated (the parser must tolerate extra fields).
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
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


def fixture_document(method: str, path: str, request_body: Any, status: int | None,
                     content_type: str | None, response_body: Any) -> dict[str, Any]:
    return {
        "fixture_version": FIXTURE_VERSION,
        "request": {"method": method, "path": path, "body": shape_of(request_body)},
        "response": {"status": status, "content_type": (content_type or "").split(";")[0] or None,
                     "body": shape_of(response_body)},
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
    removed = tuple(p for p in old if p not in new and not any(n.startswith(p + ".") or n.startswith(p + "[") for n in new))
    added = tuple(p for p in new if p not in old and not any(o.startswith(p + ".") or o.startswith(p + "[") for o in old))
    changed = tuple(p for p in old if p in new and old[p] != new[p])
    return Drift(removed=removed, changed=changed, added=added)


def _leaves(node: Any, prefix: str):
    if isinstance(node, dict) and node:
        for key, value in node.items():
            yield from _leaves(value, f"{prefix}.{key}" if prefix else key)
    elif isinstance(node, list) and node:
        for index, value in enumerate(node):
            yield from _leaves(value, f"{prefix}[{index}]")
    else:
        yield prefix, node


def fixture_path(spec_path: Path, fixtures_dir: str, name: str) -> Path:
    return spec_path.parent / fixtures_dir / f"{name}.json"


def read_fixture(path: Path) -> dict[str, Any] | None:
    """The stored fixture, or None when there is none (a broken file is reported by the caller)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return document if isinstance(document, dict) else {}


def write_fixture(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def git_states(folder: Path, paths: list[Path]) -> dict[Path, str | None]:
    """Whether each fixture is checked in: committed, untracked, modified, not_committed (staged only) or
    ignored. Paths are left out when `folder` is not inside a git work tree, or git is not installed."""
    if not paths:
        return {}
    top = _git(folder, "rev-parse", "--show-toplevel")
    if top is None:
        return {}
    root = Path(top.strip())
    listed = _git(root, "status", "--porcelain=v1", "--ignored", "-z", "--", *map(str, paths))
    if listed is None:
        return {}
    flags = {(root / entry[3:]).resolve(): entry[:2] for entry in listed.split("\0") if len(entry) > 3}
    return {path: _state(flags.get(path.resolve())) for path in paths}


def _state(flags: str | None) -> str:
    if flags is None:
        return "committed"
    if flags == "??":
        return "untracked"
    if flags == "!!":
        return "ignored"
    return "modified" if flags[1] != " " else "not_committed"


def _git(folder: Path, *args: str) -> str | None:
    """git's output, or None when git is missing, fails, or the folder is not in a work tree."""
    try:
        done = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, timeout=20,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None
