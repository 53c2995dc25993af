"""The built-in report formats. A format turns the results document (the JSON form of
`engine.judge.results.Results`) into the text of one file; plugins add more through the
`runbook.report_formats` entry point group (engine.core.registry).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.report.junit import render_junit
from engine.report.render import render_html, render_markdown


@dataclass(frozen=True)
class ReportFormat:
    name: str  # what --format takes
    suffix: str  # the file is <spec name>.<suffix>
    render: Callable[[dict[str, Any]], str]
    description: str = ""


INDENT_LIMIT = 1_000  # checks and drills; past it, the JSON report puts one item on a line


def _json_text(results: dict[str, Any]) -> str:
    """The results document, indented; past INDENT_LIMIT checks and drills, each item of its lists
    (each check, drill, criterion, rule) on a line of its own instead: json's indenting encoder is
    pure Python, and took seconds at 10,000 checks; the compact one is C."""
    if len(results.get("checks", [])) + len(results.get("drills", [])) <= INDENT_LIMIT:
        return json.dumps(results, indent=2, ensure_ascii=False) + "\n"
    encode = json.JSONEncoder(ensure_ascii=False).encode
    fields = [
        f"  {encode(key)}: [\n" + ",\n".join(f"    {encode(item)}" for item in value) + "\n  ]"
        if isinstance(value, list) and value
        else f"  {encode(key)}: {encode(value)}"
        for key, value in results.items()
    ]
    return "{\n" + ",\n".join(fields) + "\n}\n"


HTML = ReportFormat("html", "html", render_html, "self-contained HTML page")
MARKDOWN = ReportFormat("md", "md", render_markdown, "GitHub-flavoured Markdown")
JSON = ReportFormat("json", "json", _json_text, "the results document, for other tools")
JUNIT = ReportFormat("junit", "junit.xml", render_junit, "JUnit XML for CI: checks, drills and criteria as test suites")
