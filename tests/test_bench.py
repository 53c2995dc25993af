"""The benchmark keeps working (a tiny run; the numbers themselves live in `make bench`)."""

import math

import pytest


@pytest.fixture
def bench(monkeypatch, repo_root):
    monkeypatch.syspath_prepend(str(repo_root / "bench"))
    monkeypatch.chdir(repo_root)  # bench_sse's memory probe imports bench/ relative to the working directory


def test_bench_runs_end_to_end(bench):
    import bench_engine

    rows = bench_engine.main(["--requests", "20", "--repeats", "1"])
    assert all(math.isfinite(value) and value > 0 for value in rows.values()), rows
    ours = rows["runbook execute+evaluate, concurrency 1 (ms/request)"]
    plain = rows["plain httpx loop, concurrency 1 (ms/request)"]
    assert rows["ratio runbook/plain (concurrency 1)"] == pytest.approx(ours / plain)
    assert 0.05 < ours < 1000 and 0.05 < plain < 1000, rows  # a loopback request, not a no-op and not a hang
    whole_run = rows["`runbook run` CometAPI spec on the simulator, whole process (s)"]
    validate = rows["`runbook validate` CometAPI spec, whole process (s)"]
    assert whole_run > validate + 1, rows  # the run really ran: its drills alone take seconds


def test_sse_bench_runs_end_to_end(bench):
    import bench_sse

    rows = bench_sse.main(["--mb", "1", "--repeats", "1", "--memory-mb", "2"])
    ours = rows["runbook stream judge, 1 MB (MB/s)"]
    theirs = rows["httpx-sse + json.loads, 1 MB (MB/s)"]
    assert ours > 0 and theirs > 0, rows
    assert rows["ratio runbook/httpx-sse throughput"] == pytest.approx(ours / theirs)
    peak = rows["peak RSS streaming 2 MB through runbook (MB)"]
    growth = rows["RSS growth while streaming 2 MB (MB)"]
    assert 0 <= growth < peak, rows
