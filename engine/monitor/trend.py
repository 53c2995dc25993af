"""A spec's trend over a window of its recorded runs (`runbook history SPEC --since 7d`).

    trend(history, spec, since, now, target=None) -> Trend
    trend_text(trend) -> str      for a terminal: plain text, control characters escaped
    trend_html(trend) -> str      a self-contained page with inline SVG charts, no script
    parse_since("7d", now) -> datetime

Definitions, so that the numbers can be checked by hand:
- pass rate: checks passed / checks that ran (passed, failed or erred; skipped ones did not run).
- latency and first token: nearest-rank percentiles (the smallest value with at least p% of the
  values at or below it) over the checks, not the drills, that recorded one; drills run against
  the fault simulator at a scaled time, so their timings say nothing about the target.
- a verdict change: a run whose verdict differs from the run before it (the one before the window
  too, so a window that starts on a change shows it).
- new drift: an item whose fixture drifts in a run of the window and did not in the run before it;
  each item once, at its first such run. In the first run ever recorded, every drift is new.
- failing classes by owner: failed or erred checks and drills of the window, counted by the owner
  and class their classification gave.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import jinja2

from engine.core.redact import printable
from engine.monitor.history import History, HistoryError, ItemRow, RunRow

FAILING = ("failed", "error")
NO_OWNER = "(no owner)"
NO_CLASS = "(no class)"
_SPANS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass(frozen=True)
class Percentiles:
    p50: float
    p95: float
    count: int  # how many values they were taken over


@dataclass(frozen=True)
class RunPoint:
    """One run of the window, as the charts and the per-run table show it."""

    run_id: int
    started: dt.datetime
    target: str
    verdict: str
    checks_ran: int
    checks_passed: int
    pass_rate: float | None  # None: no check ran
    latency: Percentiles | None  # None: no check recorded one
    first_token: Percentiles | None


@dataclass(frozen=True)
class VerdictShift:
    started: dt.datetime  # the run whose verdict differs from the one before it
    old: str
    new: str


@dataclass(frozen=True)
class NewDrift:
    started: dt.datetime  # the first run of the window in which the item's fixture drifts
    item_id: str
    kind: str  # check or drill


@dataclass(frozen=True)
class Trend:
    spec: str
    target: str | None  # None: every target
    since: dt.datetime | None
    now: dt.datetime
    series: tuple[RunPoint, ...]
    checks_ran: int
    checks_passed: int
    pass_rate: float | None
    latency: Percentiles | None
    first_token: Percentiles | None
    verdict_changes: tuple[VerdictShift, ...]
    new_drift: tuple[NewDrift, ...]
    failing: Mapping[str, Mapping[str, int]]  # owner -> class -> count, most first

    @property
    def runs(self) -> int:
        return len(self.series)


# ---- computing -------------------------------------------------------------------------------


def trend(history: History, spec: str, since: dt.datetime | None, now: dt.datetime, target: str | None = None) -> Trend:
    """The trend of the spec's runs that started in [since, now]."""
    runs = history.runs(spec, since=since, until=now, target=target)
    items = _by_run(history.items(spec, since=since, until=now, target=target))
    before = history.last_run_before(spec, since, target) if since is not None and runs else None
    earlier = (before, history.run_items(before.id)) if before is not None else None
    window = [item for run in runs for item in items.get(run.id, [])]
    ran, passed = sum(run.checks_ran for run in runs), sum(run.checks.passed for run in runs)
    return Trend(
        spec=spec,
        target=target,
        since=since,
        now=now,
        series=tuple(_point(run, items.get(run.id, [])) for run in runs),
        checks_ran=ran,
        checks_passed=passed,
        pass_rate=passed / ran if ran else None,
        latency=_percentiles(item.latency_ms for item in window if item.kind == "check"),
        first_token=_percentiles(item.first_token_ms for item in window if item.kind == "check"),
        verdict_changes=_verdict_changes(([earlier[0]] if earlier else []) + runs),
        new_drift=_new_drift(runs, items, earlier[1] if earlier else None),
        failing=_failing(window),
    )


def _by_run(items: Iterable[ItemRow]) -> dict[int, list[ItemRow]]:
    grouped: dict[int, list[ItemRow]] = {}
    for item in items:
        grouped.setdefault(item.run_id, []).append(item)
    return grouped


def _point(run: RunRow, items: Sequence[ItemRow]) -> RunPoint:
    checks = [item for item in items if item.kind == "check"]
    return RunPoint(
        run_id=run.id,
        started=run.started,
        target=run.target,
        verdict=run.verdict,
        checks_ran=run.checks_ran,
        checks_passed=run.checks.passed,
        pass_rate=run.checks.passed / run.checks_ran if run.checks_ran else None,
        latency=_percentiles(item.latency_ms for item in checks),
        first_token=_percentiles(item.first_token_ms for item in checks),
    )


