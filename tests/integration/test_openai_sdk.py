"""The official openai SDK against the simulator: success, streaming and error classes."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from engine.sim import SimConfig, SimServer

KEY = "sk-sim-sdk-2d8f61"
WRONG_KEY = "sk-sim-sdk-wrong-c4a0"
MODEL = "gpt-4o-mini"


@pytest.fixture(scope="module")
def server() -> Iterator[SimServer]:
    with SimServer(SimConfig(keys=(KEY,), context_tokens=256)) as running:
        yield running


def make_client(server: SimServer, key: str = KEY) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url + "/v1", api_key=key, max_retries=0, timeout=5)


@pytest.fixture()
def client(server: SimServer) -> Iterator[openai.OpenAI]:
    with make_client(server) as sdk:
        yield sdk


def test_chat_completion_is_parsed(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "What is your status?"}], temperature=0
    )
    assert completion.object == "chat.completion"
    assert completion.model == MODEL
    choice = completion.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content == '{"status":"ok"}'
    assert choice.finish_reason == "stop"
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (5, 4)
    assert completion.usage.total_tokens == 9


def test_max_tokens_truncation_reports_length(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "status"}], max_tokens=1
    )
    assert completion.choices[0].finish_reason == "length"
    assert completion.choices[0].message.content == '{"st'


def test_stream_yields_the_content_and_stops(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "status"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert content == '{"status":"ok"}'
    assert finishes == ["stop"]
    assert len({c.id for c in chunks}) == 1
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 4


def test_models_list(client: openai.OpenAI) -> None:
    assert MODEL in [model.id for model in client.models.list()]


def test_wrong_key_raises_authentication_error(server: SimServer) -> None:
    with make_client(server, WRONG_KEY) as wrong, pytest.raises(openai.AuthenticationError) as caught:
        wrong.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    exc = caught.value
    assert exc.status_code == 401
    assert exc.code == "invalid_api_key"
    assert exc.request_id is not None and exc.request_id in exc.message
    assert WRONG_KEY not in exc.response.text


def test_empty_messages_raise_bad_request(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=MODEL, messages=[])
    assert (caught.value.code, caught.value.param) == ("invalid_request", "messages")


def test_invalid_role_raises_bad_request(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "robot", "content": "hi"}],  # type: ignore[list-item]
        )
    assert (caught.value.code, caught.value.param) == ("invalid_request", "messages[0].role")


def test_oversized_input_raises_context_length_exceeded(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x" * 2000}])
    exc = caught.value
    assert exc.status_code == 400
    assert exc.code == "context_length_exceeded"
    assert isinstance(exc.body, dict)
    assert exc.body["code"] == "context_length_exceeded"
    assert exc.body["type"] == "comet_api_error"
    assert exc.body["param"] == "messages"
    assert "256" in exc.body["message"] and "500" in exc.body["message"]


def test_unknown_model_raises_not_found(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gpt-imaginary", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.status_code == 404
    assert (caught.value.code, caught.value.param) == ("model_not_found", "model")
