"""Bad client under test (plain httpx): retries the right failures up to 3 attempts, but always sleeps
exactly 0.3s (no backoff, no jitter) and ignores Retry-After; otherwise policy-correct. No fallback."""

import json
import os
import sys
import time
from pathlib import Path

import httpx

env, parts = os.environ, []  # parts: streamed content so far (no retry once any arrived)
body, end = json.loads(Path(env["RUNBOOK_REQUEST_FILE"]).read_text()), time.monotonic() + float(env["RUNBOOK_DEADLINE"])


class Failure(Exception):
    pass  # args: (message, retryable)


def report(outcome, content=None, finish_reason=None, error=None):
    print(
        json.dumps(
            {
                "outcome": outcome,
                "content": content,
                "finish_reason": finish_reason,
                "served_by": "primary" if outcome == "success" else None,
                "error": error,
            }
        )
    )
    sys.exit(0 if outcome == "success" else 1)


def attempt(left):
    with httpx.stream(
        "POST",
        env["RUNBOOK_CHAT_URL"],
        json=body,
        timeout=httpx.Timeout(left, connect=min(2.0, left)),
        headers={"Authorization": f"Bearer {env['RUNBOOK_API_KEY']}"},
    ) as r:
        if r.status_code >= 300:
            try:
                code = json.loads(r.read())["error"]["code"]
            except Exception:
                code = None
            raise Failure(
                f"HTTP {r.status_code} {code or ''}",
                (r.status_code in (408, 409, 429) or r.status_code >= 500)
                and code not in ("invalid_request", "insufficient_quota"),
            )
        if not body.get("stream"):
            choice = json.loads(r.read())["choices"][0]  # invalid JSON, an error object: retryable
            return choice["message"]["content"], choice["finish_reason"]
        finish, done = None, False
        for line in (raw.lstrip("\ufeff") for raw in r.iter_lines()):
            if line.startswith("data:") and line[5:].strip() == "[DONE]":
                done = True
                break
            for choice in (json.loads(line[5:]) if line.startswith("data:") else {}).get("choices") or []:
                parts.append((choice.get("delta") or {}).get("content") or "")
                finish = choice.get("finish_reason") or finish
        if not (finish and done):
            raise ValueError("stream ended without finish_reason or [DONE]")
        return "".join(parts), finish


for number in range(3):
    try:
        report("success", *attempt(end - time.monotonic()))
    except Failure as exc:
        error, retry = exc.args
    except Exception as exc:
        error, retry = f"{type(exc).__name__}: {exc}", True
    pause = 0.3  # BUG: constant, no jitter, Retry-After ignored
    if not retry or any(parts) or number == 2 or time.monotonic() + pause + 2.0 > end:
        break
    time.sleep(pause)
report("failed", error=error)
