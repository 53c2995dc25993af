import pytest

from engine.core.errors import UsageError
from engine.plan.build import build_plan, deep_merge


def steps(loaded) -> dict:
    return {step.check.id: step for step in build_plan(loaded).steps}


def test_default_target_is_the_simulator(cometapi_loaded):
    plan = build_plan(cometapi_loaded)
    assert plan.target.name == "sim" and plan.target.kind == "simulator" and plan.target.base_url is None


def test_live_target_uses_its_base_url(cometapi_loaded):
    plan = build_plan(cometapi_loaded, "live")
    assert plan.target.kind == "http" and plan.target.base_url == "https://api.cometapi.com"


def test_unknown_target_is_a_usage_error(cometapi_loaded):
    with pytest.raises(UsageError, match=r"no target 'staging'.*live, sim"):
        build_plan(cometapi_loaded, "staging")


def test_happy_path_uses_the_default_request(cometapi_loaded):
    step = steps(cometapi_loaded)["happy-path"]
    assert step.method == "POST" and step.path == "/v1/chat/completions"
    assert step.body["model"] == "gpt-4o-mini" and step.body["max_tokens"] == 20
    assert [m["role"] for m in step.body["messages"]] == ["system", "user"]
    assert step.auth.mode == "default" and step.auth.describe() == "Bearer $COMETAPI_API_KEY"


def test_malformed_cases_override_the_default_request(cometapi_loaded):
    by_id = steps(cometapi_loaded)
    assert "model" not in by_id["missing-model"].body
    assert by_id["empty-messages"].body["messages"] == []
    assert by_id["invalid-role"].body["messages"][0]["role"] == "wizard"
    assert by_id["unknown-model"].body["model"] == "runbook-unknown-model-0000"
    assert by_id["missing-auth"].auth.describe() == "none"
    assert by_id["invalid-token"].auth.describe() == "Bearer <invalid token>"
    assert len(by_id["oversized-request"].body["messages"][0]["content"]) == 900_000


def test_timeouts_come_from_the_contract(cometapi_loaded):
    step = steps(cometapi_loaded)["happy-path"]
    assert (step.timeouts.connect, step.timeouts.read, step.timeouts.deadline) == (2.0, 30.0, 45.0)


def test_deep_merge_merges_mappings_and_replaces_lists():
    base = {"a": {"x": 1, "y": [1, 2]}, "b": 1}
    merged = deep_merge(base, {"a": {"y": [3]}, "c": 2})
    assert merged == {"a": {"x": 1, "y": [3]}, "b": 1, "c": 2}
    assert base == {"a": {"x": 1, "y": [1, 2]}, "b": 1}
