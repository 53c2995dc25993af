import json

import pytest
from click.testing import CliRunner

from engine.cli.commands import main


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
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cometapi-chat-completions.json"]
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
