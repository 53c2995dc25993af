"""Reports rendered from the results document (the JSON form of `engine.judge.results.Results`).

render_html(results)       -> str   self-contained HTML, inline CSS, one small inline script
render_markdown(results)   -> str   GitHub-flavoured Markdown
write_reports(results, out_dir, name, formats) -> [paths]   <name>.html / .md / .json
    available_formats()        -> names   built-in formats and those plugins register
"""

from engine.report.formats import ReportFormat
from engine.report.render import render_html, render_markdown
from engine.report.write import FORMATS, available_formats, resolve_formats, write_reports

__all__ = [
    "FORMATS",
    "ReportFormat",
    "available_formats",
    "render_html",
    "render_markdown",
    "resolve_formats",
    "write_reports",
]
