"""`runbook diff OLD NEW`: what changed between two saved runs of one spec, for the terminal.

Exit codes: 0 nothing newly fails and the verdict did not get worse · 1 something newly fails or the
verdict got worse · 2 usage (a file that is not a results JSON, runs of different specs, a bad
threshold; raised as UsageError and turned into exit 2 by the `runbook` group).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import click

from engine import api

if TYPE_CHECKING:
    from engine.api import Comparison

EXIT_SAME, EXIT_REGRESSED = 0, 1
_METRIC = {"total": "total", "first_token": "first token"}


class _Change(Protocol):
    """What a line says of an item change (engine.judge.results.ItemChange)."""

    @property
    def kind(self) -> str: ...
    @property
    def id(self) -> str: ...
    @property
    def old(self) -> str | None: ...
    @property
    def new(self) -> str | None: ...


def comparison_lines(comparison: Comparison) -> list[str]:
    """The comparison as lines: the verdict, the two runs, then what newly fails, what was fixed, what
    no longer ran, latency, new drift, added and removed items, and what still fails."""
    lines = [_verdict_line(comparison), *_runs_lines(comparison)]
    if comparison.unchanged:
        lines.append("no changes")
    lines += _item_lines("newly failing", comparison.newly_failing)
    lines += _item_lines("fixed", comparison.fixed)
    lines += _item_lines("skipped or not verified now", comparison.newly_skipped)
    lines += _item_lines("passing now, not run or not verified before", comparison.newly_run)
    lines += _latency_lines(comparison)
    lines += _drift_lines(comparison)
    lines += _item_lines("added", comparison.added)
    lines += _item_lines("removed", comparison.removed)
    lines += _item_lines("still failing", comparison.still_failing)
    return lines


def _runs_lines(comparison: Comparison) -> list[str]:
    """Which runs: `baseline: old.json (spec x, started ..., target sim)` and `this run: ...`."""
    old, new = comparison.old, comparison.new
    lines = [
        f"{label}{f': {ref.path}' if ref.path else ''} (spec {ref.spec}, started {ref.started}, target {ref.target})"
        for label, ref in (("baseline", old), ("this run", new))
    ]
    if old.target != new.target:
        lines.append(f"note: the runs used different targets ({old.target}, then {new.target})")
    if old.client != new.client:
        lines.append(f"note: the drills exercised different clients ({old.client}, then {new.client})")
    return lines


def _verdict_line(comparison: Comparison) -> str:
    verdict = comparison.verdict
    if not verdict.changed:
        return f"verdict: {verdict.new} (unchanged)"
    return f"verdict: {verdict.old} → {verdict.new}" + (" (worse)" if verdict.worse else "")


def _item_lines(title: str, changes: Sequence[_Change]) -> list[str]:
    if not changes:
        return []
    return [f"{title} ({len(changes)}):"] + [f"  {c.kind} {c.id}: {_status_change(c.old, c.new)}" for c in changes]


def _status_change(old: str | None, new: str | None) -> str:
    if old is None:
        return f"new, {new}"
    return f"gone, was {old}" if new is None else f"{old} → {new}"


def _latency_lines(comparison: Comparison) -> list[str]:
    changes = [("slower", change) for change in comparison.slower] + [("faster", c) for c in comparison.faster]
    if not changes:
        return []
    head = (
        f"latency (moved by {_percent(comparison.latency_threshold)} and {_ms(comparison.latency_floor_ms)} or more):"
    )
    return [head] + [
        f"  {way} check {c.id} {_METRIC[c.metric]}: {_latency_text(c.old_ms, c.new_ms)}" for way, c in changes
    ]


def _latency_text(old: float, new: float) -> str:
    ratio = f"{(new - old) / old:+.0%}" if old else "from 0 ms"
    return f"{_ms(old)} → {_ms(new)} ({ratio})"


def _drift_lines(comparison: Comparison) -> list[str]:
    drift = comparison.new_drift
    if not drift:
        return []
    lines = [f"new drift ({len(drift)}):"]
    for fixture in drift:
        text = f"  check {fixture.id}: fixture {fixture.path} {fixture.old or 'absent'} → {fixture.new}"
        text += f"; removed: {', '.join(fixture.removed)}" if fixture.removed else ""
        text += f"; changed type: {', '.join(fixture.changed)}" if fixture.changed else ""
        lines.append(text)
    return lines


def _ms(value: float) -> str:
    return f"{round(value)} ms"


def _percent(ratio: float) -> str:
    return f"{ratio * 100:g}%"


def _parse_percent(_ctx: click.Context, _param: click.Parameter, value: str) -> float:
    """`50%` (or `50`) -> 0.5."""
    text = value.strip().removesuffix("%").strip()
    try:
        number = float(text)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a percentage such as 50%") from None
    if not number >= 0 or number == float("inf"):
        raise click.BadParameter(f"{value!r}: use a percentage of 0% or more, such as 50%")
    return number / 100


@click.command("diff")
@click.argument("old", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("new", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--latency-threshold",
    default="50%",
    show_default=True,
    callback=_parse_percent,
    metavar="PERCENT",
    help="Report a check's latency when it moved by this much (and by 50 ms or more), either way.",
)
def diff(old: Path, new: Path, latency_threshold: float) -> None:
    """Compare two saved results of one spec: what newly fails, what was fixed, latency, new drift.

    \b
    Example:
      runbook diff reports/runs/cometapi-chat-completions/20261201T061501.234Z.json \\
        reports/cometapi-chat-completions.json

    Exit codes: 0 nothing newly fails and the verdict is no worse, 1 something newly fails or the
    verdict got worse, 2 a file is not a results JSON or the runs are of different specs.
    """
    comparison = api.diff_results(old, new, latency_threshold)
    click.echo("\n".join(api.printable(line) for line in comparison_lines(comparison)))
    sys.exit(EXIT_REGRESSED if comparison.regressed else EXIT_SAME)