def _percentiles(values: Iterable[float | None]) -> Percentiles | None:
    known = sorted(value for value in values if value is not None)
    if not known:
        return None
    return Percentiles(p50=_nearest_rank(known, 50), p95=_nearest_rank(known, 95), count=len(known))


def _nearest_rank(ordered: Sequence[float], percent: int) -> float:
    return ordered[max(math.ceil(percent * len(ordered) / 100), 1) - 1]


def _verdict_changes(runs: Sequence[RunRow]) -> tuple[VerdictShift, ...]:
    pairs = itertools.pairwise(runs)
    return tuple(
        VerdictShift(new.started, old.verdict, new.verdict) for old, new in pairs if old.verdict != new.verdict
    )


def _new_drift(
    runs: Sequence[RunRow], items: Mapping[int, Sequence[ItemRow]], earlier: Sequence[ItemRow] | None
) -> tuple[NewDrift, ...]:
    drifting_before = _drifting(earlier or [])
    found: dict[tuple[str, str], NewDrift] = {}
    for run in runs:
        drifting = _drifting(items.get(run.id, []))
        for kind, item_id in sorted(drifting - drifting_before):
            found.setdefault((kind, item_id), NewDrift(run.started, item_id, kind))
        drifting_before = drifting
    return tuple(found.values())


def _drifting(items: Iterable[ItemRow]) -> set[tuple[str, str]]:
    return {(item.kind, item.item_id) for item in items if item.drift}


def _failing(items: Iterable[ItemRow]) -> dict[str, dict[str, int]]:
    counted = Counter((item.owner or NO_OWNER, item.class_ or NO_CLASS) for item in items if item.status in FAILING)
    by_owner: dict[str, dict[str, int]] = {}
    for (owner, class_), count in sorted(counted.items(), key=lambda entry: (-entry[1], entry[0])):
        by_owner.setdefault(owner, {})[class_] = count
    return dict(sorted(by_owner.items(), key=lambda entry: (-sum(entry[1].values()), entry[0])))


