"""Refreshed fixtures written next to the spec (`runbook run --update-fixtures`)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from engine.report.write import write_atomic


def write_fixtures(fixtures: Iterable[tuple[Path, dict[str, Any]]]) -> list[Path]:
    """Write each fixture document as sorted, indented JSON; the paths written."""
    written = []
    for path, document in fixtures:
        write_fixture(path, document)
        written.append(path)
    return written


def write_fixture(path: Path, document: dict[str, Any]) -> None:
    """Written atomically (a temporary file, then a rename): an interrupted run leaves the old one whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(document, indent=2, sort_keys=True) + "\n")
