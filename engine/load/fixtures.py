"""Stored fixtures, as the load stage finds them: where a check's fixture lives next to the spec, its
document (or none yet), and whether git has it committed.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any, Literal

from engine.core.jsontext import loads_bounded

GitState = Literal["committed", "untracked", "modified", "not_committed", "ignored"]


def fixture_path(spec_path: Path, fixtures_dir: str, name: str) -> Path:
    return spec_path.parent / fixtures_dir / f"{name}.json"


def read_fixture(path: Path) -> dict[str, Any] | None:
    """The stored fixture, or None when there is none (a broken file is reported by the caller)."""
    try:
        document = loads_bounded(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return document if isinstance(document, dict) else {}


def git_states(folder: Path, paths: list[Path]) -> dict[Path, GitState]:
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
    flags = {
        root / entry[3:]: entry[:2]
        for entry in (_git(root, "status", "--porcelain=v1", "-z", "--untracked-files=no", "--", *names) or "").split(
            "\0"
        )
        if len(entry) > 3
    }
    ignored = {
        (root / line).resolve() for line in (_git(root, "check-ignore", "--", *names, ok=(0, 1)) or "").splitlines()
    }
    return {path: _state(path.resolve(), tracked, flags, ignored) for path in existing}


def _state(path: Path, tracked: set[Path], flags: dict[Path, str], ignored: set[Path]) -> GitState:
    if path not in tracked:
        return "ignored" if path in ignored else "untracked"
    flag = flags.get(path, "  ")  # git's two-letter XY status code
    index_vs_head, tree_vs_index = flag[0], flag[1]
    if tree_vs_index != " ":
        return "modified"
    return "not_committed" if index_vs_head != " " else "committed"


def _paths(root: Path, listing: str | None) -> set[Path]:
    return {(root / name).resolve() for name in (listing or "").split("\0") if name}


def work_tree(folder: Path) -> Path | None:
    """The top of the git work tree holding `folder`, or None outside one (or without git)."""
    top = _git(folder, "rev-parse", "--show-toplevel")
    return Path(top.strip()).resolve() if top and top.strip() else None


def _git(folder: Path, *args: str, ok: tuple[int, ...] = (0,)) -> str | None:
    """git's output, or None when git is missing, fails, or the folder is not in a work tree."""
    try:
        done = subprocess.run(
            ["git", "-C", str(folder), *args], capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode in ok else None
