"""Bad client under test (plain httpx): retries EVERY non-2xx answer, 400/401/403/404 included, up to 3
attempts; otherwise policy-correct (full jitter, Retry-After up to 20s, the deadline). No fallback."""

import json
import os
import random
import sys
import time
from pathlib import Path

import httpx

env, parts = os.environ, []  # parts: streamed content so far (no retry once any arrived)
body, end = json.loads(Path(env["RUNBOOK_REQUEST_FILE"]).read_text()), time.monotonic() + float(env["RUNBOOK_DEADLINE"])


class Failure(Exception):
    pass  # args: (message, retryable, Retry-After seconds or None)


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
            r.read()
            hint = next(
                (
                    float(v) / unit
                    for name, unit in (("retry-after-ms", 1000), ("retry-after", 1))
                    if (v := r.headers.get(name, "")).replace(".", "", 1).isdigit()
                ),
                None,
            )
            raise Failure(f"HTTP {r.status_code}", True, hint)  # BUG: 401 (or 400, 404...) is retried too
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
        error, retry, hint = exc.args
    except Exception as exc:
        error, retry, hint = f"{type(exc).__name__}: {exc}", True, None
    pause = random.uniform(0, min(8.0, 0.5 * 2**number)) if hint is None else hint
    if not retry or any(parts) or number == 2 or pause > 20 or time.monotonic() + pause + 2.0 > end:
        break
    time.sleep(pause)
report("failed", error=error)
