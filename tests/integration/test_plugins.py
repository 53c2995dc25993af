"""Extension points: a plugin package, built and installed here, adds a report format and a target kind
through entry points, and `runbook run` uses both without any change to the engine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PLUGIN = '''
"""A tiny runbook plugin: a one-line-per-item report, and a target kind that serves runbook's
simulator under a name of its own (the way a team would wrap its staging gateway)."""

import secrets
from contextlib import contextmanager

from pydantic import BaseModel, ConfigDict

from engine.report import ReportFormat


def _lines(results):
    head = f"{results['spec']['name']} on {results['target']['kind']}: {results['summary']['verdict']}"
    return "\\n".join([head, *(f"{item['id']} {item['status']}" for item in results["checks"])]) + "\\n"


SUMMARY = ReportFormat("summary", "summary.txt", _lines, "one line per check")


class StagingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    models: list[str]


class StagingKind:
    name = "staging"
    settings = StagingSettings
    live = False

    @contextmanager
    def endpoint(self, target, secret_name, environ):
        from engine.sim import SimConfig, SimServer

        key = "sk-staging-" + secrets.token_hex(8)
        server = SimServer(SimConfig(keys=(key,), models=tuple(target.settings.models))).start()
        try:
            yield server.base_url, {secret_name: key}
        finally:
            server.stop()


STAGING = StagingKind()


class InlineAdapter:
    """A client under test called in-process: one request, no retries, judged by its status."""

    name = "inline"

    async def call(self, client, env, deadline, clock):
        import json

        import httpx

        from engine.run.drills import ClientCall

        started = clock()
        body = json.loads(open(env["RUNBOOK_REQUEST_FILE"]).read())
        headers = {"authorization": "Bearer " + env["RUNBOOK_API_KEY"]}
        async with httpx.AsyncClient(timeout=deadline, trust_env=False) as http:
            answer = await http.post(env["RUNBOOK_CHAT_URL"], json=body, headers=headers)
        outcome = "success" if answer.status_code == 200 else "failed"
        report = {"outcome": outcome, "content": None, "finish_reason": None, "served_by": "primary", "error": None}
        return ClientCall(started, clock(), deadline, 0 if outcome == "success" else 1, report)


INLINE = InlineAdapter()
'''

ENTRY_POINTS = """
[runbook.report_formats]
summary = runbook_staging:SUMMARY

[runbook.target_kinds]
staging = runbook_staging:STAGING

[runbook.client_adapters]
inline = runbook_staging:INLINE
"""


SPEC_TARGETS = """
targets:
  staging:
    kind: staging
    models: [gpt-4o-mini]
