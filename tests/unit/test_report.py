"""Reports rendered from the results document: content, order, escaping, files on disk."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest

import engine.report
from engine.judge.results import (
    SCHEMA_VERSION,
    CheckResult,
    Counts,
    CriteriaCounts,
    CriterionResult,
    Mismatch,
    Observation,
    RequestSummary,
    Results,
    RuleRow,
    SpecRef,
    Summary,
    TargetRef,
)
from engine.report import FORMATS, render_html, render_markdown, write_reports
from engine.report.render import duration, md_cell, observed_lines, pinned

DOCS = "https://apidoc.cometapi.com/api-13851472"
XSS = "<script>alert(1)</script>"
MISMATCH_MESSAGES = [
    "status: expected 4xx, got 200 | the server accepted a request without a model",
    "class: expected request_invalid, got unclassified",
]


def _request(body: str = "model + 2 messages") -> RequestSummary:
    return RequestSummary(method="POST", url="sim/v1/chat/completions", auth="bearer $COMETAPI_API_KEY", body=body)


def _checks() -> list[CheckResult]:
    passed = CheckResult(
        id="happy-path",
        title="Minimal completion succeeds",
        tags=["smoke", "release"],
        status="passed",
        request=_request(),
        observed=Observation(status=200, parser="ok", request_id="req-happy-1", elapsed_ms=412.6),
        captures={"model": "gpt-4o-mini", "usage": {"prompt_tokens": 21, "total_tokens": 23}},
    )
    failed = CheckResult(
        id="missing-model",
        title="Missing model | fails as a client error",
        status="failed",
        request=_request(body="messages only, no model"),
        observed=Observation(
            status=200, parser="ok", elapsed_ms=98.2, body_excerpt='{"id": "chatcmpl-1",\n "object": "chat.completion"}'
        ),
        class_="unclassified",
        action="page_owner",
        retry="no",
        fallback="no",
        owner="platform",
        rule="default",
        mismatches=[
            Mismatch(field="status", expected="4xx", observed=200, message=MISMATCH_MESSAGES[0]),
            Mismatch(field="class", expected="request_invalid", observed="unclassified", message=MISMATCH_MESSAGES[1]),
        ],
    )
    error = CheckResult(
        id="slow-read",
        title="Read timeout is classified",
        status="error",
        reason="no response within the 30s read timeout; expectation could not be judged",
        request=_request(),
        observed=Observation(
            transport_error="read_timeout",
            transport_detail="ReadTimeout after 30.0s",
            elapsed_ms=30001.4,
        ),
        class_="transport",
        action="retry_briefly",
        retry="maybe",
        fallback="maybe",
        rule="transport",
    )
    skipped = CheckResult(
        id="stream-basic",
        title="Streaming happy path",
        status="skipped",
        reason="streaming is disabled in the pinned contract",
    )
    return [passed, failed, error, skipped]


def _criteria() -> list[CriterionResult]:
    return [
        CriterionResult(
            id="minimal-completion", text="A minimal completion succeeds.", verdict="met", decided_by=["happy-path"]
        ),
        CriterionResult(
            id="malformed-non-retryable",
            text="Malformed requests fail as non-retryable client errors.",
            verdict="not_met",
            decided_by=["missing-model"],
            reasons=["missing-model: the server accepted the request"],
        ),
        CriterionResult(
            id="streaming-tested",
            text="Streaming and non-streaming paths\nhave tests.",
            verdict="not_verified",
            decided_by=["stream-basic"],
            reasons=["stream-basic was skipped"],
        ),
    ]


def _rules() -> list[RuleRow]:
    return [
        RuleRow(
            id="auth",
            when="status in [401, 403]",
            class_="auth",
            retry="no",
            fallback="no",
            action="page_owner",
            owner="platform-secrets",
            notes="Never fall back on auth.",
        ),
        RuleRow(
            id="throttled",
            when="status in [408, 429] | retry-after honoured",
            class_="throttled",
            retry="maybe",
            fallback="maybe",
            action="retry_briefly",
        ),
        RuleRow(
            id="transport",
            when="transport in [dns, connect, reset, read_timeout]",
            class_="transport",
            retry="maybe",
            fallback="maybe",
            action="retry_briefly",
        ),
        RuleRow(
            id="default",
            when="any",
            class_="unclassified",
            retry="no",
            fallback="no",
            action="page_owner",
            owner="platform",
        ),
    ]


def sample_results(title: str = "CometAPI chat completions: reliability contract") -> dict:
    results = Results(
        tool={"name": "runbook", "version": "0.1.0"},
        spec=SpecRef(name="cometapi-chat-completions", path="specs/cometapi/chat.yaml", title=title),
        target=TargetRef(name="sim", kind="simulator", base_url="http://127.0.0.1:8765"),
        contract={
            "docs": DOCS,
            "accessed": "2026-05-08",
            "path": "/v1/chat/completions",
            "auth": "bearer $COMETAPI_API_KEY",
            "model": "gpt-4o-mini",
            "streaming": False,
            "timeouts": {"connect": "2s", "read": "30s", "deadline": "45s"},
            "policy_version": "2026-05-1",
        },
        started="2026-05-08T10:00:00Z",
        finished="2026-05-08T10:00:31Z",
        duration_ms=31250.0,
        summary=Summary(
            verdict="not_ready",
            checks=Counts(total=4, passed=1, failed=1, error=1, skipped=1),
            drills=Counts(),
            criteria=CriteriaCounts(total=3, met=1, not_met=1, not_verified=1),
        ),
        checks=_checks(),
        drills=[],
        criteria=_criteria(),
        classification=_rules(),
    )
    return results.to_json_dict()


@pytest.fixture(scope="module")
def results() -> dict:
    return sample_results()


@pytest.fixture(scope="module", params=["html", "md"])
def rendered(request, results) -> str:
    return render_html(results) if request.param == "html" else render_markdown(results)


def _positions(text: str, needles: list[str]) -> list[int]:
    return [text.index(needle) for needle in needles]


def _table_rows(text: str) -> list[str]:
    """Table rows of either format: `<tr>...</tr>` in HTML, `| ... |` lines in Markdown."""
    if text.startswith("<!DOCTYPE"):
        return re.findall(r"<tr\b.*?</tr>", text, flags=re.DOTALL)
    return [line for line in text.splitlines() if line.startswith("|")]


def _md_tables(markdown: str) -> list[list[str]]:
    """The Markdown tables: runs of consecutive lines that start with a pipe."""
    tables, current = [], []
    for line in markdown.splitlines() + [""]:
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    return tables


def _raw_html_tags(markdown: str) -> list[str]:
    """Unescaped `<...` in Markdown other than the `<br>` in cells and the renderer's folds."""
    return re.findall(r"(?<!\\)<(?!br>|/?details>|summary>|/summary>)\S*", markdown)


