"""The JUnit XML report: read back as CI systems read it, valid against the Surefire shape, safe, stable."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
import xmlschema
from click.testing import CliRunner
from junitparser import Error, Failure, JUnitXml, Skipped, TestSuite
from test_report import MISMATCH_MESSAGES, sample_results

from engine.cli.commands import main
from engine.judge.results import (
    CheckResult,
    Counts,
    CriteriaCounts,
    CriterionResult,
    DrillAttempt,
    DrillCall,
    DrillSummary,
    Mismatch,
    Observation,
    Results,
)
from engine.report import write_reports
from engine.report.junit import render_junit, xml_safe

XSD = Path(__file__).resolve().parents[1] / "support" / "junit.xsd"
HOSTILE = 'bad\x1b[31m\x00 ]]> <script>alert(1)</script> & "quoted" \ud800 end'


# ---- documents ----------------------------------------------------------------------------


def _drills() -> list[CheckResult]:
    attempts = [
        DrillAttempt(
            target="primary",
            number=1,
            started_ms=0.1,
            status=503,
            transport_error=None,
            class_="provider_unavailable",
            decision="retry after 4.0ms",
            pause_ms=4.1,
        ),
        DrillAttempt(
            target="primary",
            number=2,
            started_ms=5.0,
            status=503,
            transport_error=None,
            class_="provider_unavailable",
            decision="no retry: 2 attempts made",
        ),
    ]
    call = DrillCall(
        outcome="failed",
        elapsed_ms=250.0,
        deadline_ms=900.0,
        attempts=attempts,
        server_attempts=2,
        server_fallback_attempts=0,
    )
    failed = CheckResult(
        id="drill:server-503-falls-back",
        title="503 falls back",
        tags=["drill"],
        status="failed",
        observed=Observation(status=503, parser="error_envelope", elapsed_ms=3.2),
        class_="provider_unavailable",
        action="fallback",
        rule="server-5xx",
        mismatches=[Mismatch(field="outcome", expected="fell_back", observed="failed", message="expected fell_back")],
        drill=DrillSummary(time_scale=0.02, repeat=1, calls=[call]),
    )
    passed = CheckResult(id="drill:auth-401-no-fallback", title="401 does not fall back", status="passed")
    left_out = CheckResult(
        id="drill:stall", title="stall", status="skipped", reason="not selected: no tag of smoke", selected=False
    )
    return [failed, passed, left_out]


def failing_results() -> dict[str, Any]:
    """The report tests' failing document, plus drills, a check left out and a criterion it made not applicable."""
    document = sample_results()
    left_out = CheckResult(
        id="oversized", title="Oversized request", status="skipped", reason="no tag of smoke", selected=False
    )
    unjudged = CriterionResult(
        id="fallback-only-when-safe",
        text="Fallback only when safe.",
        verdict="not_verified",
        applicable=False,
        reasons=["drill drill:stall was not selected in this run"],
        next_step="runbook run spec.yaml --tags drill",
    )
    document["checks"].append(left_out.model_dump(mode="json", by_alias=True))
    document["drills"] = [drill.model_dump(mode="json", by_alias=True) for drill in _drills()]
    document["criteria"].append(unjudged.model_dump(mode="json", by_alias=True))
    document["summary"]["checks"] = Counts(total=5, passed=1, failed=1, error=1, skipped=2).model_dump()
    document["summary"]["drills"] = Counts(total=3, passed=1, failed=1, skipped=1).model_dump()
    document["summary"]["criteria"] = CriteriaCounts(
        total=4, met=1, not_met=1, not_verified=1, not_applicable=1
    ).model_dump()
    return Results.model_validate(document).to_json_dict()


@pytest.fixture(scope="module")
def failing() -> dict[str, Any]:
    return failing_results()


@pytest.fixture(scope="module")
def passing(cometapi_run) -> dict[str, Any]:
    return cometapi_run.outcome.results.to_json_dict()


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(XSD)


def _parse(text: str) -> JUnitXml:
    return JUnitXml.fromstring(text.encode("utf-8"))


def _suites(text: str) -> dict[str, TestSuite]:
    return {suite.name.rsplit(".", 1)[-1]: suite for suite in _parse(text)}


