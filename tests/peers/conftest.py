"""Tests against real servers installed from PyPI (`make test-peers`); not part of `make test`.

They run only when RUNBOOK_PEERS=1 and RUNBOOK_LITELLM names a `litellm` executable (the Makefile
installs litellm[proxy] into .venv-peers/ and sets both).
"""

from __future__ import annotations

import os

collect_ignore_glob = [] if os.environ.get("RUNBOOK_PEERS") == "1" else ["test_*.py"]
