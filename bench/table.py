"""The bench's one table: what each row measured, its goal, and whether the goal is met.

A row is `met` only when every one of its goals holds for the figures it measured, over at least
the pairs its mode asks for; a row that could not run says `not measured: <reason>`, never `met`.
Rows that only inform (the HTTP options that feed row 3's goal) say `informative`.
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MET, NOT_MET, INFORMATIVE = "met", "not met", "informative"
NOT_MEASURED = "not measured"
_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass(frozen=True)
class Goal:
    """`figure op limit`, e.g. Goal("ratio", "<", 1.0); an informative goal has no op."""

    figure: str
    op: str = ""
    limit: float = math.nan
    text: str = ""

    def __post_init__(self) -> None:
        if self.op and self.op not in _OPS:
            raise ValueError(f"unknown goal operator {self.op!r}")

    @property
    def informative(self) -> bool:
        return not self.op

    def describe(self) -> str:
        return self.text or (f"{self.figure} {self.op} {self.limit:g}" if self.op else "informative")

    def holds(self, value: float | None) -> bool:
        return value is not None and math.isfinite(value) and _OPS[self.op](value, self.limit)


@dataclass
class Row:
    """One line of the table. `figures` holds the named numbers the goals test."""

    key: str
    what: str
    goals: tuple[Goal, ...]
    runbook: str = "—"
    peer: str = "—"
    ratio: float | None = None
    figures: dict[str, float] = field(default_factory=dict)
    pairs: int = 0
    pairs_needed: int = 1
    reason: str | None = None  # why it was not measured
    full_size_only: str | None = None  # set in quick mode: the goal holds only at the full size
    note: str = ""
    samples: dict[str, list[float]] = field(default_factory=dict)  # every pair's A and B, in run order

    @property
    def goal(self) -> str:
        return "; ".join(goal.describe() for goal in self.goals)

    @property
    def verdict(self) -> str:
        return judge(self)


def judge(row: Row) -> str:
    """met / not met / informative / not measured: <reason>, from the row's own figures."""
    if row.reason:
        return f"{NOT_MEASURED}: {row.reason}"
    if not row.goals:
        return f"{NOT_MEASURED}: the row has no goal"
    if all(goal.informative for goal in row.goals):
        return INFORMATIVE
    missing = [g.figure for g in row.goals if not g.informative and not _finite(row.figures.get(g.figure))]
    if missing:
        return f"{NOT_MEASURED}: no figure for {', '.join(missing)}"
    holds = all(goal.holds(row.figures[goal.figure]) for goal in row.goals if not goal.informative)
    if not holds:
        return NOT_MET
    if row.pairs < row.pairs_needed:
        return f"{NOT_MEASURED}: only {row.pairs} of {row.pairs_needed} pairs fit the row's time budget"
    if row.full_size_only:
        return f"{NOT_MEASURED}: {row.full_size_only}"
    return MET


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def not_measured(key: str, what: str, goals: Sequence[Goal], reason: str) -> Row:
    return Row(key, what, tuple(goals), reason=reason)


def ratio_text(value: float | None) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{value:.3g}x"


COLUMNS = ("#", "measurement (A vs B)", "A: runbook", "B: peer", "ratio A/B", "goal", "verdict")


def cells(row: Row) -> tuple[str, ...]:
    what = row.what + (f" ({row.note})" if row.note else "")
    return (row.key, what, row.runbook, row.peer, ratio_text(row.ratio), row.goal, row.verdict)


def render(rows: Sequence[Row]) -> str:
    """A Markdown table (it reads in a terminal and pastes into the README)."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join("---" for _ in COLUMNS) + "|"]
    lines += ["| " + " | ".join(" ".join(cell.replace("|", "/").split()) for cell in cells(row)) + " |" for row in rows]
    return "\n".join(lines)


def to_json(row: Row) -> dict[str, Any]:
    figures = {name: (value if _finite(value) else None) for name, value in row.figures.items()}
    return {
        "key": row.key,
        "what": row.what,
        "runbook": row.runbook,
        "peer": row.peer,
        "ratio": row.ratio if _finite(row.ratio) else None,
        "goal": row.goal,
        "goals": [{"figure": g.figure, "op": g.op or None, "limit": g.limit if g.op else None} for g in row.goals],
        "verdict": row.verdict,
        "pairs": row.pairs,
        "pairs_needed": row.pairs_needed,
        "figures": figures,
        "note": row.note,
        "full_size_only": row.full_size_only,
        "samples": row.samples,
    }


def write_json(path: Path, rows: Sequence[Row], about: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {**about, "rows": [to_json(row) for row in rows]}
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
