"""Criteria and the verdict: every criterion judged from evidence whose source is named."""

from dataclasses import replace

import pytest

from engine.judge.criteria import Gate, judge_criterion, summarize
from engine.judge.results import CheckResult, CriterionResult, FixtureResult
from engine.plan.build import build_plan
from engine.spec.models import Criterion


@pytest.fixture(scope="module")
def live(cometapi_loaded) -> Gate:
    return Gate(cometapi_loaded.spec, "spec.yaml", build_plan(cometapi_loaded, "live").target)


@pytest.fixture(scope="module")
def sim(cometapi_loaded) -> Gate:
    return Gate(cometapi_loaded.spec, "spec.yaml", build_plan(cometapi_loaded).target)


def check(check_id: str, status: str, **extra) -> CheckResult:
    return CheckResult(id=check_id, status=status, **extra)


def test_criterion_met_not_met_and_not_verified(live):
    criterion = Criterion(id="c", text="t", requires=["a", "b"])
    met = judge_criterion(criterion, {"a": check("a", "passed"), "b": check("b", "passed")}, live)
    failed = judge_criterion(criterion, {"a": check("a", "failed"), "b": check("b", "error")}, live)
    left_out = judge_criterion(criterion, {"a": check("a", "passed")}, live)
    assert (met.verdict, failed.verdict, left_out.verdict) == ("met", "not_met", "not_verified")
    assert failed.reasons == ["check a failed", "check b did not run"]
    assert not left_out.applicable and left_out.next_step == "runbook run spec.yaml --target live"


def test_every_piece_of_evidence_names_its_source(live):
    criterion = Criterion(id="c", text="t", requires=["a", "drill:d"], owners_for=["auth"])
    result = judge_criterion(criterion, {"a": check("a", "passed"), "drill:d": check("drill:d", "passed")}, live)
    sources = {e.ref: e.source for e in result.evidence}
    assert sources["a"] == "target live (cometapi-live)"
    assert sources["drill:d"].startswith("the built-in fault simulator at time scale 0.02")
    assert sources["owner:auth"] == "the spec's classification table"


def test_pending_criterion_is_never_met(live):
    criterion = Criterion(id="c", text="t", requires=["a"], pending="needs drills")
    result = judge_criterion(criterion, {"a": check("a", "passed")}, live)
    assert result.verdict == "not_verified" and "needs drills" in result.reasons[0]


def test_criterion_limited_to_other_targets_is_not_verified_and_says_which_run_would_verify_it(sim):
    criterion = Criterion(id="c", text="t", requires=["a"], targets=["live"])
    result = judge_criterion(criterion, {"a": check("a", "passed")}, sim)
    assert result.verdict == "not_verified" and "live" in result.reasons[0]
    assert result.next_step == "runbook run spec.yaml --target live"


def test_checks_against_the_simulator_prove_nothing_about_the_provider_unless_opted_in(sim):
    criterion = Criterion(id="c", text="t", requires=["a"])
    by_default = judge_criterion(criterion, {"a": check("a", "passed")}, sim)
    assert by_default.verdict == "not_verified" and "prove the spec, not the provider" in by_default.reasons[0]
    opted_in = judge_criterion(criterion.model_copy(update={"targets": ["sim"]}), {"a": check("a", "passed")}, sim)
    assert opted_in.verdict == "met"
    drills_only = judge_criterion(
        Criterion(id="d", text="t", requires=["drill:x"]), {"drill:x": check("drill:x", "passed")}, sim
    )
    assert drills_only.verdict == "met"  # drills always run on the fault simulator: they count on any target


def test_a_live_target_that_is_runbooks_own_simulator_proves_nothing_about_a_provider(live):
    answered_as_runbook = replace(live, self_test="target live answered as runbook")
    result = judge_criterion(
        Criterion(id="c", text="t", requires=["a"]), {"a": check("a", "passed")}, answered_as_runbook
    )
    assert result.verdict == "not_verified" and result.reasons == ["target live answered as runbook"]
    assert "not at runbook's simulator" in result.next_step


def fixture_criterion(fixture: FixtureResult, gate: Gate) -> CriterionResult:
    criterion = Criterion(id="f", text="t", requires=["happy-path"], fixtures_for=["happy-path"])
    return judge_criterion(criterion, {"happy-path": check("happy-path", "passed", fixture=fixture)}, gate)


