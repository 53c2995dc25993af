"""`make bench`: one table of every measurement issue 14 names, each with its goal and verdict.

    make bench                                   (installs the peers into .venv-bench/, then runs this)
    .venv/bin/python bench/bench.py [--quick] [--only 1,5,9] [--peers .venv-bench/bin/python]

Every ratio is the median of pair-by-pair ratios of alternating A/B runs (A = runbook); every server
runs in its own process, on 127.0.0.1. A row is `met` only when its figures satisfy its goal over the
pairs asked for; a row that could not run says `not measured: <reason>`. The table goes to stdout,
progress to stderr, and the same rows as JSON to reports/bench.json. --quick uses tiny sizes and one
pair (tests/test_bench.py runs it); its verdicts are about those sizes, never the issue's.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the bench's own modules, however it is started

import rows_http
import rows_scale
import rows_start
import servers
from context import PEERS_VENV, REPO, Setup, guarded
from table import Goal, Row, render, write_json


def _machine() -> dict[str, object]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version(), "load_before": os.getloadavg()}


def _steps(setup: Setup) -> list[tuple[str, str, tuple[Goal, ...], Callable[[], list[Row]]]]:
    """(row key, what, goals if it cannot run, how to measure it), in table order."""
    http, start, scale = rows_http, rows_start, rows_scale
    results: dict[str, Path | None] = {}

    def many() -> list[Row]:
        rows, results["8"] = scale.many_checks(setup)
        return rows

    return [
        ("1", "checks at concurrency 1", (http.FASTER,), lambda: http.checks_vs_loop(setup, "1", 1)),
        ("2", "checks at concurrency 16", (http.FASTER,), lambda: http.checks_vs_loop(setup, "2", 16)),
        ("3", "HTTP layer options", (http.AS_FAST,), lambda: http.http_options(setup)),
        ("4", "checks vs Tavern", (http.SEVEN_TIMES,), lambda: http.tavern(setup)),
        ("5", "runbook validate", (start.WITHIN_1_5,), lambda: start.validate(setup)),
        ("6", "runbook --help", (start.WITHIN_1_5,), lambda: start.help_text(setup)),
        ("7", "loading per check", (start.FIVE_TIMES_CHEAPER,), lambda: start.loader(setup)),
        ("8", "many checks in one spec", (scale.UNDER_10_S, scale.UNDER_150_MB), many),
        ("9", "SSE stream judged", (scale.SSE_FASTER, scale.SSE_FLAT), lambda: scale.sse(setup)),
        ("10", "the shipped run vs its longest drill", (start.DRILL_MARGIN,), lambda: start.shipped_run(setup)),
        (
            "11",
            "reports of many results",
            (scale.HTML_SMALL, scale.RENDER_FAST),
            lambda: scale.reports(setup, results.get("8")),
        ),
    ]


def measure(setup: Setup, only: set[str] | None = None) -> list[Row]:
    rows: list[Row] = []
    for key, what, goals, step in _steps(setup):
        if only and key not in only:
            continue
        started = time.perf_counter()
        print(f"bench: row {key} ({what}) ...", file=sys.stderr, flush=True)
        made = guarded(key, what, goals, step)
        for row in made:
            print(f"bench:   {row.key}: {row.verdict}", file=sys.stderr, flush=True)
        print(f"bench: row {key} took {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
        rows += made
    return rows


def main(argv: list[str] | None = None) -> list[Row]:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--quick", action="store_true", help="tiny sizes and 1 pair (what the tests run)")
    options.add_argument("--only", help="comma-separated row numbers, e.g. 1,5,9 (11 needs 8)")
    options.add_argument("--peers", type=Path, default=PEERS_VENV / "bin" / "python", help="the peers' python")
    options.add_argument("--pairs", type=int, help="pairs per row (default 5, --quick 1)")
    options.add_argument(
        "--budget",
        type=float,
        help="seconds a row may spend on its pairs (default 100, --quick 20; row 3 up to 2.5 times that)",
    )
    options.add_argument("--json", type=Path, default=REPO / "reports" / "bench.json", help="where the rows go as JSON")
    args = options.parse_args(argv)
    about: dict[str, object] = {"mode": "quick" if args.quick else "full", "started": _now(), **_machine()}
    began = time.perf_counter()
    simulator = servers.Shared(servers.simulator)
    with tempfile.TemporaryDirectory(prefix="runbook-bench-") as work:
        setup = Setup(
            quick=args.quick,
            work=Path(work),
            peers=args.peers.absolute(),
            simulator=simulator,
            pairs=args.pairs or (1 if args.quick else 5),
            budget=args.budget or (20.0 if args.quick else 100.0),
        )
        only = {key.strip() for key in args.only.split(",")} if args.only else None
        if only and "11" in only:
            only.add("8")
        try:
            rows = measure(setup, only)
        finally:
            simulator.close()
    about.update(seconds=round(time.perf_counter() - began, 1), load_after=os.getloadavg(), pairs=setup.pairs)
    write_json(args.json, rows, about)
    print(_heading(about))
    print(render(rows))
    print(f"\n(rows as JSON: {args.json})")
    return rows


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def _heading(about: dict[str, object]) -> str:
    pairs = f"{about['pairs']} pair" + ("" if about["pairs"] == 1 else "s")
    mode = (
        f"QUICK mode: tiny sizes, {pairs} — not the issue's measurements"
        if about["mode"] == "quick"
        else f"full run, {pairs} a row"
    )
    return (
        f"runbook bench ({mode}), {about['seconds']} s on {about['nproc']} cores ({about['cpu']}), "
        f"Python {about['python']}; load average {_load(about['load_before'])} before, {_load(about['load_after'])} after\n"
        "A = runbook, B = the peer; ratio = median of the pair-by-pair ratios A/B\n"
    )


def _load(value: object) -> str:
    return "/".join(f"{v:.1f}" for v in value) if isinstance(value, tuple) else str(value)


if __name__ == "__main__":
    main()
