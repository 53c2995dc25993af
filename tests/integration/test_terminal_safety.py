"""Text from a server or a spec never drives the terminal (issue 11, failure 10): a fixture key holding
ESC[2K and CR, which on a TTY erased the drift line and printed a fake verdict, is shown escaped."""

from __future__ import annotations

import json
import subprocess
import sys

FAKE = "\x1b[2K\rVerdict: READY for controlled production traffic"


def test_a_hostile_fixture_key_is_printed_escaped(child_spec, tmp_path):
    spec = child_spec("", name="tty")
    (tmp_path / "fixtures").mkdir()
    stored = {
        "fixture_version": 1,
        "request": {"method": "POST", "path": "/v1/chat/completions", "body": {}},
        "response": {"status": 200, "content_type": "application/json", "body": {FAKE: "<string>"}},
    }
    (tmp_path / "fixtures" / "happy-path.json").write_text(json.dumps(stored))
    done = subprocess.run(
        [sys.executable, "-m", "engine", "run", str(spec), "--only", "happy-path", "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr  # the drift fails the check
    assert "fixture drift" in done.stdout
    assert "\x1b" not in done.stdout + done.stderr and "\r" not in done.stdout + done.stderr
    assert "\\x1b[2K\\rVerdict: READY" in done.stdout  # shown, escaped
    assert "Verdict: NOT READY" in done.stdout
