"""Packaged specs: `extends: runbook:NAME`, `runbook specs`, and `runbook init` from any directory.

The installed layout is checked without pip: `engine/` with `specs/` copied in as `engine/specs/`
(what pyproject's package-dir mapping puts in the wheel), run with `python -S` so that only that
copy of runbook is importable. `make test-install` does the real `pip install` in a fresh venv.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

from click.testing import CliRunner

from engine.api import validate_specs
from engine.cli.commands import main
from engine.spec.shipped import catalogue


def test_every_engine_package_is_listed_for_the_wheel(repo_root):
    config = tomllib.loads((repo_root / "pyproject.toml").read_text())["tool"]["setuptools"]
    on_disk = {".".join(path.relative_to(repo_root).parts[:-1]) for path in (repo_root / "engine").rglob("__init__.py")}
    assert set(config["packages"]) == on_disk | {"engine.specs"}
    assert config["package-dir"] == {"engine.specs": "specs"}


def test_a_spec_anywhere_extends_a_shipped_base_by_name(tmp_path):
    spec = tmp_path / "mine.yaml"
    spec.write_text(
        "extends: runbook:openai-compatible\nversion: 1\nname: mine\n"
        "env: {MINE_KEY: {secret: true}}\ncontract: {auth: {secret: MINE_KEY}}\n"
    )
    assert [p for p in validate_specs([spec]) if p.severity == "error"] == []


def test_an_unknown_shipped_name_suggests_the_nearest(tmp_path):
    spec = tmp_path / "mine.yaml"
    spec.write_text("extends: runbook:openai-compatibel\nversion: 1\nname: mine\n")
    (problem,) = validate_specs([spec])
    assert (problem.location.line, problem.location.col) == (1, 10)
    assert "did you mean 'runbook:openai-compatible'?" in problem.message


def test_a_shipped_name_cannot_climb_out(tmp_path):
    spec = tmp_path / "mine.yaml"
    spec.write_text("extends: runbook:../../etc/passwd\nversion: 1\nname: mine\n")
    (problem,) = validate_specs([spec])
    assert "runbook ships no spec" in problem.message


def test_runbook_specs_lists_what_ships():
    done = CliRunner().invoke(main, ["specs"])
    assert done.exit_code == 0
    assert "runbook:openai-compatible" in done.output and "shared reliability contract" in done.output
    assert {spec.ref for spec in catalogue()} >= {"runbook:openai-compatible", "runbook:cometapi/chat-completions"}


def test_init_from_another_directory_extends_by_name(cwd_elsewhere):
    done = CliRunner().invoke(main, ["init", "acme", "--out", "acme.yaml"])
    assert done.exit_code == 0, done.output
    assert "extends: runbook:openai-compatible" in Path("acme.yaml").read_text()
    assert [p for p in validate_specs([Path("acme.yaml")]) if p.severity == "error"] == []


def test_the_installed_layout_inits_validates_and_runs_outside_the_checkout(tmp_path, repo_root):
    site = tmp_path / "site"
    shutil.copytree(repo_root / "engine", site / "engine", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(repo_root / "specs", site / "engine" / "specs")
    work = tmp_path / "elsewhere"
    work.mkdir()
    deps = sysconfig.get_paths()["purelib"]  # the dev venv's dependencies; runbook itself only from `site`
    env = {"PYTHONPATH": f"{site}:{deps}", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}

    def runbook(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-S", "-m", "engine", *args]
        return subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=120)

    where = runbook("specs")
    assert where.returncode == 0 and str(site / "engine" / "specs") in where.stdout, where.stdout + where.stderr
    assert runbook("init", "azure-openai", "--out", "x.yaml").returncode == 0
    assert "extends: runbook:providers/azure-openai" in (work / "x.yaml").read_text()
    assert runbook("validate", "x.yaml").returncode == 0
    ran = runbook("run", "x.yaml", "--tags", "smoke,malformed", "--out", "out")
    assert ran.returncode == 4, ran.stdout + ran.stderr  # partial: checks only, no readiness claimed
    results = json.loads((work / "out" / "azure-openai-chat-completions.json").read_text())
    assert results["summary"]["checks"]["failed"] == 0  # every check passes on the simulator's Azure profile
