import socket

import pytest
from click.testing import CliRunner

from engine.cli.commands import main


@pytest.fixture(scope="module")
def spec(cometapi_spec) -> str:
    return str(cometapi_spec)


def test_plan_shows_what_would_be_sent_with_secrets_as_references(monkeypatch, spec):
    monkeypatch.setenv("COMETAPI_API_KEY", "sk-plan-secret-value-0001")
    monkeypatch.delenv("COMETAPI_BASE_URL", raising=False)  # the spec's default base URL
    result = CliRunner().invoke(main, ["plan", spec, "--target", "live", "--tags", "smoke"])
    assert result.exit_code == 0, result.output
    assert "base URL: https://api.cometapi.com" in result.output
    assert "POST /v1/chat/completions" in result.output
    assert "Authorization: Bearer $COMETAPI_API_KEY" in result.output
    assert "timeouts: connect 2s, read 30s, deadline 45s" in result.output
    assert "not selected: missing-auth" in result.output and "nothing was sent" in result.output
    assert "sk-plan-secret-value-0001" not in result.output and "Return JSON only" not in result.output


def test_plan_sends_nothing_even_to_a_listening_target(monkeypatch, spec):
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.setblocking(False)
        base_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        monkeypatch.setenv("COMETAPI_BASE_URL", base_url)  # any request the plan sent would connect here
        monkeypatch.delenv("COMETAPI_API_KEY", raising=False)  # a run would refuse without it; a plan does not
        result = CliRunner().invoke(main, ["plan", spec, "--target", "live"])
        with pytest.raises(BlockingIOError):
            listener.accept()  # no connection is waiting: nothing was sent
    assert result.exit_code == 0, result.output
    assert f"base URL: {base_url}" in result.output and "budget: 10 request(s)" in result.output
    assert "(no auth header: this check sends none)" in result.output


def test_init_writes_a_spec_that_extends_the_base_and_validates(tmp_path, monkeypatch, repo_root):
    monkeypatch.chdir(repo_root)
    out = tmp_path / "specs" / "acme" / "chat-completions.yaml"
    result = CliRunner().invoke(main, ["init", "acme", "--out", str(out), "--base-url", "https://api.acme.test"])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "extends: runbook:openai-compatible" in text and "ACME_API_KEY" in text
    assert "$schema=" in text and "../../../" not in text  # a schema path that leaves the tree is absolute
    lint = CliRunner().invoke(main, ["lint", "--strict", str(out)])
    assert lint.exit_code == 0, lint.output
    plan = CliRunner().invoke(main, ["plan", str(out), "--target", "live"])
    assert "base URL: https://api.acme.test" in plan.output


def test_init_never_overwrites_without_force(tmp_path):
    out = tmp_path / "x.yaml"
    out.write_text("mine")
    result = CliRunner().invoke(main, ["init", "acme", "--out", str(out)])
    assert result.exit_code == 2 and "exists" in result.output and out.read_text() == "mine"


def test_init_refuses_a_bad_provider_name(tmp_path):
    result = CliRunner().invoke(main, ["init", "Acme Corp", "--out", str(tmp_path / "x.yaml")])
    assert result.exit_code == 2 and "lowercase" in result.output
