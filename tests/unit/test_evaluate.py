import datetime as dt

import pytest

from engine.judge.checks import capture, compare, evaluate
from engine.plan.build import build_plan
from engine.run.executor import RunRecord, StepOutcome
from engine.run.http import Attempt
from engine.run.observation import Observation
from engine.spec.classify import classify
from engine.spec.models import Expect

HAPPY = {
    "id": "c1",
    "model": "gpt-4o-mini",
    "choices": [{"message": {"role": "assistant", "content": "secret answer"}, "finish_reason": "stop"}],
    "usage": {"total_tokens": 9},
}


@pytest.fixture(scope="module")
def mismatches(cometapi_loaded):
    """mismatches(expect, observation, document=None): the messages, classified by the shipped table."""
    rules = cometapi_loaded.spec.classification

    def messages(expect: Expect, observation: Observation, document=None) -> list[str]:
        return [m.message for m in compare(expect, observation, classify(observation, rules), document)]

    return messages


def test_a_matching_observation_has_no_mismatch(mismatches):
    expect = Expect(
        status=["2xx"], json=True, parser=["ok"], require=["choices[0].message.content"], **{"class": "success"}
    )
    assert mismatches(expect, Observation(status=200, parser="ok"), HAPPY) == []


def test_every_mismatch_is_listed_not_only_the_first(mismatches):
    expect = Expect(
        status=["2xx"],
        json=True,
        require=["choices[0].message.content"],
        **{"class": "success"},
        action="none",
        retry="no",
    )
    found = mismatches(expect, Observation(status=503, parser="invalid_json"))
    assert found == [
        "status: expected 2xx, observed 503",
        "json: expected valid JSON, observed invalid_json",
        "required response path choices[0].message.content is absent",
        "class: expected success, observed provider_unavailable (rule server-error)",
        "action: expected none, observed retry_briefly (rule server-error)",
        "retry: expected no, observed maybe (rule server-error)",
    ]


def test_transport_error_is_reported_as_the_observed_status(mismatches):
    found = mismatches(Expect(status=[200]), Observation(transport_error="read_timeout"))
    assert found == ["status: expected 200, observed read_timeout"]


def test_captures_summarise_assistant_content_unless_kept():
    document = {
        **HAPPY,
        "choices": [
            {
                "message": {
                    "role": "assistant",
                    "content": "secret answer",
                    "reasoning_content": "private thoughts",
                    "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": '{"ssn": 1}'}}],
                },
                "finish_reason": "stop",
            }
        ],
    }
    paths = [
        "id",
        "choices[0].message",
        "choices[0].message.content",
        "usage",
        "system_fingerprint",
        "choices[0].finish_reason",
    ]
    hidden = capture(paths, document, keep_content=False)
    message = hidden["choices[0].message"]
    assert message["role"] == "assistant" and message["content"] == "<13 chars>"
    assert message["reasoning_content"] == "<16 chars>"
    assert message["tool_calls"][0]["function"]["arguments"] == "<10 chars>"
    assert hidden["choices[0].message.content"] == "<13 chars>" and hidden["choices[0].finish_reason"] == "stop"
    assert (
        hidden["id"] == "c1" and hidden["usage"] == {"total_tokens": 9} and hidden["system_fingerprint"] == "(absent)"
    )
    kept = capture(paths, document, keep_content=True)
    assert kept["choices[0].message.content"] == "secret answer"


def test_request_bodies_are_summarised_without_prompt_text():
    from engine.judge.evidence import summarize_body

    text = summarize_body(
        {
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": "Patient John Doe"}],
            "prompt": "Patient John Doe, DOB 1970-01-01",
            "max_tokens": 20,
            "user": "jdoe",
        }
    )
    assert text == "model=gpt-4o-mini, messages=1 (user; 16 chars), prompt=<32 chars>, max_tokens=20, user=<4 chars>"


def test_a_success_status_alone_requires_a_complete_parseable_answer(mismatches):
    expect = Expect(status=["2xx"])
    assert mismatches(expect, Observation(status=200, parser="ok"), HAPPY) == []
    truncated = mismatches(expect, Observation(status=200, transport_error="truncated", parser="none"))
    assert truncated == [
        "status: expected a complete, parseable 2xx answer; observed 200 but the exchange ended with truncated"
    ]
    late = mismatches(expect, Observation(status=200, transport_error="deadline", parser="none"))
    assert late and "deadline" in late[0]
    error_inside = mismatches(expect, Observation(status=200, parser="error_in_body"))
    assert error_inside == [
        "status: expected a complete, parseable 2xx answer; observed 200 but the body was not "
        "a usable answer (parser error_in_body)"
    ]


def test_a_check_that_says_what_it_expects_of_the_body_is_taken_at_its_word(mismatches):
    assert (
        mismatches(Expect(status=[200], parser=["invalid_json"]), Observation(status=200, parser="invalid_json")) == []
    )
    assert mismatches(Expect(status=["4xx"]), Observation(status=401, parser="error_envelope")) == []


def test_evaluate_turns_a_step_that_could_not_run_into_an_error(cometapi_loaded):
    plan = build_plan(cometapi_loaded)
    now = dt.datetime.now(dt.UTC)
    outcomes = tuple(
        StepOutcome(step, error="secret COMETAPI_API_KEY is not set")
        if step.check.id == "happy-path"
        else StepOutcome(step, attempt=Attempt(Observation(status=401, parser="error_envelope")))
        for step in plan.steps
    )
    evaluation = evaluate(RunRecord(plan, "http://127.0.0.1:1", now, now, outcomes))
    by_id = {c.id: c for c in evaluation.checks}
    assert by_id["happy-path"].status == "error" and "not set" in by_id["happy-path"].reason
    assert by_id["missing-auth"].status == "passed" and by_id["missing-model"].status == "failed"
    assert evaluation.summary.verdict == "not_ready"
