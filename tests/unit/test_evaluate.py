import datetime as dt
from pathlib import Path

from engine.classify import classify
from engine.evaluate import capture, compare, evaluate, judge_criterion, summary_of
from engine.plan import build_plan
from engine.results import CheckResult, CriterionResult, Observation
from engine.run.executor import RunRecord, StepOutcome
from engine.run.http import Attempt
from engine.spec.load import load_spec
from engine.spec.models import Criterion, Expect

LOADED = load_spec(Path("specs/cometapi/chat-completions.yaml"))
SPEC = LOADED.spec
LIVE = build_plan(LOADED, "live").target
SIM = build_plan(LOADED).target
HAPPY = {"id": "c1", "model": "gpt-4o-mini",
         "choices": [{"message": {"role": "assistant", "content": "secret answer"}, "finish_reason": "stop"}],
         "usage": {"total_tokens": 9}}


def mismatches(expect: Expect, observation: Observation, document=None) -> list[str]:
    verdict = classify(observation, SPEC.classification)
    return [m.message for m in compare(expect, observation, verdict, document)]


def test_a_matching_observation_has_no_mismatch():
    expect = Expect(status=["2xx"], json=True, parser=["ok"], require=["choices[0].message.content"], **{"class": "success"})
    assert mismatches(expect, Observation(status=200, parser="ok"), HAPPY) == []


def test_every_mismatch_is_listed_not_only_the_first():
    expect = Expect(status=["2xx"], json=True, require=["choices[0].message.content"],
                    **{"class": "success"}, action="none", retry="no")
    found = mismatches(expect, Observation(status=503, parser="invalid_json"))
    assert found == [
        "status: expected 2xx, observed 503",
        "json: expected valid JSON, observed invalid_json",
        "required response path choices[0].message.content is absent",
        "class: expected success, observed provider_unavailable (rule server-error)",
        "action: expected none, observed retry_briefly (rule server-error)",
        "retry: expected no, observed maybe (rule server-error)",
    ]


def test_transport_error_is_reported_as_the_observed_status():
    found = mismatches(Expect(status=[200]), Observation(transport_error="read_timeout"))
    assert found == ["status: expected 200, observed read_timeout"]


def test_captures_summarise_assistant_content_unless_kept():
    document = {**HAPPY, "choices": [{"message": {"role": "assistant", "content": "secret answer",
                                                  "reasoning_content": "private thoughts",
                                                  "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": "{\"ssn\": 1}"}}]},
                                      "finish_reason": "stop"}]}
    paths = ["id", "choices[0].message", "choices[0].message.content", "usage", "system_fingerprint", "choices[0].finish_reason"]
    hidden = capture(paths, document, keep_content=False)
    message = hidden["choices[0].message"]
    assert message["role"] == "assistant" and message["content"] == "<13 chars>"
    assert message["reasoning_content"] == "<16 chars>"
    assert message["tool_calls"][0]["function"]["arguments"] == "<10 chars>"
    assert hidden["choices[0].message.content"] == "<13 chars>" and hidden["choices[0].finish_reason"] == "stop"
    assert hidden["id"] == "c1" and hidden["usage"] == {"total_tokens": 9} and hidden["system_fingerprint"] == "(absent)"
    kept = capture(paths, document, keep_content=True)
    assert kept["choices[0].message.content"] == "secret answer"


def test_request_bodies_are_summarised_without_prompt_text():
    from engine.evidence import summarize_body
    text = summarize_body({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Patient John Doe"}],
                           "prompt": "Patient John Doe, DOB 1970-01-01", "max_tokens": 20, "user": "jdoe"})
    assert text == "model=gpt-4o-mini, messages=1 (user; 16 chars), prompt=<32 chars>, max_tokens=20, user=<4 chars>"


def check(check_id: str, status: str) -> CheckResult:
    return CheckResult(id=check_id, status=status)


