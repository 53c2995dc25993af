"""Comparing two runs: `compare`, `api.diff_results`, `runbook diff` and the reports' "Since the baseline".

The runs compared are copies of the shared run of the shipped spec, edited where a test needs a change:
a check that newly fails (with a mismatch, a slower answer and a drifting fixture), then is fixed.
"""

from __future__ import annotations

import copy
import json
from html import unescape
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine import api
from engine.cli.commands import main
from engine.cli.compare import comparison_lines, diff
from engine.core.errors import UsageError
from engine.judge.compare import compare
from engine.judge.results import ItemChange, LatencyChange, Results
from engine.report import render_html, render_markdown

SPEC = "cometapi-chat-completions"
CRITERION = "malformed-requests-non-retryable"
DRILL = "drill:read-timeout-retried"
REMOVED = "choices[0].message.content"


def _item(document: dict, key: str, ident: str) -> dict:
    return next(item for item in document[key] if item["id"] == ident)


@pytest.fixture(scope="module")
def base(cometapi_run) -> dict:
    """The shared run, made deterministic where a comparison looks: verdict, latencies, the fixture."""
    document = copy.deepcopy(cometapi_run.outcome.results.to_json_dict())
    document["summary"]["verdict"] = "not_verified"
    for check in document["checks"]:
        check["observed"]["elapsed_ms"] = 10.0
    _item(document, "checks", "happy-path")["observed"]["elapsed_ms"] = 100.0
    _item(document, "checks", "stream-happy-path")["observed"]["stream"]["first_token_ms"] = 200.0
    happy = _item(document, "checks", "happy-path")
    happy["fixture"] = {**happy["fixture"], "status": "missing", "removed": [], "changed": []}
    _item(document, "criteria", CRITERION)["verdict"] = "met"
    assert _item(document, "drills", DRILL)["status"] == "passed"
    return document


@pytest.fixture(scope="module")
def regressed(base) -> dict:
    """happy-path newly fails (a mismatch, 4x slower, its fixture drifts), a criterion is no longer met,
    a drill is gone and a check is new; the stream's first token came sooner."""
    document = copy.deepcopy(base)
    document["started"] = "2026-12-03T06:15:01.234+00:00"
    document["summary"]["verdict"] = "not_ready"
    happy = _item(document, "checks", "happy-path")
    happy["status"] = "failed"
    happy["mismatches"] = [{"field": "fixture", "expected": "matched", "observed": "drift", "message": "drift"}]
    happy["observed"]["elapsed_ms"] = 400.0
    happy["fixture"].update(status="drift", removed=[REMOVED], changed=["usage"])
    _item(document, "checks", "stream-happy-path")["observed"]["stream"]["first_token_ms"] = 20.0
    _item(document, "criteria", CRITERION)["verdict"] = "not_met"
    document["drills"] = [d for d in document["drills"] if d["id"] != DRILL]
    document["checks"].append({**copy.deepcopy(_item(base, "checks", "wrong-path")), "id": "brand-new"})
    return document


@pytest.fixture(scope="module")
def fixed(regressed) -> dict:
    """The next run: happy-path passes again at its old speed, the criterion is met again."""
    document = copy.deepcopy(regressed)
    document["started"] = "2026-12-04T06:15:01.234+00:00"
    document["summary"]["verdict"] = "not_verified"
    happy = _item(document, "checks", "happy-path")
    happy.update(status="passed", mismatches=[])
    happy["observed"]["elapsed_ms"] = 100.0
    happy["fixture"].update(status="drift")  # still drifting, in the same places: not new drift
    _item(document, "criteria", CRITERION)["verdict"] = "met"
    return document


@pytest.fixture(scope="module")
def saved(tmp_path_factory, base, regressed, fixed) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("saved-runs")
    paths = {}
    for name, document in (("base", base), ("regressed", regressed), ("fixed", fixed)):
        paths[name] = folder / f"{name}.json"
        paths[name].write_text(json.dumps(Results.model_validate(document).to_json_dict()), encoding="utf-8")
    return paths


def runbook(*args: object):
    group = type(main)(commands={"diff": diff})  # the runbook group's error handling, with the diff command
    return CliRunner().invoke(group, ["diff", *map(str, args)])


def _runs(old: Path, old_doc: dict, new: Path, new_doc: dict) -> list[str]:
    return [
        f"baseline: {old} (spec {SPEC}, started {old_doc['started']}, target sim)",
        f"this run: {new} (spec {SPEC}, started {new_doc['started']}, target sim)",
    ]


