"""A hostile or broken server is recorded as data: never an exception, never a hang past the deadline."""

from __future__ import annotations

import asyncio
import time

import pytest

from engine.api import load
from engine.run import client as run_client
from engine.run.client import new_client
from engine.run.http import MESSAGE_KEPT, Outgoing, send
from engine.spec.classify import classify
from engine.spec.models import ResponseContract
from support.hostile import LONG_MESSAGE_KEYWORD, HostileServer, closed_port

CONTRACT = ResponseContract(require=["choices[0].message", "choices[0].finish_reason"])
SECRET = "sk-live-very-secret-value-123456"


@pytest.fixture(autouse=True, params=["aiohttp", "httpcore"])
def transport(request, monkeypatch):
    """Every case on both transports: aiohttp's (the default) and httpcore's (proxied runs)."""
    monkeypatch.setattr(run_client, "FAST_TRANSPORT", request.param == "aiohttp")
    return request.param


@pytest.fixture(scope="module")
def hostile():
    with HostileServer() as server:
        yield server


def attempt(url: str, *, read: float = 2.0, deadline: float = 5.0, max_bytes: int = 1_048_576):
    outgoing = Outgoing(
        method="POST",
        url=url,
        headers={"authorization": f"Bearer {SECRET}"},
        body=b"{}",
        connect_timeout=1.0,
        read_timeout=read,
        deadline=deadline,
        max_response_bytes=max_bytes,
        secrets=(SECRET,),
    )

    async def go():
        async with new_client(trust_env=False) as client:
            return await send(client, outgoing, CONTRACT)

    return asyncio.run(go())


@pytest.mark.parametrize(
    "path, status, transport, parser",
    [
        ("/ok", 200, None, "ok"),
        ("/empty-content", 200, None, "empty_content"),
        ("/schema-drift", 200, None, "missing_field"),
        ("/error-in-200", 200, None, "error_in_body"),
        ("/invalid-json", 200, None, "invalid_json"),
        ("/html502", 502, None, "invalid_json"),
        ("/redirect", 301, None, "invalid_json"),
        ("/reset", None, "reset", "none"),
        ("/close", None, "reset", "none"),
        ("/truncated", 200, "truncated", "none"),
    ],
)
def test_each_misbehaviour_is_recorded(hostile, path, status, transport, parser):
    seen = attempt(hostile.url(path)).observation
    assert (seen.status, seen.transport_error, seen.parser) == (status, transport, parser)
    assert seen.elapsed_ms > 0


def test_schema_drift_lists_missing_paths(hostile):
    seen = attempt(hostile.url("/schema-drift")).observation
    assert seen.missing == ["choices[0].message", "choices[0].finish_reason"]


def test_error_inside_200_keeps_code_as_text(hostile):
    seen = attempt(hostile.url("/error-in-200")).observation
    assert (seen.error_code, seen.error_type, seen.error_message) == ("500", "server_error", "upstream failed")


@pytest.mark.parametrize(
    "path, code, kind, message",
    [
        ("/top-level-error", "1500", "invalid_model", "Invalid model: nope"),
        ("/fastapi-detail", None, None, "Extra inputs are not permitted"),
        ("/string-error", None, None, "Unauthorized"),
    ],
)
def test_an_error_in_another_shape_is_read_and_the_missing_envelope_still_named(hostile, path, code, kind, message):
    seen = attempt(hostile.url(path)).observation
    assert (seen.error_code, seen.error_type, seen.error_message) == (code, kind, message)
    assert (seen.parser, seen.missing) == ("missing_field", ["error"])  # the deviation stays on record


def test_a_long_error_message_is_kept_on_one_line_up_to_its_documented_length(hostile, repo_root):
    seen = attempt(hostile.url("/long-message")).observation
    assert seen.error_message is not None and len(seen.error_message) == MESSAGE_KEPT
    assert "\n" not in seen.error_message and "\t" not in seen.error_message
    keyword_at = seen.error_message.index(LONG_MESSAGE_KEYWORD)
    assert keyword_at > 600  # far past the first lines, still matched by a `message:` rule
    assert seen.error_message.endswith("…")
    litellm = load(repo_root / "specs" / "providers" / "litellm.yaml").spec.classification
    assert classify(seen, litellm).class_ == "token_budget"


def test_html_page_is_kept_as_a_short_excerpt(hostile):
    seen = attempt(hostile.url("/html502")).observation
    assert "502 Bad Gateway" in seen.body_excerpt and seen.content_type == "text/html"


def test_redirect_is_not_followed(hostile):
    seen = attempt(hostile.url("/redirect")).observation
    assert seen.status == 301


def test_read_timeout(hostile):
    started = time.perf_counter()
    seen = attempt(hostile.url("/stall"), read=0.2).observation
    assert seen.transport_error == "read_timeout" and seen.status is None
    assert time.perf_counter() - started < 2


def test_overall_deadline_stops_a_dripping_body(hostile):
    started = time.perf_counter()
    seen = attempt(hostile.url("/drip"), read=1.0, deadline=0.5).observation
    assert seen.transport_error == "deadline" and seen.status == 200
    assert time.perf_counter() - started < 1.5


def test_response_size_is_capped(hostile):
    seen = attempt(hostile.url("/huge"), max_bytes=64 * 1024).observation
    assert seen.transport_error == "too_large" and 0 < seen.response_bytes <= 64 * 1024


def test_connect_refused_is_data():
    seen = attempt(f"http://127.0.0.1:{closed_port()}/v1/chat/completions").observation
    assert seen.transport_error == "connect" and seen.status is None and seen.parser == "none"


def test_echoed_secret_is_scrubbed(hostile):
    seen = attempt(hostile.url("/echo-auth")).observation
    assert seen.status == 401 and SECRET not in (seen.error_message or "")
    assert "[REDACTED]" in seen.error_message


def test_request_id_is_captured_but_content_is_not(hostile):
    result = attempt(hostile.url("/ok"))
    assert result.observation.request_id == "req_hostile_1"
    assert "secret prompt answer" not in result.observation.model_dump_json()


def test_deeply_nested_json_is_invalid_json_not_a_crash(hostile):
    seen = attempt(hostile.url("/deep-json")).observation
    assert (seen.status, seen.parser) == (200, "invalid_json")


def test_gzip_body_is_decoded(hostile):
    seen = attempt(hostile.url("/gzip")).observation
    assert (seen.status, seen.parser, seen.transport_error) == (200, "ok", None)


def test_gzip_bomb_stops_at_the_cap(hostile):
    seen = attempt(hostile.url("/gzip-bomb"), max_bytes=1_000_000).observation
    assert seen.transport_error == "too_large" and seen.response_bytes <= 1_000_000


def test_stacked_codings_are_refused(hostile):
    seen = attempt(hostile.url("/double-gzip")).observation
    assert seen.transport_error == "protocol" and "content-encoding" in seen.transport_detail


def test_a_2xx_body_is_never_excerpted(hostile):
    assert attempt(hostile.url("/invalid-json")).observation.body_excerpt is None
