"""Refreshed fixtures written next to the spec (`runbook run --update-fixtures`)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def write_fixtures(fixtures: Iterable[tuple[Path, dict[str, Any]]]) -> list[Path]:
    """Write each fixture document as sorted, indented JSON; the paths written."""
    written = []
    for path, document in fixtures:
        write_fixture(path, document)
        written.append(path)
    return written


def write_fixture(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
