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


def _json_text(results: dict[str, Any]) -> str:
    return json.dumps(results, indent=2, ensure_ascii=False) + "\n"


HTML = ReportFormat("html", "html", render_html, "self-contained HTML page")
MARKDOWN = ReportFormat("md", "md", render_markdown, "GitHub-flavoured Markdown")
JSON = ReportFormat("json", "json", _json_text, "the results document, for other tools")
JUNIT = ReportFormat("junit", "junit.xml", render_junit, "JUnit XML for CI: checks, drills and criteria as test suites")
