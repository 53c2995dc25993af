"""What the reports show first, picked from the results document: the criteria that block
readiness grouped by the step that would move them, the failures, the rules that fired, drift,
and a latency picture as inline SVG. Pure functions of the JSON dict, like render.py's helpers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from html import escape
from typing import Any

from markupsafe import Markup

Item = Mapping[str, Any]

BAR_HEIGHT = 18  # px per check in the latency picture
LABEL_WIDTH = 210  # px for the check ids
CHART_WIDTH = 640  # the picture's width; it scales down to the page (viewBox)
LATENCY_BARS = 60  # past this many checks, the picture keeps the slowest, slowest first
EVIDENCE_LIMIT = 30  # past this many pieces, a criterion lists what did not pass and counts the rest
PASSING = frozenset({"passed", "met"})
EMPTY = "—"  # what a report prints for a missing value
_ANCHOR_UNSAFE = re.compile(r"[^A-Za-z0-9_.:-]+")


def anchor(kind: str, ident: str) -> str:
    """The id of a check's, drill's or criterion's element in the HTML report: `check-happy-path`."""
    return f"{kind}-{_ANCHOR_UNSAFE.sub('-', ident)}"


def ms(value: float | None) -> str:
    """Milliseconds rounded to a whole number: `412 ms`."""
    return EMPTY if value is None else f"{round(value)} ms"


def mismatch_text(mismatch: Item) -> str:
    """The mismatch message, prefixed with its field unless the message already names it."""
    field, message = mismatch.get("field") or "", mismatch["message"]
    return message if field in message else f"{field}: {message}"


def blocking_groups(results: Item) -> list[dict[str, Any]]:
    """The blocking criteria, grouped by the one command or change that would move them."""
    blocking = set(results["summary"].get("blocking", []))
    groups: dict[str, dict[str, Any]] = {}
    for criterion in results.get("criteria", []):
        if criterion["id"] not in blocking:
            continue
        step = criterion.get("next_step") or ""
        group = groups.setdefault(step, {"next_step": step, "criteria": [], "rank": 9})
        group["criteria"].append(criterion)
        group["rank"] = min(group["rank"], _SEVERITY.get(_state(criterion), 9))
    return sorted(groups.values(), key=lambda group: group["rank"])  # stable: spec order within a rank


_SEVERITY = {"not_met": 0, "not_verified": 1, "not_applicable": 2}


def _state(criterion: Item) -> str:
    return str(criterion["verdict"]) if criterion.get("applicable", True) else "not_applicable"


def failures(results: Item) -> list[dict[str, Any]]:
    """Checks and drills that failed or could not be judged, in report order, each with its kind."""
    found = []
    for kind, key in (("check", "checks"), ("drill", "drills")):
        for item in results.get(key, []):
            if item.get("selected", True) and item["status"] in ("failed", "error"):
                found.append({**item, "kind": kind})
    return found


def fired_rules(results: Item) -> dict[str, int]:
    """How many checks and drills each classification rule decided in this run."""
    fired: dict[str, int] = {}
    for item in (*results.get("checks", []), *results.get("drills", [])):
        if item.get("rule") and item["status"] != "skipped":
            fired[item["rule"]] = fired.get(item["rule"], 0) + 1
    return fired


def rule_places(results: Item) -> dict[str, str]:
    """Rule id -> where it is written in the spec (file:line), when the results know."""
    return {row["id"]: row["where"] for row in results.get("classification", []) if row.get("where")}


def drift(results: Item) -> list[Item]:
    """The checks whose stored fixture no longer matches what the target answers."""
    return [c for c in results.get("checks", []) if (c.get("fixture") or {}).get("status") == "drift"]


def tags(results: Item) -> list[str]:
    """Every tag a check or drill carries, sorted, for the filter."""
    return sorted({tag for item in (*results.get("checks", []), *results.get("drills", [])) for tag in item["tags"]})


