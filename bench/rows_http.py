"""Rows 1-4: runbook against plain HTTP loops, the HTTP-layer options, and Tavern.

Rows 1, 2 and 4 run against runbook's simulator (`runbook sim`, its own process); row 3 measures
clients, so it runs against the bench's uvicorn stub, which does as little as a server can.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass

from context import CLIENTS, Setup, importable, ratio_row, runbook_run, seconds
from generate import write_spec, write_tavern
from pairs import MeasureError, Pairs, alternate, run_process
from servers import KEY, stub
from table import Goal, Row

FASTER = Goal("ratio", "<", 1.0, "runbook faster: ratio < 1.0")
INFORMATIVE = (Goal("ratio", text="informative (feeds row 3)"),)
AS_FAST = Goal("ratio", "<=", 1.0, "runbook <= fastest httpx-API option: ratio <= 1.0")
SEVEN_TIMES = Goal("ratio", "<=", 0.143, "runbook >= 7x faster: ratio <= 0.143")


def checks_vs_loop(setup: Setup, key: str, concurrency: int) -> list[Row]:
    """Rows 1 and 2: `runbook run` of N checks vs a plain httpx.AsyncClient loop, whole processes."""
    count = setup.sizes.checks
    spec, out = write_spec(setup.work, count), setup.work / f"run-{count}-c{concurrency}"
    sim = setup.simulator.base_url()
    loop = [setup.python, str(CLIENTS), "loop", sim, "--count", str(count), "--concurrency", str(concurrency), "--cold"]
    pairs = alternate(
        lambda: runbook_run(setup, spec, count, sim, out, "--concurrency", str(concurrency)).wall,
        lambda: run_process(loop).wall,
        setup.pairs,
        setup.budget,
    )
    what = f"{count:,} checks at concurrency {concurrency}: `runbook run` vs a plain httpx loop, whole processes"
    return [ratio_row(key, what, (FASTER,), pairs, setup, "plain httpx loop ")]


@dataclass(frozen=True)
class Option:
    key: str
    what: str
    option: str  # clients.py loop --option, or "executor"
    modules: tuple[str, ...]  # what the peers' venv must import; () runs under runbook's venv
    httpx_api: bool


Timed = Callable[[Option], float]  # one run of an option in its own process: its in-process seconds
PLAIN = Option("3a", "plain httpx (runbook's venv, as installed)", "httpx", (), True)
SNIFFIO_BLOCKED = Option("3b", "httpx, sniffio blocked by a meta-path finder", "sniffio-blocked", (), True)
SNIFFIO_IMPORTABLE = Option("3b", "httpx, sniffio importable (peers' venv)", "httpx", ("httpx", "sniffio"), True)
OPTIONS = (
    Option("3c", "httpx with the httpx-aiohttp transport", "httpx-aiohttp", ("httpx_aiohttp",), True),
    Option("3d", "aiohttp itself (not the httpx API)", "aiohttp", ("aiohttp",), False),
    Option("3e", "httpx2 (the httpx API's successor)", "httpx2", ("httpx2",), True),
    Option("3f", "runbook's executor + check judge, in-process", "executor", (), False),
)


def http_options(setup: Setup) -> list[Row]:
    """Row 3: 1,000 POSTs at concurrency 16, in-process times, each run in its own process.

    Plain httpx in runbook's venv is the B of every option's pairs. The sniffio row measures the
    other state: blocked when runbook's venv has sniffio (its dev lock does), importable otherwise.
    Row 3 spends up to 2.5 times a row's budget: one for the goal row, 1.5 shared among the option rows.
    """
    count = setup.sizes.http_requests
    spec = write_spec(setup.work, count)
    sniffio = SNIFFIO_BLOCKED if importable(setup.python, "sniffio") else SNIFFIO_IMPORTABLE
    options = (sniffio, *OPTIONS)
    budget = 1.5 * setup.budget / len(options)
    plain_runs: list[float] = []
    with stub() as server:

        def timed(option: Option) -> float:
            if option.option == "executor":
                argv = [setup.python, str(CLIENTS), "executor", str(spec), server.base_url, "--concurrency", "16"]
            else:
                python = str(setup.peers) if option.modules else setup.python
                argv = [python, str(CLIENTS), "loop", server.base_url, "--count", str(count), "--concurrency", "16"]
                argv += ["--option", option.option]
            took = float(run_process(argv).report()["seconds"])
            if option is PLAIN:
                plain_runs.append(took)
            return took

        measured: dict[str, Pairs] = {}
        rows = [_option_row(setup, option, timed, measured, count, budget) for option in options]
        rows.append(_goal_row(setup, options, timed, measured, setup.budget))
    return [_baseline_row(count, plain_runs, sniffio is SNIFFIO_BLOCKED), *rows]


def _baseline_row(count: int, plain_runs: list[float], has_sniffio: bool) -> Row:
    state = "sniffio importable" if has_sniffio else "no sniffio"
    what = f"{PLAIN.what}, {state}: {count:,} POSTs at concurrency 16, in-process (the B of rows 3b-3f)"
    if not plain_runs:
        return Row(PLAIN.key, what, INFORMATIVE, reason="no option row ran")
    median = statistics.median(plain_runs)
    row = Row(PLAIN.key, what, INFORMATIVE, peer=f"plain httpx {seconds(median)}", ratio=1.0, figures={"ratio": 1.0})
    row.note = f"median of {len(plain_runs)} runs" if len(plain_runs) > 1 else ""
    return row


def _option_row(
    setup: Setup, option: Option, timed: Timed, measured: dict[str, Pairs], count: int, budget: float
) -> Row:
    what = f"{option.what}: {count:,} POSTs at concurrency 16, vs plain httpx"
    missing = setup.missing_peer(*option.modules) if option.modules else None
    if missing:
        return Row(option.key, what, INFORMATIVE, reason=missing)
    try:
        pairs = alternate(lambda: timed(option), lambda: timed(PLAIN), setup.pairs, budget)
    except MeasureError as exc:
        return Row(option.key, what, INFORMATIVE, reason=str(exc))
    measured[option.key] = pairs
    return ratio_row(option.key, what, INFORMATIVE, pairs, setup, "plain httpx ", f"{option.option} ")


def _goal_row(
    setup: Setup, options: tuple[Option, ...], timed: Timed, measured: dict[str, Pairs], budget: float
) -> Row:
    """runbook's executor vs the fastest option that keeps the httpx API, in pairs of their own
    (when no option beat plain httpx, the executor's pairs against it in row 3f serve, if there are enough)."""
    ratios = {o.key: measured[o.key].ratio for o in options if o.httpx_api and o.key in measured}
    best = min(ratios, key=ratios.__getitem__, default=None)
    fastest = next(o for o in options if o.key == best) if best and ratios[best] < 1.0 else PLAIN
    executor = next(o for o in options if o.option == "executor")
    what = (
        "runbook's executor at concurrency 16 vs the fastest option that keeps the httpx API "
        f"({fastest.key}: {fastest.what.split(' (')[0]}), in-process"
    )
    if fastest is PLAIN and len(measured.get(executor.key, ())) >= setup.pairs:
        return ratio_row("3", what, (AS_FAST,), measured[executor.key], setup, f"{fastest.key} ", "executor ")
    try:
        pairs = alternate(lambda: timed(executor), lambda: timed(fastest), setup.pairs, budget)
    except MeasureError as exc:
        return Row("3", what, (AS_FAST,), reason=str(exc))
    return ratio_row("3", what, (AS_FAST,), pairs, setup, f"{fastest.key} ", "executor ")


def tavern(setup: Setup) -> list[Row]:
    """Row 4: N checks vs Tavern running N equivalent YAML tests against the same simulator."""
    count = setup.sizes.tavern
    what = f"{count:,} checks: `runbook run` vs Tavern running {count:,} equivalent YAML tests, whole processes"
    missing = setup.missing_peer("tavern")
    if missing:
        return [Row("4", what, (SEVEN_TIMES,), reason=missing)]
    spec, out = write_spec(setup.work, count), setup.work / f"run-{count}-tavern"
    sim = setup.simulator.base_url()
    tests = write_tavern(setup.work / "tavern", count, sim + "/v1/chat/completions", KEY)
    pytest = [str(setup.peers), "-m", "pytest", "-q", "-p", "no:cacheprovider", tests.name]

    def run_tavern() -> float:
        run = run_process(pytest, cwd=tests.parent)
        if f"{count} passed" not in run.out:
            raise MeasureError(f"Tavern did not pass {count} tests: {run.out.strip().splitlines()[-1:]}")
        return run.wall

    pairs = alternate(lambda: runbook_run(setup, spec, count, sim, out).wall, run_tavern, setup.pairs, setup.budget)
    return [ratio_row("4", what, (SEVEN_TIMES,), pairs, setup, "Tavern ")]
