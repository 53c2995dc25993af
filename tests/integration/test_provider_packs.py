"""The provider packs ship, validate, and run in one command against the built-in simulator."""

from __future__ import annotations

import json
import re

from click.testing import CliRunner

from engine.cli.commands import main
from engine.spec.shipped import catalogue

PACKS = (
    "openai", "azure-openai", "openrouter", "groq", "together", "mistral",
    "deepseek", "fireworks", "vllm", "ollama", "llama-cpp", "litellm",
)  # fmt: skip


def test_every_pack_ships_by_name():
    shipped = {spec.ref for spec in catalogue()}
    assert {f"runbook:providers/{pack}" for pack in PACKS} <= shipped


def test_every_pack_cites_its_docs_and_the_date_it_was_read(repo_root):
    for pack in PACKS:
        text = (repo_root / "specs" / "providers" / f"{pack}.yaml").read_text()
        assert "docs: https://" in text and "accessed: 2026-" in text, pack
        assert text.count("https://") >= 3, f"{pack}: a pack cites its sources on the lines they back"


def test_one_command_runs_every_pack_and_exits_with_the_worst_verdict(repo_root, tmp_path):
    packs = repo_root / "specs" / "providers"
    done = CliRunner().invoke(main, ["run", str(packs), "--tags", "smoke", "--out", str(tmp_path)])
    verdicts = {}
    for pack in PACKS:
        name = re.search(r"^name: (\S+)$", (packs / f"{pack}.yaml").read_text(), flags=re.M).group(1)
        verdicts[pack] = json.loads((tmp_path / f"{name}.json").read_text())["summary"]["verdict"]
    assert "ready" not in verdicts.values()  # a smoke run on the simulator claims no readiness
    assert done.exit_code == (1 if "not_ready" in verdicts.values() else 4), done.output
    assert f"Verdicts ({len(PACKS)} spec run(s)" in done.output