def time_scales(results: Item) -> list[float]:
    """The time scales the drills ran at (from the drill summaries)."""
    scales = {(d.get("drill") or {}).get("time_scale") for d in results.get("drills", [])}
    return sorted(scale for scale in scales if scale is not None)


Timed = list[tuple[str, str, Item]]  # (check id, status, observed) of the checks whose latency was measured


def _latencies(checks: Iterable[Item]) -> Timed:
    """Every check whose total latency was measured, in spec order."""
    return [
        (check["id"], check["status"], seen)
        for check in checks
        if (seen := check.get("observed")) and seen.get("elapsed_ms") is not None
    ]


def latency_picture(results: Item) -> dict[str, str]:
    """The latency picture as inline SVG (`svg`, empty when no check was timed) and a `note` on what
    it leaves out: past LATENCY_BARS timed checks, it keeps the slowest, slowest first."""
    rows = _latencies(results.get("checks", []))
    if len(rows) <= LATENCY_BARS:
        return {"svg": _svg(rows), "note": ""}
    slowest = sorted(rows, key=lambda row: -row[2]["elapsed_ms"])[:LATENCY_BARS]
    note = f"The {LATENCY_BARS} slowest of {len(rows)} timed checks, slowest first; {_summary(rows)}."
    return {"svg": _svg(slowest), "note": note}


def latency_summary(checks: Iterable[Item]) -> str:
    """'median 23 ms, 90th percentile 38 ms, 99th percentile 42 ms, slowest 42 ms (bulk-00042)' of these
    checks; empty when none was timed."""
    return _summary(_latencies(checks))


def _summary(rows: Timed) -> str:
    if not rows:
        return ""
    ordered = sorted(rows, key=lambda row: row[2]["elapsed_ms"])
    marks = [f"{label} {_ms(_rank(ordered, share)[2]['elapsed_ms'])}" for label, share in _PERCENTILES]
    slowest = ordered[-1]
    return ", ".join(marks) + f", slowest {_ms(slowest[2]['elapsed_ms'])} ({slowest[0]})"


_PERCENTILES = (("median", 0.5), ("90th percentile", 0.9), ("99th percentile", 0.99))


def _rank(ordered: Timed, share: float) -> tuple[str, str, Item]:
    """The nearest-rank percentile of rows sorted by latency."""
    return ordered[max(0, math.ceil(len(ordered) * share) - 1)]


