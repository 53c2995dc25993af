"""The pipeline's layers: every part of the engine is in the import-linter contract (so a new
package cannot sit outside it), and the contract holds (`lint-imports`, also run by `make check`)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import engine

ROOT = Path(engine.__file__).resolve().parents[1]


def contract_layers() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    (layers,) = [contract["layers"] for contract in config if contract["type"] == "layers"]
    return [name.strip() for layer in layers for name in layer.split("|")]


def test_every_engine_module_belongs_to_a_layer():
    package = ROOT / "engine"
    parts = {f"engine.{path.stem}" for path in package.glob("*.py") if path.stem not in ("__init__", "__main__")}
    parts |= {f"engine.{path.parent.name}" for path in package.glob("*/__init__.py")}
    assert parts - set(contract_layers()) == set()


def test_the_pipeline_order_is_the_documented_one():
    assert contract_layers() == [
        "engine.cli", "engine.api", "engine.monitor", "engine.report", "engine.judge", "engine.run",
        "engine.plan", "engine.load", "engine.spec", "engine.sim", "engine.core",
    ]  # fmt: skip


def test_no_stage_imports_a_later_one():
    linter = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(linter)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "Contracts: 2 kept, 0 broken." in done.stdout
