"""Bad client under test: sends the request, then prints `not json` as its last stdout line and exits 0."""

import json
import os
from pathlib import Path

import httpx

env = os.environ
httpx.post(
    env["RUNBOOK_CHAT_URL"],
    json=json.loads(Path(env["RUNBOOK_REQUEST_FILE"]).read_text()),
    headers={"Authorization": f"Bearer {env['RUNBOOK_API_KEY']}"},
    timeout=float(env["RUNBOOK_DEADLINE"]),
)
print('{"outcome": "success"}')  # looks fine, but it is not the last line
print("not json")  # BUG: the last stdout line must be the JSON result
