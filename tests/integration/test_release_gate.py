"""The release gate end to end, as a new user meets it: a provider that keeps the contract gets READY
in one run once its fixtures are committed; a partial run, a server that answers 200 to everything,
and renamed classes get the verdicts they deserve. The provider is llmock behind a strict gateway,
not runbook's simulator."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from conftest import PROVIDER_KEY
from support.provider import AlwaysOkServer

SPEC = "specs/cometapi/chat-completions.yaml"  # as a user names it, from the checkout (each run's cwd)
CHECKS_ONLY = ("--tags", "smoke,malformed")  # every check, no drill: for runs whose verdict the checks decide


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=ci", "-c", "user.email=ci@example.invalid", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def runbook(repo: Path, base_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COMETAPI_BASE_URL": base_url, "COMETAPI_API_KEY": PROVIDER_KEY}
    return subprocess.run(
        [sys.executable, "-m", "engine", "run", *args], cwd=repo, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def repo(tmp_path_factory, provider, repo_root) -> Path:
    """A checkout with the shipped specs whose fixtures were recorded against the provider and committed."""
    root = tmp_path_factory.mktemp("checkout")
    shutil.copytree(repo_root / "specs", root / "specs")
    write_renamed_copy(root / "specs", root / "renamed")
    git(root, "init", "-q")
    for spec in (SPEC, "renamed/cometapi/chat-completions.yaml"):
        recorded = runbook(
            root, provider.base_url, spec, "--target", "live", "--update-fixtures", "--out", "out", *CHECKS_ONLY
        )  # fixtures are recorded from checks; drills never write any
        assert recorded.returncode == 1 and "written by this run" in recorded.stdout, recorded.stdout
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "fixtures recorded against the provider")
    return root


@pytest.fixture(scope="module")
def ready_run(repo, provider) -> subprocess.CompletedProcess:
    """The full run (checks live, drills on the simulator) of the committed checkout, into out/."""
    return runbook(repo, provider.base_url, SPEC, "--target", "live", "--out", "out")


def test_a_provider_that_keeps_the_contract_is_ready_in_one_run(repo, ready_run):
    done = ready_run
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Verdict: READY for controlled production traffic" in done.stdout
    results = json.loads((repo / "out" / "cometapi-chat-completions.json").read_text())
    assert results["summary"]["verdict"] == "ready" and results["summary"]["blocking"] == []
    assert {c["verdict"] for c in results["criteria"]} == {"met"}
    sources = {e["source"] for c in results["criteria"] for e in c["evidence"]}
    assert "target live (cometapi-live)" in sources
    assert "the built-in fault simulator at time scale 0.02, reference client" in sources
    assert "repository: specs/cometapi/fixtures/happy-path.json (git: committed)" in sources
    for report in ("cometapi-chat-completions.html", "cometapi-chat-completions.md"):
        text = (repo / "out" / report).read_text()
        assert "target live (cometapi-live)" in text and "the built-in fault simulator at time scale" in text
        assert "Ready for controlled production traffic" in text
    assert results["started"] < results["finished"]
    assert [d["status"] for d in results["drills"]] == ["passed"] * 37  # the drills ran, all of them


def test_a_smoke_run_is_partial(repo, provider):
    done = runbook(repo, provider.base_url, SPEC, "--target", "live", "--tags", "smoke", "--out", "smoke")
    assert done.returncode == 4, done.stdout + done.stderr
    results = json.loads((repo / "smoke" / "cometapi-chat-completions.json").read_text())
    assert results["summary"]["verdict"] == "partial" and "Verdict: PARTIAL" in done.stdout


def test_a_server_that_answers_200_to_everything_is_not_ready(repo):
    with AlwaysOkServer() as server:
        done = runbook(repo, server.base_url, SPEC, "--target", "live", "--out", "always-ok", *CHECKS_ONLY)
    assert done.returncode == 1, done.stdout + done.stderr
    results = json.loads((repo / "always-ok" / "cometapi-chat-completions.json").read_text())
    failed = {c["id"] for c in results["checks"] if c["status"] == "failed"}
    assert {
        "missing-auth",
        "invalid-token",
        "missing-model",
        "empty-messages",
        "invalid-role",
        "unknown-model",
        "wrong-path",
        "stream-happy-path",
    } <= failed
    assert results["summary"]["verdict"] == "not_ready"
    assert "FAIL missing-auth" in done.stdout and "class: expected auth, observed success" in done.stdout


def test_renaming_every_class_changes_no_verdict(repo, provider, ready_run):
    original = ready_run
    renamed = runbook(
        repo,
        provider.base_url,
        "renamed/cometapi/chat-completions.yaml",
        "--target",
        "live",
        "--out",
        "renamed-out",
        "--format",
        "json",
    )
    assert original.returncode == renamed.returncode == 0, renamed.stdout
    before = json.loads((repo / "out" / "cometapi-chat-completions.json").read_text())
    after = json.loads((repo / "renamed-out" / "cometapi-chat-completions.json").read_text())
    assert verdicts(after) == verdicts(before)
    assert {c["class"] for c in after["classification"]}.isdisjoint({"success", "auth"})


def verdicts(results: dict) -> dict:
    return {
        "verdict": results["summary"]["verdict"],
        "criteria": {c["id"]: c["verdict"] for c in results["criteria"]},
        "items": {i["id"]: i["status"] for i in (*results["checks"], *results["drills"])},
    }


def write_renamed_copy(specs: Path, out: Path) -> None:
    """The shipped base and CometAPI spec with every class renamed `renamed-<class>` everywhere it is named."""
    yaml = YAML()
    for name in ("shared/openai-compatible.yaml", "cometapi/chat-completions.yaml"):
        document = yaml.load((specs / name).read_text())
        rename_classes(document)
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        with (out / name).open("w") as handle:
            yaml.dump(document, handle)


def rename_classes(document) -> None:
    new = "renamed-{}".format
    for item in [
        *document.get("classification", []),
        *(i["expect"] for i in document.get("checks", []) if "expect" in i),
        *(i["expect"] for i in document.get("drills", []) if "expect" in i),
    ]:
        if "class" in item:
            item["class"] = new(item["class"])
    fallback = document.get("policy", {}).get("fallback", {})
    if "never_for" in fallback:
        fallback["never_for"] = [new(name) for name in fallback["never_for"]]
    for criterion in document.get("criteria", []):
        if "owners_for" in criterion:
            criterion["owners_for"] = [new(name) for name in criterion["owners_for"]]
