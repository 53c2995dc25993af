"""The simulator's pure parts: public surface, config, token estimate, replies, server args."""

from __future__ import annotations

import importlib
import json

import pytest

import engine.sim
from engine.sim import DEFAULT_MODELS, SimConfig, SimServer
from engine.sim.completion import make_reply, stream_events
from engine.sim.tokens import content_text, estimate_prompt_tokens, estimate_tokens
from engine.sim.validate import ChatRequest


def test_public_names_are_exported() -> None:
    expected = ["DEFAULT_MODELS", "SimConfig", "SimServer", "create_app", "serve_forever"]
    assert sorted(engine.sim.__all__) == expected
    homes = {
        "DEFAULT_MODELS": "config",
        "SimConfig": "config",
        "SimServer": "server",
        "create_app": "app",
        "serve_forever": "server",
    }
    for name, home in homes.items():  # each public name is the object its private module defines
        assert getattr(engine.sim, name) is getattr(importlib.import_module(f"engine.sim.{home}"), name), name


def test_config_defaults_and_tuples() -> None:
    config = SimConfig(keys=["k1", "k2"])  # type: ignore[arg-type]
    assert config.keys == ("k1", "k2")
    assert config.models == DEFAULT_MODELS
    assert config.context_tokens == 8192
    assert "gpt-4o-mini" in DEFAULT_MODELS
    with pytest.raises(AttributeError):
        config.context_tokens = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"keys": "sk-one-string"},
        {"keys": ("",)},
        {"keys": ("k",), "models": ("m", 3)},
        {"keys": ("k",), "context_tokens": 0},
        {"keys": ("k",), "context_tokens": True},
    ],
)
def test_config_rejects_bad_values(kwargs: dict[str, object]) -> None:
    with pytest.raises((TypeError, ValueError)):
        SimConfig(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "tokens"), [("", 0), ("a", 1), ("abcd", 1), ("abcde", 2), ("x" * 8192, 2048)])
def test_estimate_is_ceil_of_chars_over_four(text: str, tokens: int) -> None:
    assert estimate_tokens(text) == tokens


def test_prompt_estimate_counts_all_contents_together() -> None:
    messages = [
        {"role": "system", "content": "abc"},
        {
            "role": "user",
            "content": [{"type": "text", "text": "de"}, {"type": "image_url", "image_url": {"url": "x"}}],
        },
        {"role": "assistant", "content": None},
    ]
    assert content_text(messages[1]) == "de"
    assert estimate_prompt_tokens(messages) == 2  # 5 chars, not 1 + 1


def request(content: str, **kwargs: object) -> ChatRequest:
    messages = ({"role": "user", "content": content},)
    return ChatRequest(model="m", messages=messages, prompt_tokens=1, **kwargs)  # type: ignore[arg-type]


def test_replies_are_deterministic() -> None:
    assert make_reply(request("hi")).content == "ok"
    assert make_reply(request("what is your Status?")).content == '{"status":"ok"}'


@pytest.mark.parametrize(("limit", "content"), [(0, ""), (-3, ""), (1, '{"st'), (3, '{"status":"o')])
def test_truncation_keeps_max_tokens_times_four_chars(limit: int, content: str) -> None:
    reply = make_reply(request("status", max_tokens=limit))
    assert (reply.content, reply.finish_reason) == (content, "length")
    assert reply.completion_tokens <= max(limit, 0)


def test_stream_content_pieces_rebuild_the_reply() -> None:
    chat = request("status")
    events = list(stream_events(chat, make_reply(chat)))
    assert all(event.startswith("data: ") and event.endswith("\n\n") for event in events)
    chunks = [json.loads(event[6:]) for event in events[:-1]]
    pieces = [c["choices"][0]["delta"]["content"] for c in chunks[1:-1]]
    assert len(pieces) == 3 and all(pieces)
    assert "".join(pieces) == '{"status":"ok"}'


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.com"])
def test_server_refuses_non_loopback_hosts(host: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        SimServer(SimConfig(keys=("k",)), host=host)


def test_localhost_means_ipv4_loopback() -> None:
    server = SimServer(SimConfig(keys=("k",)), host="localhost")
    assert server.start().base_url.startswith("http://127.0.0.1:")
    server.stop()


def test_server_has_no_port_before_start() -> None:
    server = SimServer(SimConfig(keys=("k",)))
    with pytest.raises(RuntimeError):
        _ = server.port
    assert not server.running
    server.stop()  # harmless before start
