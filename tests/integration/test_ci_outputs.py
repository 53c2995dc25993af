"""What CI reads from a run: the step summary, a comparison with the previous run, the diff command."""

from __future__ import annotations

import json

from click.testing import CliRunner

from engine.cli.commands import main

SMOKE = ("--tags", "smoke", "--format", "html,md,json")


def run(spec, out, *extra, env=None):
    return CliRunner().invoke(main, ["run", str(spec), "--out", str(out), *SMOKE, *extra], env=env or {})


def test_the_step_summary_gets_the_markdown_appended_once_per_run(cometapi_spec, tmp_path):
    summary = tmp_path / "step-summary.md"
    summary.write_text("earlier step\n")
    for _ in range(2):
        done = run(cometapi_spec, tmp_path / "out", env={"GITHUB_STEP_SUMMARY": str(summary)})
        assert done.exit_code == 4, done.output
    text = summary.read_text()
    assert text.startswith("earlier step\n") and text.count("## Verdict: ") == 2
    assert text.count("<details>") == text.count("</details>") > 0
    written = (tmp_path / "out" / "cometapi-chat-completions.md").read_text()
    assert text.endswith(written + "\n")  # the same Markdown as the report, byte for byte
    assert len(written.encode()) < 20 * 1024


def test_an_unwritable_step_summary_is_a_warning_and_the_verdict_stands(cometapi_spec, tmp_path):
    done = run(cometapi_spec, tmp_path / "out", env={"GITHUB_STEP_SUMMARY": str(tmp_path / "missing" / "x.md")})
    assert done.exit_code == 4 and "could not append the summary to GITHUB_STEP_SUMMARY" in done.output


def test_a_run_with_a_baseline_reports_since_the_baseline_and_diff_agrees(cometapi_spec, tmp_path):
    assert run(cometapi_spec, tmp_path / "first").exit_code == 4
    first = tmp_path / "first" / "cometapi-chat-completions.json"
    done = run(cometapi_spec, tmp_path / "second", "--baseline", str(first))
    assert done.exit_code == 4, done.output
    second = tmp_path / "second" / "cometapi-chat-completions.json"
    document = json.loads(second.read_text())
    assert document["baseline"]["verdict"]["old"] == document["baseline"]["verdict"]["new"] == "partial"
    assert document["baseline"]["newly_failing"] == [] and document["baseline"]["fixed"] == []
    for report in ("cometapi-chat-completions.html", "cometapi-chat-completions.md"):
        assert "Since the baseline" in (tmp_path / "second" / report).read_text()
    assert "Since the baseline:\n  verdict: partial (unchanged)" in done.output
    assert done.output.index("Since the baseline:") < done.output.index("Reports:")
    diff = CliRunner().invoke(main, ["diff", str(first), str(second)])
    assert diff.exit_code == 0, diff.output
    assert diff.output.splitlines()[0] == "verdict: partial (unchanged)"


def test_a_missing_baseline_is_a_usage_error_before_anything_runs(cometapi_spec, tmp_path):
    done = run(cometapi_spec, tmp_path / "out", "--baseline", str(tmp_path / "nope.json"))
    assert done.exit_code == 2 and "nope.json" in done.output
    assert not (tmp_path / "out").exists()


def test_a_baseline_of_another_spec_is_refused_before_anything_is_sent(cometapi_spec, repo_root, tmp_path):
    assert run(cometapi_spec, tmp_path / "first").exit_code == 4
    other = repo_root / "specs" / "examples" / "together-chat-completions.yaml"
    done = run(other, tmp_path / "other", "--baseline", str(tmp_path / "first" / "cometapi-chat-completions.json"))
    assert done.exit_code == 2 and "compare two runs of the same spec" in done.output
    assert "[1/" not in done.output and not (tmp_path / "other").exists()  # nothing ran, nothing was written


def test_the_shipped_specs_markdown_fits_a_pull_request_comment(cometapi_run):
    text = (cometapi_run.reports / "cometapi-chat-completions.md").read_text(encoding="utf-8")
    assert len(text.encode()) < 20 * 1024
    head = text.split("<details>", 1)[0]  # what a reader sees before opening anything
    assert "## Verdict: " in head and "**Blocking readiness" in head
