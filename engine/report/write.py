"""Write the reports of one run to disk, each file atomically."""

from __future__ import annotations

import json
import os
import pathlib
import tempfile
from collections.abc import Callable, Sequence
from typing import Any

from engine.report.render import render_html, render_markdown

FORMATS = ("html", "md", "json")


def _json_text(results: dict[str, Any]) -> str:
    return json.dumps(results, indent=2, ensure_ascii=False) + "\n"


_RENDERERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "html": render_html,
    "md": render_markdown,
    "json": _json_text,
}


def _check_request(name: str, formats: Sequence[str]) -> None:
    unknown = [fmt for fmt in formats if fmt not in FORMATS]
    if unknown:
        listed = ", ".join(map(repr, unknown))
        raise ValueError(f"unknown report format {listed}; use one of: {', '.join(FORMATS)}")
    if not name or name in (".", "..") or "/" in name or os.sep in name:
        raise ValueError(f"report name {name!r} must be a plain file name, without a directory")


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _write_atomic(path: pathlib.Path, text: str) -> None:
    """Write to a temp file in the same directory, then rename over `path`."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.chmod(tmp, 0o666 & ~_umask())   # mkstemp makes 0600; reports are ordinary files
        os.replace(tmp, path)
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise


def write_reports(
    results: dict[str, Any], out_dir: pathlib.Path, name: str, formats: Sequence[str]
) -> list[pathlib.Path]:
    """Write `<name>.<fmt>` for each format into out_dir; return the paths in the order given.

    Every format is checked (and every report rendered) before the first file is written, so a
    bad request or a bad results document leaves no half-written set behind.
    """
    _check_request(name, formats)
    wanted = list(dict.fromkeys(formats))
    texts = {fmt: _RENDERERS[fmt](results) for fmt in wanted}
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in wanted:
        path = out_dir / f"{name}.{fmt}"
        _write_atomic(path, texts[fmt])
        paths.append(path)
    return paths
