"""`runbook validate` and `--help` import only what they need (issue 14): `--help` no stage at all,
`validate` only the load stage, and neither the simulator (starlette, uvicorn), the HTTP transports
(httpcore, aiohttp, anyio, h11), the reports nor the plan, run and judge stages.

Each case runs the command in a fresh interpreter, in-process there (`main(..., standalone_mode=False)`),
which then prints the modules it imported. How fast that is, is measured by `make bench`, not here.
"""

from __future__ import annotations

import importlib
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine import api
from engine.cli import EXIT_SIGINT, EXIT_SIGTERM
from engine.cli.commands import main
from engine.spec.models import REFERENCE_CLIENT

# Runs each argv of a JSON list in turn, then prints one JSON line: the exit codes and every module imported.
_PROBE = """
import json, sys
from engine.cli import main

codes = []
for argv in json.loads(sys.argv[1]):
    try:
        codes.append(main(argv, standalone_mode=False) or 0)
    except SystemExit as exc:
        codes.append(exc.code)
print(json.dumps({"codes": codes, "modules": sorted(sys.modules)}))
"""

NEVER = ("starlette", "uvicorn", "httpcore", "anyio", "h11", "aiohttp", "sniffio")  # the simulator, the transports
LATER_STAGES = ("engine.plan.build", "engine.run", "engine.judge", "engine.report", "engine.sim")
BEYOND_THE_CLI = ("pydantic", "pydantic_core", "httpx", "jinja2", "ruamel", "engine.load", "engine.spec.models")


def probe(*argvs: list[str], cwd: Path) -> tuple[list[int], list[str], str]:
    """(exit codes, imported modules, what the commands printed) of argvs run in one fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(argvs)], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    *printed, last = done.stdout.splitlines()
    found = json.loads(last)
    return found["codes"], found["modules"], "\n".join(printed) + done.stderr


def imported(modules: list[str], roots: tuple[str, ...]) -> list[str]:
    return [m for m in modules if any(m == root or m.startswith(root + ".") for root in roots)]


def test_validate_imports_only_the_load_stage(repo_root: Path) -> None:
    codes, modules, printed = probe(["validate", "specs/cometapi/chat-completions.yaml"], cwd=repo_root)
    assert codes == [0] and printed.strip() == "ok: 1 spec(s) valid"
    assert imported(modules, NEVER + LATER_STAGES) == []
    assert "engine.load.loader" in modules  # it did load the spec


def test_an_invalid_spec_is_reported_the_same_without_the_later_stages(
    repo_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text(f"extends: {repo_root / 'specs/cometapi/chat-completions.yaml'}\nversion: 1\nnmae: x\n")
    codes, modules, printed = probe(["validate", "bad.yaml"], cwd=tmp_path)
    monkeypatch.chdir(tmp_path)  # problems name files as the command line did
    expected = api.validate_specs([Path("bad.yaml")])
    assert codes == [2] and expected
    assert printed.splitlines() == [*map(str, expected), "1 error(s), 0 warning(s): 1 problem(s) found"]
    assert imported(modules, NEVER + LATER_STAGES) == []


def test_help_of_runbook_and_of_every_command_imports_no_stage(repo_root: Path) -> None:
    argvs = [["--help"], *([command, "--help"] for command in sorted(main.commands))]
    codes, modules, printed = probe(*argvs, cwd=repo_root)
    assert codes == [0] * len(argvs) and printed.count("Example:") == len(argvs)
    assert imported(modules, NEVER + LATER_STAGES + BEYOND_THE_CLI) == []


@pytest.mark.parametrize("name", sorted(api._ON_FIRST_USE))
def test_names_offered_on_first_use_are_the_stages_own(name: str) -> None:
    module, attribute = api._ON_FIRST_USE[name]
    assert getattr(api, name) is getattr(importlib.import_module(module), attribute)


def test_what_the_cli_and_api_write_out_matches_its_source() -> None:
    """Written out so that importing them imports no stage: the exit codes of a signal and the default client."""
    assert (api.interrupt_exit_code("SIGINT"), api.interrupt_exit_code("SIGTERM")) == (EXIT_SIGINT, EXIT_SIGTERM)
    for function, parameter in ((api.run, "client"), (api.run_clients, "clients"), (api.check_runs, "client")):
        assert inspect.signature(function).parameters[parameter].default == REFERENCE_CLIENT


def test_a_second_signal_still_aborts_with_its_exit_code(monkeypatch: pytest.MonkeyPatch, repo_root: Path) -> None:
    """api.Aborted is caught by name only once a run has imported it: the CLI maps it as before."""

    def abort(*_args: object, **_options: object) -> None:
        raise api.Aborted("SIGTERM")

    monkeypatch.setattr(api, "run", abort)
    result = CliRunner().invoke(main, ["run", str(repo_root / "specs/cometapi/chat-completions.yaml")])
    assert result.exit_code == EXIT_SIGTERM == 143
    assert "runbook: aborted by a second SIGTERM; no results were written" in result.output
