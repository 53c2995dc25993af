"""runbook's executor vs a plain httpx loop, same simulator, same requests, one run; medians.

    make bench            (or: .venv/bin/python bench/bench_engine.py --requests 1000 --repeats 5)

Prints per-request cost and the ratio runbook / plain httpx. Loopback only. Ratios are the
trustworthy part: the machines are noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from engine.judge.checks import judge_check
from engine.load.loader import load_spec
from engine.plan.build import build_plan
from engine.run.executor import execute_plan
from engine.sim import SimConfig, SimServer

SPEC = Path(__file__).resolve().parent.parent / "specs" / "cometapi" / "chat-completions.yaml"
KEY = "sk-bench-0000000000000000"


def happy_plan(copies: int):
    plan = build_plan(load_spec(SPEC))
    happy = next(step for step in plan.steps if step.check.id == "happy-path")
    return dataclasses.replace(plan, steps=tuple(happy for _ in range(copies)), drills=())  # checks only


def time_runbook(plan, base_url: str, concurrency: int) -> float:
    started = time.perf_counter()
    record = execute_plan(plan, base_url, {"COMETAPI_API_KEY": KEY}, concurrency)
    results = [judge_check(outcome, plan.spec, base_url) for outcome in record.outcomes]
    elapsed = time.perf_counter() - started
    assert all(result.status == "passed" for result in results) and len(results) == len(plan.steps)
    return elapsed


def time_plain_httpx(body: dict, url: str, count: int) -> float:
    async def loop() -> None:
        headers = {"authorization": f"Bearer {KEY}"}
        async with httpx.AsyncClient(trust_env=False) as client:
            for _ in range(count):
                response = await client.post(url, json=body, headers=headers)
                document = response.json()
                assert response.status_code == 200 and document["choices"][0]["message"]["content"] is not None

    started = time.perf_counter()
    asyncio.run(loop())
    return time.perf_counter() - started


def time_command(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(args, check=False, capture_output=True)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    opts = parser.parse_args(argv)
    plan = happy_plan(opts.requests)
    body = plan.steps[0].body
    runbook_exe = str(Path(sys.executable).parent / "runbook")
    with SimServer(SimConfig(keys=(KEY,), models=("gpt-4o-mini",))) as server:
        url = server.base_url + "/v1/chat/completions"
        plain = [time_plain_httpx(body, url, opts.requests) for _ in range(opts.repeats)]
        ours = [time_runbook(plan, server.base_url, 1) for _ in range(opts.repeats)]
        ours_c4 = [time_runbook(plan, server.base_url, 4) for _ in range(opts.repeats)]
    validate = [time_command([runbook_exe, "validate", str(SPEC)]) for _ in range(opts.repeats)]
    whole = [time_command([runbook_exe, "run", str(SPEC), "--out", "/tmp/runbook-bench"]) for _ in range(opts.repeats)]
    rows = {
        "plain httpx loop, concurrency 1 (ms/request)": statistics.median(plain) / opts.requests * 1000,
        "runbook execute+evaluate, concurrency 1 (ms/request)": statistics.median(ours) / opts.requests * 1000,
        "runbook execute+evaluate, concurrency 4 (ms/request)": statistics.median(ours_c4) / opts.requests * 1000,
        "ratio runbook/plain (concurrency 1)": statistics.median(ours) / statistics.median(plain),
        "`runbook validate` CometAPI spec, whole process (s)": statistics.median(validate),
        "`runbook run` CometAPI spec on the simulator, whole process (s)": statistics.median(whole),
    }
    print(json.dumps({"requests": opts.requests, "repeats": opts.repeats, "medians": rows}, indent=2))
    for name, value in rows.items():
        print(f"{name:<66} {value:8.3f}")
    return rows


if __name__ == "__main__":
    main()
