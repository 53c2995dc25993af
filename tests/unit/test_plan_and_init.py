from click.testing import CliRunner

from engine.cli.commands import main

SPEC = "specs/cometapi/chat-completions.yaml"


def test_plan_shows_what_would_be_sent_with_secrets_as_references(monkeypatch):
    monkeypatch.setenv("COMETAPI_API_KEY", "sk-plan-secret-value-0001")
    result = CliRunner().invoke(main, ["plan", SPEC, "--target", "live", "--tags", "smoke"])
    assert result.exit_code == 0, result.output
    assert "base URL: https://api.cometapi.com" in result.output
    assert "POST /v1/chat/completions" in result.output
    assert "Authorization: Bearer $COMETAPI_API_KEY" in result.output
    assert "timeouts: connect 2s, read 30s, deadline 45s" in result.output
    assert "not selected: missing-auth" in result.output and "nothing was sent" in result.output
    assert "sk-plan-secret-value-0001" not in result.output and "Return JSON only" not in result.output


def test_plan_sends_nothing_even_to_an_unreachable_target(monkeypatch):
    monkeypatch.setenv("COMETAPI_BASE_URL", "http://127.0.0.1:9")  # nothing listens; a send would fail loudly
    monkeypatch.delenv("COMETAPI_API_KEY", raising=False)  # a run would refuse without it
    result = CliRunner().invoke(main, ["plan", SPEC, "--target", "live"])
    assert result.exit_code == 0 and "budget: 10 request(s)" in result.output
    assert "(no auth header: this check sends none)" in result.output


def test_init_writes_a_spec_that_extends_the_base_and_validates(tmp_path):
    out = tmp_path / "specs" / "acme" / "chat-completions.yaml"
    result = CliRunner().invoke(main, ["init", "acme", "--out", str(out), "--base-url", "https://api.acme.test"])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "extends: " in text and "openai-compatible.yaml" in text and "ACME_API_KEY" in text
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