"""


def installed(tmp_path_factory, module: str, source: str, entry_points: str) -> Path:
    """A plugin installed into a folder of its own, as pip lays out an installed distribution: the
    module, and a dist-info folder whose entry_points.txt names what it adds."""
    site = tmp_path_factory.mktemp(f"{module}-site")
    (site / f"{module}.py").write_text(source)
    info = site / f"{module}-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module.replace('_', '-')}\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(entry_points)
    return site


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory) -> Path:
    return installed(tmp_path_factory, "runbook_staging", PLUGIN, ENTRY_POINTS)


def runbook(site: Path | None, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    inherited = os.environ.get("PYTHONPATH", "")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(site) if site else "", inherited) if p)}
    return subprocess.run(
        [sys.executable, "-m", "engine", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def spec_with(folder: Path, corpus: Path, targets: str = SPEC_TARGETS) -> Path:
    minimal = (corpus / "valid" / "minimal.yaml").read_text()
    spec = folder / "staging.yaml"
    minimal = minimal.replace("targets:\n  sim:\n    simulator: cometapi\n", textwrap.dedent(targets))
    messages = '      messages: [{role: user, content: "Say ok"}]\n'
    spec.write_text(
        minimal.replace(
            '      max_tokens: "{{ vars.limit }}"\n', f'      max_tokens: "{{{{ vars.limit }}}}"\n{messages}'
        )
    )
    return spec


@pytest.fixture
def corpus() -> Path:
    return Path(__file__).resolve().parents[1] / "corpus"


def test_a_plugin_adds_a_report_format_and_a_target_kind_that_run_uses(plugin_site, corpus, tmp_path):
    spec = spec_with(tmp_path, corpus)
    done = runbook(plugin_site, "run", str(spec), "--target", "staging", "--format", "summary,json",
                   "--out", str(tmp_path / "out"), cwd=tmp_path)  # fmt: skip
    assert done.returncode in (0, 4), done.stderr
    summary = (tmp_path / "out" / "minimal.summary.txt").read_text().splitlines()
    results = json.loads((tmp_path / "out" / "minimal.json").read_text())
    assert summary[0] == f"minimal on staging: {results['summary']['verdict']}"
    assert summary[1:] == ["happy-path passed", "missing-auth passed"]
    assert results["target"]["kind"] == "staging"
    assert results["checks"][0]["observed"]["status"] == 200  # the plugin's endpoint really answered
    # a target kind that is not live proves the spec, not a provider: readiness is not claimed
    assert results["summary"]["verdict"] == "not_verified"


def test_plugins_lists_every_extension_point(plugin_site, tmp_path):
    done = runbook(plugin_site, "plugins", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "summary      runbook_staging:SUMMARY" in done.stdout
    assert "staging      runbook_staging:STAGING" in done.stdout
    assert "html         built-in" in done.stdout and "command      built-in" in done.stdout


def test_without_the_plugin_its_kind_and_format_are_clear_errors(corpus, tmp_path):
    spec = spec_with(tmp_path, corpus)
    done = runbook(None, "validate", str(spec), cwd=tmp_path)
    assert done.returncode == 2
    assert "staging.yaml:17:5" in done.stdout + done.stderr
    assert "unknown target kind 'staging'; use one of: simulator, http" in done.stdout + done.stderr
    done = runbook(None, "run", str(spec), "--format", "summary", cwd=tmp_path)
    assert done.returncode == 2 and "choose from html, md, json" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_plugin_target_with_bad_settings_is_located(plugin_site, corpus, tmp_path):
    spec = spec_with(tmp_path, corpus, "targets:\n  staging:\n    kind: staging\n    model: [x]\n")
    done = runbook(plugin_site, "validate", str(spec), cwd=tmp_path)
    assert done.returncode == 2
    output = done.stdout + done.stderr
    assert "staging.yaml:17:5: targets.staging.model: unknown key 'model' (did you mean 'models'?)" in output
    assert "1 error(s)" in output  # the missing `models` is explained by the misspelling


CLIENT_AND_DRILLS = """
clients:
  in-process:
    adapter: inline
drills:
  - id: answers
    faults: [ok]
    expect: {attempts: 1, outcome: success}
  - id: unclassified-is-not-retried
    faults: [{status: 503}]
    expect: {attempts: 1, outcome: failed}
"""


def test_a_plugin_client_adapter_is_drilled_like_a_command(plugin_site, corpus, tmp_path):
    spec = spec_with(tmp_path, corpus)
    spec.write_text(spec.read_text() + CLIENT_AND_DRILLS)
    done = runbook(plugin_site, "run", str(spec), "--target", "staging", "--client", "in-process", "--format", "json",
                   "--out", str(tmp_path / "out"), cwd=tmp_path)  # fmt: skip
    assert done.returncode in (0, 1, 4), done.stderr
    results = json.loads((tmp_path / "out" / "minimal.in-process.json").read_text())
    drills = {item["id"]: item for item in results["drills"]}
    assert results["client"] == "in-process"
    assert "the built-in fault simulator, client in-process (adapter inline)" in results["evidence_sources"]["drills"]
    assert {d: drills[d]["status"] for d in drills} == {
        "drill:answers": "passed",
        "drill:unclassified-is-not-retried": "passed",
    }
    for item in drills.values():
        call = item["drill"]["calls"][0]
        assert call["client"]["problem"] is None and call["server_attempts"] == 1


def test_an_unknown_client_adapter_is_located(corpus, tmp_path):
    spec = spec_with(tmp_path, corpus)
    spec.write_text(spec.read_text() + CLIENT_AND_DRILLS)
    done = runbook(None, "validate", str(spec), cwd=tmp_path)
    assert done.returncode == 2
    assert "clients.in-process.adapter: unknown client adapter 'inline'; use one of: command" in done.stderr


BROKEN = '''
"""Plugins that misbehave in every way a plugin can."""

from contextlib import contextmanager

from pydantic import BaseModel

NOT_A_KIND = 42


class NoSettings(BaseModel):
    pass


class _Kind:
    settings = NoSettings
    live = False

    def __init__(self, name, endpoint):
        self.name, self.endpoint = name, endpoint


@contextmanager
def _refuses(target, secret_name, environ):
    raise ConnectionError("the staging gateway is down")
    yield


@contextmanager
def _fails_to_stop(target, secret_name, environ):
    from engine.sim import SimConfig, SimServer

    server = SimServer(SimConfig(keys=("sk-x",), models=("gpt-4o-mini",))).start()
    try:
        yield server.base_url, {secret_name: "sk-x"}
    finally:
        server.stop()
    raise RuntimeError("could not release the lease")


REFUSES = _Kind("refuses", _refuses)
FAILS_TO_STOP = _Kind("fails-to-stop", _fails_to_stop)


class _NoSuffix:
    name = "nosuffix"
    suffix = "../escape"
    render = staticmethod(lambda results: "")


NO_SUFFIX = _NoSuffix()


class _Raises:
    name = "raises"

    async def call(self, client, env, deadline, clock):
        raise RuntimeError("the in-process client blew up")


RAISES = _Raises()
'''

BROKEN_ENTRY_POINTS = """
[runbook.target_kinds]
not-a-kind = runbook_broken:NOT_A_KIND
refuses = runbook_broken:REFUSES
fails-to-stop = runbook_broken:FAILS_TO_STOP