def test_fixtures_count_only_when_they_existed_before_the_run_and_are_committed(live, sim):
    def fixture(status: str, git: str | None) -> FixtureResult:
        return FixtureResult(name="happy-path", path="fixtures/happy-path.json", status=status, git=git)

    assert fixture_criterion(fixture("matched", "committed"), live).verdict == "met"
    assert fixture_criterion(fixture("matched", None), live).verdict == "met"  # not in a git work tree
    updated = fixture_criterion(fixture("updated", "untracked"), live)
    assert updated.verdict == "not_met" and "written by this run" in updated.reasons[0]
    untracked = fixture_criterion(fixture("matched", "untracked"), live)
    assert untracked.verdict == "not_met" and untracked.reasons == [
        "the fixture fixtures/happy-path.json is not checked in (git: untracked)"
    ]
    assert untracked.next_step == "git add fixtures/happy-path.json && git commit"
    assert fixture_criterion(fixture("matched", "modified"), live).verdict == "not_met"
    missing = fixture_criterion(fixture("missing", None), live)
    assert missing.verdict == "not_met" and "--update-fixtures" in missing.next_step
    on_the_simulator = fixture_criterion(fixture("missing", None), sim)
    assert on_the_simulator.verdict == "not_verified"


def test_owners_criterion_fails_when_a_rule_names_no_owner(live):
    criterion = Criterion(id="c", text="t", owners_for=["auth", "provider_error", "nonexistent"])
    result = judge_criterion(criterion, {}, live)
    assert result.verdict == "not_met"
    assert result.reasons == [
        "rule error-inside-200 (class provider_error) names no owner",
        "no classification rule yields class nonexistent",
    ]


def criterion(verdict: str, applicable: bool = True) -> CriterionResult:
    return CriterionResult(id=verdict, text="t", verdict=verdict, applicable=applicable)


def test_verdicts():
    met, unverified, left_out = criterion("met"), criterion("not_verified"), criterion("not_verified", False)
    passed = (check("a", "passed"),)
    assert summarize(passed, (), (met,)).verdict == "ready"
    assert summarize(passed, (), (met, unverified)).verdict == "not_verified"
    assert summarize((check("a", "error"),), (), (met,)).verdict == "not_verified"
    assert summarize((check("a", "failed"),), (), (unverified,)).verdict == "not_ready"
    assert summarize(passed, (check("drill:x", "failed"),), (met,)).verdict == "not_ready"
    assert summarize(passed, (), (met, left_out)).verdict == "partial"
    assert summarize(passed, (), (met,), interrupted="SIGTERM").verdict == "interrupted"
    assert summarize(passed, (), ()).verdict == "not_verified"  # a spec without criteria is never ready


def test_only_a_fully_met_board_is_ready_and_the_blockers_are_named():
    summary = summarize((check("a", "passed"),), (), (criterion("met"), criterion("not_verified")))
    assert summary.blocking == ["not_verified"]


def test_a_failure_counts_even_when_other_evidence_was_not_selected(live):
    criterion = Criterion(id="c", text="t", requires=["a", "b"], owners_for=["provider_error"])
    result = judge_criterion(criterion, {"a": check("a", "passed")}, live)
    assert result.verdict == "not_met" and result.applicable
    assert summarize((check("a", "passed"),), (), (result,)).verdict == "not_ready"


def test_suggested_commands_repeat_the_runs_variables(sim):
    gate = replace(sim, options=" --var model=x")
    result = judge_criterion(Criterion(id="c", text="t", requires=["a"]), {"a": check("a", "passed")}, gate)
    assert result.next_step == "runbook run spec.yaml --target live --var model=x"


def test_a_criterion_can_require_evidence_from_a_client_under_test(live):
    from engine.judge.results import DrillSummary

    criterion = Criterion(id="c", text="t", requires=["drill:d"], client="required")

    def drill(client: str) -> CheckResult:
        return check("drill:d", "passed", drill=DrillSummary(time_scale=1.0, repeat=1, calls=[], client=client))

    by_reference = judge_criterion(criterion, {"drill:d": drill("reference")}, live)
    assert by_reference.verdict == "not_verified"
    assert by_reference.reasons == ["its drills must exercise a client under test, not runbook's reference client"]
    assert by_reference.evidence[0].source == "the built-in fault simulator at time scale 1, reference client"
    by_app = judge_criterion(criterion, {"drill:d": drill("app")}, live)
    assert (
        by_app.verdict == "met"
        and by_app.evidence[0].source == "the built-in fault simulator at time scale 1, client app"
    )
    assert (
        judge_criterion(criterion.model_copy(update={"client": None}), {"drill:d": drill("reference")}, live).verdict
        == "met"
    )
