"""`runbook sim` as a user runs it: a separate process, the official openai SDK as the client."""

from __future__ import annotations

import re
import signal
import subprocess
import sys

import openai
import pytest

KEY = "sk-cli-sim-test-0001"


@pytest.fixture()
def runbook_sim():
    process = subprocess.Popen(
        [sys.executable, "-m", "engine", "sim", "--port", "0", "--key", KEY],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first_line = process.stdout.readline()
        match = re.search(r"OpenAI SDK base_url: (http://127\.0\.0\.1:\d+/v1)", first_line)
        assert match, f"unexpected banner: {first_line!r} {process.stderr.read() if process.poll() is not None else ''}"
        yield match.group(1)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
    assert process.returncode == 0


def test_openai_sdk_against_runbook_sim(runbook_sim):
    client = openai.OpenAI(base_url=runbook_sim, api_key=KEY, max_retries=0, timeout=10)
    reply = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": 'Return {"status":"ok"}.'}]
    )
    assert reply.choices[0].message.content == '{"status":"ok"}' and reply.choices[0].finish_reason == "stop"
    assert reply.usage.total_tokens > 0

    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=runbook_sim, api_key="sk-wrong", max_retries=0).models.list()
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="gpt-4o-mini", messages=[])
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.code == "model_not_found"


def test_openai_sdk_retries_against_a_scripted_429_and_the_log_shows_every_attempt(tmp_path):
    script = tmp_path / "faults.yaml"
    script.write_text('faults:\n  - {status: 429, headers: {retry-after-ms: "20"}}\n  - ok\n')
    log = tmp_path / "attempts.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "engine", "sim", "--script", str(script), "--port", "0", "--log", str(log)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = process.stdout.readline()
        base_url = re.search(r"OpenAI SDK base_url: (http://127\.0\.0\.1:\d+/v1)", banner).group(1)
        client = openai.OpenAI(base_url=base_url, api_key="sk-anything", max_retries=2, timeout=10)
        reply = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        assert reply.choices[0].finish_reason == "stop"
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
    import json

    records = [json.loads(line) for line in log.read_text().splitlines()]
    attempts = [r for r in records if r["event"] == "attempt"]
    assert [a["answer"] for a in attempts] == ["status 429", "ok"]  # the SDK retried once, as the script asked
    assert [(a["call"], a["attempt"]) for a in attempts] == [("default", 1), ("default", 2)]
    assert [(r["call"], r["attempt"]) for r in records if r["event"] == "answered"] == [("default", 1), ("default", 2)]
    assert attempts[1]["elapsed_s"] - attempts[0]["elapsed_s"] >= 0.015  # and waited for retry-after-ms
    assert process.returncode == 0


def test_a_broken_fault_script_is_located(tmp_path):
    script = tmp_path / "faults.yaml"
    script.write_text("faults:\n  - {status: 429, hedaers: {}}\n")
    done = subprocess.run(
        [sys.executable, "-m", "engine", "sim", "--script", str(script)], capture_output=True, text=True, timeout=30
    )
    assert (
        done.returncode == 2
        and "faults.yaml:2:19: faults[0].hedaers: unknown key 'hedaers' (did you mean 'headers'?)" in done.stderr
    )


@pytest.mark.parametrize(
    "extra, message",
    [(["--log", "/nonexistent/dir/x.jsonl"], "cannot write the attempt log"), (["--host", "0.0.0.0"], "loopback only")],
)
def test_fault_script_setup_errors_are_usage_errors(tmp_path, extra, message):
    script = tmp_path / "faults.yaml"
    script.write_text("faults: [ok]\n")
    done = subprocess.run(
        [sys.executable, "-m", "engine", "sim", "--script", str(script), "--port", "0", *extra],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
