"""A runbook client under test: the official openai SDK with its DEFAULT settings.

`OpenAI()` reads OPENAI_BASE_URL and OPENAI_API_KEY from the environment; retries, timeouts and
backoff are whatever the SDK ships with (2 retries, a 600s timeout, no fallback, no deadline).
Run it as a drill command; it prints one JSON line: {"outcome", "content", "finish_reason", ...}.
"""
import json, os, sys

from openai import OpenAI

def report(outcome, content=None, finish_reason=None, error=None):
    print(json.dumps({"outcome": outcome, "content": content, "finish_reason": finish_reason,
                      "served_by": "primary" if outcome == "success" else None, "error": error}))
    sys.exit(0 if outcome == "success" else 1)

with open(os.environ["RUNBOOK_REQUEST_FILE"]) as file:
    body = json.load(file)
try:
    answer = OpenAI().chat.completions.create(**body)
    if body.get("stream"):      # join the deltas; the SDK stops quietly when the body ends
        parts, finish_reason = [], None
        for chunk in answer:
            for choice in chunk.choices:
                parts.append(choice.delta.content or "")
                finish_reason = choice.finish_reason or finish_reason
        content = "".join(parts)
    else:
        content, finish_reason = answer.choices[0].message.content, answer.choices[0].finish_reason
except Exception as exc:        # openai.APIError and its subclasses, or a malformed answer
    report("failed", error=f"{type(exc).__name__}: {str(exc)[:200]}")
report("success", content, finish_reason)
