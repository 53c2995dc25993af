"""Bad client under test: sends the request, then dies of its own bug (a traceback on stderr, no JSON line, exit 3)."""

import json
import os
import sys
import traceback
from pathlib import Path

import httpx

env = os.environ
try:
    response = httpx.post(
        env["RUNBOOK_CHAT_URL"],
        json=json.loads(Path(env["RUNBOOK_REQUEST_FILE"]).read_text()),
        headers={"Authorization": f"Bearer {env['RUNBOOK_API_KEY']}"},
        timeout=float(env["RUNBOOK_DEADLINE"]),
    )
    print(response.json()["choice"][0]["message"]["content"])  # BUG: "choice", not "choices": KeyError
except Exception:
    traceback.print_exc()
    sys.exit(3)
