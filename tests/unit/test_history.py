"""Run history: a new run keeps its reports under its own stamped name beside the stable copy of the
latest run; re-rendering a saved results JSON writes the stable names only, byte for byte the same."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine import api
from engine.cli.commands import main
from engine.report import write_reports
from engine.report.write import history_dir, run_stamp

SPEC = "cometapi-chat-completions"
FORMATS = ["html", "md", "json"]


@pytest.fixture(scope="module")
def document(cometapi_run) -> dict:
    return cometapi_run.outcome.results.to_json_dict()


def _started(document: dict, started: str) -> dict:
    return {**copy.deepcopy(document), "started": started}


def _tree(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())


@pytest.mark.parametrize(
    ("started", "stamp"),
    [
        ("2026-12-02T06:15:01.234+00:00", "20261202T061501.234Z"),
        ("2026-12-02T07:15:01.234+01:00", "20261202T061501.234Z"),  # in UTC
        ("2026-12-02T06:15:01Z", "20261202T061501.000Z"),
        ("2026-12-02T06:15:01.234567", "20261202T061501.234Z"),  # no zone: UTC
    ],
)
def test_the_stamp_is_the_start_in_utc_to_the_millisecond(started, stamp):
    assert run_stamp(started) == stamp


def test_a_start_that_is_not_a_time_is_refused_before_anything_is_written(tmp_path, document):
    with pytest.raises(ValueError, match="not an ISO 8601 time"):
        write_reports(_started(document, "yesterday"), tmp_path / "out", SPEC, FORMATS, supersede=True)
    assert not (tmp_path / "out").exists()


def test_the_shared_run_wrote_its_stamped_copies(cometapi_run):
    outcome, reports = cometapi_run
    stamp = run_stamp(outcome.results.started)
    assert _tree(reports) == sorted(
        [f"{SPEC}.html", f"{SPEC}.md", f"{SPEC}.json"] + [f"runs/{SPEC}/{stamp}.{suffix}" for suffix in FORMATS]
    )
    for suffix in FORMATS:
        assert (reports / f"runs/{SPEC}/{stamp}.{suffix}").read_bytes() == (reports / f"{SPEC}.{suffix}").read_bytes()


def test_two_runs_keep_two_stamped_copies_and_the_stable_name_holds_the_latest(tmp_path, document):
    first = _started(document, "2026-12-01T06:15:01.234+00:00")
    second = _started(document, "2026-12-02T06:15:01.234+00:00")
    written = write_reports(first, tmp_path, SPEC, FORMATS, supersede=True)
    assert written == [tmp_path / f"{SPEC}.{suffix}" for suffix in FORMATS]  # callers print the stable names
    assert written.history == tuple(history_dir(tmp_path, SPEC) / f"20261201T061501.234Z.{s}" for s in FORMATS)
    write_reports(second, tmp_path, SPEC, ["md", "json"], supersede=True)  # a run that asked for fewer formats
    assert _tree(tmp_path) == [
        f"{SPEC}.json",
        f"{SPEC}.md",  # the first run's html is superseded: it never stands beside the second run's reports
        f"runs/{SPEC}/20261201T061501.234Z.html",
        f"runs/{SPEC}/20261201T061501.234Z.json",
        f"runs/{SPEC}/20261201T061501.234Z.md",
        f"runs/{SPEC}/20261202T061501.234Z.json",
        f"runs/{SPEC}/20261202T061501.234Z.md",
    ]
    assert json.loads((tmp_path / f"{SPEC}.json").read_text())["started"] == second["started"]
    kept = json.loads((tmp_path / f"runs/{SPEC}/20261201T061501.234Z.json").read_text())
    assert kept["started"] == first["started"]
    assert not (tmp_path / f"{SPEC}.html").is_symlink() and not (tmp_path / f"{SPEC}.json").is_symlink()


def test_re_rendering_writes_only_the_stable_names(tmp_path, document):
    written = write_reports(document, tmp_path, SPEC, ["md"])
    assert written.history == () and _tree(tmp_path) == [f"{SPEC}.md"]


def test_a_partial_run_leaves_the_full_report_in_history_and_becomes_the_latest(tmp_path, document):
    full = _started(document, "2026-12-01T06:15:01.234+00:00")
    partial = _started(document, "2026-12-01T06:20:00.000+00:00")
    partial["summary"] = {**partial["summary"], "verdict": "partial"}
    write_reports(full, tmp_path, SPEC, FORMATS, supersede=True)
    kept = (tmp_path / f"runs/{SPEC}/20261201T061501.234Z.json").read_bytes()
    write_reports(partial, tmp_path, SPEC, FORMATS, supersede=True)
    assert (tmp_path / f"runs/{SPEC}/20261201T061501.234Z.json").read_bytes() == kept
    assert json.loads((tmp_path / f"{SPEC}.json").read_text())["summary"]["verdict"] == "partial"


def test_runbook_report_re_renders_the_run_byte_for_byte(tmp_path, cometapi_run):
    reports, again = cometapi_run.reports, tmp_path / "again"
    options = ["--out", str(again), "--format", ",".join(FORMATS)]
    result = CliRunner().invoke(main, ["report", str(reports / f"{SPEC}.json"), *options])
    assert result.exit_code == 0, result.output
    assert _tree(again) == sorted(f"{SPEC}.{suffix}" for suffix in FORMATS)  # no history
    for suffix in FORMATS:
        assert (again / f"{SPEC}.{suffix}").read_bytes() == (reports / f"{SPEC}.{suffix}").read_bytes(), suffix


def test_a_run_with_a_baseline_re_renders_byte_for_byte(tmp_path, document):
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps(_started(document, "2026-12-01T06:15:01.234+00:00")), encoding="utf-8")
    later = copy.deepcopy(document)
    later["checks"][0] = {**later["checks"][0], "status": "failed"}
    compared = api.with_baseline(later, baseline)
    write_reports(compared, tmp_path / "run", SPEC, FORMATS, supersede=True)
    again = api.rerender(tmp_path / "run" / f"{SPEC}.json", tmp_path / "again", FORMATS)
    for path in again:
        assert path.read_bytes() == (tmp_path / "run" / path.name).read_bytes(), path.name
    assert "## Since the baseline" in (tmp_path / "again" / f"{SPEC}.md").read_text(encoding="utf-8")
    assert '<h2 id="baseline">Since the baseline</h2>' in (tmp_path / "again" / f"{SPEC}.html").read_text()
