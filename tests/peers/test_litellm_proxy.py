"""The LiteLLM pack against a real LiteLLM proxy (litellm[proxy] from PyPI) with a mock deployment,
a master key and no database, on a loopback port. Each check gives what the pack's comments predict."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from engine import api
from support.peer_server import serving

MASTER_KEY = "sk-runbook-peer-master-0001"
CONFIG = f"""model_list:
  - model_name: gpt-4o-mini
    litellm_params: {{model: openai/gpt-4o-mini, mock_response: "ok"}}
general_settings: {{master_key: {MASTER_KEY}}}
"""
PASSES = {"happy-path", "stream-happy-path", "invalid-token", "missing-model", "unknown-model", "wrong-path"}
FAILS = {  # predicted in specs/providers/litellm.yaml's header
    "missing-auth",  # 500 text/plain for a request without Authorization
    "empty-messages", "invalid-role", "oversized-request",  # a mock deployment answers 200 to any body
}  # fmt: skip


@pytest.fixture(scope="module")
def proxy(tmp_path_factory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("litellm")
    (folder / "config.yaml").write_text(CONFIG)
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_TELEMETRY": "False"}

    def command(port: int) -> list[str]:
        return [os.environ["RUNBOOK_LITELLM"], "--config", "config.yaml", "--host", "127.0.0.1", "--port", str(port)]

    with serving("LiteLLM proxy", command, MASTER_KEY, folder / "proxy.log", cwd=folder, env=env) as base_url:
        yield base_url


def test_the_litellm_pack_gives_the_verdicts_its_comments_predict(proxy, repo_root, tmp_path):
    environ = {**os.environ, "LITELLM_BASE_URL": proxy, "LITELLM_API_KEY": MASTER_KEY}
    outcome = api.run(repo_root / "specs" / "providers" / "litellm.yaml", "live", environ=environ,
                      out_dir=tmp_path, selection=api.Selection(tags=("smoke", "malformed")))  # fmt: skip
    status = {check.id: check.status for check in outcome.results.checks if check.selected}
    assert {ident for ident, value in status.items() if value == "passed"} == PASSES
    assert {ident for ident, value in status.items() if value == "failed"} == FAILS
    by_id = {check.id: check for check in outcome.results.checks}
    assert by_id["missing-auth"].observed.status == 500
    assert (by_id["invalid-token"].rule, by_id["invalid-token"].class_) == ("litellm-no-db-key", "auth")
    assert outcome.results.summary.verdict == "not_ready"