def parse_since(text: str, now: dt.datetime) -> dt.datetime:
    """`--since`: a span back from now (30m, 12h, 7d, 2w) or an ISO 8601 time (without a zone: UTC)."""
    found = re.fullmatch(r"\s*(\d+)\s*([mhdw])\s*", text)
    if found:
        return now - dt.timedelta(**{_SPANS[found[2]]: int(found[1])})
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise HistoryError(
            f"--since '{printable(text)}' is neither a span (30m, 12h, 7d, 2w) nor an ISO 8601 time"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


# ---- text ------------------------------------------------------------------------------------


def trend_text(trend: Trend) -> str:
    """The trend as plain text for a terminal; every name from the results has its control characters escaped."""
    lines = [_heading(trend)]
    if not trend.series:
        return "\n".join([*lines, "no runs recorded in this window", ""])
    lines += [
        f"runs: {trend.runs}",
        f"pass rate: {_rate(trend.pass_rate)} ({trend.checks_passed} of {trend.checks_ran} checks that ran)",
        f"latency: {_spread(trend.latency, 'checks')}",
        f"first token: {_spread(trend.first_token, 'streamed checks')}",
        *_section("verdict changes", [f"{_when(s.started)}  {s.old} -> {s.new}" for s in trend.verdict_changes]),
        *_section("new drift", [f"{_when(d.started)}  {d.kind} {printable(d.item_id)}" for d in trend.new_drift]),
        *_section("failing classes by owner", [_owner_line(owner, c) for owner, c in trend.failing.items()]),
        *_section("per run", [_run_line(point) for point in trend.series]),
    ]
    return "\n".join([*lines, ""])


def _heading(trend: Trend) -> str:
    target = f" on {printable(trend.target)}" if trend.target else ""
    since = f"since {_when(trend.since)}" if trend.since else "all recorded runs"
    return f"history of {printable(trend.spec)}{target}: {since}, until {_when(trend.now)}"


def _section(title: str, lines: Sequence[str]) -> list[str]:
    return [f"{title}:", *(f"  {line}" for line in lines)] if lines else [f"{title}: none"]


def _owner_line(owner: str, classes: Mapping[str, int]) -> str:
    return f"{printable(owner)}: " + ", ".join(f"{printable(name)} {count}" for name, count in classes.items())


def _run_line(point: RunPoint) -> str:
    latency = f"p50 {_ms(point.latency.p50)}, p95 {_ms(point.latency.p95)}" if point.latency else "no latency"
    return f"{_when(point.started)}  {printable(point.target)}  {point.verdict}  {_rate(point.pass_rate)}  {latency}"


def _spread(values: Percentiles | None, of: str) -> str:
    if values is None:
        return f"no data (no {of} recorded one)"
    return f"p50 {_ms(values.p50)}, p95 {_ms(values.p95)} (over {values.count} {of})"


def _rate(rate: float | None) -> str:
    return "no data" if rate is None else f"{rate:.1%}"


def _ms(value: float) -> str:
    return f"{value:.1f} ms"


def _when(moment: dt.datetime) -> str:
    return f"{moment.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC"


# ---- html ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    name: str
    css: str  # the line's class in the page's style sheet
    segments: tuple[str, ...]  # SVG polyline points, broken where a run has no value


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    css: str
    title: str  # shown on hover


@dataclass(frozen=True)
class Chart:
    title: str
    lines: tuple[Line, ...]
    dots: tuple[Dot, ...]
    y_ticks: tuple[tuple[float, str], ...]  # (y, label)
    x_labels: tuple[tuple[float, str, str], ...]  # (x, label, text-anchor)
    width: int = 640
    height: int = 200
    left: int = 56  # room for the y labels
    right: int = 16


_TOP, _BOTTOM = 12, 28


def trend_html(trend: Trend) -> str:
    """A self-contained HTML page: the trend's numbers, and pass rate and latency over time as inline SVG."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("engine.monitor", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=lambda value: printable(value) if isinstance(value, str) else value,
    )
    env.filters.update(when=_when, rate=_rate, ms=_ms)
    charts = [_pass_rate_chart(trend.series), _latency_chart(trend.series)] if trend.series else []
    return env.get_template("trend.html.j2").render(t=trend, charts=charts)


def _pass_rate_chart(series: Sequence[RunPoint]) -> Chart:
    values = [None if p.pass_rate is None else p.pass_rate * 100 for p in series]
    line = _line("pass rate", "rate", series, values, 100.0, lambda v: f"{v:.1f}%")
    ticks = tuple((_y(v, 100.0), f"{v:.0f}%") for v in (0.0, 50.0, 100.0))
    return Chart("Pass rate per run", (line[0],), line[1], ticks, _x_labels(series))


def _latency_chart(series: Sequence[RunPoint]) -> Chart:
    p50 = [p.latency.p50 if p.latency else None for p in series]
    p95 = [p.latency.p95 if p.latency else None for p in series]
    top = _nice_top(max((v for v in p95 if v is not None), default=0.0))
    lines = [_line(name, name, series, values, top, _ms) for name, values in (("p50", p50), ("p95", p95))]
    ticks = tuple((_y(v, top), _ms(v)) for v in (0.0, top / 2, top))
    dots = tuple(dot for _, line_dots in lines for dot in line_dots)
    return Chart("Check latency per run (p50, p95)", tuple(line for line, _ in lines), dots, ticks, _x_labels(series))


def _line(
    name: str,
    css: str,
    series: Sequence[RunPoint],
    values: Sequence[float | None],
    top: float,
    shown: Callable[[float], str],
) -> tuple[Line, tuple[Dot, ...]]:
    """A line through the runs' values (broken at a run without one), and a dot with a hover title at each."""
    segments: list[list[str]] = [[]]
    dots = []
    for x, point, value in zip(_xs(series), series, values, strict=True):
        if value is None:
            segments.append([])
            continue
        y = _y(value, top)
        segments[-1].append(f"{x:.1f},{y:.1f}")
        dots.append(Dot(x, y, css, f"{_when(point.started)}: {name} {shown(value)}"))
    return Line(name, css, tuple(" ".join(s) for s in segments if s)), tuple(dots)


def _xs(series: Sequence[RunPoint]) -> list[float]:
    """Each run's x, proportional to its start time (one run, or runs at one instant: in the middle)."""
    width = Chart.width - Chart.left - Chart.right
    first, last = series[0].started, series[-1].started
    span = (last - first).total_seconds()
    if span <= 0:
        return [Chart.left + width / 2] * len(series)
    return [Chart.left + width * (p.started - first).total_seconds() / span for p in series]


def _y(value: float, top: float) -> float:
    height = Chart.height - _TOP - _BOTTOM
    return _TOP + height * (1 - (value / top if top > 0 else 0))


def _nice_top(value: float) -> float:
    """The chart's top: 1, 2 or 5 times a power of ten, at or above the value."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def _x_labels(series: Sequence[RunPoint]) -> tuple[tuple[float, str, str], ...]:
    xs = _xs(series)
    first = (xs[0], f"{series[0].started:%Y-%m-%d %H:%M}", "start")
    if len(series) == 1 or xs[-1] == xs[0]:
        return ((xs[0], first[1], "middle"),)
    return (first, (xs[-1], f"{series[-1].started:%Y-%m-%d %H:%M}", "end"))
