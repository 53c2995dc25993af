"""Ctrl-C and SIGTERM stop a run cleanly: what finished is judged and written, marked interrupted."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
import time

import pytest

# A drill that waits a full minute on a stalled server: the run is surely still going when signalled.
SLOW = """
drills:
  - id: waits-a-minute
    tags: [slow]
    deadline: 60s
    time_scale: 1.0
    faults: [stall]
    expect: {attempts: 1}
"""


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_the_run_and_keeps_what_finished(tmp_path, child_spec, sig, code):
    spec = child_spec(SLOW, name="stopped")
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-m", "engine", "run", str(spec), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    progress = _lines_of(process.stderr)  # progress lines go to stderr
    seen = _wait_for(progress, "drill auth-401-no-fallback:", within=60)  # finished; the slow one waits
    process.send_signal(sig)
    process.wait(timeout=20)
    stdout, stderr = process.stdout.read(), seen + _rest_of(progress)
    assert process.returncode == code, stdout + stderr
    results = json.loads((out / "stopped.json").read_text())
    assert results["summary"]["verdict"] == "interrupted" and results["summary"]["interrupted"] == sig.name
    drills = {d["id"]: d for d in results["drills"]}
    assert drills["drill:waits-a-minute"]["status"] == "skipped"
    assert "interrupted" in drills["drill:waits-a-minute"]["reason"]
    assert drills["drill:auth-401-no-fallback"]["status"] == "passed"  # finished before the signal
    assert "Verdict: INTERRUPTED" in stdout and "Traceback" not in stderr


def _lines_of(stream) -> queue.Queue:
    """The stream's lines as they come, read on a thread (None once it ends)."""
    lines: queue.Queue = queue.Queue()

    def pump() -> None:
        for line in iter(stream.readline, ""):
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _wait_for(lines: queue.Queue, text: str, within: float) -> str:
    """What was printed until a line holding `text` (busy machines start slowly: no fixed sleep)."""
    seen, deadline = "", time.monotonic() + within
    while time.monotonic() < deadline:
        line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
        assert line is not None, "the run ended before " + text + ":\n" + seen
        seen += line
        if text in line:
            return seen
    raise AssertionError(f"no {text!r} within {within}s:\n{seen}")


def _rest_of(lines: queue.Queue) -> str:
    rest = ""
    while (line := lines.get(timeout=10)) is not None:
        rest += line
    return rest
