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


def git_states(folder: Path, paths: list[Path]) -> dict[Path, str]:
    """Whether each fixture file that exists is checked in: committed, modified (changed since the last
    commit), not_committed (added or staged, never committed), untracked or ignored. Empty when
    `folder` is not inside a git work tree, or git is not installed."""
    existing = [path for path in paths if path.is_file()]
    top = _git(folder, "rev-parse", "--show-toplevel") if existing else None
    if top is None:
        return {}
    root = Path(top.strip()).resolve()
    names = [str(path.resolve()) for path in existing]
    tracked = _paths(root, _git(root, "ls-files", "-z", "--", *names))
    flags = {root / entry[3:]: entry[:2] for entry in (_git(root, "status", "--porcelain=v1", "-z",
                                                            "--untracked-files=no", "--", *names) or "").split("\0")
             if len(entry) > 3}
    ignored = {(root / line).resolve()
               for line in (_git(root, "check-ignore", "--", *names, ok=(0, 1)) or "").splitlines()}
    return {path: _state(path.resolve(), tracked, flags, ignored) for path in existing}


def _state(path: Path, tracked: set[Path], flags: dict[Path, str], ignored: set[Path]) -> str:
    if path not in tracked:
        return "ignored" if path in ignored else "untracked"
    index_vs_head, tree_vs_index = flags.get(path, "  ")
    if tree_vs_index != " ":
        return "modified"
    return "not_committed" if index_vs_head != " " else "committed"


def _paths(root: Path, listing: str | None) -> set[Path]:
    return {(root / name).resolve() for name in (listing or "").split("\0") if name}


def _git(folder: Path, *args: str, ok: tuple[int, ...] = (0,)) -> str | None:
    """git's output, or None when git is missing, fails, or the folder is not in a work tree."""
    try:
        done = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, timeout=20,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode in ok else None
