"""Simulator profiles: each provider's error bodies, as the simulator and the fault simulator send
them, and as runbook's HTTP layer reads them back."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from engine.cli.commands import main
from engine.core.profiles import BASE_ERRORS, ProviderError, SimProfile
from engine.core.providers import PROFILES
from engine.judge.sent import sent_observation
from engine.run.drills import fault_steps
from engine.run.http import read_error_body
from engine.sim import SimConfig, create_app
from engine.spec.models import Fault

KEY = "sk-profile-test"
BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


@pytest.mark.parametrize(
    ("shape", "expected", "parser"),
    [
        ("openai", {"error": {"message": "m", "type": "t", "param": "p", "code": "c"}}, "error_envelope"),
        ("top_level", {"object": "error", "message": "m", "type": "t", "param": "p", "code": "c"}, "missing_field"),
        ("flat", {"message": "m", "type": "t", "param": "p", "code": "c"}, "missing_field"),
        ("code_message", {"error": {"code": "c", "message": "m"}}, "error_envelope"),
        ("detail", {"detail": "m"}, "missing_field"),
        ("detail_list", {"detail": [{"type": "value_error", "loc": ["body", "p"], "msg": "m"}]}, "missing_field"),
        ("string", {"error": "m"}, "missing_field"),
    ],
)
def test_each_shape_is_rendered_as_documented_and_read_back(shape: str, expected: Any, parser: str) -> None:
    profile = SimProfile("x", shape=shape)  # type: ignore[arg-type]
    body = profile.body(ProviderError(400, "m", "c", type="t", param="p"))
    assert body == expected
    outcome, fields = read_error_body(400, json.dumps(body).encode())
    assert outcome == parser  # anything but the OpenAI envelope names the missing envelope
    assert fields["message"] == "m"
    if shape in ("openai", "top_level", "flat"):
        assert (fields["code"], fields["type"]) == ("c", "t")


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_every_error_of_every_profile_renders_with_its_facts_filled(name: str) -> None:
    profile = PROFILES[name]
    for situation in profile.situations:
        error = profile.error(situation)
        text = json.dumps(profile.body(error, {"model": "m-1", "limit": 10, "tokens": 20, "detail": "bad body"}))
        assert "{" not in text.replace('{"', "").replace("{}", ""), (name, situation, text)
        assert 400 <= error.status <= 599, (name, situation)
    assert set(BASE_ERRORS) - {"unknown_deployment"} <= set(profile.situations)


def test_cometapi_keeps_its_own_envelope_with_the_request_id_in_the_message() -> None:
    cometapi = PROFILES["cometapi"]
    body = cometapi.body(cometapi.error("missing_auth"), {"request_id": "req_1"})
    assert body["error"]["type"] == "comet_api_error" and body["error"]["code"] == ""
    assert body["error"]["message"].endswith("(request id: req_1)")


def _served(profile: str) -> TestClient:
    return TestClient(create_app(SimConfig(keys=(KEY,), models=("gpt-4o-mini",), profile=PROFILES[profile])))


def test_the_simulator_answers_in_its_profiles_shapes() -> None:
    mistral, auth = _served("mistral"), {"authorization": f"Bearer {KEY}"}
    unknown = mistral.post("/v1/chat/completions", json={**BODY, "model": "nope"}, headers=auth)
    assert (unknown.status_code, unknown.json()) == (
        400,
        {"object": "error", "message": "Invalid model: nope", "type": "invalid_model", "param": None, "code": "1500"},
    )
    bad_role = mistral.post(
        "/v1/chat/completions", json={**BODY, "messages": [{"role": "x", "content": "y"}]}, headers=auth
    )
    assert bad_role.status_code == 422 and bad_role.json()["detail"][0]["loc"] == ["body", "messages[0].role"]
    vllm = _served("vllm")
    assert vllm.post("/v1/chat/completions", json=BODY).json() == {"error": "Unauthorized"}
    big = vllm.post("/v1/chat/completions", json={**BODY, "messages": [{"role": "user", "content": "ok " * 20000}]},
                    headers=auth)  # fmt: skip
    assert big.status_code == 400 and "maximum context length is 8192 tokens" in big.json()["error"]["message"]
    assert big.json()["error"]["code"] == 400  # vLLM's code is the status, as a number


def test_azure_answers_a_request_without_api_version_as_an_unknown_resource() -> None:
    azure, auth = _served("azure-openai"), {"api-key": KEY}
    path = "/openai/deployments/gpt-4o-mini/chat/completions"
    bare = azure.post(path, json=BODY, headers=auth)
    assert (bare.status_code, bare.json()) == (404, {"error": {"code": "404", "message": "Resource not found"}})
    assert azure.post(path + "?api-version=2024-10-21", json=BODY, headers=auth).status_code == 200
    assert azure.post(path + "?api-version=2024-10-21", json=BODY).status_code == 401  # the route exists: auth next
    assert (
        _served("openai")
        .post("/v1/chat/completions", json=BODY, headers={"authorization": f"Bearer {KEY}"})
        .status_code
        == 200
    )


def test_a_drill_fault_is_rendered_in_the_drills_profile() -> None:
    [named, plain] = fault_steps(
        [Fault(kind="status", provider_error="budget_exceeded"), Fault(kind="status", status=503)], 1.0, "litellm"
    )
    assert named.status == 429
    assert json.loads(named.body)["error"]["type"] == "budget_exceeded"
    assert json.loads(plain.body)["error"]["code"] == "503"  # LiteLLM sends the status as a string code
    observed = sent_observation(named)  # how a client under test is judged from the wire
    assert (observed.status, observed.parser, observed.error_type) == (429, "error_envelope", "budget_exceeded")
    [vllm_401] = fault_steps([Fault(kind="status", status=401)], 1.0, "vllm")
    assert json.loads(vllm_401.body) == {"error": "scripted 401"}
    assert (sent_observation(vllm_401).parser, sent_observation(vllm_401).missing) == ("missing_field", ["error"])


def test_a_provider_error_fault_takes_no_status_or_code() -> None:
    with pytest.raises(ValueError, match="takes its status and code from the profile"):
        Fault.model_validate({"kind": "status", "provider_error": "loading", "status": 503})


def test_an_unknown_provider_error_is_a_located_problem_with_a_suggestion(tmp_path, repo_root) -> None:
    spec = tmp_path / "groq-more.yaml"
    spec.write_text(
        f"extends: {repo_root / 'specs' / 'providers' / 'groq.yaml'}\nversion: 1\nname: groq-more\n"
        "drills:\n  - id: typo\n    faults: [{provider_error: flex_capacty}]\n    expect: {attempts: 1}\n"
    )
    done = CliRunner().invoke(main, ["--allow-bases", str(repo_root / "specs"), "validate", str(spec)])
    assert done.exit_code == 2, done.output
    assert f"{spec}:6:" in done.output
    assert "the groq simulator profile has no error 'flex_capacty' (did you mean 'flex_capacity'?)" in done.output


def test_a_fault_script_names_its_profile_and_its_errors_are_checked(tmp_path) -> None:
    from engine.api import load_fault_script
    from engine.core.errors import SpecError

    good = tmp_path / "good.yaml"
    good.write_text("simulator: llama-cpp\nfaults: [{provider_error: loading}, ok]\n")
    assert load_fault_script(good).simulator == "llama-cpp"
    bad = tmp_path / "bad.yaml"
    bad.write_text("simulator: llama-cpp\nfaults: [{provider_error: loadin}]\n")
    with pytest.raises(SpecError) as raised:
        load_fault_script(bad)
    assert "bad.yaml:2:" in str(raised.value.problems[0]) and "did you mean 'loading'" in str(raised.value.problems[0])


def test_runbook_specs_lists_each_profile_and_the_errors_it_answers() -> None:
    done = CliRunner().invoke(main, ["specs", "--profiles"])
    assert done.exit_code == 0, done.output
    assert (
        "azure-openai  (POST /openai/deployments/{deployment}/chat/completions?api-version=..., key in api-key)"
        in done.output
    )
    assert "  unknown_deployment" in done.output and done.output.count("unknown_deployment") == 1
    assert "  flex_capacity              498 code capacity_exceeded  (openai)" in done.output