def _is_html(text: str) -> bool:
    return text.startswith("<!DOCTYPE")


def _first_cell(row: str) -> str:
    """The text of a Markdown table row's first cell."""
    return re.split(r"(?<!\\)\|", row)[1].strip()


def _criterion_verdict(text: str, ident: str) -> str:
    """A criterion's verdict as shown: the badge of its HTML card, the first cell of its Markdown row."""
    if _is_html(text):
        card = re.search(rf'<div class="criterion" id="criterion-{ident}">.*?</div>', text, flags=re.DOTALL).group(0)
        return re.sub(r"<[^>]+>", "", re.search(r'<span class="badge cv-[^"]+">(.*?)</span>', card).group(1))
    return _first_cell(next(row for row in _table_rows(text) if f"| {ident}<br>" in row))


def _check_row(text: str, check_id: str) -> str:
    """One check's entry: its `<details id="check-...">` card in HTML, its Checks table row in Markdown."""
    if _is_html(text):
        return re.search(rf'<details class="item[^"]*" id="check-{check_id}".*?</details>', text, re.DOTALL).group(0)
    return next(line for line in text.splitlines() if re.match(rf"\| [^|]+ \| {re.escape(check_id)} \|", line))


def _provenance(text: str) -> dict[str, str]:
    """The provenance fields: `<dt>Label</dt><dd>value</dd>` in HTML, `- **Label:** value` in Markdown."""
    if _is_html(text):
        section = text.split('id="provenance"', 1)[1].split("</dl>", 1)[0]
        pairs = re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", section)
        return {label: re.sub(r"<[^>]+>", "", value).strip() for label, value in pairs}
    section = text.split("Environment and provenance", 1)[1]
    return dict(re.findall(r"^- \*\*(.+?):\*\* (.*)$", section, flags=re.M))


