"""Drill verdicts on a busy machine: N full drill runs beside K processes that burn a CPU each.

    .venv/bin/python bench/drills_under_load.py [--runs 3] [--burners 2]

Prints, per run, the wall time, how many drills failed, how many ran again slower because the
machine was busy, and the scheduling latency the drills measured (median and worst). A verdict
that holds under load shows zero failed drills in every run.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine import api

SPEC = Path(__file__).resolve().parents[1] / "specs" / "cometapi" / "chat-completions.yaml"


def one_run() -> str:
    started = time.perf_counter()
    outcome = api.run(SPEC, out_dir=None, selection=api.Selection(tags=("drill",)))
    drills = [d for d in outcome.results.drills if d.selected]
    latency = [d.drill.scheduling_latency_ms for d in drills if d.drill is not None]
    failed = [d.id for d in drills if d.status != "passed"]
    slower = sum(bool(d.drill and d.drill.earlier) for d in drills)
    return (
        f"{time.perf_counter() - started:5.1f}s  {len(drills)} drills, {len(failed)} failed, {slower} ran again slower; "
        f"scheduling latency median {statistics.median(latency):.1f} ms, worst {max(latency):.1f} ms"
        + (f"\n      failed: {', '.join(failed)}" if failed else "")
    )


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--runs", type=int, default=3)
    options.add_argument("--burners", type=int, default=2)
    args = options.parse_args()
    burners = [subprocess.Popen(["yes"], stdout=subprocess.DEVNULL) for _ in range(args.burners)]
    try:
        print(f"{args.runs} full drill runs beside {args.burners} CPU-burning processes")
        for number in range(1, args.runs + 1):
            print(f"run {number}: {one_run()}")
    finally:
        for burner in burners:
            burner.kill()


if __name__ == "__main__":
    main()
