"""Reading saved results and comparing two runs of one spec (runbook diff, runbook run --baseline).

Every problem is a UsageError naming the file: a results file is the user's input here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from engine.core.errors import UsageError, first_line
from engine.judge.compare import compare
from engine.judge.results import SCHEMA_VERSION, Comparison, Results


def read_results(path: Path) -> Results:
    """A saved results JSON, validated; UsageError naming the file when it is not one this runbook reads."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the results file ({exc.strerror or exc})") from None
    except ValueError as exc:  # not UTF-8, not JSON
        raise UsageError(f"{path}: not a runbook results JSON file ({first_line(exc)})") from None
    version = str(document.get("schema_version", "")) if isinstance(document, dict) else ""
    major = SCHEMA_VERSION.split(".")[0]
    if version and version.split(".")[0] != major:
        raise UsageError(f"{path}: results schema_version {version!r} is not supported; this runbook reads {major}.x")
    try:
        return Results.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the document"
        raise UsageError(
            f"{path}: not a runbook results JSON file ({exc.error_count()} problem(s); {where}: {first['msg']})"
        ) from None


def diff_results(old_path: Path, new_path: Path, latency_threshold: float = 0.5) -> Comparison:
    """What changed from the run saved in old_path (the baseline) to the one in new_path: both must be
    runs of the same spec (UsageError otherwise); a different target or client is allowed, and shown."""
    old, new = read_results(old_path), read_results(new_path)
    _check_same_spec(old, new, str(old_path), str(new_path))
    return _compare(old, new, latency_threshold, str(old_path), str(new_path))


def with_baseline(document: dict[str, Any], baseline_path: Path) -> dict[str, Any]:
    """The results document of a run with `baseline` filled: what changed since the run saved in
    baseline_path (read before the run's own reports are written, so it may be the file they replace)."""
    return with_comparison(document, read_results(baseline_path), str(baseline_path))


def with_comparison(document: dict[str, Any], old: Results, old_name: str) -> dict[str, Any]:
    new = Results.model_validate(document)
    _check_same_spec(old, new, old_name, "this run")
    comparison = _compare(old, new, 0.5, old_name, None)
    return {**document, "baseline": comparison.model_dump(mode="json", by_alias=True)}


def _check_same_spec(old: Results, new: Results, old_name: str, new_name: str) -> None:
    check_same_spec_name(old.spec.name, new.spec.name, old_name, new_name)


def check_same_spec_name(old: str, new: str, old_name: str, new_name: str = "this run") -> None:
    if old != new:
        raise UsageError(
            f"{old_name} is a run of spec {old!r} and {new_name} of spec {new!r}: compare two runs of the same spec"
        )


def _compare(old: Results, new: Results, threshold: float, old_path: str | None, new_path: str | None) -> Comparison:
    try:
        return compare(old, new, threshold, old_path=old_path, new_path=new_path)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
