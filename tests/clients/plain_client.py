"""The policy-correct plain-httpx client the bad clients start from; each of them overrides one hook.

It follows runbook's client contract: it reads the RUNBOOK_* environment, retries the retryable
failures (408/409/429/5xx, except CometAPI's invalid_request and insufficient_quota) up to 3
attempts with full jitter or the server's Retry-After (at most 20s), stops when RUNBOOK_DEADLINE
would be passed, never retries once streamed content arrived, and prints one JSON line.
"""

import json
import os
import random
import sys
import time
from pathlib import Path

import httpx


class Failure(Exception):
    pass  # args: (message, retryable, Retry-After seconds or None)


class PlainClient:
    attempts = 3

    def __init__(self) -> None:
        self.env = os.environ
        self.body = json.loads(Path(self.env["RUNBOOK_REQUEST_FILE"]).read_text())
        self.end = time.monotonic() + float(self.env["RUNBOOK_DEADLINE"])
        self.parts: list[str] = []  # streamed content so far (no retry once any arrived)

    # -- the hooks ------------------------------------------------------------------------------

    def timeout(self, left: float) -> httpx.Timeout:
        return httpx.Timeout(left, connect=min(2.0, left))

    def retryable(self, status: int, code: object) -> bool:
        return (status in (408, 409, 429) or status >= 500) and code not in ("invalid_request", "insufficient_quota")

    def pause(self, number: int, hint: float | None) -> float:
        return random.uniform(0, min(8.0, 0.5 * 2**number)) if hint is None else hint

    def gives_up(self, pause: float) -> bool:
        return pause > 20 or time.monotonic() + pause + 2.0 > self.end

    def finished(self, finish: object, done: bool) -> bool:
        return bool(finish and done)

    # -- the client -----------------------------------------------------------------------------

    def run(self) -> None:
        error = "no attempt made"
        for number in range(self.attempts):
            try:
                self.report("success", *self.attempt(self.end - time.monotonic()))
            except Failure as exc:
                error, retry, hint = exc.args
            except Exception as exc:
                error, retry, hint = f"{type(exc).__name__}: {exc}", True, None
            pause = self.pause(number, hint)
            if not retry or any(self.parts) or number == self.attempts - 1 or self.gives_up(pause):
                break
            time.sleep(pause)
        self.report("failed", error=error)

    def attempt(self, left: float) -> tuple[str, object]:
        headers = {"Authorization": f"Bearer {self.env['RUNBOOK_API_KEY']}"}
        with httpx.stream(
            "POST", self.env["RUNBOOK_CHAT_URL"], json=self.body, timeout=self.timeout(left), headers=headers
        ) as r:
            if r.status_code >= 300:
                raise self.failure(r)
            if not self.body.get("stream"):
                choice = json.loads(r.read())["choices"][0]  # invalid JSON, an error object: retryable
                return choice["message"]["content"], choice["finish_reason"]
            finish, done = None, False
            for line in (raw.lstrip("\ufeff") for raw in r.iter_lines()):
                if line.startswith("data:") and line[5:].strip() == "[DONE]":
                    done = True
                    break
                for choice in (json.loads(line[5:]) if line.startswith("data:") else {}).get("choices") or []:
                    self.parts.append((choice.get("delta") or {}).get("content") or "")
                    finish = choice.get("finish_reason") or finish
            if not self.finished(finish, done):
                raise ValueError("stream ended without finish_reason or [DONE]")
            return "".join(self.parts), finish

    def failure(self, r: httpx.Response) -> Failure:
        try:
            code = json.loads(r.read())["error"]["code"]
        except Exception:
            code = None
        hint = next(
            (
                float(v) / unit
                for name, unit in (("retry-after-ms", 1000), ("retry-after", 1))
                if (v := r.headers.get(name, "")).replace(".", "", 1).isdigit()
            ),
            None,
        )
        return Failure(f"HTTP {r.status_code} {code or ''}", self.retryable(r.status_code, code), hint)

    def report(self, outcome: str, content: object = None, finish_reason: object = None, error: object = None) -> None:
        served_by = "primary" if outcome == "success" else None
        line = {"outcome": outcome, "content": content, "finish_reason": finish_reason, "served_by": served_by}
        print(json.dumps({**line, "error": error}))
        sys.exit(0 if outcome == "success" else 1)
