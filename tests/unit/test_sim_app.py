"""The simulator app in process (starlette TestClient): every check, in order."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from engine.sim import SimConfig, create_app

KEY = "sk-sim-unit-7f3a9c"
OTHER_KEY = "sk-sim-wrong-51d2e8"
AUTH = {"Authorization": f"Bearer {KEY}"}
CHAT = "/v1/chat/completions"
RID = re.compile(r"^req_[0-9a-f]{24}$")


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(SimConfig(keys=(KEY,), context_tokens=100)))


def chat(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    body.update(overrides)
    return body


def assert_error(response: httpx.Response, status: int, code: str, param: str) -> dict[str, Any]:
    """Status, envelope shape, request id in header and message; returns the error object."""
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    rid = response.headers["x-request-id"]
    assert RID.match(rid)
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "comet_api_error"
    assert error["code"] == code
    assert error["param"] == param
    assert error["message"].endswith(f" (request id: {rid})")
    return error


# 1. auth


def test_missing_authorization_is_401_with_empty_code(client: TestClient) -> None:
    error = assert_error(client.post(CHAT, json=chat()), 401, "", "")
    assert "Authorization" in error["message"]


@pytest.mark.parametrize(
    "header",
    [f"Bearer {OTHER_KEY}", f"Basic {KEY}", f"Token {OTHER_KEY}", KEY, "Bearer "],
    ids=["unknown-key", "basic-scheme", "token-scheme", "no-scheme", "empty-key"],
)
def test_bad_credentials_are_401_invalid_api_key_and_never_echoed(client: TestClient, header: str) -> None:
    response = client.post(CHAT, json=chat(), headers={"Authorization": header})
    assert_error(response, 401, "invalid_api_key", "")
    assert KEY not in response.text
    assert OTHER_KEY not in response.text


def test_bearer_scheme_is_case_insensitive(client: TestClient) -> None:
    assert client.post(CHAT, json=chat(), headers={"Authorization": f"bearer {KEY}"}).status_code == 200


def test_auth_is_checked_before_the_body(client: TestClient) -> None:
    assert_error(client.post(CHAT, content=b"{not json"), 401, "", "")


# 2-5. body, model, messages


@pytest.mark.parametrize("raw", [b"{not json", b"", b"\xff\xfe", b"[1, 2]", b'"text"', b"null"])
def test_body_not_a_json_object_is_400(client: TestClient, raw: bytes) -> None:
    assert_error(client.post(CHAT, content=raw, headers=AUTH), 400, "invalid_request", "")


@pytest.mark.parametrize("model", [None, "", "   ", 7, ["gpt-4o-mini"]])
def test_bad_model_field_is_400_param_model(client: TestClient, model: Any) -> None:
    body = chat(model=model) if model is not None else {"messages": chat()["messages"]}
    assert_error(client.post(CHAT, json=body, headers=AUTH), 400, "invalid_request", "model")


@pytest.mark.parametrize("messages", [None, [], "hi", {"role": "user", "content": "hi"}])
def test_bad_messages_field_is_400_param_messages(client: TestClient, messages: Any) -> None:
    body = chat(messages=messages) if messages is not None else {"model": "gpt-4o-mini"}
    assert_error(client.post(CHAT, json=body, headers=AUTH), 400, "invalid_request", "messages")


def test_model_is_checked_before_messages(client: TestClient) -> None:
    assert_error(client.post(CHAT, json={"messages": []}, headers=AUTH), 400, "invalid_request", "model")


@pytest.mark.parametrize(
    ("message", "param"),
    [
        ({"role": "robot", "content": "hi"}, "messages[1].role"),
        ({"content": "hi"}, "messages[1].role"),
        ({"role": "user", "content": None}, "messages[1].content"),
        ({"role": "user"}, "messages[1].content"),
        ({"role": "system", "content": 3}, "messages[1].content"),
        ({"role": "user", "content": ["hi"]}, "messages[1].content"),
        ("hi", "messages[1]"),
    ],
)
def test_bad_message_names_its_index_and_field(client: TestClient, message: Any, param: str) -> None:
    body = chat(messages=[{"role": "user", "content": "ok"}, message])
    assert_error(client.post(CHAT, json=body, headers=AUTH), 400, "invalid_request", param)


def test_allowed_message_forms_pass(client: TestClient) -> None:
    messages = [
        {"role": "developer", "content": "be brief"},
        {"role": "system", "content": "s"},
        {"role": "user", "content": [{"type": "text", "text": "hi"}]},
        {"role": "assistant", "content": None, "tool_calls": []},
        {"role": "tool", "content": "42", "tool_call_id": "call_1"},
        {"role": "user", "content": "again"},
    ]
    assert client.post(CHAT, json=chat(messages=messages), headers=AUTH).status_code == 200


# 6-7. model exists, context window


def test_unknown_model_is_404_model_not_found(client: TestClient) -> None:
    response = client.post(CHAT, json=chat(model="gpt-nonexistent"), headers=AUTH)
    error = assert_error(response, 404, "model_not_found", "model")
    assert "gpt-nonexistent" in error["message"]


def test_message_errors_come_before_unknown_model(client: TestClient) -> None:
    body = chat(model="gpt-nonexistent", messages=[{"role": "robot", "content": "x"}])
    assert_error(client.post(CHAT, json=body, headers=AUTH), 400, "invalid_request", "messages[0].role")


def test_prompt_over_the_window_is_context_length_exceeded(client: TestClient) -> None:
    # 401 characters -> ceil(401 / 4) = 101 tokens > 100.
    body = chat(messages=[{"role": "system", "content": "a" * 200}, {"role": "user", "content": "b" * 201}])
    response = client.post(CHAT, json=body, headers=AUTH)
    error = assert_error(response, 400, "context_length_exceeded", "messages")
    assert "100" in error["message"] and "101" in error["message"]


def test_prompt_exactly_at_the_window_passes(client: TestClient) -> None:
    body = chat(messages=[{"role": "user", "content": "b" * 400}])
    response = client.post(CHAT, json=body, headers=AUTH)
    assert response.status_code == 200
    assert response.json()["usage"]["prompt_tokens"] == 100


def test_unknown_model_comes_before_context_length(client: TestClient) -> None:
    body = chat(model="nope", messages=[{"role": "user", "content": "b" * 1000}])
    assert_error(client.post(CHAT, json=body, headers=AUTH), 404, "model_not_found", "model")


# 8. success


def test_success_has_the_openai_completion_shape(client: TestClient) -> None:
    body = chat(temperature=0.2, top_p=1, seed=3, whatever={"x": 1})
    response = client.post(CHAT, json=body, headers=AUTH)
    assert response.status_code == 200
    assert RID.match(response.headers["x-request-id"])
    body = response.json()
    assert re.match(r"^chatcmpl-[0-9a-f]+$", body["id"])
    assert body["object"] == "chat.completion"
    assert isinstance(body["created"], int) and abs(body["created"] - time.time()) < 60  # a Unix time: now
    assert body["model"] == "gpt-4o-mini"
    assert body["system_fingerprint"] == "fp_runbook_sim"
    assert body["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "ok", "refusal": None},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ]
    assert body["usage"] == {
        "prompt_tokens": 1,
        "completion_tokens": 1,
        "total_tokens": 2,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }


def test_request_ids_are_unique(client: TestClient) -> None:
    ids = {client.post(CHAT, json=chat(), headers=AUTH).headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5


def test_last_user_message_about_status_gets_json_reply(client: TestClient) -> None:
    messages = [{"role": "user", "content": "hello"}, {"role": "user", "content": "Report STATUS as JSON"}]
    body = client.post(CHAT, json=chat(messages=messages), headers=AUTH).json()
    assert json.loads(body["choices"][0]["message"]["content"]) == {"status": "ok"}


def test_only_the_last_user_message_counts(client: TestClient) -> None:
    messages = [
        {"role": "user", "content": "status?"},
        {"role": "assistant", "content": "status is fine"},
        {"role": "user", "content": "thanks"},
    ]
    body = client.post(CHAT, json=chat(messages=messages), headers=AUTH).json()
    assert body["choices"][0]["message"]["content"] == "ok"


@pytest.mark.parametrize("field", ["max_tokens", "max_completion_tokens"])
def test_small_max_tokens_truncates_with_finish_reason_length(client: TestClient, field: str) -> None:
    body = chat(messages=[{"role": "user", "content": "status"}], **{field: 2})
    data = client.post(CHAT, json=body, headers=AUTH).json()
    assert data["choices"][0]["message"]["content"] == '{"status'
    assert data["choices"][0]["finish_reason"] == "length"
    assert data["usage"]["completion_tokens"] == 2


def test_max_tokens_large_enough_keeps_the_reply(client: TestClient) -> None:
    body = chat(max_tokens=4, messages=[{"role": "user", "content": "status"}])
    data = client.post(CHAT, json=body, headers=AUTH).json()
    assert data["choices"][0]["message"]["content"] == '{"status":"ok"}'
    assert data["choices"][0]["finish_reason"] == "stop"


# 9. streaming


def sse_payloads(text: str) -> list[str]:
    assert text.endswith("data: [DONE]\n\n")
    events = [event for event in text.split("\n\n") if event]
    assert all(event.startswith("data: ") for event in events)
    return [event.removeprefix("data: ") for event in events]


def test_stream_sends_role_content_finish_and_done(client: TestClient) -> None:
    body = chat(stream=True, messages=[{"role": "user", "content": "status please"}])
    response = client.post(CHAT, json=body, headers=AUTH)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert RID.match(response.headers["x-request-id"])
    payloads = sse_payloads(response.text)
    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(payload) for payload in payloads[:-1]]
    assert len({chunk["id"] for chunk in chunks}) == 1
    assert all(chunk["object"] == "chat.completion.chunk" for chunk in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert len(chunks) >= 4  # role, at least two content pieces, finish
    text = "".join(chunk["choices"][0]["delta"].get("content", "") for chunk in chunks)
    assert text == '{"status":"ok"}'
    assert chunks[-1]["choices"] == [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]
    assert all("usage" not in chunk for chunk in chunks)


def test_stream_with_include_usage_ends_with_a_usage_chunk(client: TestClient) -> None:
    body = chat(stream=True, stream_options={"include_usage": True})
    chunks = [json.loads(p) for p in sse_payloads(client.post(CHAT, json=body, headers=AUTH).text)[:-1]]
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["total_tokens"] == 2
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert all(chunk["usage"] is None for chunk in chunks[:-1])


def test_stream_honours_max_tokens(client: TestClient) -> None:
    body = chat(stream=True, max_tokens=1, messages=[{"role": "user", "content": "status"}])
    chunks = [json.loads(p) for p in sse_payloads(client.post(CHAT, json=body, headers=AUTH).text)[:-1]]
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == '{"st'
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"


def test_stream_errors_are_plain_json(client: TestClient) -> None:
    response = client.post(CHAT, json=chat(stream=True, model="nope"), headers=AUTH)
    assert_error(response, 404, "model_not_found", "model")


# models and other routes


def test_models_lists_the_configured_models(client: TestClient) -> None:
    response = client.get("/v1/models", headers=AUTH)
    assert response.status_code == 200
    assert RID.match(response.headers["x-request-id"])
    body = response.json()
    assert body["object"] == "list"
    assert [model["id"] for model in body["data"]] == list(SimConfig(keys=("k",)).models)
    assert all(model["object"] == "model" for model in body["data"])


def test_models_requires_auth(client: TestClient) -> None:
    assert_error(client.get("/v1/models"), 401, "", "")
    response = client.get("/v1/models", headers={"Authorization": f"Bearer {OTHER_KEY}"})
    assert_error(response, 401, "invalid_api_key", "")
    assert OTHER_KEY not in response.text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("POST", "/v1/completions"),
        ("POST", "/chat/completions"),
        ("POST", "/v1/chat/completions/"),
        ("GET", "/v1/chat/completions"),
        ("POST", "/v1/models"),
        ("DELETE", "/v1/models"),
    ],
)
def test_other_paths_and_methods_are_json_404(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path, headers=AUTH, follow_redirects=False)
    assert_error(response, 404, "not_found", "")


def test_internal_failure_still_uses_the_envelope(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: Any) -> None:
        raise ZeroDivisionError("simulated bug")

    monkeypatch.setattr("engine.sim.app.make_reply", broken)
    app_client = TestClient(create_app(SimConfig(keys=(KEY,))), raise_server_exceptions=False)
    assert_error(app_client.post(CHAT, json=chat(), headers=AUTH), 500, "", "")


def test_the_azure_profile_serves_its_path_with_the_api_key_header_and_names_unknown_deployments():
    from starlette.testclient import TestClient

    from engine.core.providers import PROFILES
    from engine.sim import SimConfig
    from engine.sim.app import create_app

    config = SimConfig(keys=("sk-azure",), models=("gpt-4o-mini",), profile=PROFILES["azure-openai"])
    client = TestClient(create_app(config))
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    path = "/openai/deployments/{}/chat/completions?api-version=2024-10-21"
    assert client.post(path.format("gpt-4o-mini"), json=body, headers={"api-key": "sk-azure"}).status_code == 200
    bearer = client.post(path.format("gpt-4o-mini"), json=body, headers={"authorization": "Bearer sk-azure"})
    assert bearer.status_code == 401  # Azure's key travels in api-key
    unknown = client.post(path.format("nope"), json=body, headers={"api-key": "sk-azure"})
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "DeploymentNotFound")
    assert client.post("/v1/chat/completions", json=body, headers={"api-key": "sk-azure"}).status_code == 404
