"""Render the results document as HTML or Markdown.

The only input is the plain JSON dict that `Results.to_json_dict()` produces (or a saved results
file read back with `json.load`), so a report can be re-rendered later without the engine.
Templates live in `templates/`; the helpers here turn raw values into the short texts both
templates print (observed outcome, request summary, evidence, durations, Markdown-safe cells).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup

from engine.judge.results import SCHEMA_VERSION
from engine.report import baseline, folds, views
from engine.report.views import EMPTY, anchor, mismatch_text, ms

VERDICT_TEXT = {
    "ready": "Ready for controlled production traffic",
    "not_ready": "Not ready",
    "not_verified": "Not verified: nothing failed, but some criteria could not be checked",
    "partial": "Partial run: the selection left out evidence some criteria need, so no readiness is claimed",
    "interrupted": "Interrupted: the run was stopped before it finished, so no readiness is claimed",
}
CRITERION_TEXT = {
    "met": "met",
    "not_met": "not met",
    "not_verified": "not verified",
    "not_applicable": "not applicable",
}
CRITERION_ICON = {"met": "✅", "not_met": "❌", "not_verified": "⚠️", "not_applicable": "➖"}
STATUS_LEGEND = (
    "failed: the target broke the contract; error: the check could not reach a judgement"
    " (see its reason); skipped: not run."
)
STATUS_ICON = {"passed": "✅", "failed": "❌", "error": "⚠️", "skipped": "⏭️"}
VERDICT_ICON = {"ready": "✅", "not_ready": "❌", "not_verified": "⚠️", "partial": "➖", "interrupted": "⏹️"}
DOCS_KEYS = frozenset({"docs", "docs_url", "documentation"})

_MD_ESCAPES = str.maketrans({"\\": "\\\\", "|": "\\|", "<": "\\<", ">": "\\>", "[": "\\[", "]": "\\]", "`": "'"})
_MD_SPECIAL = re.compile(r"[\\|<>\[\]`\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")  # to escape, or a line break


# ---- plain values -------------------------------------------------------------------------


def display(value: Any) -> str:
    """Any JSON value as one short text; None and "" become a dash."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return compact_json(value)
    return str(value)


def verdict_text(results: Mapping[str, Any]) -> str:
    """The verdict in words, with the selection when the run did not select everything."""
    verdict = results["summary"]["verdict"]
    selection = results.get("selection", "all checks")
    text = VERDICT_TEXT.get(verdict, verdict)
    return text if selection == "all checks" else f"{text} ({selection})"


