"""How a report of thousands of checks stays small and reads in the right order.

Each kind of check gets a card of its own (request, response, evidence) up to CARD_LIMIT of them,
and a row past it. The checks that did not pass come first, open: the first CARD_LIMIT as cards,
the rest as rows of an open table listing every mismatch and reason. Past CARD_LIMIT, the passing
checks are rows of a folded table (id, title, response, class), and so are the checks the selection
left out. The JSON report keeps every field of every check.

Pure functions of the results dict, like views.py. The rows are built here, escaped, in one pass:
a template macro per row is what made reports of 10,000 checks slow.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape
from typing import Any

from markupsafe import Markup

from engine.report.views import anchor, mismatch_text

Item = Mapping[str, Any]

CARD_LIMIT = 200  # checks of one kind (not passing, passing, left out) that get a card each; past it, rows


def layout(items: Iterable[Item], name_left_out: bool = False) -> dict[str, list[Item]]:
    """How checks (or drills) are laid out, in spec order within each group: `cards` (at most
    CARD_LIMIT), the `more` that follow them as rows, and apart from them the `passing` ones and
    those `left_out` by the selection, each of these two groups only when it has more than CARD_LIMIT
    items; with `name_left_out` (the Markdown, which names them on one line), the left-out ones always."""
    items = list(items)
    passing = [item for item in items if item["status"] == "passed"]
    left_out = [item for item in items if not item.get("selected", True)]
    passing = passing if len(passing) > CARD_LIMIT else []
    left_out = left_out if name_left_out or len(left_out) > CARD_LIMIT else []
    apart = {id(item) for item in (*passing, *left_out)}
    shown = [item for item in items if id(item) not in apart] if apart else items
    return {"cards": shown[:CARD_LIMIT], "more": shown[CARD_LIMIT:], "passing": passing, "left_out": left_out}


def fold_rows(checks: Iterable[Item]) -> Markup:
    """`<tr>` rows of a folded table, one per check, each with the id, status and tags the filter reads."""
    return Markup("\n".join(map(_row, checks)))


def _row(check: Item) -> str:
    status = check["status"]
    seen = _seen(check) if status != "skipped" else check.get("reason") or "not selected"
    return (
        f'<tr class="item" id="{escape(anchor("check", check["id"]))}" data-status="{escape(status)}" '
        f'data-tags="{escape(" ".join(check["tags"]))}"><td class="id">{escape(check["id"])}</td>'
        f"<td>{escape(check.get('title') or '')}</td><td>{escape(seen)}</td>"
        f"<td>{escape(check.get('class') or '')}</td></tr>"
    )


def detail_rows(checks: Iterable[Item]) -> Markup:
    """`<tr>` rows of the open table of checks past the cards: status, id and title, every mismatch and
    reason, what came back, and the class and rule."""
    return Markup("\n".join(map(_detail_row, checks)))


def _detail_row(check: Item) -> str:
    status = escape(check["status"])
    wrong = [*map(mismatch_text, check.get("mismatches", [])), *([check["reason"]] if check.get("reason") else [])]
    judged = " · ".join(escape(check.get(key) or "—") for key in ("class", "action"))
    return (
        f'<tr class="item st-row-{status}" id="{escape(anchor("check", check["id"]))}" data-status="{status}" '
        f'data-tags="{escape(" ".join(check["tags"]))}"><td><span class="badge st-{status}">{status}</span></td>'
        f'<td><b class="id">{escape(check["id"])}</b><div class="muted">{escape(check.get("title") or "")}</div></td>'
        f'<td class="text">{"<br>".join(map(escape, wrong)) or "—"}</td><td>{escape(_seen(check, True))}</td>'
        f'<td>{judged}<div class="muted">rule {escape(check.get("rule") or "—")}</div></td></tr>'
    )


def _seen(check: Item, parser: bool = False) -> str:
    """'HTTP 200 · 39 ms' (with `parser`, 'HTTP 400 · parser error_envelope · 15 ms'): what came back, short."""
    observed = check.get("observed")
    if not observed:
        return "not sent"
    outcome = observed.get("transport_error") or (
        f"HTTP {observed['status']}" if observed.get("status") is not None else "no response"
    )
    parsed = f"parser {observed.get('parser') or 'none'}" if parser else ""
    elapsed = observed.get("elapsed_ms")
    timing = f"{round(elapsed)} ms" if elapsed is not None else ""
    return " · ".join(part for part in (outcome, parsed, timing) if part)
