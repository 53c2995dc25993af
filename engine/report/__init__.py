"""Reports rendered from the results document (the JSON form of `engine.results.Results`).

    render_html(results)       -> str   self-contained HTML, inline CSS, no scripts
    render_markdown(results)   -> str   GitHub-flavoured Markdown
    write_reports(results, out_dir, name, formats) -> [paths]   <name>.html / .md / .json
"""

from engine.report.render import render_html, render_markdown
from engine.report.write import FORMATS, write_reports

__all__ = ["FORMATS", "render_html", "render_markdown", "write_reports"]