def _cases(suite: TestSuite) -> dict[str, Any]:
    return {case.name: case for case in suite}


def _outcome_counts(suite: TestSuite) -> dict[str, int]:
    """What the testcases themselves say, whatever the suite's attributes claim."""
    results = [type(case.result[0]) if case.result else None for case in suite]
    return {
        "total": len(results),
        "failed": results.count(Failure),
        "error": results.count(Error),
        "skipped": results.count(Skipped),
        "passed": results.count(None),
    }


def _criteria_counts(criteria: list[dict[str, Any]]) -> dict[str, int]:
    states = [c["verdict"] if c.get("applicable", True) else "not_applicable" for c in criteria]
    return {
        "total": len(states),
        "failed": states.count("not_met"),
        "error": 0,
        "skipped": states.count("not_verified") + states.count("not_applicable"),
        "passed": states.count("met"),
    }


# ---- counts -------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["failing", "passing"])
def test_suite_counts_match_the_results_summary(which, request):
    results = request.getfixturevalue(which)
    suites = _suites(render_junit(results))
    assert list(suites) == ["checks", "drills", "criteria", "verdict"]
    for kind in ("checks", "drills"):
        summary = results["summary"][kind]
        expected = {key: summary[key] for key in ("total", "failed", "error", "skipped", "passed")}
        assert _outcome_counts(suites[kind]) == expected, kind
        suite = suites[kind]
        assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (
            summary["total"],
            summary["failed"],
            summary["error"],
            summary["skipped"],
        )
    board = results["summary"]["criteria"]
    criteria = _criteria_counts(results["criteria"])
    assert _outcome_counts(suites["criteria"]) == criteria
    assert criteria["total"] == board["total"] and criteria["passed"] == board["met"]
    assert criteria["failed"] == board["not_met"]
    assert criteria["skipped"] == board["not_verified"] + board["not_applicable"]


def test_root_totals_are_the_sum_of_the_suites(failing):
    root = _parse(render_junit(failing))
    suites = list(root)
    assert root.name == "runbook: cometapi-chat-completions"
    assert root.tests == sum(suite.tests for suite in suites) == 13  # 12 items and the verdict
    assert root.failures == sum(suite.failures for suite in suites) == 4
    assert root.errors == 1 and root.skipped == sum(suite.skipped for suite in suites) == 5
    assert root.time == pytest.approx(31.25)


def test_every_check_drill_and_criterion_is_a_testcase_named_by_its_id(passing):
    suites = _suites(render_junit(passing))
    for kind, key in (("checks", "checks"), ("drills", "drills"), ("criteria", "criteria")):
        assert list(_cases(suites[kind])) == [item["id"] for item in passing[key]]
        assert {case.classname for case in suites[kind]} == {f"cometapi-chat-completions.{kind}"}


@pytest.mark.parametrize(
    "verdict, outcome",
    [("ready", None), ("not_ready", Failure), ("not_verified", Failure), ("partial", Failure), ("interrupted", Error)],
)
def test_the_verdict_is_a_testcase_so_ci_is_never_green_for_a_run_that_is_not_ready(failing, verdict, outcome):
    summary = {**failing["summary"], "verdict": verdict, "interrupted": "SIGINT" if verdict == "interrupted" else None}
    (case,) = _suites(render_junit({**failing, "summary": summary}))["verdict"]
    if outcome is None:
        assert case.is_passed
    else:
        (result,) = case.result
        assert isinstance(result, outcome) and result.type == verdict


# ---- what each outcome carries ------------------------------------------------------------


def test_a_failed_check_is_a_failure_listing_every_mismatch_and_the_rule(failing):
    case = _cases(_suites(render_junit(failing))["checks"])["missing-model"]
    (failure,) = case.result
    assert isinstance(failure, Failure)
    assert failure.message == MISMATCH_MESSAGES[0] and failure.type == "unclassified"
    for message in MISMATCH_MESSAGES:
        assert message in failure.text
    assert "rule default: class unclassified, action page_owner" in failure.text
    assert case.time == pytest.approx(0.098)


