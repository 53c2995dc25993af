"""Ctrl-C and SIGTERM stop a run cleanly: what finished is judged and written, marked interrupted."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
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
    time.sleep(4)  # the checks and the first drills (the auth drill among them) finish; the slow one waits
    process.send_signal(sig)
    stdout, stderr = process.communicate(timeout=20)
    assert process.returncode == code, stdout + stderr
    results = json.loads((out / "stopped.json").read_text())
    assert results["summary"]["verdict"] == "interrupted" and results["summary"]["interrupted"] == sig.name
    drills = {d["id"]: d for d in results["drills"]}
    assert drills["drill:waits-a-minute"]["status"] == "skipped"
    assert "interrupted" in drills["drill:waits-a-minute"]["reason"]
    assert drills["drill:auth-401-no-fallback"]["status"] == "passed"  # finished before the signal
    assert "Verdict: INTERRUPTED" in stdout and "Traceback" not in stderr