# ---- compare ----------------------------------------------------------------------------------


def test_a_newly_failing_check_is_named_with_its_latency_and_drift(base, regressed):
    comparison = compare(Results.model_validate(base), Results.model_validate(regressed), old_path="old.json")
    assert comparison.old.path == "old.json" and comparison.new.path is None
    assert (comparison.old.spec, comparison.old.target, comparison.old.verdict) == (SPEC, "sim", "not_verified")
    assert comparison.old.started == base["started"]
    assert (comparison.verdict.old, comparison.verdict.new, comparison.verdict.worse) == (
        "not_verified",
        "not_ready",
        True,
    )
    assert comparison.regressed and not comparison.unchanged
    assert comparison.newly_failing == [
        ItemChange(id="happy-path", kind="check", old="passed", new="failed"),
        ItemChange(id=CRITERION, kind="criterion", old="met", new="not_met"),
    ]
    assert comparison.fixed == [] and comparison.still_failing == [] and comparison.newly_skipped == []
    assert comparison.added == [ItemChange(id="brand-new", kind="check", old=None, new="passed")]
    assert comparison.removed == [ItemChange(id=DRILL, kind="drill", old="passed", new=None)]
    assert comparison.slower == [LatencyChange(id="happy-path", metric="total", old_ms=100.0, new_ms=400.0)]
    assert comparison.faster == [LatencyChange(id="stream-happy-path", metric="first_token", old_ms=200.0, new_ms=20.0)]
    (drift,) = comparison.new_drift
    assert (drift.id, drift.old, drift.new, drift.removed, drift.changed) == (
        "happy-path",
        "missing",
        "drift",
        [REMOVED],
        ["usage"],
    )


def test_a_fixed_check_is_named_and_old_drift_is_not_new(regressed, fixed):
    comparison = compare(Results.model_validate(regressed), Results.model_validate(fixed))
    assert comparison.fixed == [
        ItemChange(id="happy-path", kind="check", old="failed", new="passed"),
        ItemChange(id=CRITERION, kind="criterion", old="not_met", new="met"),
    ]
    assert not comparison.regressed and not comparison.verdict.worse
    assert comparison.newly_failing == [] and comparison.new_drift == [] and comparison.added == []
    assert comparison.faster == [LatencyChange(id="happy-path", metric="total", old_ms=400.0, new_ms=100.0)]


def test_still_failing_skipped_and_newly_drifting_paths(base, regressed):
    later = copy.deepcopy(regressed)
    _item(later, "checks", "happy-path")["status"] = "error"
    _item(later, "checks", "happy-path")["fixture"]["removed"] = [REMOVED, "id"]
    _item(later, "checks", "missing-auth")["status"] = "skipped"
    _item(later, "criteria", "owners-named")["verdict"] = "not_verified"
    comparison = compare(Results.model_validate(regressed), Results.model_validate(later))
    assert comparison.still_failing == [
        ItemChange(id="happy-path", kind="check", old="failed", new="error"),
        ItemChange(id=CRITERION, kind="criterion", old="not_met", new="not_met"),
    ]
    assert comparison.newly_skipped == [
        ItemChange(id="missing-auth", kind="check", old="passed", new="skipped"),
        ItemChange(id="owners-named", kind="criterion", old="met", new="not_verified"),
    ]
    assert [(d.removed, d.changed) for d in comparison.new_drift] == [(["id"], [])]  # only what drifts anew
    assert not comparison.regressed  # nothing newly fails, and the verdict is the same


def test_what_runs_now_and_did_not_before_is_a_change(base):
    earlier = copy.deepcopy(base)
    _item(earlier, "checks", "missing-auth").update(status="skipped", selected=False, reason="not selected: --only")
    comparison = compare(Results.model_validate(earlier), Results.model_validate(base))
    assert comparison.newly_run == [ItemChange(id="missing-auth", kind="check", old="skipped", new="passed")]
    assert not comparison.unchanged and not comparison.regressed
    assert "passing now, not run or not verified before (1):" in comparison_lines(comparison)


