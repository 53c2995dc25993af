"""Timing whole processes, and alternating A/B pairs whose ratios are taken pair by pair.

`run_process` runs one child through a small launcher that reaps it with os.wait4, so the peak RSS
is that child's own (RUSAGE_CHILDREN would be the maximum over every child so far, and a child forked
straight from the bench would count the bench's memory too). `alternate` runs A, B, A, B, ...
until it has the pairs asked for or the row's time budget is spent (always at least one pair).
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class MeasureError(Exception):
    """A measurement could not be made; its row says `not measured` with this message."""


@dataclass(frozen=True)
class Run:
    """One finished child: wall seconds, peak RSS in MB, exit code, and what it printed."""

    wall: float
    peak_mb: float
    code: int
    out: str
    err: str

    def report(self) -> dict[str, Any]:
        """The JSON object a bench client prints as its last line of output."""
        for line in reversed(self.out.strip().splitlines()):
            if line.startswith("{"):
                loaded: dict[str, Any] = json.loads(line)
                return loaded
        raise MeasureError(f"no JSON report in the output: {tail(self.out + self.err)}")


def tail(text: str, lines: int = 3) -> str:
    return " / ".join(line.strip() for line in text.strip().splitlines()[-lines:]) or "(no output)"


# A small launcher between the bench and each child: the kernel counts, in a child's peak RSS, the
# memory image it was forked from, so forking from the (larger) bench would inflate every figure.
# The launcher (python -S, a few MB) spawns the child, reaps it with wait4 and writes the child's
# own wall time, peak RSS (KB) and exit code to a file; its own start-up is not in the timing.
LAUNCHER = """
import os, sys, time
started = time.perf_counter()
pid = os.posix_spawnp(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - started
with open(sys.argv[1], "w") as report:
    report.write(f"{wall} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
"""


def run_process(
    argv: Sequence[str],
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    ok_codes: Sequence[int] = (0,),
    timeout: float = 900.0,
) -> Run:
    """Run argv to the end; raise MeasureError if its exit code is not one of ok_codes."""
    shown = f"`{' '.join(Path(str(part)).name if n == 0 else str(part) for n, part in enumerate(argv[:3]))} ...`"
    with tempfile.TemporaryDirectory(prefix="runbook-bench-run-") as folder:
        measured, out_path, err_path = (Path(folder) / name for name in ("measured", "out", "err"))
        with out_path.open("w") as out, err_path.open("w") as err:
            launcher = [sys.executable, "-S", "-E", "-c", LAUNCHER, str(measured), *map(str, argv)]
            child = subprocess.Popen(
                launcher, stdout=out, stderr=err, env=dict(env) if env else None, cwd=cwd, start_new_session=True
            )  # its own group: a timeout ends the child too
            try:
                child.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
                raise MeasureError(f"{shown} ran over {timeout:.0f} s") from None
        output, errors = out_path.read_text(errors="replace"), err_path.read_text(errors="replace")
        if child.returncode != 0 or not measured.exists():
            raise MeasureError(f"{shown} could not be started: {tail(errors)}")
        wall, peak_kb, code = measured.read_text().split()
    run = Run(float(wall), int(peak_kb) / 1024, int(code), output, errors)
    if run.code not in ok_codes:
        raise MeasureError(f"{shown} exited {run.code}: {tail(run.err or run.out)}")
    return run


@dataclass
class Pairs:
    """The A and B figures of each pair, in the order they ran."""

    a: list[float] = field(default_factory=list)
    b: list[float] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.a)

    @property
    def ratio(self) -> float:
        """The median of the pair-by-pair ratios A/B."""
        return statistics.median(a / b for a, b in zip(self.a, self.b, strict=True))

    @property
    def median_a(self) -> float:
        return statistics.median(self.a)

    @property
    def median_b(self) -> float:
        return statistics.median(self.b)


def alternate(run_a: Callable[[], float], run_b: Callable[[], float], pairs: int, budget: float) -> Pairs:
    """A, B, A, B, ...: `pairs` pairs, or fewer (at least one) when the next would pass `budget` seconds."""
    result = Pairs()
    started = time.perf_counter()
    while len(result) < pairs:
        before = time.perf_counter()
        a, b = run_a(), run_b()
        result.a.append(a)
        result.b.append(b)
        spent = time.perf_counter() - started
        if spent + (time.perf_counter() - before) > budget:
            break
    return result
