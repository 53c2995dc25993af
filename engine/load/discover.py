"""Which files a command line names as specs: files as given, folders searched for specs."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from engine.core.errors import UsageError
from engine.load.yaml_tree import MAX_SPEC_BYTES

SPEC_SUFFIXES = (".yaml", ".yml")
_VERSION_KEY = re.compile(rb"^[\"']?version[\"']?[ \t]*:", re.M)


def spec_files(paths: Sequence[Path]) -> list[Path]:
    """The spec files that paths name: a file as given; a folder, every `*.yaml` / `*.yml` below it
    that has a top-level `version:` key (every spec has one; fault scripts, client configs and CI files
    do not), sorted, leaving out `fixtures/` and hidden folders. Each file once, in that order."""
    found: dict[Path, Path] = {}
    for path in map(Path, paths):
        inside = _specs_in(path) if path.is_dir() else [path]
        if not inside:
            raise UsageError(f"{path}: no spec in this folder (a .yaml or .yml file with a top-level version: key)")
        for spec in inside:
            found.setdefault(spec.resolve(), spec)
    return list(found.values())


def _specs_in(folder: Path) -> list[Path]:
    def skipped(path: Path) -> bool:
        return any(part == "fixtures" or part.startswith(".") for part in path.relative_to(folder).parent.parts)

    candidates = sorted(p for p in folder.rglob("*") if p.suffix in SPEC_SUFFIXES and p.is_file())
    return [path for path in candidates if not skipped(path) and _has_version_key(path)]


def _has_version_key(path: Path) -> bool:
    try:
        with path.open("rb") as file:
            head = file.read(MAX_SPEC_BYTES)
    except OSError:
        return True  # the loader says why it cannot be read
    return _VERSION_KEY.search(head) is not None