def _cells(line: str) -> int:
    """Column separators in a Markdown table line (pipes not escaped by a backslash)."""
    return len(re.findall(r"(?<!\\)\|", line))


# ---- both formats --------------------------------------------------------------------------


def test_public_surface_is_exported():
    public = {
        "FORMATS",
        "ReportFormat",
        "available_formats",
        "resolve_formats",
        "render_html",
        "render_markdown",
        "write_reports",
    }
    assert set(engine.report.__all__) == public
    assert all(hasattr(engine.report, name) for name in public)
    assert FORMATS == ("html", "md", "json")


def test_every_check_appears_with_its_own_status(rendered, results):
    marks = {"passed": "✅", "failed": "❌", "error": "⚠️", "skipped": "⏭️"}
    for check in results["checks"]:
        row, status = _check_row(rendered, check["id"]), check["status"]
        if _is_html(rendered):
            assert f'<span class="badge st-{status}">{status}</span>' in row
            assert f'data-status="{status}"' in row
        else:
            assert row.startswith(f"| {marks[status]} {status} | {check['id']} |")
    assert {check["status"] for check in results["checks"]} == set(marks)  # the sample has one of each


def test_every_criterion_and_its_verdict_appears(rendered):
    for ident, verdict, mark in [
        ("minimal-completion", "met", "✅"),
        ("malformed-non-retryable", "not met", "❌"),
        ("streaming-tested", "not verified", "⚠️"),
    ]:
        assert _criterion_verdict(rendered, ident) == (verdict if _is_html(rendered) else f"{mark} {verdict}")


def test_every_mismatch_message_and_reason_appears(results):
    html, markdown = render_html(results), render_markdown(results)
    assert "the server accepted a request without a model" in html
    assert MISMATCH_MESSAGES[0].replace("|", "\\|") in markdown
    for text in (html, markdown):
        assert MISMATCH_MESSAGES[1] in text
        assert "no response within the 30s read timeout" in text
        assert "streaming is disabled in the pinned contract" in text


def test_observed_outcomes_are_summarised(rendered):
    assert "HTTP 200" in rendered
    assert "transport error: read_timeout" in rendered
    assert "30001 ms" in rendered and "413 ms" in rendered


def test_evidence_is_listed(results):
    """The HTML keeps each item's evidence; the Markdown summary leaves it to the HTML and the JSON."""
    rendered = unescape(render_html(results))
    assert "req-happy-1" in rendered
    assert "ReadTimeout after 30.0s" in rendered
    assert "chatcmpl-1" in rendered
    assert '"prompt_tokens":21' in rendered


def test_provenance_names_target_run_tool_and_schema(rendered, results):
    assert (
        _provenance(rendered).items()
        >= {
            "Target": "sim (simulator) http://127.0.0.1:8765",
            "Started": "2026-05-08T10:00:00Z",
            "Finished": "2026-05-08T10:00:31Z",
            "Duration": "31.2 s",
            "Tool": "runbook 0.1.0",
            "Selection": "all checks",
            "Schema": SCHEMA_VERSION,
        }.items()
    )
    assert results["schema_version"] == SCHEMA_VERSION == "2.2"


def test_verdict_banner_uses_release_words(results):
    assert "Not ready" in render_html(results)
    ready = {**results, "summary": {**results["summary"], "verdict": "ready"}}
    assert "Ready for controlled production traffic" in render_markdown(ready)
    unverified = {**results, "summary": {**results["summary"], "verdict": "not_verified"}}
    assert "Not verified: nothing failed, but some criteria could not be checked" in render_html(unverified)
    partial = {**results, "summary": {**results["summary"], "verdict": "partial"}}
    assert "no readiness is claimed" in render_markdown(partial) and "Ready for" not in render_markdown(partial)


def test_pinned_contract_is_printed_with_nested_values_flattened(rendered):
    assert "bearer $COMETAPI_API_KEY" in rendered
    assert "connect: 2s, read: 30s, deadline: 45s" in rendered
    assert "policy_version" in rendered and "2026-05-1" in rendered


def test_classification_rules_appear_in_order(rendered):
    section = rendered[rendered.index("first match wins") :]
    positions = _positions(section, ["auth", "throttled", "transport", "default"])
    assert positions == sorted(positions)


