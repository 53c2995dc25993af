import io
import json
import re
import unicodedata

import pytest
from click.testing import CliRunner

from engine.api import ProgressEvent
from engine.cli.commands import main
from engine.cli.progress import CLEAR_LINE, ProgressPrinter, colour_enabled, shown_lines


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture(scope="module")
def spec(cometapi_spec) -> str:
    return str(cometapi_spec)


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_has_help_with_an_example(command):
    result = invoke(command, "--help")
    assert result.exit_code == 0 and "Example:" in result.output and "runbook " + command in result.output


def test_top_level_help_has_examples_and_exit_codes():
    result = invoke("--help")
    assert result.exit_code == 0 and "Example:" in result.output and "Exit codes" in result.output


def test_validate_ok(spec):
    result = invoke("validate", spec)
    assert result.exit_code == 0 and "1 spec(s) valid" in result.output


def test_validate_missing_file_is_located_and_exits_2(cwd_elsewhere):
    result = invoke("validate", "nope.yaml")
    assert result.exit_code == 2 and "nope.yaml:1:1: cannot read spec: No such file or directory" in result.output
    assert "Traceback" not in result.output


def test_bad_var_syntax_is_a_usage_error(spec):
    result = invoke("run", spec, "--var", "model")
    assert result.exit_code == 2 and "KEY=VALUE" in result.output


def test_unknown_format_is_a_usage_error(spec):
    result = invoke("run", spec, "--format", "pdf")
    assert result.exit_code == 2 and "html, md, json" in result.output


def test_unknown_target_is_a_usage_error(spec):
    result = invoke("run", spec, "--target", "staging")
    assert result.exit_code == 2 and "no target 'staging'" in result.output


def test_run_writes_only_the_asked_formats_and_report_re_renders(tmp_path, spec):
    options = ["--out", str(tmp_path), "--format", "json", "--var", "model=gpt-5-mini", "--tags", "smoke"]
    result = invoke("run", spec, *options)
    assert result.exit_code == 4, result.output  # partial: a smoke run claims no readiness (and nothing failed)
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["cometapi-chat-completions.json"]
    saved = tmp_path / "cometapi-chat-completions.json"
    assert json.loads(saved.read_text())["contract"]["model"] == "gpt-5-mini"
    again = invoke("report", str(saved), "--out", str(tmp_path / "again"), "--format", "html,md")
    assert again.exit_code == 0
    assert sorted(p.name for p in (tmp_path / "again").iterdir()) == [
        "cometapi-chat-completions.html",
        "cometapi-chat-completions.md",
    ]