def test_latency_needs_both_the_ratio_and_the_floor(base):
    def slower_by(old_ms: float, new_ms: float, threshold: float = 0.5) -> list[LatencyChange]:
        old, new = copy.deepcopy(base), copy.deepcopy(base)
        _item(old, "checks", "missing-auth")["observed"]["elapsed_ms"] = old_ms
        _item(new, "checks", "missing-auth")["observed"]["elapsed_ms"] = new_ms
        return compare(Results.model_validate(old), Results.model_validate(new), threshold).slower

    assert slower_by(10.0, 59.0) == []  # 5.9x, but only 49 ms
    assert [c.new_ms for c in slower_by(10.0, 60.0)] == [60.0]
    assert slower_by(1000.0, 1400.0) == []  # 400 ms, but only 1.4x
    assert [c.new_ms for c in slower_by(1000.0, 1400.0, threshold=0.4)] == [1400.0]
    with pytest.raises(ValueError, match="zero or more"):
        slower_by(1.0, 2.0, threshold=-0.1)


def test_the_same_run_twice_has_no_changes(base):
    comparison = compare(Results.model_validate(base), Results.model_validate(base))
    assert comparison.unchanged and not comparison.regressed
    assert comparison_lines(comparison)[0] == "verdict: not_verified (unchanged)"
    assert comparison_lines(comparison)[3:] == ["no changes"]


# ---- runbook diff -------------------------------------------------------------------------------


def test_runbook_diff_names_what_newly_fails_and_exits_1(saved, base, regressed):
    result = runbook(saved["base"], saved["regressed"])
    assert result.exit_code == 1, result.output
    fixture = _item(regressed, "checks", "happy-path")["fixture"]["path"]
    assert result.output.splitlines() == [
        "verdict: not_verified → not_ready (worse)",
        *_runs(saved["base"], base, saved["regressed"], regressed),
        "newly failing (2):",
        "  check happy-path: passed → failed",
        f"  criterion {CRITERION}: met → not_met",
        "latency (moved by 50% and 50 ms or more):",
        "  slower check happy-path total: 100 ms → 400 ms (+300%)",
        "  faster check stream-happy-path first token: 200 ms → 20 ms (-90%)",
        "new drift (1):",
        f"  check happy-path: fixture {fixture} missing → drift; removed: {REMOVED}; changed type: usage",
        "added (1):",
        "  check brand-new: new, passed",
        "removed (1):",
        f"  drill {DRILL}: gone, was passed",
    ]


def test_runbook_diff_names_what_was_fixed_and_exits_0(saved, regressed, fixed):
    result = runbook(saved["regressed"], saved["fixed"], "--latency-threshold", "400%")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "verdict: not_ready → not_verified",
        *_runs(saved["regressed"], regressed, saved["fixed"], fixed),
        "fixed (2):",
        "  check happy-path: failed → passed",
        f"  criterion {CRITERION}: not_met → met",
    ]  # 4x faster is not 5x: no latency line at 400%


def test_runbook_diff_of_a_run_with_itself_says_no_changes(saved):
    result = runbook(saved["base"], saved["base"])
    assert result.exit_code == 0 and result.output.splitlines()[-1] == "no changes"


def test_runbook_diff_shows_a_different_target(tmp_path, saved, base):
    live = copy.deepcopy(base)
    live["target"] = {**live["target"], "name": "live", "kind": "http"}
    (tmp_path / "live.json").write_text(json.dumps(live), encoding="utf-8")
    result = runbook(saved["base"], tmp_path / "live.json")
    assert result.exit_code == 0
    assert "note: the runs used different targets (sim, then live)" in result.output.splitlines()


def test_runbook_diff_usage_errors_exit_2_naming_the_file(tmp_path, saved, base):
    (tmp_path / "nope.json").write_text('{"spec": 1}', encoding="utf-8")
    (tmp_path / "other.json").write_text(json.dumps({**base, "spec": {**base["spec"], "name": "other"}}))
    not_results = runbook(saved["base"], tmp_path / "nope.json")
    assert (
        not_results.exit_code == 2
        and f"{tmp_path / 'nope.json'}: not a runbook results JSON file" in not_results.output
    )
    other_spec = runbook(saved["base"], tmp_path / "other.json")
    assert other_spec.exit_code == 2 and "of spec 'other': compare two runs of the same spec" in other_spec.output
    bad_threshold = runbook(saved["base"], saved["base"], "--latency-threshold", "fast")
    assert bad_threshold.exit_code == 2 and "not a percentage" in bad_threshold.output
    missing = runbook(saved["base"], tmp_path / "missing.json")
    assert missing.exit_code == 2