def test_criterion_met_not_met_and_not_verified():
    criterion = Criterion(id="c", text="t", requires=["a", "b"])
    met = judge_criterion(criterion, {"a": check("a", "passed"), "b": check("b", "passed")}, SPEC, LIVE)
    failed = judge_criterion(criterion, {"a": check("a", "failed"), "b": check("b", "error")}, SPEC, LIVE)
    skipped = judge_criterion(criterion, {"a": check("a", "passed")}, SPEC, LIVE)
    assert (met.verdict, failed.verdict, skipped.verdict) == ("met", "not_met", "not_verified")
    assert failed.reasons == ["check a failed", "check b did not run"]


def test_pending_criterion_is_never_met():
    criterion = Criterion(id="c", text="t", requires=["a"], pending="needs drills")
    result = judge_criterion(criterion, {"a": check("a", "passed")}, SPEC, LIVE)
    assert result.verdict == "not_verified" and "needs drills" in result.reasons[0]


def test_criterion_limited_to_other_targets_is_not_verified():
    criterion = Criterion(id="c", text="t", requires=["a"], targets=["live"])
    result = judge_criterion(criterion, {"a": check("a", "passed")}, SPEC, SIM)
    assert result.verdict == "not_verified" and "live" in result.reasons[0]


def test_checks_against_the_simulator_prove_nothing_about_the_provider_unless_opted_in():
    criterion = Criterion(id="c", text="t", requires=["a"])
    by_default = judge_criterion(criterion, {"a": check("a", "passed")}, SPEC, SIM)
    assert by_default.verdict == "not_verified" and "prove the spec, not the provider" in by_default.reasons[0]
    opted_in = judge_criterion(criterion.model_copy(update={"targets": ["sim"]}), {"a": check("a", "passed")}, SPEC, SIM)
    assert opted_in.verdict == "met"
    static = judge_criterion(Criterion(id="o", text="t", owners_for=["auth"]), {}, SPEC, SIM)
    assert static.verdict == "met"


def test_a_spec_without_criteria_is_never_ready():
    assert summary_of((check("a", "passed"),), ()).verdict == "not_verified"


def test_owners_criterion_fails_when_a_rule_names_no_owner():
    criterion = Criterion(id="c", text="t", owners_for=["auth", "provider_error", "nonexistent"])
    result = judge_criterion(criterion, {}, SPEC, LIVE)
    assert result.verdict == "not_met"
    assert result.reasons == ["rule error-inside-200 (class provider_error) names no owner",
                              "no classification rule yields class nonexistent"]


def test_summary_verdicts():
    met = CriterionResult(id="m", text="t", verdict="met")
    unverified = CriterionResult(id="u", text="t", verdict="not_verified")
    assert summary_of((check("a", "passed"),), (met,)).verdict == "ready"
    assert summary_of((check("a", "passed"),), (met, unverified)).verdict == "not_verified"
    assert summary_of((check("a", "error"),), (met,)).verdict == "not_verified"
    assert summary_of((check("a", "failed"),), (unverified,)).verdict == "not_ready"


def test_evaluate_turns_a_step_that_could_not_run_into_an_error():
    plan = build_plan(LOADED)
    now = dt.datetime.now(dt.timezone.utc)
    outcomes = tuple(
        StepOutcome(step, error="secret COMETAPI_API_KEY is not set") if step.check.id == "happy-path"
        else StepOutcome(step, attempt=Attempt(Observation(status=401, parser="error_envelope")))
        for step in plan.steps
    )
    evaluation = evaluate(RunRecord(plan, "http://127.0.0.1:1", now, now, outcomes))
    by_id = {c.id: c for c in evaluation.checks}
    assert by_id["happy-path"].status == "error" and "not set" in by_id["happy-path"].reason
    assert by_id["missing-auth"].status == "passed" and by_id["missing-model"].status == "failed"
    assert evaluation.summary.verdict == "not_ready"
