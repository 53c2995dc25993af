"""A runbook client under test: the openai SDK tuned to the shipped policy (specs/shared/openai-compatible.yaml).

The SDK (openai 3.51, on httpx2) does: 3 attempts (max_retries=2) on 408/409/429/5xx, connect errors, resets,
timeouts, a truncated non-stream body; backoff min(0.5*2^n, 8s) x random 0.75-1.0 (NOT full jitter);
retry-after-ms, then Retry-After honoured up to 120s in this version (1.x: 60s), no retry above; obeys the
`x-should-retry` header. It does NOT read error codes (retries 500 invalid_request, 429 insufficient_quota),
keep one deadline (its timeout is per attempt and per socket read), fall back, retry a bad 200 (invalid JSON,
an error object), or judge a stream (its Stream iterator ends quietly with the body: no finish_reason and no
[DONE] go unnoticed). This wrapper adds, through an httpx2 response hook: `x-should-retry: false` for those
codes, hints over the 20s cap and pauses past the deadline, and a bad 200 raised as a transport error so the
SDK retries it. Around the SDK: one SIGALRM deadline over everything; raw SSE reading that needs finish_reason
and [DONE] (a cut, malformed or stalled stream is partial: no retry, no fallback); a retry after an error event
inside a stream (a regenerated answer); one fallback (max_retries=0) after a retryable failure with >= 10s
left, never after 400/401/402/403/404. Timeouts are the contract's connect 2s / read 30s, not the deadline, so
a stalled first attempt leaves time for a retry. Left as is: the SDK's jitter, which no option reaches.
"""
import json, os, random, signal, sys, time

env, START = os.environ, time.monotonic()         # the deadline starts before the SDK's ~1s import
DEADLINE = float(env["RUNBOOK_DEADLINE"])
left = lambda: DEADLINE - (time.monotonic() - START)
class Deadline(BaseException): pass                # BaseException: no SDK or httpx handler swallows it
class Partial(Exception): pass                     # a broken stream: the policy neither retries nor falls back
class ErrorEvent(Exception): pass                  # an error inside a 200 stream; args: (message, attempts used)
def on_alarm(*_): raise Deadline(f"RUNBOOK_DEADLINE {DEADLINE:g}s passed")
signal.signal(signal.SIGALRM, on_alarm)
signal.setitimer(signal.ITIMER_REAL, DEADLINE)

def report(outcome, content=None, finish_reason=None, served_by=None, error=None):
    signal.setitimer(signal.ITIMER_REAL, 0)
    print(json.dumps({"outcome": outcome, "content": content, "finish_reason": finish_reason,
                      "served_by": served_by, "error": error}))
    sys.exit(0 if outcome == "success" else 1)

def hook(response):                                # runs before the SDK decides whether to retry
    if "event-stream" in response.headers.get("content-type", ""): return
    try: document = json.loads(response.read())
    except ValueError: document = None
    if response.status_code < 300 and (not isinstance(document, dict) or "error" in document):
        raise httpx2.DecodingError("a 200 that is not an answer (invalid JSON or an error object)")
    code = (document.get("error") or {}).get("code") if isinstance(document, dict) else None
    hint = next((float(value) / unit for name, unit in (("retry-after-ms", 1000), ("retry-after", 1))
                 if (value := response.headers.get(name, "")).replace(".", "", 1).isdigit()), 0.0)   # a date: 0
    if code in ("invalid_request", "insufficient_quota") or hint > 20 or hint + 2.0 > left():
        response.headers["x-should-retry"] = "false"

def retryable(exc):                                # transport errors, exhausted bad 200s, error events
    if isinstance(exc, Partial): return False
    status, code = getattr(exc, "status_code", 0), getattr(exc, "code", None)
    return not status or (status in (408, 409, 429) or status >= 500) and code not in ("invalid_request", "insufficient_quota")

def ask(client, body):
    if not body.get("stream"):
        answer = client.chat.completions.create(**body)
        if not answer.choices: raise ValueError("a 200 without choices: contract drift")
        return answer.choices[0].message.content, answer.choices[0].finish_reason
    parts, finish_reason, done = [], None, False
    with client.chat.completions.with_streaming_response.create(**body) as response:
        try:
            for line in response.iter_lines():    # raw SSE lines: the only way to see [DONE]
                line = line.lstrip("\ufeff")
                if not line.startswith("data:"): continue
                if line[5:].strip() == "[DONE]": done = True; break
                chunk = json.loads(line[5:])
                if chunk.get("error"): raise ErrorEvent(f"error event: {chunk['error']}", response.retries_taken + 1)
                for choice in chunk.get("choices") or []:
                    parts.append((choice.get("delta") or {}).get("content") or "")
                    finish_reason = choice.get("finish_reason") or finish_reason
        except ErrorEvent: raise
        except Exception as exc: raise Partial(f"stream broke: {type(exc).__name__}: {exc}") from exc
    if not (finish_reason and done): raise Partial(f"stream ended without {'[DONE]' if finish_reason else 'finish_reason'}")
    return "".join(parts), finish_reason

def why(exc):                                      # an APIConnectionError says little; its cause says what broke
    detail = exc.__cause__ if isinstance(exc, openai.APIConnectionError) and exc.__cause__ else exc
    return f"{type(exc).__name__}: {str(detail)[:200]}"

try:
    import httpx2, openai
    with open(env["RUNBOOK_REQUEST_FILE"]) as file:
        body = json.load(file)
    primary, used = openai.OpenAI(max_retries=2, timeout=openai.Timeout(30.0, connect=2.0),  # the contract's timeouts
                                  http_client=openai.DefaultHttpxClient(event_hooks={"response": [hook]})), 0
    while True:
        try:
            report("success", *ask(primary.with_options(max_retries=2 - used), body), served_by="primary")
        except ErrorEvent as exc:                  # the SDK retries nothing after the headers: retry it here
            failure, used = exc, used + exc.args[1]
            pause = random.uniform(0, min(8.0, 0.5 * 2 ** (used - 1)))   # full jitter, as the policy asks
            if used < 3 and pause + 2.0 < left(): time.sleep(pause); continue
        except Exception as exc:
            failure = exc
        error, target = why(failure), env.get("RUNBOOK_FALLBACK_OPENAI_BASE_URL")
        if not (target and retryable(failure) and left() >= 10): report("failed", error=error)
        break
    try:
        fallback = openai.OpenAI(base_url=target, max_retries=0, timeout=openai.Timeout(min(30.0, left()), connect=2.0))
        report("success", *ask(fallback, body), served_by="fallback")
    except Exception as exc:
        report("failed", error=f"{error}; fallback: {why(exc)}")
except Deadline as exc:
    report("failed", error=f"Deadline: {exc}")
