"""Bad client under test: sends the request, then hangs for an hour without printing anything."""

import json
import os
import time
from pathlib import Path

import httpx

env = os.environ
httpx.post(
    env["RUNBOOK_CHAT_URL"],
    json=json.loads(Path(env["RUNBOOK_REQUEST_FILE"]).read_text()),
    headers={"Authorization": f"Bearer {env['RUNBOOK_API_KEY']}"},
    timeout=float(env["RUNBOOK_DEADLINE"]),
)
time.sleep(3600)  # BUG: never answers; the runner must kill it at the deadline
