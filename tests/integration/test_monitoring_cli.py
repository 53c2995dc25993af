"""runbook watch, history, alerts, docs-check and run --history, as a user types them (each a real
process; the simulator and a docs page on loopback)."""

from __future__ import annotations

import http.server
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import REPO_ROOT

SPEC = REPO_ROOT / "specs" / "cometapi" / "chat-completions.yaml"


def runbook(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "engine", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def test_watch_runs_records_and_the_history_shows_the_trend(tmp_path):
    history = f"sqlite:///{tmp_path / 'history.sqlite'}"
    watched = runbook(
        "watch", str(SPEC), "--schedule", "continuous", "--every", "1s", "--runs", "2",
        "--metrics-port", "0", "--history", history, "--out", "out", cwd=tmp_path,
    )  # fmt: skip
    assert watched.returncode == 0, watched.stdout + watched.stderr
    assert "run 1: PARTIAL" in watched.stdout and "run 2: PARTIAL" in watched.stdout
    assert "metrics: http://127.0.0.1:" in watched.stdout and "the watch ends" in watched.stdout
    assert "run 2: PARTIAL" in watched.stdout and "failures in a row: 0" in watched.stdout.splitlines()[-1]
    trend = runbook("history", str(SPEC), "--history", history, "--html", "trend.html", cwd=tmp_path)
    assert trend.returncode == 0, trend.stderr
    assert "runs: 2" in trend.stdout and "pass rate: 100.0%" in trend.stdout
    assert "<svg" in (tmp_path / "trend.html").read_text()


def test_sigterm_ends_the_watch_after_its_current_run(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "engine", "watch", str(SPEC), "--schedule", "continuous", "--every", "60s", "--out", "o"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(line.startswith("run 1:") for line in lines):
            lines.append(process.stdout.readline())
        assert any("next at" in line for line in lines), lines
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        rest = process.communicate(timeout=30)[0]
        assert process.returncode == 0, rest
        assert time.monotonic() - started < 10  # the 60 s sleep ended at once
        assert "SIGTERM; ending after the current run" in rest and "the watch ends" in rest
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_watch_refuses_a_broken_spec_and_a_missing_interval(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\nchecks: 3\n")
    done = runbook("watch", str(broken), "--every", "1s", cwd=tmp_path)
    assert done.returncode == 2 and "broken.yaml:" in done.stderr and "Traceback" not in done.stderr
    done = runbook("watch", str(SPEC), "--tags", "smoke", cwd=tmp_path)
    assert done.returncode == 2 and "--every" in done.stderr


def test_run_history_records_a_run(tmp_path):
    history = f"sqlite:///{tmp_path / 'h.sqlite'}"
    done = runbook("run", str(SPEC), "--tags", "smoke", "--history", history, "--out", "out", "-q", cwd=tmp_path)
    assert done.returncode == 4, done.stdout + done.stderr
    trend = runbook("history", "cometapi-chat-completions", "--history", history, cwd=tmp_path)
    assert "runs: 1" in trend.stdout, trend.stdout + trend.stderr


def test_history_prune_deletes_only_runs_older_than_the_span(tmp_path):
    history = f"sqlite:///{tmp_path / 'h.sqlite'}"
    done = runbook("run", str(SPEC), "--tags", "smoke", "--history", history, "--out", "out", "-q", cwd=tmp_path)
    assert done.returncode == 4, done.stdout + done.stderr
    kept = runbook("history", str(SPEC), "--history", history, "--prune", "90d", cwd=tmp_path)
    assert kept.returncode == 0 and "pruned 0 run(s) older than 90d" in kept.stdout + kept.stderr
    assert "runs: 1" in kept.stdout, kept.stdout
    gone = runbook("history", str(SPEC), "--history", history, "--prune", "1s", cwd=tmp_path)  # the run is older
    assert gone.returncode == 0 and "pruned 1 run(s) older than 1s" in gone.stdout + gone.stderr
    assert "runs: 0" in gone.stdout or "no runs" in gone.stdout, gone.stdout


def test_a_bad_history_url_is_a_clean_error_without_the_password(tmp_path):
    done = runbook("history", str(SPEC), "--history", "postgresql://u:hunter2@127.0.0.1:1/x", cwd=tmp_path)
    assert done.returncode == 2 and "hunter2" not in done.stdout + done.stderr and "Traceback" not in done.stderr


def test_alerts_names_each_paging_rule(tmp_path):
    done = runbook("alerts", str(SPEC), "--out", "rules.yml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "rules.yml").read_text()
    assert "alert: RunbookAuthFailing" in text and "owner: platform-secrets" in text
    assert "alert: RunbookWatchStalled" in text and text.count("for: ") == 1  # only the stalled alert waits


def test_alerts_for_makes_the_failing_alerts_wait(tmp_path):
    done = runbook("alerts", str(SPEC), "--for", "10m", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    waits = [line.strip() for line in done.stdout.splitlines() if line.strip().startswith("for: ")]
    assert len(waits) > 1 and waits[:-1] == ["for: 10m"] * (len(waits) - 1) and waits[-1] == "for: 5m"
    bad = runbook("alerts", str(SPEC), "--for", "soon", cwd=tmp_path)
    assert bad.returncode == 2 and "is not a time span" in bad.stderr and "Traceback" not in bad.stderr


class _Page(http.server.BaseHTTPRequestHandler):
    body = b"<h1>Chat completions</h1>\n"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.send_header("content-length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def docs_page() -> Iterator[http.server.ThreadingHTTPServer]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_docs_check_notices_when_the_reference_changes(tmp_path, docs_page):
    specs = tmp_path / "specs"
    shutil.copytree(REPO_ROOT / "specs", specs)
    spec = specs / "cometapi" / "chat-completions.yaml"
    url = f"http://127.0.0.1:{docs_page.server_address[1]}/api"
    text = spec.read_text().replace("https://apidoc.cometapi.com/api-13851472", url)
    spec.write_text(text.replace("extends: ../shared/openai-compatible.yaml", "extends: runbook:openai-compatible"))
    (spec.parent / "fixtures" / "docs-digest.json").unlink(missing_ok=True)
    first = runbook("docs-check", str(spec), cwd=tmp_path)
    assert first.returncode == 4 and "no digest" in first.stdout, first.stdout + first.stderr
    assert runbook("docs-check", str(spec), "--record", cwd=tmp_path).returncode == 0
    same = runbook("docs-check", str(spec), cwd=tmp_path)
    assert same.returncode == 0 and same.stdout.startswith("unchanged"), same.stdout
    _Page.body = b"<h1>Chat completions</h1>\n<p>a new parameter</p>\n"
    try:
        changed = runbook("docs-check", str(spec), cwd=tmp_path)
    finally:
        _Page.body = b"<h1>Chat completions</h1>\n"
    assert changed.returncode == 1 and changed.stdout.startswith("changed"), changed.stdout
    docs_page.shutdown()
    docs_page.server_close()
    gone = runbook("docs-check", str(spec), cwd=tmp_path)
    assert gone.returncode == 4 and "not verified" in gone.stdout, gone.stdout
    assert os.path.exists(spec.parent / "fixtures" / "docs-digest.json")


def test_a_history_that_fails_while_watching_fails_those_runs_and_the_watch_goes_on(tmp_path, monkeypatch):
    from engine import api
    from engine.monitor.history import History, HistoryError

    def refuse(_self: History, _results: object) -> int:
        raise HistoryError("the database is read-only")

    monkeypatch.setattr(History, "record", refuse)
    lines: list[str] = []
    health = api.watch(
        SPEC, every=0.2, runs=2, history_url=f"sqlite:///{tmp_path / 'h.sqlite'}", say=lines.append,
        out_dir=None, selection=api.Selection(schedule="continuous"),
    )  # fmt: skip
    assert health.runs == 2 and health.failures_in_a_row == 2
    assert all("not recorded in the history: the database is read-only" in report.summary for report in health.reports)