def test_empty_drills_say_so(rendered):
    assert "No drills in this run." in rendered


def test_drills_render_like_checks(results):
    drill = {**results["checks"][1], "id": "retry-503-then-success"}
    with_drills = {**results, "drills": [drill]}
    for text in (render_html(with_drills), render_markdown(with_drills)):
        assert "retry-503-then-success" in text
        assert "No drills in this run." not in text


def test_unsupported_schema_major_is_refused(results):
    with pytest.raises(ValueError, match=re.escape("schema_version '3.0'")):
        render_html({**results, "schema_version": "3.0"})


def test_summary_counts_are_shown(results):
    assert "| Checks | 4 | 1 | 1 | 1 | 1 |" in render_markdown(results)
    html = render_html(results)
    for tile in ("<b>1</b> passed", "<b>1</b> failed", "<b>1</b> not met", "of 4", "of 3"):
        assert tile in html


# ---- helpers -------------------------------------------------------------------------------


def test_md_cell_keeps_a_value_on_one_safe_line():
    assert md_cell("a|b\r\nc`d") == "a\\|b<br>c'd"
    assert md_cell("[x](javascript:y) <img>", br=False) == "\\[x\\](javascript:y) \\<img\\>"
    assert md_cell(None) == md_cell("") == "—"


def test_durations_read_at_a_glance():
    assert [duration(v) for v in (412.4, 31250.0, 125000.0)] == ["412 ms", "31.2 s", "2 min 5 s"]


def test_pinned_values_flatten_nested_structures():
    value = {"scheme": "bearer", "secret": "COMETAPI_API_KEY", "extra": {"a": [1, True]}}
    assert pinned(value) == "scheme: bearer, secret: COMETAPI_API_KEY, extra: {a: [1, true]}"


def test_observed_lines_cover_status_transport_and_missing_fields():
    assert observed_lines(None) == ["not sent"]
    lines = observed_lines(
        {"status": 200, "parser": "missing_field", "missing": ["choices"], "elapsed_ms": 12.5, "ttfb_ms": 3.2}
    )
    assert lines == ["HTTP 200", "parser: missing_field (missing choices)", "12 ms (first byte 3 ms)"]


# ---- HTML ----------------------------------------------------------------------------------


def _own_script_removed(html: str) -> str:
    """The page minus its one inline script (the filter), which must come last in the body."""
    assert html.lower().count("<script") == 1 and "<script>" in html and " src=" not in html
    head, script = html.rsplit("<script>", 1)
    assert script.strip().endswith("</script>\n</body>\n</html>".strip())
    return head


def test_html_escapes_data_and_runs_only_its_own_script():
    html = render_html(sample_results(title=XSS))
    assert "<script" not in _own_script_removed(html).lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_html_escapes_every_data_field(results):
    hostile = json.loads(
        json.dumps(results)
        .replace("req-happy-1", XSS)
        .replace("Never fall back on auth.", XSS)
        .replace("stream-basic was skipped", XSS)
        .replace("class: expected request_invalid", XSS)
    )
    hostile["contract"][XSS] = XSS
    html = _own_script_removed(render_html(hostile))
    assert "<script" not in html.lower()
    assert html.count("&lt;script&gt;") >= 6
    assert _raw_html_tags(render_markdown(hostile)) == []


def test_html_loads_nothing_external(results):
    html = render_html(results)
    assert "fetch(" not in html and "XMLHttpRequest" not in html
    html = _own_script_removed(html)
    for marker in ("<link", "<script", "<img", "<iframe", "@import", "url("):
        assert marker not in html.lower()
    urls = re.findall(r'(?:href|src)\s*=\s*"([^"]*)"', html)
    external = {url for url in urls if not url.startswith("#")}
    assert external == {DOCS}


def test_html_links_only_http_docs_urls(results):
    hostile = {**results, "contract": {**results["contract"], "docs": "javascript:alert(1)"}}
    html = render_html(hostile)
    assert 'href="javascript' not in html
    assert "javascript:alert(1)" in html


def test_html_criterion_verdicts_have_distinct_styles(results):
    html = render_html(results)
    for style in ("cv-met", "cv-not_met", "cv-not_verified"):
        assert f'class="badge {style}"' in html


