"""Two runs of one spec, compared: what newly fails, what was fixed, what got slower, what drifted.

compare(old, new) -> Comparison   (the format is in engine/judge/results.py)

Items are matched by kind and id (checks, drills `drill:<id>`, criteria). A check or drill fails when
its status is failed or error; a criterion fails when it is not met. Latency is the observed total
(and, for streams, the time to the first token) of each check both runs sent: it changed when it
moved by at least `latency_floor_ms` and by a ratio of at least 1 + `latency_threshold` either way.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

from engine.judge.results import (
    CheckResult,
    Comparison,
    CriterionResult,
    FixtureChange,
    ItemChange,
    ItemKind,
    LatencyChange,
    LatencyMetric,
    Results,
    RunRef,
    Verdict,
    VerdictChange,
)

FAILING = frozenset({"failed", "error", "not_met"})
PASSING = frozenset({"passed", "met"})
NOT_RUN = frozenset({"skipped", "not_verified", "not_applicable"})
VERDICT_RANK: dict[Verdict, int] = {"ready": 0, "not_verified": 1, "partial": 1, "not_ready": 2, "interrupted": 2}


def compare(
    old: Results,
    new: Results,
    latency_threshold: float = 0.5,
    latency_floor_ms: float = 50.0,
    *,
    old_path: str | None = None,
    new_path: str | None = None,
) -> Comparison:
    """What changed from `old` (the baseline) to `new`; paths name the files they came from, if any."""
    if latency_threshold < 0 or latency_floor_ms < 0 or math.isnan(latency_threshold + latency_floor_ms):
        raise ValueError("the latency threshold and floor must be zero or more")
    before, now = _states(old), _states(new)
    verdict = VerdictChange(
        old=old.summary.verdict,
        new=new.summary.verdict,
        worse=VERDICT_RANK[new.summary.verdict] > VERDICT_RANK[old.summary.verdict],
    )
    changes = _item_changes(before, now)
    slower, faster = _latency_changes(old, new, latency_threshold, latency_floor_ms)
    return Comparison(
        old=_run_ref(old, old_path),
        new=_run_ref(new, new_path),
        verdict=verdict,
        regressed=verdict.worse or bool(changes["newly_failing"]),
        latency_threshold=latency_threshold,
        latency_floor_ms=latency_floor_ms,
        slower=slower,
        faster=faster,
        new_drift=list(_new_drift(old.checks, new.checks)),
        **changes,
    )


def _run_ref(results: Results, path: str | None) -> RunRef:
    return RunRef(
        spec=results.spec.name,
        target=results.target.name,
        client=results.client,
        started=results.started,
        verdict=results.summary.verdict,
        path=path,
    )


# ---- checks, drills and criteria ------------------------------------------------------------


def _states(results: Results) -> dict[tuple[ItemKind, str], str]:
    """Every item of a run, in report order: (kind, id) -> status or criterion state."""
    states: dict[tuple[ItemKind, str], str] = {}
    for check in results.checks:
        states["check", check.id] = check.status
    for drill in results.drills:
        states["drill", drill.id] = drill.status
    for criterion in results.criteria:
        states["criterion", criterion.id] = _criterion_state(criterion)
    return states


def _criterion_state(criterion: CriterionResult) -> str:
    return criterion.verdict if criterion.applicable else "not_applicable"


def _item_changes(
    before: dict[tuple[ItemKind, str], str], now: dict[tuple[ItemKind, str], str]
) -> dict[str, list[ItemChange]]:
    """The items sorted into what a reader asks first: newly failing, fixed, still failing, not run now."""
    changes: dict[str, list[ItemChange]] = {
        key: [] for key in ("newly_failing", "fixed", "still_failing", "newly_skipped", "newly_run", "added", "removed")
    }
    for (kind, ident), new in now.items():
        old = before.get((kind, ident))
        change = ItemChange(id=ident, kind=kind, old=old, new=new)
        if old is None:
            changes["added"].append(change)
        bucket = _bucket(old, new)
        if bucket:
            changes[bucket].append(change)
    changes["removed"] = [
        ItemChange(id=ident, kind=kind, old=old, new=None)
        for (kind, ident), old in before.items()
        if (kind, ident) not in now
    ]
    return changes


def _bucket(old: str | None, new: str) -> str | None:
    if new in FAILING:
        return "still_failing" if old in FAILING else "newly_failing"
    if new in PASSING and old in FAILING:
        return "fixed"
    if new in NOT_RUN and old is not None and old not in NOT_RUN:
        return "newly_skipped"
    if new in PASSING and old in NOT_RUN:
        return "newly_run"
    return None


# ---- latency -------------------------------------------------------------------------------


def _latencies(check: CheckResult) -> Iterator[tuple[LatencyMetric, float]]:
    """The check's observed latencies by metric: total, and time to first token for a stream."""
    observed = check.observed
    if observed is None or check.status == "skipped":
        return
    yield "total", observed.elapsed_ms
    if observed.stream is not None and observed.stream.first_token_ms is not None:
        yield "first_token", observed.stream.first_token_ms


def _latency_changes(
    old: Results, new: Results, threshold: float, floor_ms: float
) -> tuple[list[LatencyChange], list[LatencyChange]]:
    before = {(check.id, metric): value for check in old.checks for metric, value in _latencies(check)}
    slower: list[LatencyChange] = []
    faster: list[LatencyChange] = []
    for check in new.checks:
        for metric, new_ms in _latencies(check):
            old_ms = before.get((check.id, metric))
            if old_ms is None or abs(new_ms - old_ms) < floor_ms:
                continue
            change = LatencyChange(id=check.id, metric=metric, old_ms=old_ms, new_ms=new_ms)
            if new_ms >= old_ms * (1 + threshold):
                slower.append(change)
            elif new_ms * (1 + threshold) <= old_ms:
                faster.append(change)
    return slower, faster


# ---- fixtures ------------------------------------------------------------------------------


def _new_drift(old: Sequence[CheckResult], new: Sequence[CheckResult]) -> Iterator[FixtureChange]:
    """Fixtures that drift now and did not before, or drift in paths they did not drift in before."""
    before = {check.id: check.fixture for check in old if check.fixture is not None}
    for check in new:
        fixture = check.fixture
        if fixture is None or fixture.status != "drift":
            continue
        earlier = before.get(check.id)
        drifted = earlier if earlier is not None and earlier.status == "drift" else None
        removed = [path for path in fixture.removed if drifted is None or path not in drifted.removed]
        changed = [path for path in fixture.changed if drifted is None or path not in drifted.changed]
        if drifted is not None and not removed and not changed:
            continue
        yield FixtureChange(
            id=check.id,
            name=fixture.name,
            path=fixture.path,
            old=earlier.status if earlier is not None else None,
            new=fixture.status,
            removed=removed,
            changed=changed,
        )