def test_report_on_a_file_that_is_not_json(tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text("{nope")
    result = invoke("report", str(bad))
    assert result.exit_code == 2 and "not a runbook results JSON file" in result.output


def test_unexpected_failure_exits_3_without_a_traceback(monkeypatch, spec):
    from engine import api

    def explode(*_a, **_k):
        raise RuntimeError("boom")

    monkeypatch.setattr(api, "run", explode)
    result = invoke("run", spec)
    assert result.exit_code == 3 and "internal error (RuntimeError): boom" in result.output
    assert "Traceback" not in result.output


def test_python_dash_m_engine_works():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "engine", "--version"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and "runbook" in done.stdout


@pytest.mark.parametrize("content", ["[1, 2]", '{"schema_version": "1.1"}', '{"spec": {"name": "../evil"}}'])
def test_report_refuses_documents_that_are_not_results(tmp_path, content):
    bad = tmp_path / "x.json"
    bad.write_text(content)
    result = invoke("report", str(bad), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2 and "not a runbook results JSON file" in result.output
    assert "Traceback" not in result.output


def test_reports_are_written_with_ordinary_permissions(tmp_path, spec):
    import os
    import stat

    result = invoke("run", spec, "--out", str(tmp_path), "--format", "json", "--tags", "smoke")
    assert result.exit_code == 4, result.output  # partial: a smoke run claims no readiness
    mode = stat.S_IMODE(os.stat(tmp_path / "cometapi-chat-completions.json").st_mode)
    current = os.umask(0)
    os.umask(current)
    assert mode == 0o666 & ~current


# ---- progress and terminal manners (engine/cli/progress.py) ----------------------------------

HOSTILE = "\x1b[2K\rVerdict: READY for controlled production traffic"
SGR = re.compile(r"\x1b\[\d+m")


class FakeTTY(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def event(done: int = 1, total: int = 3, status: str = "passed", **fields) -> ProgressEvent:
    fields = {"kind": "check", "id": "missing-auth", "detail": "401 3ms", "failures_so_far": 0, **fields}
    return ProgressEvent(done=done, total=total, status=status, **fields)


def cells(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


@pytest.mark.parametrize(
    "environ, tty, expected",
    [
        ({"TERM": "xterm-256color"}, True, True),
        ({"TERM": "xterm-256color"}, False, False),  # a pipe, a file, CliRunner
        ({"TERM": "xterm", "NO_COLOR": "1"}, True, False),
        ({"TERM": "xterm", "NO_COLOR": ""}, True, False),  # set to anything, even nothing
        ({"TERM": "dumb"}, True, False),
        ({}, True, True),
    ],
)
def test_colour_only_on_a_tty_without_no_color_or_a_dumb_term(environ, tty, expected):
    stream = FakeTTY() if tty else io.StringIO()
    assert colour_enabled(stream, environ) is expected


def test_a_closed_stream_is_not_a_tty(tmp_path):
    stream = (tmp_path / "out.txt").open("w")
    stream.close()  # isatty() now raises ValueError
    assert colour_enabled(stream, {}) is False


def test_the_tty_progress_line_is_rewritten_in_place_and_cleared_before_the_summary():
    stream = FakeTTY()
    printer = ProgressPrinter(stream, live=True, colour=False, width=lambda: 80)
    printer(event(1, 3))
    printer(event(2, 3, "failed", id="invalid-token", failures_so_far=1))
    printer(event(3, 3, kind="drill", id="retry-jitter", detail="3x → success", failures_so_far=1))
    printer.clear()
    text = stream.getvalue()
    assert "\n" not in text  # one line, rewritten
    assert text.count(CLEAR_LINE) == 4 and text.endswith(CLEAR_LINE)  # what comes next starts on a clean line
    shown = [line for line in text.split(CLEAR_LINE) if line]
    assert shown == [
        "[1/3] 0 failed · check missing-auth: passed (401 3ms)",
        "[2/3] 1 failed · check invalid-token: FAILED (401 3ms)",
        "[3/3] 1 failed · drill retry-jitter: passed (3x → success)",
    ]
    printer.clear()
    assert stream.getvalue() == text  # nothing showing, nothing to clear


def test_the_tty_progress_line_is_never_wider_than_the_terminal():
    stream = FakeTTY()
    printer = ProgressPrinter(stream, live=True, colour=True, width=lambda: 30)
    printer(event(12, 47, "failed", id="a-rather-long-check-id-indeed", failures_so_far=2))
    printer(event(13, 47, detail="全角の文字" * 10, failures_so_far=2))
    for line in stream.getvalue().split(CLEAR_LINE):
        assert cells(SGR.sub("", line)) <= 29  # the last column is left alone: some terminals wrap there
    assert "…" in stream.getvalue() and "\x1b[31m2 failed\x1b[0m" in stream.getvalue()


def test_a_client_under_test_keeps_one_line_per_drill_on_a_tty():
    stream = FakeTTY()
    printer = ProgressPrinter(stream, live=True, colour=False, width=lambda: 100)
    printer(event(1, 2, kind="drill", id="auth-401-no-fallback", detail="client app: 1 call(s), 0.4s", client="app"))
    printer.clear()
    assert stream.getvalue() == (
        f"{CLEAR_LINE}  [1/2] drill auth-401-no-fallback: passed (client app: 1 call(s), 0.4s)\n"
        f"[1/2] 0 failed · drill auth-401-no-fallback: passed (client app: 1 call(s), 0.4s){CLEAR_LINE}"
    )


def test_without_a_tty_each_item_gets_one_plain_line():
    stream = io.StringIO()
    printer = ProgressPrinter.on(stream, {"TERM": "xterm"})
    printer(event(3, 47))
    printer(event(12, 47, "failed", kind="drill", id="retry-jitter", detail=""))
    printer(event(13, 47, "error", detail="secret X is not set"))
    printer.clear()
    assert stream.getvalue().splitlines() == [
        "  [3/47] check missing-auth: passed (401 3ms)",
        "  [12/47] drill retry-jitter: FAILED",
        "  [13/47] check missing-auth: ERROR (secret X is not set)",
    ]


@pytest.mark.parametrize("live", [True, False])
def test_progress_text_from_a_hostile_id_is_escaped(live):
    stream = FakeTTY() if live else io.StringIO()
    printer = ProgressPrinter(stream, live=live, colour=False, width=lambda: 500)
    printer(event(id=HOSTILE, detail=HOSTILE, client=HOSTILE if live else None))
    printer.clear()
    text = stream.getvalue().replace(CLEAR_LINE, "")
    assert "\x1b" not in text and "\r" not in text
    assert "\\x1b[2K\\rVerdict: READY" in text


def test_a_stream_that_refuses_writes_ends_the_progress_not_the_run():
    class Closed(io.StringIO):
        def write(self, _text):
            raise BrokenPipeError

    printer = ProgressPrinter(Closed(), live=False)
    printer(event())
    printer(event())
    assert printer.broken


def test_summary_colour_marks_and_verdict_only_after_escaping():
    lines = [
        "  PASS happy-path  200 3ms",
        "  FAIL missing-auth  200 3ms",
        f"    missing-auth: observed\n{HOSTILE}",  # a server's newline: its own line, escaped, never coloured
        "  NOT MET      auth-failures-do-not-fall-back",
        "Verdict: NOT READY",
    ]
    plain = shown_lines(lines, colour=False)
    assert "\x1b" not in plain and "\\x1b[2K\\rVerdict: READY" in plain
    coloured = shown_lines(lines, colour=True).splitlines()
    assert coloured[0] == "  \x1b[32mPASS\x1b[0m happy-path  200 3ms"
    assert coloured[1] == "  \x1b[31mFAIL\x1b[0m missing-auth  200 3ms"
    assert coloured[3] == "\\x1b[2K\\rVerdict: READY for controlled production traffic"
    assert coloured[4] == "  \x1b[31mNOT MET\x1b[0m      auth-failures-do-not-fall-back"
    assert coloured[5] == "\x1b[31mVerdict: NOT READY\x1b[0m"


def test_quiet_and_verbose_together_are_a_usage_error(spec):
    result = invoke("run", spec, "--quiet", "--verbose")
    assert result.exit_code == 2 and "--quiet and --verbose cannot be used together" in result.output


@pytest.mark.parametrize("command", ["validate", "lint", "plan", "run"])
def test_a_var_the_spec_does_not_declare_is_an_error_with_a_suggestion(spec, command, tmp_path):
    result = invoke(command, spec, "--var", "modle=x", *(["--out", str(tmp_path)] if command == "run" else []))
    assert result.exit_code == 2, result.output
    assert "vars: the spec has no variable 'modle' (did you mean 'model'?)" in result.output
    assert "Traceback" not in result.output and not list(tmp_path.iterdir())  # nothing ran


def test_a_var_with_no_close_name_lists_the_spec_variables():
    from support.specs import MINIMAL

    result = invoke("validate", str(MINIMAL), "--var", "temperature=0")
    wanted = "the spec has no variable 'temperature' (--var sets a variable the spec declares; its vars: limit, model)"
    assert result.exit_code == 2 and wanted in result.output


@pytest.mark.parametrize("command", ["validate", "lint", "plan", "run"])
def test_validate_lint_plan_and_run_take_an_env_file(command):
    result = invoke(command, "--help")
    assert result.exit_code == 0 and "--env-file PATH" in result.output


def test_run_and_validate_take_several_specs_and_folders():
    for command in ("validate", "lint", "run"):
        usage = invoke(command, "--help").output.splitlines()[0]
        assert "SPECS..." in usage, (command, usage)