def test_an_error_carries_its_reason_and_a_skip_its_reason(failing):
    cases = _cases(_suites(render_junit(failing))["checks"])
    (error,) = cases["slow-read"].result
    assert isinstance(error, Error) and error.type == "transport"
    assert error.message == "no response within the 30s read timeout; expectation could not be judged"
    (skipped,) = cases["stream-basic"].result
    assert isinstance(skipped, Skipped) and skipped.message == "streaming is disabled in the pinned contract"
    (left_out,) = cases["oversized"].result
    assert isinstance(left_out, Skipped) and left_out.message == "not selected: no tag of smoke"
    assert cases["happy-path"].result == [] and cases["happy-path"].is_passed


def test_system_out_summarises_request_and_observation_without_bodies(failing):
    cases = _cases(_suites(render_junit(failing))["checks"])
    out = cases["missing-model"].system_out
    assert out.startswith("POST sim/v1/chat/completions: HTTP 200, parser: ok, 98 ms")
    assert "chatcmpl-1" not in out and "messages only" not in out  # no response body, no request body
    assert cases["stream-basic"].system_out is None


def test_a_failed_drill_lists_its_mismatch_and_its_calls(failing):
    cases = _cases(_suites(render_junit(failing))["drills"])
    drill = cases["drill:server-503-falls-back"]
    (failure,) = drill.result
    assert isinstance(failure, Failure) and failure.type == "provider_unavailable"
    assert "expected fell_back" in failure.text and "rule server-5xx" in failure.text
    assert "primary 503 (provider_unavailable) → retry after 4.0ms" in drill.system_out
    assert drill.time == pytest.approx(0.25)  # the drill's calls, end to end
    (left_out,) = cases["drill:stall"].result
    assert isinstance(left_out, Skipped) and left_out.message == "not selected: no tag of smoke"


def test_criteria_failures_and_skips_carry_reasons_and_next_steps(failing):
    cases = _cases(_suites(render_junit(failing))["criteria"])
    assert cases["minimal-completion"].is_passed
    (not_met,) = cases["malformed-non-retryable"].result
    assert isinstance(not_met, Failure) and not_met.type == "not_met"
    assert not_met.message == "missing-model: the server accepted the request"
    (not_verified,) = cases["streaming-tested"].result
    assert isinstance(not_verified, Skipped) and not_verified.message == "not verified: stream-basic was skipped"
    (not_applicable,) = cases["fallback-only-when-safe"].result
    assert isinstance(not_applicable, Skipped)
    assert not_applicable.message == "not applicable: drill drill:stall was not selected in this run"
    assert "next step: runbook run spec.yaml --tags drill" in not_applicable.text
    assert cases["fallback-only-when-safe"].system_out.startswith("Fallback only when safe.")


def test_the_passing_run_skips_only_what_it_could_not_verify(passing):
    cases = _cases(_suites(render_junit(passing))["criteria"])
    for criterion in passing["criteria"]:
        result = cases[criterion["id"]].result
        if criterion["verdict"] == "not_verified":
            (skipped,) = result
            assert isinstance(skipped, Skipped) and skipped.message == f"not verified: {criterion['reasons'][0]}"
            assert f"next step: {criterion['next_step']}" in skipped.text
        else:
            assert criterion["verdict"] == "met" and result == []


def test_properties_and_timestamp_describe_the_run(passing):
    checks = _suites(render_junit(passing))["checks"]
    properties = {prop.name: prop.value for prop in checks.properties()}
    assert properties["verdict"] == passing["summary"]["verdict"]
    assert properties["target"] == "sim" and properties["target.kind"] == "simulator"
    assert properties["spec.path"] == passing["spec"]["path"]
    assert properties["runbook.version"] == passing["tool"]["version"]
    assert properties["schema_version"] == passing["schema_version"]
    started = passing["started"]  # 2026-05-08T10:00:00.123+00:00, in UTC: the timestamp drops the zone and fraction
    assert checks.timestamp == started[:19] and "+" not in checks.timestamp


# ---- valid, safe, stable ------------------------------------------------------------------


@pytest.mark.parametrize("which", ["failing", "passing"])
def test_the_report_is_valid_against_the_surefire_schema(which, request, schema):
    text = render_junit(request.getfixturevalue(which))
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    schema.validate(text)


