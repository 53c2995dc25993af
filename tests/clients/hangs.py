"""Bad client under test: sends the request, then hangs for an hour without printing anything."""

import json
import os
import time

import httpx

env = os.environ
httpx.post(
    env["RUNBOOK_CHAT_URL"],
    json=json.load(open(env["RUNBOOK_REQUEST_FILE"])),
    headers={"Authorization": f"Bearer {env['RUNBOOK_API_KEY']}"},
    timeout=float(env["RUNBOOK_DEADLINE"]),
)
time.sleep(3600)  # BUG: never answers; the runner must kill it at the deadline
