"""The hardening suite (issue 11): which tests prove each promise, and a summary of what they cost.

Every test whose node id matches a case's patterns is marked `hardening` (run them alone with
`make hardening`, or `pytest -m hardening`). While one runs, its wall time and the peak resident
memory of the test process are measured (Linux: the peak is reset through /proc/self/clear_refs
before each test, so it is that test's own), and for tests that run runbook as a child process,
the child's peak when it is the largest so far. At the end of the session one line per case says
how many tests ran, how many failed, their total and slowest time, and the largest peak.
"""

from __future__ import annotations

import contextlib
import fnmatch
import re
import resource
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CASES: dict[str, tuple[str, ...]] = {
    "1 deep JSON from a server": (
        "tests/integration/test_hostile_depth.py::*",
        "tests/unit/test_jsontext.py::*",
        "tests/integration/test_http_hostile.py::test_deeply_nested_json*",
    ),
    "2 secrets never leak": (
        "tests/integration/test_secret_leaks.py::*",
        "tests/integration/test_http_hostile.py::test_echoed_secret*",
        "tests/integration/test_sim_script.py::*secret*",
    ),
    "3 stream memory is flat": (
        "tests/integration/test_stream_memory.py::*",
        "tests/unit/test_sse.py::*cap*",
        "tests/unit/test_sse.py::*overlong*",
    ),
    "4 hostile YAML and templates end fast": (
        "tests/unit/test_hostile_yaml.py::*",
        "tests/unit/test_template_amplifiers.py::*",
    ),
    "5 extends stays in the spec's tree": ("tests/unit/test_extends_sandbox.py::*",),
    "6 fixtures_dir stays in the spec's tree": ("tests/unit/test_spec_corpus.py::*fixtures-dir-outside*",),
    "7 declared environment, secret routes": (
        "tests/unit/test_environment.py::*",
        "tests/unit/test_spec_corpus.py::*env-*",
        "tests/unit/test_spec_load.py::*secret*",
        "tests/unit/test_spec_load.py::*undeclared*",
    ),
    "8 header names are tokens": ("tests/unit/test_spec_corpus.py::*auth-header-*",),
    "9 interruptions keep what finished": (
        "tests/integration/test_interrupt.py::*",
        "tests/unit/test_report.py::test_a_new_run_supersedes*",
    ),
    "10 terminal text is escaped": ("tests/integration/test_terminal_safety.py::*",),
    "11 cost guards": ("tests/integration/test_cost_guards.py::*", "tests/unit/test_budget.py::*"),
}

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


@dataclass
class _Tally:
    tests: int = 0
    failed: int = 0
    slowest: float = 0.0
    total: float = 0.0
    peak_kib: int = 0
    child_peak_kib: int = 0
    names: list[str] = field(default_factory=list)


def case_of(nodeid: str) -> str | None:
    for case, patterns in CASES.items():
        if any(fnmatch.fnmatchcase(nodeid, pattern) for pattern in patterns):
            return case
    return None


def _peak_kib() -> int:
    match = re.search(r"VmHWM:\s+(\d+)", _STATUS.read_text()) if _STATUS.exists() else None
    return int(match.group(1)) if match else 0


def _reset_peak() -> None:
    with contextlib.suppress(OSError):  # not Linux, or not allowed: the peak is then the process's so far
        _CLEAR_REFS.write_text("5")


class HardeningSummary:
    """A pytest plugin: marks the cases, measures each test of a case, prints the summary."""

    def __init__(self) -> None:
        self.tallies: dict[str, _Tally] = {case: _Tally() for case in CASES}

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            if case_of(item.nodeid):
                item.add_marker(pytest.mark.hardening)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Iterator[None]:
        case = case_of(item.nodeid)
        if case is None:
            return (yield)
        _reset_peak()
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        started = time.perf_counter()
        try:
            return (yield)
        finally:
            tally = self.tallies[case]
            elapsed = time.perf_counter() - started
            tally.slowest, tally.total = max(tally.slowest, elapsed), tally.total + elapsed
            tally.peak_kib = max(tally.peak_kib, _peak_kib())
            children_after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            if children_after > children_before:
                tally.child_peak_kib = max(tally.child_peak_kib, children_after)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        case = case_of(report.nodeid)
        counted = report.when == "call" or (report.when == "setup" and report.failed)
        if case is None or not counted:
            return
        tally = self.tallies[case]
        tally.tests += 1
        tally.failed += int(report.failed)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        ran = {case: tally for case, tally in self.tallies.items() if tally.tests}
        if not ran:
            return
        terminalreporter.section("hardening summary (issue 11): time and peak memory per case")
        terminalreporter.write_line(
            f"{'case':<42} {'tests':>5} {'failed':>6} {'total':>8} {'slowest':>8} {'peak RSS':>9}  child"
        )
        for case, tally in ran.items():
            child = f"{tally.child_peak_kib / 1024:.0f} MiB" if tally.child_peak_kib else "-"
            terminalreporter.write_line(
                f"{case:<42} {tally.tests:>5} {tally.failed:>6} {tally.total:>7.2f}s {tally.slowest:>7.2f}s "
                f"{tally.peak_kib / 1024:>5.0f} MiB  {child}"
            )
        terminalreporter.write_line(
            "peak RSS: the test process while the test ran (pytest itself included); "
            "child: the largest child process so far (runbook, git, a server), when it grew during the test"
        )
