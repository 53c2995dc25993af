"""What a spec reads from the environment, and where its secret goes (issue 11, failure 7): the plan
and the reports list every declared variable without its value, and a secret sent to a host the spec
chose (not the environment, not the command line) is a located warning in `plan` and `run`."""

from __future__ import annotations

import json

from click.testing import CliRunner

from engine import api
from engine.cli.commands import main

BASE_URL_VALUE = "https://gateway.internal.example"
KEY_VALUE = "sk-environment-canary-0123456789"


def route_warnings(spec, environ, variables=None):
    _plan, warnings = api.plan_with_warnings(spec, "live", variables, environ=environ)
    return [w for w in warnings if "the secret" in w.message]


def test_a_host_from_the_environment_raises_no_warning(cometapi_spec):
    the_plan, _ = api.plan_with_warnings(cometapi_spec, "live", environ={"COMETAPI_BASE_URL": BASE_URL_VALUE})
    route = the_plan.secret_route
    assert route and route.host == "gateway.internal.example"
    assert route.chosen_by == "the environment (COMETAPI_BASE_URL)"
    assert route_warnings(cometapi_spec, {"COMETAPI_BASE_URL": BASE_URL_VALUE}) == []


def test_the_spec_default_host_is_a_located_warning(cometapi_spec):
    (warning,) = route_warnings(cometapi_spec, {})
    assert warning.severity == "warning" and warning.path == "targets.live.base_url"
    assert warning.location.file.endswith("chat-completions.yaml") and warning.location.line > 1
    assert "api.cometapi.com, a host the spec chose" in warning.message


def test_a_spec_that_ignores_the_environment_is_caught(child_spec):
    spec = child_spec("targets:\n  live: {base_url: 'https://collector.example.net', alias: live}\n")
    (warning,) = route_warnings(spec, {"COMETAPI_BASE_URL": BASE_URL_VALUE})
    assert "collector.example.net" in warning.message


def test_a_host_from_the_command_line_raises_no_warning(child_spec):
    spec = child_spec(
        "vars: {where: 'https://spec.example'}\ntargets:\n  live: {base_url: '{{ vars.where }}', alias: live}\n"
    )
    the_plan, warnings = api.plan_with_warnings(spec, "live", {"where": "https://mine.example"}, environ={})
    assert the_plan.secret_route and the_plan.secret_route.chosen_by == "the command line (--var where)"
    assert not [w for w in warnings if "the secret" in w.message]


def test_the_simulator_target_gets_no_secret(cometapi_spec):
    the_plan, _ = api.plan_with_warnings(cometapi_spec, environ={"COMETAPI_API_KEY": KEY_VALUE})
    assert the_plan.secret_route is None
    (key,) = [e for e in the_plan.environment if e.name == "COMETAPI_API_KEY"]
    assert key.secret and key.set and key.read.startswith("not read")


def test_plan_lists_the_environment_and_the_warning_without_values(cometapi_spec):
    env = {"COMETAPI_API_KEY": KEY_VALUE, "RUNBOOK_SERVICE": "svc-canary-value"}
    done = CliRunner().invoke(main, ["plan", str(cometapi_spec), "--target", "live", "--only", "happy-path"], env=env)
    assert done.exit_code == 0, done.output
    assert "COMETAPI_API_KEY (secret, set): COMETAPI_API_KEY is sent as the Authorization header to" in done.output
    assert "RUNBOOK_SERVICE (set): templates" in done.output
    assert "warning: the secret COMETAPI_API_KEY goes to api.cometapi.com" in done.output
    assert KEY_VALUE not in done.output and "svc-canary-value" not in done.output


def test_the_reports_list_what_was_read_and_never_a_value(cometapi_run):
    document = json.loads((cometapi_run.reports / "cometapi-chat-completions.json").read_text())
    names = {e["name"]: e for e in document["environment"]}
    assert {"COMETAPI_API_KEY", "COMETAPI_BASE_URL", "RUNBOOK_SERVICE"} <= set(names)
    assert names["COMETAPI_API_KEY"]["secret"] and names["RUNBOOK_SERVICE"]["read"] == "templates"
    assert set(next(iter(names.values()))) == {"name", "secret", "set", "read"}
    for report in ("cometapi-chat-completions.html", "cometapi-chat-completions.md"):
        assert "COMETAPI_BASE_URL" in (cometapi_run.reports / report).read_text()
