from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli.commands import main
from engine.load.lint import covers, lint_spec
from engine.load.loader import load_spec
from engine.spec.models import When
from support.specs import MINIMAL, with_mistakes

GENERIC_429 = """  - {id: throttled, when: {status: 429}, class: throttled, retry: maybe, fallback: maybe, action: retry_briefly}
  - {id: quota, when: {status: 429, error_code: insufficient_quota}, class: quota, retry: no, fallback: no, action: page_owner, owner: billing}
  - id: default
"""


def lint(tmp_path: Path, *replacements) -> list[str]:
    return [str(p) for p in lint_spec(load_spec(with_mistakes(tmp_path, *replacements)))]


def test_a_specific_rule_after_a_generic_one_is_shadowed_and_both_are_located(tmp_path, cwd_elsewhere):
    found = [p for p in lint(tmp_path, ("  - id: default\n", GENERIC_429)) if "never match" in p]
    assert found == [
        f"{tmp_path / 'spec.yaml'}:30:5: classification[2]: rule 'quota' can never match: "
        f"rule 'throttled' at {tmp_path / 'spec.yaml'}:29:5 matches everything it matches; "
        "move 'quota' above 'throttled'"
    ]


def test_the_right_order_is_not_shadowed(tmp_path):
    lines = GENERIC_429.splitlines(keepends=True)
    reordered = lines[1] + lines[0] + lines[2]
    assert not [p for p in lint(tmp_path, ("  - id: default\n", reordered)) if "never match" in p]


@pytest.mark.parametrize(
    "wide, narrow, expected",
    [
        (When(status=["4xx"]), When(status=[429], error_code=["x"]), True),
        (When(status=[429]), When(status=["4xx"]), False),
        (When(status=["500-504"]), When(status=[502, 503]), True),
        (When(transport=["reset", "dns"]), When(transport=["dns"]), True),
        (When(parser=["ok"]), When(status=[200]), False),
        (When(content_type=["html"]), When(content_type=["text/html"]), True),
        (When(content_type=["text/html"]), When(content_type=["html"]), False),
    ],
)
def test_covers(wide, narrow, expected):
    assert covers(wide, narrow) is expected


def test_paging_without_an_owner_is_an_error(tmp_path):
    found = lint(tmp_path, ("    action: store_fixture_and_alert\n", "    action: page_owner\n"))
    assert any(
        p.endswith("rule 'default' (page_owner) must name an owner: who is paged for class 'unclassified'?")
        for p in found
    )


def test_gaps_only_the_default_catches_are_warnings():
    found = [str(p) for p in lint_spec(load_spec(MINIMAL))]
    assert any("warning: only the default rule catches HTTP 400-599" in p for p in found)
    assert any("warning: only the default rule catches transport failures: dns, connect" in p for p in found)
    assert any("warning: check 'missing-auth' is not required by any criterion" in p for p in found)


def test_validate_fails_on_lint_errors_and_lint_strict_fails_on_warnings(tmp_path):
    broken = with_mistakes(tmp_path, ("  - id: default\n", GENERIC_429))
    assert CliRunner().invoke(main, ["validate", str(broken)]).exit_code == 2
    assert CliRunner().invoke(main, ["validate", str(MINIMAL)]).exit_code == 0
    strict = CliRunner().invoke(main, ["lint", "--strict", str(MINIMAL)])
    assert strict.exit_code == 2 and "3 warning(s)" in strict.output


def test_shipped_specs_pass_strict_lint(repo_root):
    specs = sorted(str(p) for p in (repo_root / "specs").rglob("*.yaml"))
    assert len(specs) >= 3, specs  # the shared base, the CometAPI spec, the examples
    result = CliRunner().invoke(main, ["lint", "--strict", *specs])
    assert result.exit_code == 0, result.output


def _extending(child_spec: Callable[..., Path], body: str) -> list[str]:
    return [str(p) for p in lint_spec(load_spec(child_spec(body, file="child.yaml")))]


def test_policy_lint_warns_on_retry_storms_and_missing_jitter(child_spec):
    found = _extending(child_spec, "policy: {retry: {max_attempts: 8, jitter: none}}\n")
    assert any("warning: 8 attempts" in p and "retry storm" in p for p in found)
    assert any("warning: retries without jitter" in p for p in found)


def test_fallback_on_a_class_the_policy_excludes_is_an_error(child_spec):
    found = _extending(child_spec, "classification:\n  - {id: auth, fallback: maybe}\n")
    assert any(
        "rule 'auth' allows fallback for class 'auth', which policy.fallback.never_for excludes" in p for p in found
    )


def test_policy_is_shown_with_the_pinned_contract(cometapi_run):
    contract = cometapi_run.outcome.results.contract
    assert contract["policy"]["retry"].startswith("at most 3 attempts, exponential backoff 500ms..8s, full jitter")
    assert "never for auth" in contract["policy"]["fallback"]


def test_a_success_that_may_be_retried_is_an_error(tmp_path, cwd_elsewhere):
    found = lint(tmp_path, ("    class: success\n    retry: no\n", "    class: success\n    retry: maybe\n"))
    assert [p for p in found if "is a success (action: none)" in p] == [
        f"{tmp_path / 'spec.yaml'}:26:12: classification[0].retry: rule 'success' is a success (action: none), "
        "so it cannot also retry; write retry: no"
    ]


def test_a_table_without_a_success_rule_is_warned_about(tmp_path):
    found = lint(tmp_path, ("    action: none\n", "    action: fix_request\n    owner: x\n"))
    assert any("no rule has action: none" in p and "warning" in p for p in found)


@pytest.mark.parametrize("command", ["run", "plan"])
def test_lint_errors_stop_run_and_plan_like_validate(tmp_path, command):
    spec = with_mistakes(tmp_path, ("    class: success\n    retry: no\n", "    class: success\n    retry: maybe\n"))
    options = ["--out", str(tmp_path / "out")] if command == "run" else []
    result = CliRunner().invoke(main, [command, str(spec), *options])
    assert result.exit_code == 2 and "is a success (action: none)" in result.output
    assert not (tmp_path / "out").exists()


def test_the_clients_own_fault_that_may_fall_back_is_an_error(tmp_path):
    rule = "  - {id: bad, when: {status: 400}, class: bad, retry: no, fallback: maybe, action: fix_request}\n  - id: default\n"
    found = lint(tmp_path, ("  - id: default\n", rule))
    assert any("rule 'bad' is the client's own fault (fix_request), which never falls back" in p for p in found)


def test_a_client_timeout_shorter_than_a_drill_deadline_is_warned_about(child_spec):
    spec = child_spec("clients:\n  app:\n    command: [python, app.py]\n    timeout: 30s\n", name="x")
    found = [str(p) for p in lint_spec(load_spec(spec))]
    assert any("clients.app.timeout: warning: 30s is shorter than the longest drill deadline (45s)" in p for p in found)
