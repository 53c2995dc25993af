"""engine.sim.wire, the one place the wire formats are built, and the fault server's h11 request reading.

Server behaviour is tested over real loopback sockets: the built-in simulator (SimServer) and the fault
simulator (FaultServer) answer in the shapes wire.py builds, and the fault server reads sized,
chunked and pipelined request bodies so the connection carries the next request.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from engine.core.fingerprint import SIMULATOR_HEADER
from engine.sim import SimConfig, SimServer, wire
from engine.sim.faults import FaultServer, FaultStep
from support.hostile import HostileServer

KEY = "sk-wire-test-0123456789"
BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "status please"}]}
ENVELOPE_FIELDS = ["message", "type", "param", "code"]


# wire.py on its own


def test_fields_given_as_none_are_left_out_in_openai_order() -> None:
    assert wire.error_envelope("m", 500, "server_error") == {
        "error": {"message": "m", "type": "server_error", "code": 500}
    }
    assert list(wire.error_envelope("m", "c", "t", "p")["error"]) == ENVELOPE_FIELDS
    minimal = wire.completion(wire.Answer(id="x", model="m"), "hi")
    assert list(minimal) == ["id", "object", "model", "choices"]
    full = wire.completion(wire.Answer(id="x", model="m", created=1, system_fingerprint="fp", openai_nulls=True), "hi")
    assert list(full) == ["id", "object", "created", "model", "system_fingerprint", "choices"]
    assert list(full["choices"][0]) == ["index", "message", "logprobs", "finish_reason"]
    assert full["choices"][0]["message"] == {"role": "assistant", "content": "hi", "refusal": None}


def test_usage_on_every_chunk_is_null_until_the_usage_chunk() -> None:
    answer = wire.Answer(id="x", model="m", usage_on_every_chunk=True)
    chunks = list(wire.stream_chunks(answer, ["a", "b"], "stop", wire.token_usage(1, 2)))
    assert [c["usage"] for c in chunks[:-1]] == [None] * 4
    assert chunks[-1] == {
        **wire.chunk(answer, []),
        "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
    }
    plain = list(wire.stream_chunks(wire.Answer(id="x", model="m"), ["a"]))
    assert all("usage" not in c for c in plain) and len(plain) == 3  # role, "a", finish; no usage chunk


def test_event_and_http_framing() -> None:
    assert wire.sse_event(wire.DONE) == "data: [DONE]\n\n"
    assert wire.sse_event("{}", "\r\n") == "data: {}\r\n\r\n"
    assert wire.sse_comment("keep-alive") == ": keep-alive\n\n"
    assert wire.to_json({"a": [1, 2]}) == '{"a":[1,2]}' and wire.to_json({"a": [1, 2]}, spaced=True) == '{"a": [1, 2]}'
    assert wire.http_response(418, b"{}", headers=(("x-a", "b"),)) == (
        b"HTTP/1.1 418 Status\r\ncontent-type: application/json\r\ncontent-length: 2\r\nx-a: b\r\n\r\n{}"
    )
    assert wire.http_chunk(b"hello") == b"5\r\nhello\r\n" and wire.http_chunk(b"") == b"0\r\n\r\n"


# the two simulators answer through wire.py


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[str, FaultServer]]:
    with SimServer(SimConfig(keys=(KEY,))) as sim, FaultServer() as faults:
        yield sim.base_url, faults


def post(url: str, **body: Any) -> httpx.Response:
    headers = {"authorization": f"Bearer {KEY}"}
    return httpx.post(url + "/v1/chat/completions", json={**BODY, **body}, headers=headers, trust_env=False, timeout=5)


def test_both_simulators_send_the_completion_wire_py_builds(servers: tuple[str, FaultServer]) -> None:
    sim_url, faults = servers
    full = post(sim_url)
    document = full.json()
    answer = wire.Answer(document["id"], "gpt-4o-mini", document["created"], "fp_runbook_sim", openai_nulls=True)
    assert list(document) == list(wire.completion(answer, "", usage={}))
    assert document == wire.completion(answer, '{"status":"ok"}', usage=wire.token_usage(4, 4, details=True))

    least = post(faults.script("wire-ok", [FaultStep("ok")]))
    created = least.json()["created"]
    expected = wire.completion(
        wire.Answer("chatcmpl-drill", "sim", created), '{"status":"ok"}', usage=wire.token_usage(5, 2)
    )
    assert least.content == wire.to_json(expected, spaced=True).encode()


def test_both_simulators_send_the_same_error_envelope(servers: tuple[str, FaultServer]) -> None:
    sim_url, faults = servers
    refused = httpx.post(sim_url + "/v1/chat/completions", json=BODY, trust_env=False, timeout=5)
    scripted = post(faults.script("wire-503", [FaultStep("status", 503, error_code="overloaded")]))
    for response, status in ((refused, 401), (scripted, 503)):
        assert response.status_code == status and response.headers["content-type"] == "application/json"
        error = response.json()["error"]
        assert list(error) == ENVELOPE_FIELDS and error["type"] == wire.COMET_ERROR_TYPE
    assert scripted.json() == wire.error_envelope("scripted 503", "overloaded", wire.COMET_ERROR_TYPE, "")


def test_both_simulators_stream_role_content_finish_usage_done(servers: tuple[str, FaultServer]) -> None:
    sim_url, faults = servers
    sim = post(sim_url, stream=True, stream_options={"include_usage": True})
    fault = post(faults.script("wire-stream", [FaultStep("stream_ok")]))
    for response in (sim, fault):
        assert response.headers["content-type"].startswith(wire.SSE_TYPE)
        assert event_kinds(response.text) == ["role", "content", "finish", "usage", "done"]


def event_kinds(text: str) -> list[str]:
    """What the events of a streamed answer carry, in order, a run of content deltas counted once."""
    datas = [event.removeprefix("data: ") for event in text.split("\n\n") if event]
    kinds = ["done" if data == wire.DONE else _chunk_kind(json.loads(data)) for data in datas]
    return [kind for index, kind in enumerate(kinds) if index == 0 or kind != kinds[index - 1]]


def _chunk_kind(chunk: dict[str, Any]) -> str:
    if not chunk["choices"]:
        return "usage"
    choice = chunk["choices"][0]
    return "finish" if choice["finish_reason"] else ("role" if "role" in choice["delta"] else "content")


# the fault server reads requests with h11, over a real socket


def exchange(port: int, data: bytes) -> bytes:
    """Send `data`, end the sending side, and read until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


