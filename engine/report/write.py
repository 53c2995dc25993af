"""Write the reports of one run to disk, each file atomically."""

from __future__ import annotations

import datetime as dt
import os
import pathlib
import re
import tempfile
from collections.abc import Sequence
from typing import Any

from engine.core.registry import REPORT_FORMATS, PluginError
from engine.report.formats import ReportFormat

FORMATS = ("html", "md", "json")  # what a run writes unless told otherwise
_PLAIN_SUFFIX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]*$")


def available_formats() -> tuple[str, ...]:
    """Every format --format accepts: the built-in ones and those plugins add."""
    return REPORT_FORMATS.names()


def report_format(name: str) -> ReportFormat:
    """The registered format called `name` (ValueError if there is none or it cannot load)."""
    try:
        found = REPORT_FORMATS.get(name)
    except KeyError:
        raise ValueError(f"unknown report format {name!r}; use one of: {', '.join(available_formats())}") from None
    except PluginError as exc:
        raise ValueError(str(exc)) from None
    origin = REPORT_FORMATS.origin(name)
    if not callable(getattr(found, "render", None)) or not isinstance(getattr(found, "suffix", None), str):
        raise ValueError(f"report format {name!r} ({origin}) needs a suffix and a render(results) function")
    if not _PLAIN_SUFFIX.match(found.suffix):
        raise ValueError(
            f"report format {name!r} ({origin}) has suffix {found.suffix!r}: use letters, digits, '.', '-'"
        )
    return found  # type: ignore[no-any-return]  # checked just above: a plugin's object, duck-typed


def resolve_formats(formats: Sequence[str]) -> list[ReportFormat]:
    """Each requested format, loaded and checked, before anything runs (ValueError naming what is wrong)."""
    unknown = [fmt for fmt in formats if fmt not in available_formats()]
    if unknown:
        listed = ", ".join(map(repr, unknown))
        raise ValueError(f"unknown report format {listed}; use one of: {', '.join(available_formats())}")
    chosen = [report_format(fmt) for fmt in dict.fromkeys(formats)]
    suffixes = [fmt.suffix for fmt in chosen]
    clashes = sorted({suffix for suffix in suffixes if suffixes.count(suffix) > 1})
    if clashes:
        raise ValueError(f"two report formats would write the same file (suffix {', '.join(clashes)})")
    return chosen


def _render(fmt: ReportFormat, results: dict[str, Any]) -> str:
    try:
        text = fmt.render(results)
    except ValueError:
        raise
    except Exception as exc:  # a plugin's renderer failing, whatever the reason
        raise ValueError(f"report format {fmt.name!r} ({REPORT_FORMATS.origin(fmt.name)}) failed: {exc}") from exc
    if not isinstance(text, str):
        raise ValueError(f"report format {fmt.name!r} ({REPORT_FORMATS.origin(fmt.name)}) did not return text")
    return text


def _check_name(name: str) -> None:
    if not name or name in (".", "..") or "/" in name or os.sep in name:
        raise ValueError(f"report name {name!r} must be a plain file name, without a directory")


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def write_atomic(path: pathlib.Path, text: str) -> None:
    """Write to a temp file in the same directory, then rename over `path`."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; reports are ordinary files
        os.replace(tmp, path)
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise


class Written(list[pathlib.Path]):
    """The stable paths written (`<out>/<name>.<suffix>`, what callers print), in the order asked;
    `history` holds the run-stamped copies a new run also wrote (`<out>/runs/<name>/<stamp>.<suffix>`)."""

    history: tuple[pathlib.Path, ...] = ()


def write_reports(
    results: dict[str, Any], out_dir: pathlib.Path, name: str, formats: Sequence[str], supersede: bool = False
) -> Written:
    """Write `<name>.<fmt>` for each format into out_dir; return the paths in the order given.

    Every format is checked (and every report rendered) before the first file is written, so a
    bad request or a bad results document leaves no half-written set behind. With `supersede` (a new
    run), each report is first kept under the run's own name, `runs/<name>/<stamp>.<suffix>` (the
    stamp is the run's start, so no run overwrites another's), and reports of the same name in other
    built-in formats are removed: an earlier run's `ready` JSON never stands beside this run's
    reports. Without it (re-rendering), only the stable names are written.
    """
    wanted = resolve_formats(formats)
    _check_name(name)
    texts = {fmt.suffix: _render(fmt, results) for fmt in wanted}
    out_dir = pathlib.Path(out_dir)
    stamped = _stamped_paths(out_dir, name, results, texts) if supersede else {}
    for folder in {path.parent for path in stamped.values()}:
        folder.mkdir(parents=True, exist_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = Written(out_dir / f"{name}.{suffix}" for suffix in texts)
    for path, (suffix, text) in zip(written, texts.items(), strict=True):
        if suffix in stamped:  # the run's own copy first: the stable name never holds a run its history lacks
            write_atomic(stamped[suffix], text)
        write_atomic(path, text)
    written.history = tuple(stamped.values())
    if supersede:
        for stale in (out_dir / f"{name}.{suffix}" for suffix in _builtin_suffixes() if suffix not in texts):
            stale.unlink(missing_ok=True)
    return written


def _stamped_paths(
    out_dir: pathlib.Path, name: str, results: dict[str, Any], texts: dict[str, str]
) -> dict[str, pathlib.Path]:
    stamp = run_stamp(results.get("started"))
    return {suffix: history_dir(out_dir, name) / f"{stamp}.{suffix}" for suffix in texts}


def history_dir(out_dir: pathlib.Path, name: str) -> pathlib.Path:
    """Where the run-stamped reports of `name` are kept: `<out>/runs/<name>/`."""
    return pathlib.Path(out_dir) / "runs" / name


def run_stamp(started: Any) -> str:
    """A run's start as a file name that sorts by time, in UTC to the millisecond:
    `2026-12-02T06:15:01.234+00:00` -> `20261202T061501.234Z` (a time without a zone is taken as UTC)."""
    try:
        moment = dt.datetime.fromisoformat(started)
    except (TypeError, ValueError):
        raise ValueError(f"the results' 'started' ({started!r}) is not an ISO 8601 time") from None
    moment = (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
    return f"{moment:%Y%m%dT%H%M%S}.{moment.microsecond // 1000:03d}Z"


def _builtin_suffixes() -> tuple[str, ...]:
    """The file suffixes of the built-in formats (`junit.xml` beside html, md, json): what a new run supersedes."""
    return tuple(report_format(fmt).suffix for fmt in REPORT_FORMATS.builtin)