[runbook.report_formats]
nosuffix = runbook_broken:NO_SUFFIX

[runbook.client_adapters]
raises = runbook_broken:RAISES
"""


@pytest.fixture(scope="module")
def broken_site(tmp_path_factory) -> Path:
    return installed(tmp_path_factory, "runbook_broken", BROKEN, BROKEN_ENTRY_POINTS)


def broken_target(folder: Path, corpus: Path, kind: str) -> Path:
    return spec_with(folder, corpus, f"targets:\n  stg:\n    kind: {kind}\n  sim:\n    simulator: cometapi\n")


def test_a_plugin_that_is_not_a_target_kind_is_a_located_error_naming_it(broken_site, corpus, tmp_path):
    done = runbook(broken_site, "validate", str(broken_target(tmp_path, corpus, "not-a-kind")), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "staging.yaml:16:5: targets.stg: plugin 'runbook_broken:NOT_A_KIND' (runbook.target_kinds" in done.stderr
    assert "has no name, settings, live, endpoint" in done.stderr and "Traceback" not in done.stderr


def test_a_target_that_does_not_start_names_its_plugin(broken_site, corpus, tmp_path):
    spec = broken_target(tmp_path, corpus, "refuses")
    done = runbook(broken_site, "run", str(spec), "--target", "stg", "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 3
    assert (
        "target 'stg' (kind 'refuses', runbook_broken:REFUSES) did not start: the staging gateway is down"
        in done.stderr
    )
    assert "Traceback" not in done.stderr


def test_a_target_that_does_not_stop_cleanly_still_gets_its_reports(broken_site, corpus, tmp_path):
    spec = broken_target(tmp_path, corpus, "fails-to-stop")
    done = runbook(broken_site, "run", str(spec), "--target", "stg", "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 3
    assert "did not stop cleanly: could not release the lease (reports written: 3 file(s))" in done.stderr
    results = json.loads((tmp_path / "out" / "minimal.json").read_text())
    assert [c["status"] for c in results["checks"]] == ["passed", "passed"]


def test_a_bad_report_format_is_refused_before_anything_runs(broken_site, corpus, tmp_path):
    spec = spec_with(tmp_path, corpus, "targets:\n  sim:\n    simulator: cometapi\n")
    done = runbook(broken_site, "run", str(spec), "--format", "json,nosuffix", "--out", str(tmp_path / "out"),
                   cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2
    assert "report format 'nosuffix' (runbook_broken:NO_SUFFIX) has suffix '../escape'" in done.stderr
    assert not (tmp_path / "out").exists()


def test_a_client_adapter_that_raises_is_recorded_and_the_run_goes_on(broken_site, corpus, tmp_path):
    spec = spec_with(tmp_path, corpus, "targets:\n  sim:\n    simulator: cometapi\n")
    spec.write_text(spec.read_text() + CLIENT_AND_DRILLS.replace("adapter: inline", "adapter: raises"))
    done = runbook(broken_site, "run", str(spec), "--client", "in-process", "--format", "json",
                   "--out", str(tmp_path / "out"), cwd=tmp_path)  # fmt: skip
    assert done.returncode == 1, done.stderr
    results = json.loads((tmp_path / "out" / "minimal.in-process.json").read_text())
    for drill in results["drills"]:
        assert drill["status"] == "failed"
        problem = drill["drill"]["calls"][0]["client"]["problem"]
        assert problem == "crashed: the 'raises' adapter raised RuntimeError: the in-process client blew up"
