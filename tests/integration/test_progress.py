"""Progress and terminal manners of `runbook run`. As CI sees it (stderr is not a terminal): one line
per finished check and drill, with the right counts; --quiet prints only the verdict, its notes and
the reports; --verbose shows what a failed check saw; no colour and no carriage return reach a pipe.
On a real (pseudo-)terminal: one line rewritten in place and cleared, coloured unless NO_COLOR."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from conftest import PROVIDER_KEY
from engine import api
from engine.cli.commands import main
from engine.cli.progress import CLEAR_LINE
from support.provider import AlwaysOkServer

LINE = re.compile(r"^  \[(\d+)/(\d+)\] (check|drill) (\S+): (passed|FAILED|ERROR|skipped)(?: \((.*)\))?$")


def run(*args: str) -> tuple[Result, dict]:
    """`runbook run` through CliRunner (not a TTY); the result and the results JSON it wrote."""
    out = Path(args[args.index("--out") + 1])
    result = CliRunner().invoke(main, ["run", *args, "--format", "json"], env={"TERM": "xterm-256color"})
    (written,) = out.glob("*.json")
    return result, json.loads(written.read_text())


def progress(stderr: str) -> list[tuple[int, int, str, str, str]]:
    lines = stderr.splitlines()
    matched = [LINE.match(line) for line in lines]
    assert all(matched), [line for line, m in zip(lines, matched, strict=True) if not m]
    return [(int(m[1]), int(m[2]), m[3], m[4], m[5]) for m in matched if m]


def ran(document: dict) -> list[tuple[str, str]]:
    """(kind, id) of every check and drill the run selected."""
    items = [("check", c["id"]) for c in document["checks"] if c["selected"]]
    return items + [("drill", d["id"].removeprefix("drill:")) for d in document["drills"] if d["selected"]]


def test_without_a_tty_each_finished_check_gets_one_line_with_counts(tmp_path, cometapi_spec):
    result, document = run(str(cometapi_spec), "--tags", "smoke", "--out", str(tmp_path))
    assert result.exit_code == 4, result.output
    lines = progress(result.stderr)
    selected = ran(document)
    assert [(done, total) for done, total, *_ in lines] == [(n, len(selected)) for n in range(1, len(selected) + 1)]
    assert sorted((kind, item_id) for _, _, kind, item_id, _ in lines) == sorted(selected)
    statuses = {c["id"]: c["status"] for c in document["checks"]}
    assert all(statuses[item_id] == status for *_, item_id, status in lines)
    assert "[1/" not in result.stdout and "Verdict: PARTIAL" in result.stdout  # progress stays off stdout
    assert "\x1b" not in result.output and "\r" not in result.output  # no colour, no rewriting, in a pipe


def test_checks_and_drills_are_counted_together(tmp_path, cometapi_spec):
    only = "happy-path,missing-auth,auth-401-no-fallback,server-503-then-success"
    result, document = run(str(cometapi_spec), "--only", only, "--out", str(tmp_path))
    lines = progress(result.stderr)
    assert [(done, total, kind) for done, total, kind, _, _ in lines] == [
        (1, 4, "check"),
        (2, 4, "check"),
        (3, 4, "drill"),
        (4, 4, "drill"),
    ]
    assert {item_id for *_, item_id, _ in lines} == set(only.split(","))
    drills = {d["id"]: d["status"] for d in document["drills"]}
    assert [status for *_, item_id, status in lines[2:]] == [drills[f"drill:{i}"] for _, _, _, i, _ in lines[2:]]


def test_quiet_prints_only_the_verdict_its_notes_and_the_reports(tmp_path, cometapi_spec):
    result, document = run(str(cometapi_spec), "--tags", "smoke", "--out", str(tmp_path), "-q")
    assert result.exit_code == 4, result.output  # the same exit code as without --quiet
    verdict = next(line for line in result.stdout.splitlines() if line.startswith("Verdict: "))
    notes = [f"  note: {note}" for note in document["summary"]["notes"]]
    assert result.stdout.splitlines() == [
        verdict,
        *notes,
        "Reports:",
        f"  {tmp_path / 'cometapi-chat-completions.json'}",
    ]
    assert verdict.startswith("Verdict: PARTIAL") and "[1/" not in result.stderr


@pytest.fixture
def always_ok(monkeypatch):
    """The `live` target pointed at a server that answers 200 to everything (its checks fail)."""
    with AlwaysOkServer() as server:
        monkeypatch.setenv("COMETAPI_BASE_URL", server.base_url)
        monkeypatch.setenv("COMETAPI_API_KEY", PROVIDER_KEY)
        yield server


def test_verbose_shows_what_a_failed_check_saw(tmp_path, cometapi_spec, always_ok):
    options = (str(cometapi_spec), "--target", "live", "--only", "missing-auth,happy-path")
    plain, _ = run(*options, "--out", str(tmp_path / "plain"))
    verbose, document = run(*options, "--out", str(tmp_path / "verbose"), "--verbose")
    assert plain.exit_code == verbose.exit_code == 1, verbose.output
    (failed,) = [c for c in document["checks"] if c["status"] == "failed"]
    assert failed["id"] == "missing-auth"
    mismatches = [f"    missing-auth: {m['message']}" for m in failed["mismatches"]]
    lines = verbose.stdout.splitlines()
    assert mismatches and all(line in lines for line in mismatches)
    assert "    missing-auth: observed 200 in " in verbose.stdout
    assert f"    missing-auth: classified by rule {failed['rule']}: class {failed['class']}" in verbose.stdout
    assert "classified by rule" not in plain.stdout  # the default summary is unchanged
    added = [line for line in lines if line.startswith("    missing-auth: ") and line not in mismatches]
    assert len(lines) - len(added) == len(plain.stdout.splitlines())  # verbose only adds those lines
    assert ("check", "missing-auth", "FAILED") in [(k, i, s) for _, _, k, i, s in progress(verbose.stderr)]
    assert PROVIDER_KEY not in verbose.output


def test_a_client_under_test_reports_each_drill_with_its_calls(tmp_path, child_spec, repo_root):
    client = repo_root / "tests" / "clients" / "retries_401.py"  # policy-correct but for 401s
    spec = child_spec(f"clients:\n  app:\n    command: [python, {client}]\n    timeout: 40s\n", name="cut")
    events: list[api.ProgressEvent] = []
    only = api.Selection(only=("server-503-then-success", "auth-401-no-fallback"))
    outcome = api.run(spec, out_dir=None, client="app", selection=only, progress=events.append)
    drills = {d.id.removeprefix("drill:"): d.status for d in outcome.results.drills if d.selected}
    assert (
        {e.id: e.status for e in events}
        == drills
        == {"server-503-then-success": "passed", "auth-401-no-fallback": "failed"}
    )
    assert [(e.kind, e.client, e.done, e.total) for e in events] == [("drill", "app", 1, 2), ("drill", "app", 2, 2)]
    assert [e.failures_so_far for e in events] in ([0, 1], [1, 1])  # as they finish: 1 call each, in any order
    assert all(re.fullmatch(r"client app: 1 call\(s\), \d+\.\ds", e.detail) for e in events), events


@pytest.mark.parametrize("no_color", [False, True])
def test_on_a_real_terminal_the_line_is_rewritten_and_cleared(tmp_path, cometapi_spec, no_color):
    """stderr on a pseudo-terminal, stdout on a pipe (`runbook run ... > out.txt` on a terminal)."""
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS")}
    env.update({"TERM": "xterm", **({"NO_COLOR": "1"} if no_color else {})})
    args = [sys.executable, "-m", "engine", "run", str(cometapi_spec), "--tags", "smoke", "--out", str(tmp_path)]
    with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=follower, env=env, text=True) as child:
        os.close(follower)
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        stdout = child.stdout.read() if child.stdout else ""
    os.close(leader)
    assert child.returncode == 4 and "Verdict: PARTIAL" in stdout
    stderr = seen.decode()
    assert stderr.startswith(CLEAR_LINE + "[1/2] 0 failed · check happy-path: ") and stderr.endswith(CLEAR_LINE)
    assert "\n" not in stderr  # one line, rewritten in place
    assert ("\x1b[32mpassed\x1b[0m" in stderr) is not no_color
    assert "\x1b" not in stdout  # stdout is a pipe: no colour there
