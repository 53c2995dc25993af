"""Since the baseline: the comparison with an earlier run that a run with `--baseline` carries
(`results["baseline"]`), as the reports' templates/_baseline.*.j2 print it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.report.views import ms

_LATENCY_METRIC = {"total": "total", "first_token": "first token"}


def baseline_view(comparison: Mapping[str, Any]) -> dict[str, Any]:
    """The verdict change in words, and the changes as titled lists of `{kind, id, text}`, in the
    order a reader asks: what newly fails, what was fixed, what no longer ran, latency, drift."""
    verdict = comparison["verdict"]
    said = f"{verdict['old']} → {verdict['new']}" if verdict["old"] != verdict["new"] else verdict["new"]
    said += " (worse)" if verdict.get("worse") else " (unchanged)" if verdict["old"] == verdict["new"] else ""
    listed = [
        ("Newly failing", map(_item_change, comparison.get("newly_failing", []))),
        ("Fixed", map(_item_change, comparison.get("fixed", []))),
        ("Skipped or not verified now", map(_item_change, comparison.get("newly_skipped", []))),
        ("Passing now, not run or not verified before", map(_item_change, comparison.get("newly_run", []))),
        ("Slower", map(_latency_change, comparison.get("slower", []))),
        ("Faster", map(_latency_change, comparison.get("faster", []))),
        ("New drift", map(_fixture_change, comparison.get("new_drift", []))),
        ("Added", map(_item_change, comparison.get("added", []))),
        ("Removed", map(_item_change, comparison.get("removed", []))),
        ("Still failing", map(_item_change, comparison.get("still_failing", []))),  # listed, but not a change
    ]
    sections = [{"title": title, "items": list(items)} for title, items in listed]
    changed = verdict["old"] != verdict["new"] or any(section["items"] for section in sections[:-1])
    return {"verdict": said, "sections": [s for s in sections if s["items"]], "unchanged": not changed}


def _item_change(change: Mapping[str, Any]) -> dict[str, str]:
    return {"kind": change["kind"], "id": change["id"], "text": status_change(change.get("old"), change.get("new"))}


def status_change(old: str | None, new: str | None) -> str:
    """`passed → failed`; `new, failed` for an item the baseline lacks; `gone, was failed` for one it alone has."""
    if old is None:
        return f"new, {new}"
    return f"gone, was {old}" if new is None else f"{old} → {new}"


def _latency_change(change: Mapping[str, Any]) -> dict[str, str]:
    old, new = change["old_ms"], change["new_ms"]
    percent = f"{(new - old) / old:+.0%}" if old else "from 0 ms"
    metric = _LATENCY_METRIC.get(change["metric"], change["metric"])
    return {"kind": "check", "id": change["id"], "text": f"{metric} {ms(old)} → {ms(new)} ({percent})"}


def _fixture_change(change: Mapping[str, Any]) -> dict[str, str]:
    parts = [f"fixture {change['path']} {change.get('old') or 'absent'} → {change['new']}"]
    parts += [
        f"{label}: {', '.join(change[key])}"
        for key, label in (("removed", "removed"), ("changed", "changed type"))
        if change.get(key)
    ]
    return {"kind": "check", "id": change["id"], "text": "; ".join(parts)}


def percent(ratio: float) -> str:
    """0.5 -> `50%`."""
    return f"{ratio * 100:g}%"
