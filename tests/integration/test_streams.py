"""Every streaming fault, over a real loopback socket: detected, classified, never a success."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys

import openai
import pytest

from engine.run import client as run_client
from engine.run.client import new_client
from engine.run.http import Outgoing, send
from engine.sim.faults import FaultServer, FaultStep
from engine.spec.classify import classify
from engine.spec.models import ResponseContract

BROKEN = {
    "stream_disconnect": ("partial", "truncated", "partial_stream"),
    "stream_no_done": ("partial", None, "partial_stream"),
    "stream_malformed": ("partial", None, "partial_stream"),
    "stream_stall": ("partial", "read_timeout", "partial_stream"),
    "stream_error_event": ("failed", None, "provider_error"),
    "stream_finish_error": ("failed", None, "provider_error"),
}
WELL_FORMED = ["stream_ok", "stream_keepalive", "stream_crlf", "stream_split", "stream_bom", "stream_slow_first_token"]


@pytest.fixture(autouse=True, params=["aiohttp", "httpcore"])
def transport(request, monkeypatch):
    """Every case on both transports: aiohttp's (the default) and httpcore's (proxied runs)."""
    monkeypatch.setattr(run_client, "FAST_TRANSPORT", request.param == "aiohttp")
    return request.param


@pytest.fixture(scope="module")
def rules(cometapi_loaded):
    return cometapi_loaded.spec.classification


@pytest.fixture(scope="module")
def contract(cometapi_loaded) -> ResponseContract:
    return cometapi_loaded.spec.contract.response


def stream_once(kind: str, contract: ResponseContract, wants_usage: bool = True):
    with FaultServer() as server:
        url = server.script("s", [FaultStep(kind, body_delay=0.05)])

        async def go():
            async with new_client(trust_env=False) as client:
                request = Outgoing(
                    "POST",
                    url + "/v1/chat/completions",
                    {},
                    b'{"stream": true}',
                    1.0,
                    0.3,
                    3.0,
                    1_000_000,
                    stream=True,
                    wants_usage=wants_usage,
                )
                return await send(client, request, contract)

        return asyncio.run(go())


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_a_broken_stream_is_never_a_success(kind, rules, contract):
    attempt = stream_once(kind, contract)
    outcome, transport, klass = BROKEN[kind]
    seen = attempt.observation
    assert (seen.stream.outcome, seen.transport_error, classify(seen, rules).class_) == (outcome, transport, klass)
    assert seen.stream.content_chars > 0  # what arrived is kept as evidence
    assert classify(seen, rules).class_ != "success"


@pytest.mark.parametrize("kind", WELL_FORMED)
def test_well_formed_variations_are_complete_answers(kind, rules, contract):
    attempt = stream_once(kind, contract)
    seen = attempt.observation
    assert seen.stream.outcome == "success" and seen.parser == "ok" and classify(seen, rules).class_ == "success"
    assert attempt.document["choices"][0]["message"]["content"] == "Hello, world."
    assert seen.stream.first_token_ms is not None and seen.stream.done_events == 1 and seen.stream.usage_seen


def test_keep_alives_are_counted_and_slow_first_tokens_measured(contract):
    assert stream_once("stream_keepalive", contract).observation.stream.keep_alives > 0
    assert stream_once("stream_slow_first_token", contract).observation.stream.first_token_ms >= 45


def test_a_missing_usage_chunk_or_finish_reason_is_reported():
    from engine.run.stream import StreamState, stream_outcome

    state = StreamState()
    state.feed(
        b'data: {"id": "a", "object": "chat.completion.chunk", "choices": [{"delta": {"content": "x"}}]}\n\n'
        b"data: [DONE]\n\n",
        1.0,
    )
    state.close(2.0)
    assert stream_outcome(state, None, wants_usage=True) == ("partial", "missing_field", ["finish_reason", "usage"])
    assert stream_outcome(state, None, wants_usage=False) == ("partial", "missing_field", ["finish_reason"])


def test_a_complete_stream_without_the_usage_it_asked_for_is_complete_with_drifted_accounting():
    from engine.run.stream import StreamState, stream_outcome

    state = StreamState()
    state.feed(
        b'data: {"id": "a", "object": "chat.completion.chunk", "choices": [{"delta": {"content": "x"}}]}\n\n'
        b'data: {"id": "a", "object": "chat.completion.chunk", "choices": [{"delta": {}, "finish_reason": "stop"}]}\n\n'
        b"data: [DONE]\n\n",
        1.0,
    )
    state.close(2.0)
    assert stream_outcome(state, None, wants_usage=True) == ("success", "missing_usage", ["usage"])
    assert stream_outcome(state, None, wants_usage=False) == ("success", "ok", [])


def test_the_openai_sdk_calls_a_truncated_stream_complete_and_runbook_does_not(tmp_path, contract):
    script = tmp_path / "faults.yaml"
    script.write_text("faults: [stream_no_done]\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "engine", "sim", "--script", str(script), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base_url = re.search(r"OpenAI SDK base_url: (\S+/v1)", process.stdout.readline()).group(1)
        client = openai.OpenAI(base_url=base_url, api_key="sk-any", max_retries=0, timeout=10)
        pieces = [
            c.choices[0].delta.content or ""
            for c in client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True
            )
            if c.choices
        ]
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
    assert "".join(pieces) == "Hello, world."  # the SDK: no error, a complete-looking answer
    seen = stream_once("stream_no_done", contract).observation  # runbook, same fault: partial
    assert seen.stream.outcome == "partial" and seen.parser == "stream_truncated"
