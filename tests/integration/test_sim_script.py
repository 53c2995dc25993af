"""`runbook sim --script` serving many calls: each call scoped by /call/<id>/ or X-Runbook-Call, over real sockets."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading

import httpx
import openai
import pytest

from engine.sim.faults import FaultServer, FaultStep
from engine.sim.standalone import serve_script

SCRIPT = 'faults:\n  - {status: 503}\n  - {status: 429, headers: {retry-after-ms: "20"}}\n  - ok\n'
BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture()
def scripted(tmp_path):
    """`runbook sim --script` as a user runs it: (base URL, path of its attempt log)."""
    script, log = tmp_path / "faults.yaml", tmp_path / "attempts.jsonl"
    script.write_text(SCRIPT)
    process = subprocess.Popen(
        [sys.executable, "-m", "engine", "sim", "--script", str(script), "--port", "0", "--log", str(log)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = process.stdout.readline()
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", banner)
        assert match, f"unexpected banner: {banner!r} {process.stderr.read() if process.poll() is not None else ''}"
        yield match.group(1), log
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
    assert process.returncode == 0


def _lines(log) -> tuple[list[dict], list[dict]]:
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert {r["event"] for r in records} <= {"attempt", "answered"}
    return [r for r in records if r["event"] == "attempt"], [r for r in records if r["event"] == "answered"]


def _status(client: httpx.Client, url: str, **headers: str) -> int:
    return client.post(url, json=BODY, headers=headers).status_code


def test_each_call_prefix_gets_the_script_from_its_first_step(scripted):
    base, log = scripted
    with httpx.Client(timeout=5) as client:
        a, b = f"{base}/call/a/v1/chat/completions", f"{base}/call/b/v1/chat/completions"
        seen = [
            _status(client, a),
            _status(client, b),
            _status(client, a),
            _status(client, a),
            _status(client, a),
            _status(client, b),
        ]
        # neither a path prefix nor the header: the one default sequence, untouched by the calls above
        default = [_status(client, f"{base}/v1/chat/completions") for _ in range(4)]
    assert seen == [503, 503, 429, 200, 200, 429]  # a: 503 429 ok ok(repeats); b from its own first step
    assert default == [503, 429, 200, 200]
    attempts, _ = _lines(log)
    assert [(r["call"], r["attempt"], r["answer"]) for r in attempts[:6]] == [
        ("a", 1, "status 503"),
        ("b", 1, "status 503"),
        ("a", 2, "status 429"),
        ("a", 3, "ok"),
        ("a", 4, "ok"),
        ("b", 2, "status 429"),
    ]
    assert [(r["call"], r["attempt"]) for r in attempts[6:]] == [("default", n) for n in (1, 2, 3, 4)]
    assert attempts[0]["path"] == "/call/a/v1/chat/completions"


def test_the_header_scopes_a_call_on_any_path_and_a_path_prefix_wins_over_it(scripted):
    base, log = scripted
    with httpx.Client(timeout=5) as client:
        url = f"{base}/v1/chat/completions"
        seen = [
            _status(client, url, **{"X-Runbook-Call": "h1"}),
            _status(client, url, **{"X-Runbook-Call": "h1"}),
            _status(client, f"{base}/anything/else", **{"X-Runbook-Call": "h2"}),
            _status(client, f"{base}/call/p/v1/chat/completions", **{"X-Runbook-Call": "h1"}),
        ]
        bad = client.post(url, json=BODY, headers={"X-Runbook-Call": "not a valid id!"})
    assert seen == [503, 429, 503, 503]
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_call_id"
    attempts, _ = _lines(log)
    assert [(r["call"], r["attempt"]) for r in attempts] == [("h1", 1), ("h1", 2), ("h2", 1), ("p", 1)]


def test_the_log_has_calls_attempts_request_ids_and_answered_events_but_no_secrets(scripted):
    base, log = scripted
    long_id = "r" * 150
    with httpx.Client(timeout=5) as client:
        url = f"{base}/call/logged/v1/chat/completions?api-key=sk-in-query"
        secret = {"Authorization": "Bearer sk-very-secret", "X-Api-Key": "sk-also-secret"}
        _status(client, url, **secret, **{"X-Client-Request-Id": "client-1", "X-Request-Id": "ignored"})
        _status(client, url, **secret, **{"X-Request-Id": long_id})
        _status(client, url, **secret)
    text = log.read_text()
    assert "secret" not in text and "sk-in-query" not in text
    attempts, answered = _lines(log)
    assert [r["request_id"] for r in attempts] == ["client-1", "r" * 100, None]
    assert all(
        set(r) == {"event", "time", "elapsed_s", "call", "attempt", "answer", "path", "request_id"} for r in attempts
    )
    assert attempts[0]["path"] == "/call/logged/v1/chat/completions"
    assert [(r["call"], r["attempt"]) for r in answered] == [("logged", 1), ("logged", 2), ("logged", 3)]
    assert all(set(r) == {"event", "time", "elapsed_s", "call", "attempt"} for r in answered)
    for attempt, done in zip(attempts, answered, strict=True):
        assert attempt["elapsed_s"] <= done["elapsed_s"]
    assert attempts[1]["elapsed_s"] >= answered[0]["elapsed_s"]  # one call, in order: answered, then the next


def test_a_stall_is_logged_but_never_answered(tmp_path):
    log_path = tmp_path / "attempts.jsonl"
    stop, ready = threading.Event(), threading.Event()
    urls: list[str] = []

    def on_ready(url: str) -> None:
        urls.append(url)
        ready.set()

    with log_path.open("a", encoding="utf-8") as log:
        thread = threading.Thread(
            target=serve_script,
            args=([FaultStep("stall"), FaultStep()], "127.0.0.1", 0, log, on_ready, stop),
            daemon=True,
        )
        thread.start()
        try:
            assert ready.wait(5)
            with httpx.Client(timeout=0.3) as client:
                with pytest.raises(httpx.ReadTimeout):
                    client.post(f"{urls[0]}/call/s/v1/chat/completions", json=BODY)
                assert client.post(f"{urls[0]}/call/s/v1/chat/completions", json=BODY).status_code == 200
        finally:
            stop.set()
            thread.join(10)
    assert not thread.is_alive()
    attempts, answered = _lines(log_path)
    assert [(r["call"], r["attempt"], r["answer"]) for r in attempts] == [("s", 1, "stall"), ("s", 2, "ok")]
    assert [(r["call"], r["attempt"]) for r in answered] == [("s", 2)]


def test_chunked_and_sized_request_bodies_leave_the_connection_usable(scripted):
    base, log = scripted
    url = f"{base}/v1/chat/completions"
    pieces = [b'{"model": "gpt-4o-mini", ', b'"messages": [{"role": "user", ', b'"content": "hi"}]}']
    with httpx.Client(timeout=5) as client:
        chunked = client.post(url, content=iter(pieces), headers={"X-Runbook-Call": "chunky"})
        assert chunked.request.headers.get("transfer-encoding") == "chunked"
        sized = client.post(url, content=b"".join(pieces), headers={"X-Runbook-Call": "chunky"})
        again = client.post(url, content=iter(pieces), headers={"X-Runbook-Call": "chunky"})
    assert [chunked.status_code, sized.status_code, again.status_code] == [503, 429, 200]
    attempts, _ = _lines(log)
    assert [(r["call"], r["attempt"]) for r in attempts] == [("chunky", 1), ("chunky", 2), ("chunky", 3)]


def test_the_openai_sdk_names_its_call_in_the_base_url(scripted):
    base, log = scripted
    client = openai.OpenAI(base_url=f"{base}/call/sdk-1/v1", api_key="sk-anything", max_retries=3, timeout=10)
    reply = client.chat.completions.create(**BODY)
    assert reply.choices[0].finish_reason == "stop"
    headed = openai.OpenAI(
        base_url=f"{base}/v1",
        api_key="sk-anything",
        max_retries=0,
        timeout=10,
        default_headers={"X-Runbook-Call": "sdk-2"},
    )
    with pytest.raises(openai.InternalServerError):  # its own call, from the script's first step: 503
        headed.chat.completions.create(**BODY)
    attempts, _ = _lines(log)
    assert [(r["call"], r["attempt"], r["answer"]) for r in attempts] == [
        ("sdk-1", 1, "status 503"),
        ("sdk-1", 2, "status 429"),
        ("sdk-1", 3, "ok"),
        ("sdk-2", 1, "status 503"),
    ]


def test_runbook_drills_keep_their_explicit_scopes():
    with FaultServer() as server:
        drill = server.script("drill-1", [FaultStep("status", 503), FaultStep()])
        with httpx.Client(timeout=5) as client:
            # a drill's path wins over the header; without a template, calls and the default scope have no script
            assert (
                client.post(f"{drill}/v1/chat/completions", json=BODY, headers={"X-Runbook-Call": "x"}).status_code
                == 503
            )
            assert client.post(f"{drill}/v1/chat/completions", json=BODY).status_code == 200
            assert client.post(f"{server.base_url}/call/x/v1/chat/completions", json=BODY).status_code == 404
            assert client.post(f"{server.base_url}/v1/chat/completions", json=BODY).status_code == 404
        assert [(a.scope, a.index) for a in server.attempts()] == [("drill-1", 0), ("drill-1", 1)]


def test_log_without_script_is_a_usage_error(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "engine", "sim", "--port", "0", "--log", str(tmp_path / "a.jsonl")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2 and "--log needs --script" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "a.jsonl").exists()