def blocking_criteria(results: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The criteria that keep the verdict from ready, in spec order."""
    blocking = set(results["summary"].get("blocking", []))
    return [c for c in results.get("criteria", []) if c["id"] in blocking]


def evidence_item(ref: str) -> dict[str, str]:
    """A bare `decided_by` id as an evidence entry whose status and source are unknown."""
    return {"ref": ref, "status": "", "source": ""}


def evidence_lines(criterion: Mapping[str, Any]) -> list[str]:
    """'happy-path (passed) — target live (cometapi-live)' for each piece of a criterion's evidence."""
    evidence = criterion.get("evidence") or map(evidence_item, criterion.get("decided_by", []))
    return [f"{e['ref']} ({e['status']}) — {e['source']}" if e["status"] else e["ref"] for e in evidence] or [EMPTY]


def criterion_state(criterion: dict[str, Any]) -> str:
    """The verdict, or 'not_applicable' when a partial run could not judge the criterion."""
    return criterion["verdict"] if criterion.get("applicable", True) else "not_applicable"


def compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def pinned(value: Any, nested: bool = False) -> str:
    """A contract value: dicts as `k: v, k: v`, lists as `a, b` (bracketed when nested)."""
    if isinstance(value, Mapping):
        text = ", ".join(f"{key}: {pinned(item, True)}" for key, item in value.items())
        return f"{{{text}}}" if nested else text
    if isinstance(value, list):
        text = ", ".join(pinned(item, True) for item in value)
        return f"[{text}]" if nested else text
    return display(value)


def duration(value: float | None) -> str:
    """A run length a person reads at a glance: `412 ms`, `12.3 s`, `2 min 5 s`."""
    if value is None:
        return EMPTY
    if value < 1000:
        return ms(value)
    seconds = value / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"


def tool_text(tool: Mapping[str, str]) -> str:
    parts = [tool.get("name", ""), tool.get("version", "")]
    return " ".join(part for part in parts if part) or EMPTY


def docs_link(key: str, value: Any) -> str | None:
    """The URL to link for a contract docs entry; only plain http(s) URLs are linked."""
    if key not in DOCS_KEYS or not isinstance(value, str):
        return None
    return value if urlsplit(value).scheme in ("http", "https") else None


# ---- checks and drills ------------------------------------------------------------------


def request_lines(request: Mapping[str, Any] | None) -> list[str]:
    if not request:
        return [EMPTY]
    return [
        f"{request['method']} {request['url']}",
        f"auth: {request['auth']}",
        f"body: {display(request['body'])}",
    ]


def observed_lines(observed: Mapping[str, Any] | None) -> list[str]:
    """HTTP status or transport error, parser outcome, timing."""
    if not observed:
        return ["not sent"]
    outcome = []
    if observed.get("status") is not None:
        outcome.append(f"HTTP {observed['status']}")
    if observed.get("transport_error"):
        outcome.append(f"transport error: {observed['transport_error']}")
    parser = f"parser: {observed.get('parser') or 'none'}"
    if observed.get("missing"):
        parser += f" (missing {', '.join(observed['missing'])})"
    timing = ms(observed.get("elapsed_ms"))
    if observed.get("ttfb_ms") is not None:
        timing += f" (first byte {ms(observed['ttfb_ms'])})"
    return [", ".join(outcome) or "no response", parser, timing]


def evidence(check: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Label/value pairs worth keeping from a check: ids, provider error, body, captures."""
    observed = check.get("observed") or {}
    calls = drill_calls(check.get("drill"))
    rows = [
        ("request id", observed.get("request_id"), False),
        ("error code", observed.get("error_code"), False),
        ("error type", observed.get("error_type"), False),
        ("error message", observed.get("error_message"), False),
        ("transport detail", observed.get("transport_detail"), False),
        ("body excerpt", observed.get("body_excerpt"), True),
        ("captures", compact_json(check["captures"]) if check.get("captures") else None, True),
        ("fixture", _fixture_text(check.get("fixture")), False),
        *((f"call {index + 1}" if len(calls) > 1 else "attempts", text, True) for index, text in enumerate(calls)),
    ]
    return [{"label": lbl, "value": value, "block": block} for lbl, value, block in rows if value]


def drill_calls(drill: Mapping[str, Any] | None) -> list[str]:
    """Each call of a drill as 'primary 503 -> retry after 1.3ms · primary 200 -> done'."""
    if not drill:
        return []
    texts = []
    for call in drill.get("calls", []):
        steps = [_attempt_text(a) for a in call.get("attempts", [])]
        who = "" if drill.get("client", "reference") == "reference" else f"client {drill['client']}: "
        head = (
            f"{who}{call['outcome']} in {call['elapsed_ms']:.1f} ms of {call['deadline_ms']:.1f} ms; "
            f"simulator saw {call['server_attempts']} + {call['server_fallback_attempts']} fallback"
            f"{' at ' + drill['fallback_target'] if drill.get('fallback_target') else ''}; "
            f"time scale {drill.get('time_scale')}; timing slack {drill.get('slack_ms', 0):.0f} ms "
            f"(scheduling latency {drill.get('scheduling_latency_ms', 0):.0f} ms)"
        )
        texts.append("\n".join([head, *_client_lines(call.get("client")), *steps]))
    return [_earlier_text(earlier) for earlier in drill.get("earlier", [])] + texts


def _attempt_text(attempt: Mapping[str, Any]) -> str:
    """'primary 503 (provider_unavailable) → retry after 4.1ms', with the pause the simulator saw before it."""
    seen = attempt.get("status") or attempt.get("transport_error") or "?"
    pause = f" (after a {attempt['pause_ms']:.0f} ms pause)" if attempt.get("pause_ms") is not None else ""
    return f"{attempt['target']} {seen} ({attempt.get('class')}) → {attempt['decision']}{pause}"


def _client_lines(client: Mapping[str, Any] | None) -> list[str]:
    """What a client under test did: its exit, its report, any broken contract, the end of its stderr."""
    if not client:
        return []
    said = ", ".join(
        f"{key} {client[key]}" for key in ("outcome", "served_by", "finish_reason", "error") if client.get(key)
    )
    lines = [f"exit {client.get('exit_code')}" + (f"; reported {said}" if said else "")]
    if client.get("problem"):
        lines.append(f"broke the client contract: {client['problem']}")
    if client.get("stderr"):
        lines.append(f"stderr: {client['stderr'][-200:]}")
    return lines


def _earlier_text(earlier: Mapping[str, Any]) -> str:
    """A run at a smaller time scale that the busy machine made inconclusive."""
    return (
        f"inconclusive at time scale {earlier['time_scale']} (scheduling latency "
        f"{earlier['scheduling_latency_ms']:.0f} ms), so run again slower: " + "; ".join(earlier["failures"][:3])
    )


def _fixture_text(fixture: Mapping[str, Any] | None) -> str | None:
    if not fixture:
        return None
    parts = [f"{fixture['status']} ({fixture['path']})"]
    parts += [
        f"{label}: {', '.join(fixture[key])}"
        for key, label in (("removed", "removed"), ("changed", "changed type"), ("added", "added"))
        if fixture.get(key)
    ]
    return "; ".join(parts)


def has_details(check: Mapping[str, Any]) -> bool:
    return bool(check.get("reason") or check.get("mismatches") or evidence(check))


def known_refs(results: Mapping[str, Any]) -> dict[str, str]:
    """`decided_by` ids -> the anchor of the check or drill they name."""
    refs = {check["id"]: anchor("check", check["id"]) for check in results.get("checks", [])}
    for drill in results.get("drills", []):
        refs[f"drill:{drill['id']}"] = anchor("drill", drill["id"])
        refs.setdefault(drill["id"], anchor("drill", drill["id"]))
    return refs


# ---- markdown ----------------------------------------------------------------------------


def md_cell(value: Any, br: bool = True) -> str:
    """Text safe inside a Markdown table cell or line: no raw `|`, HTML, links or backticks.

    Newlines become `<br>` (or spaces with br=False) so a value never breaks a table row.
    """
    text = display(value)
    if not _MD_SPECIAL.search(text):  # most values (ids, statuses, classes): one line, nothing to escape
        return text.strip() or EMPTY
    lines = text.translate(_MD_ESCAPES).splitlines()
    return ("<br>" if br else " ").join(line.strip() for line in lines if line.strip()) or EMPTY


def md_rows(items: list[Mapping[str, Any]]) -> str:
    """The rows of a Markdown Checks or Drills table: status, id, what was seen (and why), class,
    action, rule. Built here rather than in the template: at 10,000 rows, a template loop was slow."""
    return "\n".join(map(_md_row, items))


def _md_row(item: Mapping[str, Any]) -> str:
    seen = md_cell(", ".join(observed_lines(item.get("observed"))))
    seen += f"<br>{md_cell(item['reason'])}" if item.get("reason") else ""
    cells = [f"{STATUS_ICON.get(item['status'], '')} {md_cell(item['status'])}", md_cell(item["id"]), seen]
    cells += [md_cell(item.get(key)) for key in ("class", "action", "rule")]
    return f"| {' | '.join(cells)} |"


def md_failures(failed: list[Mapping[str, Any]], places: Mapping[str, str]) -> str:
    """The Markdown list of failures: each with its reason and rule, then every mismatch under it."""
    return "\n".join(line for item in failed for line in _md_failure(item, places))


def _md_failure(item: Mapping[str, Any], places: Mapping[str, str]) -> list[str]:
    head = f"- {STATUS_ICON.get(item['status'], '')} {item['kind']} **{md_cell(item['id'], False)}**"
    head += f": {md_cell(item['reason'], False)}" if item.get("reason") else ""
    if item.get("rule"):
        place = f" ({md_cell(places[item['rule']])})" if item["rule"] in places else ""
        head += f" — rule {md_cell(item['rule'])}{place}"
    return [head, *(f"  - {md_cell(mismatch_text(m), False)}" for m in item.get("mismatches", []))]


# ---- environments and entry points --------------------------------------------------------

FILTERS = {
    "display": display,
    "compact_json": compact_json,
    "pinned": pinned,
    "ms": ms,
    "duration": duration,
    "tool_text": tool_text,
    "request_lines": request_lines,
    "observed_lines": observed_lines,
    "evidence": evidence,
    "mismatch_text": mismatch_text,
    "has_details": has_details,
    "md_cell": md_cell,
    "md_rows": md_rows,
    "md_failures": md_failures,
    "criterion_state": criterion_state,
    "blocking_criteria": blocking_criteria,
    "evidence_lines": evidence_lines,
    "evidence_item": evidence_item,
    "fixture_text": _fixture_text,
    # what the reports show first (engine/report/views.py)
    "blocking_groups": views.blocking_groups,
    "failures": views.failures,
    "fired_rules": views.fired_rules,
    "rule_places": views.rule_places,
    "drift": views.drift,
    "tags": views.tags,
    "time_scales": views.time_scales,
    "latency_picture": views.latency_picture,
    "evidence_summary": views.evidence_summary,
    "criterion_evidence": views.criterion_evidence,
    "latency_summary": views.latency_summary,
    "breakable": views.breakable,
    # how a large run stays small: checks as rows past CARD_LIMIT, passing ones folded (engine/report/folds.py)
    "layout": folds.layout,
    "fold_rows": folds.fold_rows,
    "detail_rows": folds.detail_rows,
    # since the baseline (engine/report/baseline.py)
    "baseline_view": baseline.baseline_view,
    "percent": baseline.percent,
}
GLOBALS = {
    "VERDICT_TEXT": VERDICT_TEXT,
    "VERDICT_ICON": VERDICT_ICON,
    "CRITERION_TEXT": CRITERION_TEXT,
    "CRITERION_ICON": CRITERION_ICON,
    "STATUS_LEGEND": STATUS_LEGEND,
    "STATUS_ICON": STATUS_ICON,
    "docs_link": docs_link,
    "verdict_text": verdict_text,
    "anchor": anchor,
    "CARD_LIMIT": folds.CARD_LIMIT,
}


_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _no_controls(value: Any) -> Any:
    """Every printed value: control characters (a server's NUL or ESC) shown as escapes, not written raw;
    markup the renderer built keeps its markup."""
    if not isinstance(value, str) or not _CONTROLS.search(value):
        return value
    cleaned = _CONTROLS.sub(lambda found: found.group().encode("unicode_escape").decode("ascii"), value)
    return Markup(cleaned) if isinstance(value, Markup) else cleaned


@functools.cache
def _environment(autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("engine.report", "templates"),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_no_controls,
    )
    env.filters.update(FILTERS)
    env.globals.update(GLOBALS)
    return env


def _check_schema(results: Mapping[str, Any]) -> None:
    version = str(results.get("schema_version", ""))
    major = SCHEMA_VERSION.split(".")[0]
    if version.split(".")[0] != major:
        raise ValueError(f"results schema_version {version!r} is not supported; this renderer reads {major}.x")


def _render(template: str, results: Mapping[str, Any], autoescape: bool, **context: Any) -> str:
    _check_schema(results)
    env = _environment(autoescape)
    return env.get_template(template).render(r=results, **context)


def render_html(results: dict[str, Any]) -> str:
    """The self-contained HTML report (inline CSS and one small inline script, no external resources)."""
    return _render("report.html.j2", results, autoescape=True, refs=known_refs(results))


def render_markdown(results: dict[str, Any]) -> str:
    """The Markdown report (GitHub-flavoured tables; every data cell escaped)."""
    return _render("report.md.j2", results, autoescape=False)