def _svg(rows: Timed) -> str:
    """Per-check total latency as horizontal bars, with time to first token marked on streams.
    Labels are escaped here: the template marks the picture safe. Nothing when no check was timed."""
    if not rows:
        return ""
    longest = max(seen["elapsed_ms"] for _, _, seen in rows) or 1.0
    plot = CHART_WIDTH - LABEL_WIDTH - 70
    height = BAR_HEIGHT * len(rows) + 24
    parts = [
        f'<svg class="latency" role="img" viewBox="0 0 {CHART_WIDTH} {height}" '
        f'aria-label="Total latency per check; first-token time marked on streamed checks">'
    ]
    for index, (ident, status, seen) in enumerate(rows):
        parts.append(_bar(index, ident, status, seen, plot / longest))
    axis_y = BAR_HEIGHT * len(rows) + 16
    parts.append(
        f'<text x="{LABEL_WIDTH}" y="{axis_y}" class="axis">0</text>'
        f'<text x="{LABEL_WIDTH + plot}" y="{axis_y}" class="axis" text-anchor="end">{_ms(longest)}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def _bar(index: int, ident: str, status: str, seen: Item, scale: float) -> str:
    y = index * BAR_HEIGHT
    width = max(1.0, seen["elapsed_ms"] * scale)
    label = escape(ident if len(ident) <= 30 else ident[:29] + "…")
    ttft = (seen.get("stream") or {}).get("first_token_ms")
    marker = (
        f'<line x1="{LABEL_WIDTH + ttft * scale:.1f}" x2="{LABEL_WIDTH + ttft * scale:.1f}" y1="{y + 2}" '
        f'y2="{y + BAR_HEIGHT - 2}" class="ttft"><title>first token {_ms(ttft)}</title></line>'
        if isinstance(ttft, (int, float))
        else ""
    )
    return (
        f'<g class="bar st-bar-{escape(status)}"><title>{escape(ident)}: {_ms(seen["elapsed_ms"])}</title>'
        f'<text x="{LABEL_WIDTH - 6}" y="{y + 13}" text-anchor="end">{label}</text>'
        f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{width:.1f}" height="{BAR_HEIGHT - 6}"/>'
        f'<text x="{LABEL_WIDTH + width + 4:.1f}" y="{y + 13}" class="value">{_ms(seen["elapsed_ms"])}</text>'
        f"{marker}</g>"
    )


def _ms(value: float) -> str:
    return f"{value:.0f} ms" if value < 10_000 else f"{value / 1000:.1f} s"


_BREAK_AFTER = re.compile(r"([_.:/])")


def breakable(ident: str) -> Markup:
    """An identifier, escaped, that may wrap after `_ . : /` (as it may after `-`), never inside a word."""
    return Markup(_BREAK_AFTER.sub(r"\1<wbr>", str(escape(str(ident)))))


def evidence_of(criterion: Item) -> list[Item]:
    """A criterion's evidence; for results without it, its `decided_by` ids with status and source unknown."""
    return criterion.get("evidence") or [
        {"ref": ref, "status": "", "source": ""} for ref in criterion.get("decided_by", [])
    ]


def criterion_evidence(criterion: Item) -> dict[str, Any]:
    """What a criterion's card lists one by one, and what it folds.

    Up to EVIDENCE_LIMIT pieces of evidence, everything is listed. Past it, the first EVIDENCE_LIMIT
    pieces that did not pass are listed (what is wrong), and the `folds` hold the rest: those that
    did not pass either, then those that passed, each fold as a label, the sources and the refs as
    one text. Reasons are listed up to EVIDENCE_LIMIT too; `more_reasons` are the rest.
    """
    evidence, reasons = evidence_of(criterion), list(criterion.get("reasons", []))
    shown = {"reasons": reasons[:EVIDENCE_LIMIT], "more_reasons": reasons[EVIDENCE_LIMIT:]}
    if len(evidence) <= EVIDENCE_LIMIT:
        return {**shown, "listed": evidence, "folds": []}
    wrong = [e for e in evidence if e["status"] not in PASSING]
    passed = [e for e in evidence if e["status"] in PASSING]
    folds = [_fold(f"{len(wrong) - EVIDENCE_LIMIT} more that did not pass", wrong[EVIDENCE_LIMIT:])]
    folds.append(_fold(f"{len(passed)} more passed", passed))
    return {**shown, "listed": wrong[:EVIDENCE_LIMIT], "folds": [fold for fold in folds if fold["refs"]]}


def _fold(label: str, evidence: list[Item]) -> dict[str, str]:
    sources = "; ".join(dict.fromkeys(e["source"] for e in evidence if e.get("source")))
    return {"label": label, "sources": sources, "refs": ", ".join(e["ref"] for e in evidence)}


def evidence_summary(criterion: Item) -> str:
    """'happy-path, missing-auth — from target live (cometapi-live)': the refs, then their sources;
    past EVIDENCE_LIMIT pieces, the first refs that did not pass and how many more there are."""
    evidence = evidence_of(criterion)
    shown = criterion_evidence(criterion)
    refs = ", ".join([*(e["ref"] for e in shown["listed"]), *(fold["label"] for fold in shown["folds"])])
    sources = list(dict.fromkeys(e["source"] for e in evidence if e.get("source")))
    return f"{refs} — from {'; '.join(sources)}" if sources else refs