def test_html_decided_by_links_to_the_check(results):
    html = render_html(results)
    assert 'href="#check-missing-model"' in html
    assert 'id="check-missing-model"' in html


# ---- Markdown ------------------------------------------------------------------------------


def test_markdown_tables_keep_their_column_count(results):
    tables = _md_tables(render_markdown(results))
    assert len(tables) >= 5
    for table in tables:
        assert len({_cells(line) for line in table}) == 1, table


def test_markdown_escapes_pipes_newlines_html_and_backticks():
    results = sample_results(title=f"{XSS} | `code`")
    markdown = render_markdown(results)
    assert _raw_html_tags(markdown) == []
    assert "`" not in markdown
    assert "Streaming and non-streaming paths<br>have tests." in markdown
    assert r"status in \[408, 429\] \| retry-after honoured" in markdown


def test_markdown_marks_verdicts_with_words_and_icons(results):
    markdown = render_markdown(results)
    assert "✅ met" in markdown and "❌ not met" in markdown and "⚠️ not verified" in markdown
    assert "## Verdict: ❌ Not ready" in markdown


# ---- files ---------------------------------------------------------------------------------


def test_write_reports_writes_every_format(tmp_path, results):
    out = tmp_path / "reports" / "nested"
    paths = write_reports(results, out, "cometapi", ["json", "html", "md"])
    assert paths == [out / "cometapi.json", out / "cometapi.html", out / "cometapi.md"]
    assert paths[1].read_text(encoding="utf-8") == render_html(results)
    assert paths[2].read_text(encoding="utf-8") == render_markdown(results)
    assert sorted(p.name for p in out.iterdir()) == [p.name for p in sorted(paths)]


def test_json_report_round_trips(tmp_path, results):
    (path,) = write_reports(results, tmp_path, "run", ["json"])
    text = path.read_text(encoding="utf-8")
    assert text.endswith("}\n") and text.startswith('{\n  "')
    assert json.loads(text) == results
    assert Results.model_validate(json.loads(text)).to_json_dict() == results


def test_saved_json_renders_the_same_report(tmp_path, results):
    (path,) = write_reports(results, tmp_path, "run", ["json"])
    assert render_markdown(json.loads(path.read_text(encoding="utf-8"))) == render_markdown(results)


def test_unknown_format_raises_and_writes_nothing(tmp_path, results):
    with pytest.raises(ValueError, match=r"'pdf'.*html, md, json"):
        write_reports(results, tmp_path / "out", "run", ["html", "pdf"])
    assert not (tmp_path / "out").exists()


def test_name_with_a_directory_is_refused(tmp_path, results):
    with pytest.raises(ValueError, match="plain file name"):
        write_reports(results, tmp_path, "../escape", ["md"])


def test_rewrite_replaces_file_and_leaves_no_temp_files(tmp_path, results):
    write_reports(results, tmp_path, "run", ["md"])
    ready = {**results, "summary": {**results["summary"], "verdict": "ready"}}
    (path,) = write_reports(ready, tmp_path, "run", ["md"])
    assert "Ready for controlled production traffic" in path.read_text(encoding="utf-8")
    assert [p.name for p in tmp_path.iterdir()] == ["run.md"]


def test_a_new_run_supersedes_the_previous_runs_other_reports(tmp_path, results):
    out = tmp_path / "out"
    write_reports(results, out, "run", ["html", "md", "json"])
    write_reports(results, out, "run", ["md"], supersede=True)
    assert sorted(path.name for path in out.iterdir()) == ["run.md", "runs"]  # no stale run.json beside it
    write_reports(results, out, "run", ["json"])  # re-rendering (runbook report) removes nothing
    assert sorted(path.name for path in out.iterdir()) == ["run.json", "run.md", "runs"]
    assert [path.name for path in (out / "runs" / "run").iterdir()] == ["20260508T100000.000Z.md"]  # the run's own


def test_control_characters_from_a_server_are_shown_escaped_in_both_formats(results):
    hostile = json.loads(json.dumps(results).replace("req-happy-1", "req\\u0000\\u001b[2Khappy\\u009b"))
    for text in (render_html(hostile), render_markdown(hostile)):
        assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", text)
    assert "req\\x00\\x1b[2Khappy\\x9b" in render_html(hostile)