def test_diff_output_escapes_control_characters(tmp_path, saved, base):
    hostile = copy.deepcopy(base)
    _item(hostile, "checks", "happy-path").update(status="failed", id="happy\x1b[2Jpath")
    (tmp_path / "hostile.json").write_text(json.dumps(hostile), encoding="utf-8")
    result = runbook(saved["base"], tmp_path / "hostile.json")
    assert "\x1b" not in result.output and "happy\\x1b[2Jpath" in result.output


def test_diff_results_refuses_a_file_that_is_not_json(tmp_path, saved):
    (tmp_path / "x.json").write_text("{nope", encoding="utf-8")
    with pytest.raises(UsageError, match=r"x\.json: not a runbook results JSON file"):
        api.diff_results(saved["base"], tmp_path / "x.json")


# ---- the reports --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def with_baseline(saved, regressed) -> dict:
    return api.with_baseline(regressed, saved["base"])


def test_with_baseline_fills_the_documents_comparison(with_baseline, saved, regressed):
    assert {key for key in with_baseline if with_baseline[key] != regressed.get(key)} == {"baseline"}
    comparison = Results.model_validate(with_baseline).baseline
    assert comparison is not None and comparison.old.path == str(saved["base"]) and comparison.regressed


def test_with_baseline_refuses_another_specs_run(tmp_path, regressed, base):
    other = tmp_path / "other.json"
    other.write_text(json.dumps({**base, "spec": {**base["spec"], "name": "other"}}), encoding="utf-8")
    with pytest.raises(UsageError, match="compare two runs of the same spec"):
        api.with_baseline(regressed, other)


def test_html_report_lists_the_changes_since_the_baseline(with_baseline, saved):
    html = render_html(with_baseline)
    section = unescape(html.split('<h2 id="baseline">Since the baseline</h2>', 1)[1].split("</section>", 1)[0])
    assert f"read from {saved['base']}" in section.replace("<code>", "").replace("</code>", "")
    assert "<b>Verdict:</b> not_verified → not_ready (worse)" in section
    for title in ("Newly failing (2)", "Slower (1)", "Faster (1)", "New drift (1)", "Added (1)", "Removed (1)"):
        assert f'<h3 class="small">{title}</h3>' in section
    assert '<a class="id" href="#check-happy-path">happy-path</a>: passed → failed' in section
    assert f'criterion <b class="id">{CRITERION}</b>: met → not_met' in section
    assert (
        "total 100 ms → 400 ms (+300%)" in section and f'drill <b class="id">{DRILL}</b>: gone, was passed' in section
    )


def test_markdown_report_lists_the_changes_since_the_baseline(with_baseline):
    markdown = render_markdown(with_baseline)
    section = markdown.split("## Since the baseline\n", 1)[1].split("\n## ", 1)[0]
    assert "- **Verdict:** not_verified → not_ready (worse)" in section
    assert "**Newly failing (2):**\n\n- check happy-path: passed → failed\n" in section
    assert f"- criterion {CRITERION}: met → not_met" in section
    assert "- check happy-path: total 100 ms → 400 ms (+300%)" in section
    assert "removed: choices\\[0\\].message.content" in section  # through md_cell
    assert f"- drill {DRILL}: gone, was passed" in section


def test_reports_without_a_baseline_have_no_such_section(base):
    assert "Since the baseline" not in render_html(base) and "Since the baseline" not in render_markdown(base)
    assert "Since the baseline" not in render_markdown({key: value for key, value in base.items() if key != "baseline"})


def test_a_baseline_with_no_changes_says_so(saved, base):
    document = api.with_baseline(base, saved["base"])
    assert "No changes since the baseline." in render_markdown(document)
    assert "No changes since the baseline." in render_html(document)


def test_the_baseline_section_escapes_what_the_runs_named(tmp_path, base):
    hostile = copy.deepcopy(base)
    _item(hostile, "checks", "happy-path").update(status="failed", id="<script>x</script>|`y`")
    document = api.with_baseline(hostile, _save(tmp_path, base))
    assert "<script>x</script>" not in render_html(document)
    markdown = render_markdown(document)
    assert "\\<script\\>x\\</script\\>\\|'y'" in markdown and "<script>" not in markdown


def _save(folder: Path, document: dict) -> Path:
    path = folder / "baseline.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path
