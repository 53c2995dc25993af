"""Many specs, one command: `validate`, `lint` and `run` take files and folders.

A folder means every `*.yaml` / `*.yml` below it with a top-level `version:` key, sorted, outside
`fixtures/` and hidden folders. `run` checks every spec first and runs none if one is invalid or
lacks what the options ask for; then each runs in turn with its own reports, and the exit code is
the worst verdict. A spec that fails only when it starts is reported and the others still run.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine import api
from engine.cli import commands
from engine.cli.commands import main
from engine.core.errors import UsageError
from support.specs import MINIMAL

ANSWERED = '      max_tokens: "{{ vars.limit }}"\n      messages: [{role: user, content: "Say ok"}]\n'


def spec(folder: Path, name: str, file: str | None = None, answered: bool = True, extra: str = "") -> Path:
    """The minimal spec named `name`; `answered` adds the messages the simulator needs for a 200."""
    text = MINIMAL.read_text(encoding="utf-8").replace("name: minimal", f"name: {name}")
    if answered:
        text = text.replace('      max_tokens: "{{ vars.limit }}"\n', ANSWERED)
    path = folder / (file or f"{name}.yaml")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + extra, encoding="utf-8")
    return path


def invoke(*args: str | Path):
    return CliRunner().invoke(main, [str(arg) for arg in args])


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """specs/ with two specs (one .yml, in a subfolder), and files that are not specs."""
    root = tmp_path / "specs"
    spec(root, "alpha")
    spec(root, "beta", "team/beta.yml", answered=False)  # its happy path fails: not ready
    spec(root, "fixture-copy", "fixtures/copy.yaml")
    spec(root, "hidden", ".drafts/hidden.yaml")
    (root / "faults.yaml").write_text("faults: [ok]\n")  # a `runbook sim --script` file
    (root / "ci.yml").write_text("steps:\n  - run: make test\n  - version: 3\n")
    (root / "notes.txt").write_text("version: 1\n")
    return root


def test_a_folder_means_its_specs_sorted_outside_fixtures_and_hidden_folders(tree):
    assert api.spec_files([tree]) == [tree / "alpha.yaml", tree / "team" / "beta.yml"]


def test_files_are_taken_as_given_and_each_spec_once(tree):
    faults = tree / "faults.yaml"
    found = api.spec_files([tree / "team" / "beta.yml", tree, faults, Path("missing.yaml")])
    assert found == [tree / "team" / "beta.yml", tree / "alpha.yaml", faults, Path("missing.yaml")]


def test_a_folder_without_specs_is_a_usage_error(tmp_path):
    (tmp_path / "faults.yaml").write_text("faults: [ok]\n")
    with pytest.raises(UsageError, match="no spec in this folder"):
        api.spec_files([tmp_path])
    result = invoke("validate", tmp_path)
    assert result.exit_code == 2 and "no spec in this folder" in result.output


def test_validate_and_lint_take_a_folder(tree):
    for command in ("validate", "lint"):
        result = invoke(command, tree)
        assert result.exit_code == 0, result.output
        assert "ok: 2 spec(s) valid" in result.output


def test_validate_reports_every_problem_of_every_spec_in_a_folder(tree):
    (tree / "team" / "gamma.yaml").write_text((tree / "alpha.yaml").read_text().replace("retry: no", "retry: mabye", 1))
    (tree / "zeta.yaml").write_text((tree / "alpha.yaml").read_text().replace("[happy-path]", "[happy-paht]"))
    result = invoke("validate", tree)
    assert result.exit_code == 2
    assert "team/gamma.yaml:" in result.output and "did you mean 'maybe'?" in result.output
    assert (
        "zeta.yaml:" in result.output and "unknown check id 'happy-paht' (did you mean 'happy-path'?)" in result.output
    )
    assert "2 error(s)" in result.output


def test_run_runs_each_spec_with_its_own_reports_and_exits_with_the_worst(tree, tmp_path):
    out = tmp_path / "out"
    result = invoke("run", tree, "--out", out, "--format", "json,md")
    assert result.exit_code == 1, result.output  # beta is not ready; alpha is not verified (4)
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == ["alpha.json", "alpha.md", "beta.json", "beta.md"]
    assert result.output.count("Verdict: ") == 2  # each run's summary ...
    lines = result.output.splitlines()
    table = lines[lines.index(next(line for line in lines if line.startswith("Verdicts ("))) :]
    assert table[0] == "Verdicts (2 spec run(s), worst exit 1):"  # ... then one line per spec
    assert table[1].split() == ["not_verified", "exit", "4", str(tree / "alpha.yaml")]
    assert table[2].split() == ["not_ready", "exit", "1", str(tree / "team" / "beta.yml")]


def test_one_spec_runs_as_it_always_did(tree, tmp_path):
    result = invoke("run", tree / "alpha.yaml", "--out", tmp_path / "out", "--format", "json")
    assert result.exit_code == 4, result.output
    assert "Verdicts (" not in result.output and result.output.count("Verdict: ") == 1


def test_one_invalid_spec_means_none_runs_and_every_problem_is_printed(tree, tmp_path):
    broken = tree / "team" / "gamma.yaml"
    broken.write_text((tree / "alpha.yaml").read_text().replace("retry: no", "retry: mabye").replace("alpha", "gamma"))
    out = tmp_path / "out"
    result = invoke("run", tree, "--out", out, "--var", "modle=x")
    assert result.exit_code == 2, result.output
    assert not out.exists()  # nothing was sent, nothing written
    assert "team/gamma.yaml:" in result.output and "did you mean 'maybe'?" in result.output
    assert result.output.count("the spec has no variable 'modle' (did you mean 'model'?)") == 3  # --var: each spec
    assert "none of the 3 specs was run" in result.output and "Traceback" not in result.output


def test_an_option_a_spec_cannot_take_is_a_usage_error_naming_it(tree, tmp_path):
    live = "targets:\n  sim: {simulator: cometapi}\n  live: {base_url: 'https://llm.example'}\n"
    alpha = tree / "alpha.yaml"
    alpha.write_text(alpha.read_text().replace("targets:\n  sim:\n    simulator: cometapi\n", live))
    result = invoke("run", tree, "--target", "live", "--out", tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert f"error: {tree / 'team' / 'beta.yml'}: spec 'beta' has no target 'live' (targets: sim)" in result.output
    assert "spec 'alpha'" not in result.output and "none of the 2 specs was run" in result.output
    assert not (tmp_path / "out").exists()


def test_a_spec_that_cannot_start_is_reported_and_the_others_still_run(tree, tmp_path, monkeypatch):
    monkeypatch.delenv("ALPHA_KEY", raising=False)
    for path, secret in ((tree / "alpha.yaml", "ALPHA_KEY"), (tree / "team" / "beta.yml", "COMETAPI_API_KEY")):
        text = path.read_text().replace("COMETAPI_API_KEY", secret)
        path.write_text(
            text.replace(
                "    simulator: cometapi\n", "    simulator: cometapi\n  live: {base_url: 'http://127.0.0.1:9'}\n"
            )
        )
    monkeypatch.setenv("COMETAPI_API_KEY", "sk-many-specs-0123456789")
    result = invoke("run", tree, "--target", "live", "--out", tmp_path / "out", "--format", "json")
    assert result.exit_code == 2, result.output  # a spec that could not run outranks not ready
    assert f"error: {tree / 'alpha.yaml'}: target 'live' needs ALPHA_KEY in the environment" in result.output
    assert (tmp_path / "out" / "beta.json").is_file()
    assert "error      exit 2   " + str(tree / "alpha.yaml") + " (did not start: see above)" in result.output


def test_a_baseline_folder_gives_each_spec_its_own_baseline(tree, tmp_path):
    first = tmp_path / "first"
    assert invoke("run", tree, "--out", first, "--format", "json").exit_code == 1
    again = invoke("run", tree, "--out", tmp_path / "again", "--format", "json", "--baseline", first)
    assert again.exit_code == 1, again.output
    assert again.output.count("Since the baseline:") == 2
    assert f"baseline: {first / 'alpha.json'}" in again.output and f"baseline: {first / 'beta.json'}" in again.output
    one_file = invoke("run", tree, "--out", tmp_path / "x", "--baseline", first / "alpha.json")
    assert one_file.exit_code == 2 and "for several specs, name the folder" in one_file.output
    missing = invoke("run", tree, "--out", tmp_path / "x", "--baseline", tmp_path)
    assert missing.exit_code == 2 and f"{tmp_path / 'alpha.json'}: cannot read the results file" in missing.output


def test_an_interrupted_run_stops_the_rest(tree, tmp_path, monkeypatch):
    real = api.run(tree / "alpha.yaml", out_dir=None)
    summary = real.results.summary.model_copy(update={"interrupted": "SIGINT"})
    stopped = dataclasses.replace(real, results=real.results.model_copy(update={"summary": summary}), exit_code=130)
    calls = []

    def run_clients(path, client, **options):
        calls.append(path)
        return [stopped]

    monkeypatch.setattr(commands.api, "run_clients", run_clients)
    result = invoke("run", tree, "--out", tmp_path / "out")
    assert result.exit_code == 130 and calls == [tree / "alpha.yaml"]
    rows = [line.split() for line in result.output.splitlines() if line.startswith("  ")]
    assert ["interrupted", "exit", "130", str(tree / "alpha.yaml")] in rows
    assert ["not", "run", str(tree / "team" / "beta.yml"), "(interrupted", "before", "it", "started)"] in rows


@pytest.mark.parametrize(
    ("codes", "worst"),
    [([0, 4, 0], 4), ([4, 1, 0], 1), ([1, 2, 4], 2), ([2, 130, 1], 130), ([143, 130], 130), ([0], 0), ([], 0)],
)
def test_the_worst_exit_code(codes, worst):
    assert api.worst_code(codes) == worst
