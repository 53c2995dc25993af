"""The third-party test servers behave as the release-gate tests assume."""

import json

import httpx
import pytest

from support.provider import OK_COMPLETION, AlwaysOkServer, WellBehavedProvider

KEY = "sk-provider-test-0123456789"
AUTH = {"authorization": f"Bearer {KEY}"}
HELLO = [{"role": "user", "content": "hello there"}]


@pytest.fixture(scope="module")
def client():
    with WellBehavedProvider(keys=(KEY,), models=("gpt-4o-mini",)) as provider:
        with httpx.Client(base_url=provider.base_url, timeout=10) as client:
            yield client


def chat(client, body, headers=AUTH):
    return client.post("/v1/chat/completions", json=body, headers=headers)


def test_completion_has_content_finish_reason_and_usage(client):
    response = chat(client, {"model": "gpt-4o-mini", "messages": HELLO})
    assert response.status_code == 200
    data = response.json()
    assert data["object"] == "chat.completion"
    assert data["choices"][0]["message"]["content"]
    assert data["choices"][0]["finish_reason"] == "stop"
    assert set(data["usage"]) >= {"prompt_tokens", "completion_tokens", "total_tokens"}
    assert not [name for name in response.headers if name.startswith("x-runbook")]


def test_stream_with_include_usage_ends_with_usage_then_done(client):
    body = {"model": "gpt-4o-mini", "messages": HELLO, "stream": True, "stream_options": {"include_usage": True}}
    with client.stream("POST", "/v1/chat/completions", json=body, headers=AUTH) as response:
        assert response.status_code == 200
        events = [line[len("data: ") :] for line in response.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] > 0
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"


@pytest.mark.parametrize(
    "method, path, headers, body, status, code",
    [
        ("GET", "/v1/models", AUTH, None, 404, "not_found"),
        ("POST", "/health", AUTH, {}, 404, "not_found"),
        ("POST", "/v1/chat/completions", {}, {"model": "gpt-4o-mini", "messages": HELLO}, 401, "invalid_api_key"),
        (
            "POST",
            "/v1/chat/completions",
            {"authorization": "Bearer sk-wrong"},
            {"model": "gpt-4o-mini", "messages": HELLO},
            401,
            "invalid_api_key",
        ),
        ("POST", "/v1/chat/completions", AUTH, {"messages": HELLO}, 400, "invalid_request"),
        ("POST", "/v1/chat/completions", AUTH, {"model": "gpt-4o-mini", "messages": []}, 400, "invalid_request"),
        (
            "POST",
            "/v1/chat/completions",
            AUTH,
            {"model": "gpt-4o-mini", "messages": [{"role": "robot", "content": "hi"}]},
            400,
            "invalid_request",
        ),
        ("POST", "/v1/chat/completions", AUTH, {"model": "gpt-nope", "messages": HELLO}, 404, "model_not_found"),
    ],
)
def test_errors_use_status_and_code(client, method, path, headers, body, status, code):
    response = client.request(method, path, json=body, headers=headers)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code
    assert set(error) == {"message", "type", "param", "code"}
    if code == "invalid_api_key":
        assert error["type"] == "invalid_request_error"


def test_prompt_over_context_is_refused(client):
    response = chat(client, {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x" * 40_000}]})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "context_length_exceeded"
    assert response.json()["error"]["param"] == "messages"


def test_always_ok_answers_bogus_path_without_auth():
    with AlwaysOkServer() as server:
        response = httpx.delete(server.base_url + "/no/such/path", timeout=10)
    assert response.status_code == 200
    assert response.json() == OK_COMPLETION
