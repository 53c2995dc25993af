"""Shared fixtures: where the repository is, the shipped CometAPI spec, a simulator, a provider,
and one full run of the shipped spec for every test that only reads its results.

Paths are absolute and built from this file, so the suite behaves the same from any directory.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest

from engine import api
from engine.load.loader import LoadedSpec
from engine.sim import SimConfig, SimServer
from hardening import HardeningSummary

REPO_ROOT = Path(__file__).resolve().parents[1]
SIM_KEY = "sk-test-known-secret-0123456789abcdef"
PROVIDER_KEY = "sk-provider-known-secret-0123456789"


# tests/peers/ run against real servers installed from PyPI: only under `make test-peers`, which
# installs them into .venv-peers/ and .venv-peers-llama/ and sets RUNBOOK_PEERS=1, RUNBOOK_LITELLM and
# RUNBOOK_LLAMA_PYTHON.
collect_ignore_glob = [] if os.environ.get("RUNBOOK_PEERS") == "1" else ["peers/*"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "hardening: a case of the hardening suite (tests/hardening.py)")
    config.addinivalue_line(
        "markers", "services: needs a real server from Debian's packages (tests/services/; make test-services)"
    )
    config.pluginmanager.register(HardeningSummary(), "hardening-summary")


class CometapiRun(NamedTuple):
    """The shipped CometAPI spec, every check and drill, on the built-in simulator."""

    outcome: api.RunOutcome
    reports: Path  # the folder its html, md and json reports were written to


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def cometapi_spec(repo_root: Path) -> Path:
    return repo_root / "specs" / "cometapi" / "chat-completions.yaml"


@pytest.fixture(scope="session")
def shared_base(repo_root: Path) -> Path:
    """specs/shared: the folder of the base specs that provider specs extend."""
    return repo_root / "specs" / "shared"


@pytest.fixture(scope="session")
def cometapi_loaded(cometapi_spec: Path) -> LoadedSpec:
    """The shipped CometAPI spec, loaded once (loaded specs are frozen)."""
    return api.load(cometapi_spec)


@pytest.fixture(scope="session")
def cometapi_run(cometapi_spec: Path, tmp_path_factory: pytest.TempPathFactory) -> CometapiRun:
    """One full run of the shipped spec (what `make demo` does), shared: its drills take seconds."""
    reports = tmp_path_factory.mktemp("cometapi-reports")
    return CometapiRun(api.run(cometapi_spec, out_dir=reports), reports)


@pytest.fixture
def child_spec(tmp_path: Path, cometapi_spec: Path) -> Callable[..., Path]:
    """child_spec(body, name=...): a spec in tmp_path that extends the shipped CometAPI spec."""

    def write(body: str = "", name: str = "child", file: str = "spec.yaml") -> Path:
        path = tmp_path / file
        path.write_text(f"extends: {cometapi_spec}\nversion: 1\nname: {name}\n{body}", encoding="utf-8")
        return path

    return write


@pytest.fixture
def cwd_elsewhere(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from an empty directory that holds none of the test's files.

    runbook shows a spec's path relative to the working directory when the file is inside it, and in
    full otherwise: from here, the files of tmp_path are always shown in full.
    """
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    monkeypatch.chdir(elsewhere)
    return elsewhere


@pytest.fixture
def at_the_written_scale(monkeypatch: pytest.MonkeyPatch) -> None:
    """Judge a drill at its own time scale even on a busy machine (no slower re-run).

    For drills a test expects to fail: re-running them slower cannot change the verdict, only the time.
    """
    import engine.run.drills as drills

    monkeypatch.setattr(drills, "QUIET_LATENCY", float("inf"))


@pytest.fixture(scope="session")
def sim_server():
    """One simulator on an ephemeral loopback port for the whole session."""
    with SimServer(SimConfig(keys=(SIM_KEY,), models=("gpt-4o-mini",))) as server:
        yield server


@pytest.fixture(scope="session")
def provider():
    """A well-behaved OpenAI-compatible provider that is not runbook's simulator (llmock behind a gateway)."""
    from support.provider import WellBehavedProvider

    with WellBehavedProvider(keys=(PROVIDER_KEY,), models=("gpt-4o-mini",)) as server:
        yield server
