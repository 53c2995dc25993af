"""The benchmark keeps working (a tiny run; the numbers themselves live in `make bench`)."""

import sys
from pathlib import Path


def test_bench_runs_end_to_end():
    sys.path.insert(0, str(Path("bench").resolve()))
    import bench_engine

    rows = bench_engine.main(["--requests", "20", "--repeats", "1"])
    assert rows["ratio runbook/plain (concurrency 1)"] > 0


def test_sse_bench_runs_end_to_end():
    sys.path.insert(0, str(Path("bench").resolve()))
    import bench_sse

    rows = bench_sse.main(["--mb", "1", "--repeats", "1", "--memory-mb", "2"])
    assert rows["ratio runbook/httpx-sse throughput"] > 0