def statuses(received: bytes) -> list[int]:
    return [int(status) for status in re.findall(rb"HTTP/1\.1 (\d{3}) ", received)]


def port_of(server: FaultServer) -> int:
    return int(server.base_url.rsplit(":", 1)[1])


def test_a_chunked_body_with_extensions_and_trailers_leaves_the_connection_usable() -> None:
    chunked = (
        b"POST /drill/c/v1/chat/completions HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n"
        b"5;name=value\r\nhello\r\n1a\r\n" + b"z" * 26 + b"\r\n0\r\nx-trailer: 1\r\n\r\n"
    )
    sized = b'POST /drill/c/v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 7\r\n\r\n{"a":1}'
    with FaultServer() as server:
        server.script("c", [FaultStep("status", 503), FaultStep("status", 429), FaultStep()])
        received = exchange(port_of(server), chunked + sized + chunked)  # pipelined: one send
        assert statuses(received) == [503, 429, 200]
        assert [a.index for a in server.attempts("c")] == [0, 1, 2]


def test_a_body_cut_short_or_badly_chunked_is_never_answered() -> None:
    head = b"POST /drill/c/x HTTP/1.1\r\nhost: x\r\n"
    with FaultServer() as server:
        server.script("c", [FaultStep()])
        assert exchange(port_of(server), head + b"content-length: 50\r\n\r\n{}") == b""
        assert exchange(port_of(server), head + b"transfer-encoding: chunked\r\n\r\nzz\r\n") == b""
        assert server.attempts() == []  # an attempt is counted once its request has been read


def test_only_the_simulators_sign_their_answers() -> None:
    with FaultServer() as server, HostileServer() as hostile:
        signed = httpx.post(server.script("sig", [FaultStep("html_502")]) + "/x", trust_env=False)
        unsigned = httpx.post(hostile.url("/html502"), trust_env=False)
    assert signed.status_code == unsigned.status_code == 502 and signed.content == unsigned.content
    assert SIMULATOR_HEADER in signed.headers and SIMULATOR_HEADER not in unsigned.headers
