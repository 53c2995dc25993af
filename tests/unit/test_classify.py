import pytest

from engine.run.observation import Observation
from engine.spec.classify import classify, describe_when, status_matches
from engine.spec.models import When


@pytest.fixture(scope="module")
def rules(cometapi_loaded):
    """The shipped CometAPI classification table."""
    return cometapi_loaded.spec.classification


def observe(**fields) -> Observation:
    return Observation(**fields)


@pytest.mark.parametrize(
    "observation, rule, klass, retry, fallback, action",
    [
        (observe(status=200, parser="ok"), "success", "success", "no", "no", "none"),
        (observe(status=200, parser="empty_content"), "success", "success", "no", "no", "none"),
        (
            observe(status=200, parser="error_in_body"),
            "error-inside-200",
            "provider_error",
            "maybe",
            "maybe",
            "retry_briefly",
        ),
        (
            observe(status=200, parser="invalid_json"),
            "invalid-json",
            "invalid_response",
            "maybe",
            "maybe",
            "store_fixture_and_alert",
        ),
        (
            observe(status=200, parser="missing_field"),
            "schema-missing-field",
            "contract_drift",
            "no",
            "maybe",
            "page_owner",
        ),
        (
            observe(status=301, parser="invalid_json"),
            "wrong-path-redirect",
            "endpoint_config",
            "no",
            "no",
            "fix_configuration",
        ),
        (observe(status=401, parser="error_envelope"), "auth", "auth", "no", "no", "page_owner"),
        (observe(status=403), "auth", "auth", "no", "no", "page_owner"),
        (
            observe(status=400, error_code="context_length_exceeded"),
            "context-length",
            "token_budget",
            "no",
            "no",
            "reduce_input",
        ),
        (
            observe(status=404, error_code="model_not_found"),
            "unknown-model",
            "model_config",
            "no",
            "no",
            "fix_configuration",
        ),
        (observe(status=404), "endpoint-404", "endpoint_config", "no", "no", "fix_configuration"),
        (observe(status=429, error_code="insufficient_quota"), "insufficient-quota", "quota", "no", "no", "page_owner"),
        (
            observe(status=429, error_code="rate_limit_exceeded"),
            "throttled",
            "throttled",
            "maybe",
            "maybe",
            "retry_briefly",
        ),
        (observe(status=408), "throttled", "throttled", "maybe", "maybe", "retry_briefly"),
        (
            observe(status=400, error_code="invalid_request"),
            "bad-request",
            "request_invalid",
            "no",
            "no",
            "fix_request",
        ),
        (
            observe(status=500, error_code="invalid_request"),
            "cometapi-500-invalid-request",
            "request_invalid",
            "no",
            "no",
            "fix_request",
        ),
        (
            observe(status=524),
            "cometapi-524-gateway-timeout",
            "provider_unavailable",
            "maybe",
            "maybe",
            "retry_briefly",
        ),
        (observe(status=503), "server-error", "provider_unavailable", "maybe", "maybe", "retry_briefly"),
        (
            observe(status=200, parser="invalid_json", content_type="text/html; charset=utf-8"),
            "wrong-path-html-page",
            "endpoint_config",
            "no",
            "no",
            "fix_configuration",
        ),
        (observe(status=409), "throttled", "throttled", "maybe", "maybe", "retry_briefly"),
        (observe(transport_error="dns"), "connect-failure", "network", "maybe", "maybe", "retry_briefly"),
        (observe(transport_error="read_timeout"), "read-timeout", "timeout", "maybe", "maybe", "retry_briefly"),
        (
            observe(status=200, transport_error="truncated"),
            "broken-connection",
            "network",
            "maybe",
            "maybe",
            "retry_briefly",
        ),
        (
            observe(status=200, transport_error="too_large"),
            "oversized-response",
            "invalid_response",
            "no",
            "maybe",
            "store_fixture_and_alert",
        ),
        (observe(status=102), "default", "unclassified", "no", "no", "page_owner"),
    ],
)
def test_shipped_table_routes_each_failure_to_its_operator_action(
    rules, observation, rule, klass, retry, fallback, action
):
    verdict = classify(observation, rules)
    assert (verdict.rule, verdict.class_, verdict.retry, verdict.fallback, verdict.action) == (
        rule,
        klass,
        retry,
        fallback,
        action,
    )


def test_first_match_wins(rules):
    generic_first = [r for r in rules if r.id == "throttled"] + [r for r in rules if r.id != "throttled"]
    verdict = classify(observe(status=429, error_code="insufficient_quota"), generic_first)
    assert verdict.rule == "throttled"


@pytest.mark.parametrize(
    "status, patterns, expected",
    [
        (503, ["5xx"], True),
        (499, ["5xx"], False),
        (502, ["500-504"], True),
        (505, ["500-504"], False),
        (429, [408, 429], True),
        (None, ["2xx"], False),
        (200, ["2xx", 301], True),
    ],
)
def test_status_patterns(status, patterns, expected):
    assert status_matches(status, patterns) is expected


def test_all_conditions_must_hold(rules):
    when = When(status=[400], error_code=["context_length_exceeded"])
    rule = rules[0].model_copy(update={"when": when})
    assert classify(observe(status=400, error_code="context_length_exceeded"), [rule]).rule == rule.id
    assert classify(observe(status=400, error_code="other"), [rule]).rule == "(none)"


def test_describe_when_is_readable():
    assert describe_when(When(status=[401, 403])) == "status 401 | 403"
    assert describe_when(When(status=["2xx"], parser=["ok"])) == "status 2xx and parser ok"
    assert describe_when(When(any=True)) == "anything else"
