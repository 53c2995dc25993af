"""What the reports show first, picked from the results document: the criteria that block
readiness grouped by the step that would move them, the failures, the rules that fired, drift,
and a latency picture as inline SVG. Pure functions of the JSON dict, like render.py's helpers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from html import escape
from typing import Any

from markupsafe import Markup

Item = Mapping[str, Any]

BAR_HEIGHT = 18  # px per check in the latency picture
LABEL_WIDTH = 210  # px for the check ids
CHART_WIDTH = 640  # the picture's width; it scales down to the page (viewBox)


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


def latency_svg(results: Item) -> str:
    """Per-check total latency as horizontal bars, with time to first token marked on streams.

    Labels are escaped here: the template marks the picture safe. Nothing when no check was sent.
    """
    rows = [(c["id"], c["status"], c["observed"]) for c in results.get("checks", []) if c.get("observed")]
    rows = [(ident, status, seen) for ident, status, seen in rows if seen.get("elapsed_ms") is not None]
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


def evidence_summary(criterion: Item) -> str:
    """'happy-path, missing-auth — from target live (cometapi-live)': the refs, then their sources."""
    evidence = criterion.get("evidence") or [{"ref": ref, "source": ""} for ref in criterion.get("decided_by", [])]
    refs = ", ".join(e["ref"] for e in evidence)
    sources = list(dict.fromkeys(e["source"] for e in evidence if e.get("source")))
    return f"{refs} — from {'; '.join(sources)}" if sources else refs