def test_the_schema_rejects_what_ci_readers_would_misread(schema):
    assert not schema.is_valid('<testsuites><testsuite tests="1"/></testsuites>')  # a suite needs a name
    two_results = (
        '<testsuites><testsuite name="s"><testcase name="c"><failure/><error/></testcase></testsuite></testsuites>'
    )
    assert not schema.is_valid(two_results)
    zoned = '<testsuites><testsuite name="s" timestamp="2026-05-08T10:00:00Z"/></testsuites>'
    assert not schema.is_valid(zoned)


def _hostile(failing: dict[str, Any]) -> dict[str, Any]:
    document = copy.deepcopy(failing)
    check = next(c for c in document["checks"] if c["id"] == "missing-model")
    check["mismatches"][0]["message"] = HOSTILE
    check["class"] = "class\x07 <b>"
    document["criteria"][1]["reasons"] = [HOSTILE]
    return document


def test_hostile_text_comes_out_well_formed_and_escaped(failing, schema):
    text = render_junit(_hostile(failing))
    text.encode("utf-8")  # no lone surrogate survives
    assert "\x1b" not in text and "\x00" not in text and "\x07" not in text
    assert "<script>" not in text and "]]>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "]]&gt;" in text
    schema.validate(text)
    ET.fromstring(text.encode("utf-8"))
    case = _cases(_suites(text)["checks"])["missing-model"]
    (failure,) = case.result
    shown = 'bad\\x1b[31m\\x00 ]]> <script>alert(1)</script> & "quoted" \\ud800 end'
    assert failure.message == f"status: {shown}" and shown in failure.text
    assert failure.type == "class\\x07 <b>"
    (not_met,) = _cases(_suites(text)["criteria"])["malformed-non-retryable"].result
    assert not_met.message == shown


def test_xml_safe_keeps_tabs_and_newlines_and_escapes_other_controls():
    assert xml_safe("a\tb\nc\r\nd\re") == "a\tb\nc\nd\ne"
    assert xml_safe("\x00\x08\x0b\x0c\x1f\x7f\ufffe") == "\\x00\\x08\\x0b\\x0c\\x1f\x7f\\ufffe"
    assert xml_safe("caf\u00e9 \U0001f600") == "caf\u00e9 \U0001f600"


def test_rendering_twice_gives_identical_bytes(failing, passing):
    for results in (failing, passing, _hostile(failing)):
        assert render_junit(results).encode("utf-8") == render_junit(copy.deepcopy(results)).encode("utf-8")


def test_an_unsupported_schema_major_is_refused(failing):
    with pytest.raises(ValueError, match="schema_version"):
        render_junit({**failing, "schema_version": "9.0"})


# ---- through the command line -------------------------------------------------------------


def test_run_with_format_junit_writes_a_report_ci_reads(cometapi_spec, tmp_path, schema):
    stale = tmp_path / "cometapi-chat-completions.json"
    stale.write_text("{}", encoding="utf-8")
    result = CliRunner().invoke(
        main, ["run", str(cometapi_spec), "--tags", "smoke", "--out", str(tmp_path), "--format", "junit"]
    )
    assert result.exit_code == 4, result.output  # a smoke run is partial: nothing fails, no readiness claimed
    report = tmp_path / "cometapi-chat-completions.junit.xml"
    assert report.is_file() and not stale.exists()  # a new run supersedes the stale json
    parsed = JUnitXml.fromfile(str(report))
    suites = {suite.name: suite for suite in parsed}
    kinds = ("checks", "drills", "criteria", "verdict")
    assert list(suites) == [f"cometapi-chat-completions.{kind}" for kind in kinds]
    assert suites["cometapi-chat-completions.verdict"].failures == 1  # partial: CI shows it red
    checks = suites["cometapi-chat-completions.checks"]
    assert checks.tests > 0 and checks.failures == 0 and checks.errors == 0
    skipped = [case for case in checks if case.is_skipped]
    assert skipped and all(case.result[0].message.startswith("not selected: ") for case in skipped)
    schema.validate(str(report))


def test_a_new_run_supersedes_a_stale_junit_report(tmp_path, failing):
    write_reports(failing, tmp_path, "run", ["junit", "json"])
    write_reports(failing, tmp_path, "run", ["md"], supersede=True)
    assert sorted(path.name for path in tmp_path.iterdir() if path.is_file()) == ["run.md"]
