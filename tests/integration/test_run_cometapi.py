"""The whole pipeline over real loopback sockets: spec -> simulator -> evaluation -> reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import SIM_KEY
from engine import api
from engine.cli.commands import main
from support.provider import WellBehavedProvider

EXPECTED_OUTCOMES = {
    "happy-path": (200, "success", "none"),
    "stream-happy-path": (200, "success", "none"),
    "missing-auth": (401, "auth", "page_owner"),
    "invalid-token": (401, "auth", "page_owner"),
    "missing-model": (400, "request_invalid", "fix_request"),
    "empty-messages": (400, "request_invalid", "fix_request"),
    "invalid-role": (400, "request_invalid", "fix_request"),
    "oversized-request": (400, "token_budget", "reduce_input"),
    "unknown-model": (404, "model_config", "fix_configuration"),
    "wrong-path": (404, "endpoint_config", "fix_configuration"),
}
CHECKS_ONLY = api.Selection(tags=("smoke", "malformed"))  # every check of the shipped spec, no drill


def copy_with_checks(tmp_path: Path, spec: Path, shared_base: Path, checks: str) -> Path:
    """The shipped spec copied into tmp_path (its extends made absolute), with `checks` appended."""
    copy = tmp_path / "spec.yaml"
    copy.write_text(spec.read_text().replace("../shared/", f"{shared_base}/") + checks)
    return copy


def test_every_check_is_classified_with_the_source_documents_action(cometapi_run):
    outcome = cometapi_run.outcome
    seen = {c.id: (c.observed.status, c.class_, c.action) for c in outcome.results.checks}
    assert seen == EXPECTED_OUTCOMES
    assert all(c.status == "passed" for c in outcome.results.checks)
    assert all(c.retry == "no" and c.fallback == "no" for c in outcome.results.checks)


def test_criteria_are_honest_about_what_this_run_cannot_prove(cometapi_run, cometapi_spec):
    outcome = cometapi_run.outcome
    verdicts = {c.id: c.verdict for c in outcome.results.criteria}
    assert verdicts["malformed-requests-non-retryable"] == "met"
    assert verdicts["owners-named"] == "met"
    assert verdicts["minimal-completion-from-production"] == "not_verified"  # live target only
    assert verdicts["retry-bounded-with-jitter"] == "met"  # proven by drills on the simulator
    assert verdicts["auth-failures-do-not-fall-back"] == "met"
    assert verdicts["streaming-tested-separately"] == "met"  # stream drills on the simulator
    assert verdicts["parser-tolerance"] == "not_verified"  # its drills passed; the happy path needs the provider
    assert verdicts["sanitized-fixtures-checked-in"] == "not_verified"  # needs a real target
    assert outcome.results.summary.verdict == "not_verified" and outcome.exit_code == 4
    assert outcome.results.summary.blocking == [
        "endpoint-and-auth-match-reference",
        "minimal-completion-from-production",
        "parser-tolerance",
        "sanitized-fixtures-checked-in",
    ]
    steps = {c.id: c.next_step for c in outcome.results.criteria}
    assert steps["parser-tolerance"] == f"runbook run {cometapi_spec} --target live"


def test_three_reports_are_written_from_one_results_document(cometapi_run):
    outcome, out = cometapi_run
    names = sorted(p.name for p in outcome.written)
    assert names == ["cometapi-chat-completions.html", "cometapi-chat-completions.json", "cometapi-chat-completions.md"]
    document = json.loads((out / "cometapi-chat-completions.json").read_text())
    assert document["schema_version"] == "2.2" and document["spec"]["name"] == "cometapi-chat-completions"
    assert document["summary"]["verdict"] == "not_verified"
    assert document["drills"] and all(d["status"] == "passed" for d in document["drills"])
    assert {c["id"] for c in document["checks"]} == set(EXPECTED_OUTCOMES)
    assert document["checks"][0]["class"] == "success"
    html = (out / "cometapi-chat-completions.html").read_text()
    assert all(f'id="check-{check_id}"' in html for check_id in EXPECTED_OUTCOMES)


def test_prompt_and_answer_text_stay_out_of_reports(cometapi_run):
    files = sorted(path for path in cometapi_run.reports.rglob("*") if path.is_file())  # the run's history too
    assert [p.suffix for p in files if p.parent == cometapi_run.reports] == [".html", ".json", ".md"]
    for path in files:
        text = path.read_text()
        assert "Return JSON only" not in text and '{\\"status\\":\\"ok\\"}' not in text
        assert "ok ok ok" not in text


def test_live_target_secret_never_lands_in_output(tmp_path, monkeypatch, cometapi_spec):
    with WellBehavedProvider(keys=(SIM_KEY,), models=("gpt-4o-mini",)) as provider:
        monkeypatch.setenv("COMETAPI_BASE_URL", provider.base_url)
        monkeypatch.setenv("COMETAPI_API_KEY", SIM_KEY)
        result = CliRunner().invoke(main, ["run", str(cometapi_spec), "--target", "live", "--out", str(tmp_path)])
    assert result.exit_code == 1, result.output
    assert "PASS happy-path" in result.output
    assert SIM_KEY not in result.output
    for path in (path for path in tmp_path.rglob("*") if path.is_file()):  # the run's history too
        assert SIM_KEY not in path.read_text()
    document = json.loads((tmp_path / "cometapi-chat-completions.json").read_text())
    criteria = {c["id"]: c for c in document["criteria"]}
    assert criteria["minimal-completion-from-production"]["verdict"] == "met"  # the live-only criterion is judged here
    # Not ready for one reason only: the shipped spec has no recorded fixture for the happy path.
    assert document["summary"]["blocking"] == ["sanitized-fixtures-checked-in"]
    assert criteria["sanitized-fixtures-checked-in"]["reasons"][0].startswith("no fixture checked in for happy-path")


def test_live_target_without_a_key_is_a_usage_error(tmp_path, monkeypatch, cometapi_spec):
    monkeypatch.delenv("COMETAPI_API_KEY", raising=False)
    result = CliRunner().invoke(main, ["run", str(cometapi_spec), "--target", "live", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "COMETAPI_API_KEY" in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_wrong_expectation_fails_the_check_and_the_run(tmp_path, cometapi_spec, shared_base):
    broken = copy_with_checks(
        tmp_path,
        cometapi_spec,
        shared_base,
        "\nchecks:\n  - id: invalid-token\n    expect: {class: auth, retry: maybe, fallback: yes, action: page_owner}\n",
    )
    outcome = api.run(broken, out_dir=None, selection=api.Selection(only=("invalid-token",)))
    by_id = {c.id: c for c in outcome.results.checks}
    assert by_id["invalid-token"].status == "failed"
    assert [m.message for m in by_id["invalid-token"].mismatches] == [
        "retry: expected maybe, observed no (rule auth)",
        "fallback: expected yes, observed no (rule auth)",
    ]
    verdicts = {c.id: c.verdict for c in outcome.results.criteria}
    assert verdicts["malformed-requests-non-retryable"] == "not_met"
    assert outcome.results.summary.verdict == "not_ready" and outcome.exit_code == 1


def test_unreachable_target_is_recorded_not_raised(monkeypatch, cometapi_spec):
    from support.hostile import closed_port

    monkeypatch.setenv("COMETAPI_BASE_URL", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("COMETAPI_API_KEY", "sk-whatever-1234")
    outcome = api.run(cometapi_spec, target="live", out_dir=None, selection=CHECKS_ONLY)
    assert len(outcome.results.checks) == len(EXPECTED_OUTCOMES)
    assert {c.observed.transport_error for c in outcome.results.checks} == {"connect"}
    assert {c.class_ for c in outcome.results.checks} == {"network"}
    assert outcome.exit_code == 1


def test_a_smoke_run_is_partial_and_never_ready(tmp_path, cometapi_spec):
    result = CliRunner().invoke(
        main, ["run", str(cometapi_spec), "--tags", "smoke", "--out", str(tmp_path), "--format", "json"]
    )
    assert result.exit_code == 4, result.output
    assert "Verdict: PARTIAL" in result.output and "(--tags smoke)" in result.output
    document = json.loads((tmp_path / "cometapi-chat-completions.json").read_text())
    assert document["selection"] == "--tags smoke" and document["summary"]["verdict"] == "partial"
    statuses = {c["id"]: (c["status"], c["selected"]) for c in document["checks"]}
    assert statuses["happy-path"] == ("passed", True) and statuses["missing-auth"] == ("skipped", False)
    left_out = [c["id"] for c in document["criteria"] if not c["applicable"]]
    assert "auth-failures-do-not-fall-back" in left_out and "owners-named" not in left_out


def test_a_failing_selected_check_still_fails_a_partial_run(tmp_path, cometapi_spec, shared_base):
    broken = copy_with_checks(
        tmp_path, cometapi_spec, shared_base, "\nchecks:\n  - id: happy-path\n    expect: {status: 201}\n"
    )
    outcome = api.run(broken, out_dir=None, selection=api.Selection(tags=("smoke",)))
    assert outcome.results.summary.verdict == "not_ready" and outcome.exit_code == 1


def test_partial_run_reports_say_not_applicable_and_do_not_claim_readiness(cometapi_spec):
    from engine.report import render_html, render_markdown

    outcome = api.run(cometapi_spec, out_dir=None, selection=api.Selection(tags=("smoke",)))
    document = outcome.results.to_json_dict()
    for text in (render_markdown(document), render_html(document)):
        assert "not applicable" in text and "Partial run" in text and "(--tags smoke)" in text
        assert "Ready for controlled production traffic" not in text


def test_a_live_target_that_is_runbooks_own_simulator_is_not_a_provider(sim_server, monkeypatch, cometapi_spec):
    monkeypatch.setenv("COMETAPI_BASE_URL", sim_server.base_url)
    monkeypatch.setenv("COMETAPI_API_KEY", SIM_KEY)
    outcome = api.run(cometapi_spec, target="live", out_dir=None, selection=CHECKS_ONLY)
    verdicts = {c.id: (c.verdict, c.reasons) for c in outcome.results.criteria}
    verdict, reasons = verdicts["minimal-completion-from-production"]
    assert verdict == "not_verified" and "runbook's own simulator" in reasons[0]
    assert outcome.results.target.self_test and outcome.results.summary.verdict != "ready"


def test_every_attempt_carries_a_client_request_id_and_is_logged_without_content(monkeypatch, child_spec):
    from support.hostile import HostileServer

    with HostileServer() as server:
        monkeypatch.setenv("COMETAPI_BASE_URL", server.base_url)
        monkeypatch.setenv("COMETAPI_API_KEY", "sk-log-test-0001")
        spec = child_spec("contract: {path: /echo-request-id}\n", name="echo")
        outcome = api.run(spec, target="live", out_dir=None, selection=api.Selection(only=("happy-path",)))
    (check,) = [c for c in outcome.results.checks if c.selected]
    assert check.log.client_request_id.startswith("rb-")
    assert check.observed.request_id == check.log.client_request_id  # the server saw the header
    assert (check.log.endpoint_path, check.log.base_url_alias, check.log.http_status) == (
        "/echo-request-id",
        "cometapi-live",
        200,
    )
    assert check.log.environment == "test" and check.log.retry_count == 0 and check.log.parser_outcome == "ok"
    assert "Return JSON only" not in check.log.model_dump_json()


@pytest.mark.parametrize(
    "path, broken",
    [
        ("/truncated", "the exchange ended with truncated"),
        ("/drip", "the exchange ended with deadline"),
        ("/error-in-200", "parser error_in_body"),
    ],
)
def test_a_success_status_alone_cannot_pass_a_broken_answer(monkeypatch, child_spec, path, broken):
    from support.hostile import HostileServer

    spec = child_spec(
        f"contract:\n  path: {path}\n"
        "  timeouts: {connect: 1s, read: 300ms, deadline: 500ms}\n"
        "checks:\n  - id: status-only\n    expect: {status: 2xx}\n",
        name="broken",
    )
    with HostileServer() as server:
        monkeypatch.setenv("COMETAPI_BASE_URL", server.base_url)
        monkeypatch.setenv("COMETAPI_API_KEY", "sk-broken-0123456789")
        outcome = api.run(spec, target="live", out_dir=None, selection=api.Selection(only=("status-only",)))
    (check,) = [c for c in outcome.results.checks if c.selected]
    assert check.status == "failed" and [m.field for m in check.mismatches] == ["complete"]
    assert broken in check.mismatches[0].message
