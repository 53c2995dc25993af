"""The README's examples are part of the product: run them."""

from __future__ import annotations

import re

import pytest

from conftest import REPO_ROOT, SIM_KEY
from engine import api
from engine.cli.commands import main
from support.provider import WellBehavedProvider


def blocks(readme: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", readme, flags=re.S)


def documented_commands(readme: str) -> list[str]:
    """The README's command synopses: lines such as `runbook run SPEC [--target NAME] ...`."""
    return [line for line in readme.splitlines() if line.startswith("runbook ") and "[" in line]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "documented_command" in metafunc.fixturenames:
        commands = documented_commands((REPO_ROOT / "README.md").read_text(encoding="utf-8"))
        metafunc.parametrize("documented_command", commands)


@pytest.fixture(scope="module")
def readme(repo_root) -> str:
    return (repo_root / "README.md").read_text(encoding="utf-8")


def test_the_example_spec_validates_and_runs(tmp_path, readme):
    (spec_text,) = blocks(readme, "yaml")
    spec = tmp_path / "example.yaml"
    spec.write_text(spec_text)
    assert api.validate_specs([spec]) == []
    on_sim = api.run(spec, out_dir=None)
    assert [(c.id, c.status) for c in on_sim.results.checks] == [("happy-path", "passed"), ("missing-auth", "passed")]
    assert on_sim.results.summary.verdict == "not_verified" and on_sim.exit_code == 4  # the sim is not the provider
    with WellBehavedProvider(keys=("sk-example-0123456789",), models=("gpt-4o-mini",)) as provider:
        environ = {"EXAMPLE_BASE_URL": provider.base_url, "EXAMPLE_API_KEY": "sk-example-0123456789"}
        on_live = api.run(spec, target="live", out_dir=None, environ=environ)
    assert on_live.results.summary.verdict == "ready" and on_live.exit_code == 0


def test_the_openai_sdk_example_runs_against_the_simulator(sim_server, readme):
    (snippet,) = blocks(readme, "python")
    assert "http://127.0.0.1:8787" in snippet and '"sk-test"' in snippet  # what is replaced below
    code = snippet.replace("http://127.0.0.1:8787", sim_server.base_url).replace('"sk-test"', f'"{SIM_KEY}"')
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)
    assert scope["reply"].choices[0].message.content == '{"status":"ok"}'


def test_the_quickstart_names_exactly_the_two_setup_commands(readme):
    quickstart = readme.split("## Quickstart", 1)[1].split("##", 1)[0]
    commands = [line.split("#")[0].strip() for line in blocks(readme, "sh")[0].splitlines() if line.strip()]
    assert commands == ["make demo", "make test"] and "make demo" in quickstart


def test_the_readme_documents_commands(readme):
    assert len(documented_commands(readme)) >= 3


def test_every_documented_option_exists(documented_command):
    command = main.commands[documented_command.split()[1]]
    options = {opt for param in command.params for opt in getattr(param, "opts", [])}
    documented = set(re.findall(r"(--[a-z-]+)", documented_command))
    assert documented <= options, f"README documents {documented - options} for {command.name}"


def test_every_exit_code_is_documented(readme):
    from engine import cli

    for code in (
        cli.EXIT_OK,
        cli.EXIT_NOT_READY,
        cli.EXIT_USAGE,
        cli.EXIT_ENGINE,
        cli.EXIT_NOT_VERIFIED,
        cli.EXIT_SIGINT,
        cli.EXIT_SIGTERM,
    ):
        assert re.search(rf"^\| {code} \|", readme, flags=re.M)


def test_the_quoted_drill_failure_is_what_runbook_reports(readme, child_spec):
    quoted = next(line for line in readme.splitlines() if line.startswith("drill:retry-jitter: "))
    spec = child_spec("policy: {retry: {jitter: none}}\n", name="x")
    outcome = api.run(spec, out_dir=None, selection=api.Selection(only=("retry-jitter",)))
    (drill,) = [d for d in outcome.results.drills if d.selected]

    def shape(text: str) -> str:
        return re.sub(r"\d+\.\dms", "<ms>", text)  # the pauses differ from run to run; the message does not

    assert [shape(f"{drill.id}: {m.message}") for m in drill.mismatches if m.field == "jittered"] == [shape(quoted)]


def test_the_fault_script_example_is_valid(tmp_path, readme):
    from engine.load.loader import load_fault_script

    script_block = readme.split("serve a fault script", 1)[1].split("```", 2)[1]
    script = tmp_path / "faults.yaml"
    script.write_text(script_block.lstrip("\n"))
    assert [f.kind for f in load_fault_script(script).faults] == ["status", "reset", "ok"]


def test_the_example_client_passes_the_drills_it_is_written_for(readme, child_spec):
    (client,) = blocks(readme, "py")
    spec = child_spec("clients:\n  app:\n    command: [python, app_probe.py]\n", name="x")
    (spec.parent / "app_probe.py").write_text(client)
    only = ("server-503-then-success", "auth-401-no-fallback", "bad-request-not-retried", "throttled-429-retry-after")
    outcome = api.run(spec, out_dir=None, client="app", selection=api.Selection(only=only))
    drills = {d.id: (d.status, [m.message for m in d.mismatches]) for d in outcome.results.drills if d.selected}
    assert drills == {f"drill:{name}": ("passed", []) for name in only}


def test_the_quoted_markdown_summary_is_what_runbook_writes(readme, tmp_path, monkeypatch, repo_root):
    """Every line of the README's Markdown sample but the timing line, from the same failing run."""
    import os

    from support.provider import AlwaysOkServer

    (sample,) = blocks(readme, "markdown")
    monkeypatch.chdir(repo_root)  # the suggested commands name the spec as the user did
    with AlwaysOkServer() as server:
        environ = {**os.environ, "COMETAPI_BASE_URL": server.base_url, "COMETAPI_API_KEY": "sk-readme-000000000"}
        api.run("specs/cometapi/chat-completions.yaml", "live", environ=environ, out_dir=tmp_path,
                formats=("md",), selection=api.Selection(tags=("smoke", "malformed")))  # fmt: skip
    written = (tmp_path / "cometapi-chat-completions.md").read_text(encoding="utf-8").splitlines()
    quoted = [line for line in sample.splitlines() if line.strip() and not line.startswith("Target ")]
    assert [line for line in quoted if line not in written] == []


def test_the_provider_error_drill_example_runs_on_the_groq_profile(readme, tmp_path):
    (snippet,) = blocks(readme, "yaml provider-drill")
    spec = tmp_path / "groq-mine.yaml"
    spec.write_text(f"extends: runbook:providers/groq\nversion: 1\nname: groq-mine\n{snippet}")
    outcome = api.run(spec, out_dir=None, selection=api.Selection(only=("groq-498-flex-capacity-retried",)))
    [drill] = [d for d in outcome.results.drills if d.selected]
    assert drill.status == "passed", drill.mismatches  # without the pack's 498 rule, a 4xx is not retried
