"""What every row needs: the mode's sizes, pairs and time budget, the working folder, and the peers.

The peers (Tavern, httpx-sse, aiohttp, httpx-aiohttp, httpx2) live in their own venv, .venv-bench,
which `make bench` installs; a row whose peer is not importable there says `not measured` and why.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pairs import MeasureError, Pairs, Run, run_process
from servers import BENCH, KEY, Shared, runbook_exe
from table import Goal, Row, not_measured

REPO = BENCH.parent
SHIPPED = REPO / "specs" / "cometapi" / "chat-completions.yaml"
CLIENTS = BENCH / "clients.py"
SSE = BENCH / "bench_sse.py"
PEERS_VENV = REPO / ".venv-bench"


@dataclass(frozen=True)
class Sizes:
    """How much each row measures; the goals speak of the full sizes."""

    checks: int = 1000  # rows 1, 2 (and the 1,000 of row 8)
    http_requests: int = 1000  # row 3
    tavern: int = 200  # row 4
    many_checks: int = 10000  # rows 7, 8, 11
    ruamel_checks: int = 1000  # row 7's peer: ruamel's cost per check is linear (2.40 ms at 1,000, 2.36 at 10,000)
    sse_mb: float = 20  # row 9's pairs
    sse_memory_mb: float = 200  # row 9's memory run


FULL = Sizes()
QUICK = Sizes(checks=20, http_requests=40, tavern=5, many_checks=60, ruamel_checks=20, sse_mb=1, sse_memory_mb=2)


@dataclass(frozen=True)
class Setup:
    quick: bool
    work: Path  # a temporary folder: generated specs, reports, Tavern files
    peers: Path  # the peers' python
    simulator: Shared  # `runbook sim`, one process shared by rows 1, 2, 4 and 8
    pairs: int = 5
    budget: float = 100.0  # seconds a row may spend on its pairs (always at least one pair)

    @property
    def sizes(self) -> Sizes:
        return QUICK if self.quick else FULL

    @property
    def python(self) -> str:
        return sys.executable  # runbook's venv

    def env(self, base_url: str = "") -> dict[str, str]:
        """The environment of a child: the generated specs read BENCH_BASE_URL and BENCH_API_KEY."""
        extra = {"BENCH_BASE_URL": base_url, "BENCH_API_KEY": KEY, "NO_COLOR": "1"}
        return {**os.environ, **extra}

    def full_size_only(self, what: str) -> str | None:
        """The quick mode's reason not to judge a goal that holds only at the full size."""
        return f"quick mode measured {what}; the goal is for the full size" if self.quick else None

    def missing_peer(self, *modules: str) -> str | None:
        """Why the peers' venv cannot run these modules, or None when it can."""
        return _missing(str(self.peers), modules)


@functools.cache
def importable(python: str, module: str) -> bool:
    found = subprocess.run([python, "-c", f"import {module}"], capture_output=True, check=False)
    return found.returncode == 0


@functools.cache
def _missing(python: str, modules: tuple[str, ...]) -> str | None:
    if not Path(python).exists():
        return f"no peers' venv at {_shown(python)} (`make bench` installs it)"
    for module in modules:
        if not importable(python, module):
            return f"{module} is not importable in {_shown(python)}"
    return None


def _shown(python: str) -> str:
    path = Path(python)
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def guarded(key: str, what: str, goals: tuple[Goal, ...], measure: Callable[[], list[Row]]) -> list[Row]:
    """The rows `measure` makes, or one `not measured` row naming what stopped it."""
    try:
        return measure()
    except MeasureError as exc:
        return [not_measured(key, what, goals, str(exc))]
    except Exception as exc:  # the engine is a moving target: a broken import or API is a finding, not a crash
        return [not_measured(key, what, goals, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")]


def pairs_note(pairs: Pairs, setup: Setup, *more: str) -> str:
    budget = "" if len(pairs) >= setup.pairs else f"{len(pairs)} of {setup.pairs} pairs in the time budget"
    return ", ".join(filter(None, [budget, *more]))


def ratio_row(
    key: str, what: str, goals: tuple[Goal, ...], pairs: Pairs, setup: Setup, peer: str = "", label: str = ""
) -> Row:
    """A row judged on the median pair-by-pair ratio; A and B shown as median seconds."""
    return Row(
        key,
        what,
        goals,
        runbook=label + seconds(pairs.median_a),
        peer=peer + seconds(pairs.median_b),
        ratio=pairs.ratio,
        figures={"ratio": pairs.ratio},
        pairs=len(pairs),
        pairs_needed=setup.pairs,
        note=pairs_note(pairs, setup),
        samples={"a": pairs.a, "b": pairs.b},
    )


def seconds(value: float) -> str:
    return f"{value:.3g} s" if value >= 0.1 else f"{value * 1000:.3g} ms"


def megabytes(value: float) -> str:
    return f"{value:.1f} MB"


def runbook_run(setup: Setup, spec: Path, count: int, base_url: str, out: Path, *options: str) -> Run:
    """`runbook run SPEC --target bench` as one whole process against base_url; every check must pass."""
    argv = [runbook_exe(), "run", str(spec), "--target", "bench", "--out", str(out), "--quiet", *options]
    run = run_process(argv, setup.env(base_url), ok_codes=(0, 1, 4))
    results = out / f"bench-{count}-checks.json"
    try:
        summary = json.loads(results.read_text(encoding="utf-8"))["summary"]["checks"]
    except (OSError, ValueError, KeyError) as exc:
        raise MeasureError(f"no results at {results.name}: {exc}") from None
    if summary.get("passed") != count:
        raise MeasureError(f"runbook passed {summary.get('passed')} of {count} checks: {summary}")
    return run
