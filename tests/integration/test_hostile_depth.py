"""Depth is data: a 200 whose JSON nests far deeper than any real answer is recorded as invalid JSON and
classified, and the run goes on to write every report; it never ends the run (issue 11, failure 1)."""

from __future__ import annotations

import json

import pytest

from engine import api
from engine.core.errors import SpecError
from support.hostile import HostileServer

CAPTURES_USAGE = "contract: {path: /deep-usage}\nchecks:\n  - id: happy-path\n    expect: {status: 2xx, class: success, capture: [usage]}\n"


@pytest.fixture
def deep_target(monkeypatch):
    with HostileServer() as server:
        monkeypatch.setenv("COMETAPI_BASE_URL", server.base_url)
        monkeypatch.setenv("COMETAPI_API_KEY", "sk-depth-test-0001")
        yield server


def run_happy_path(spec, tmp_path, **options):
    return api.run(spec, target="live", out_dir=tmp_path / "out", formats=("json", "html", "md"),
                   selection=api.Selection(only=("happy-path",)), **options)  # fmt: skip


def test_a_900_deep_usage_is_invalid_json_and_every_report_is_written(deep_target, child_spec, tmp_path):
    outcome = run_happy_path(child_spec(CAPTURES_USAGE, name="deep"), tmp_path)
    (check,) = [c for c in outcome.results.checks if c.selected]
    assert (check.observed.status, check.observed.parser, check.status) == (200, "invalid_json", "failed")
    assert check.class_ == "invalid_response"  # the table's rule for invalid JSON
    assert sorted(path.suffix for path in outcome.written) == [".html", ".json", ".md"]
    assert json.loads((tmp_path / "out" / "deep.json").read_text())["summary"]["verdict"] == "not_ready"


def test_updating_fixtures_from_a_deep_answer_does_not_crash(deep_target, child_spec, tmp_path):
    outcome = run_happy_path(child_spec(CAPTURES_USAGE, name="deep"), tmp_path, update_fixtures=True)
    (check,) = [c for c in outcome.results.checks if c.selected]
    assert check.fixture is not None and check.fixture.status == "updated"


def test_a_deep_stored_fixture_is_a_located_problem(child_spec, tmp_path):
    spec = child_spec(CAPTURES_USAGE, name="deep")
    fixtures = spec.parent / "fixtures"
    fixtures.mkdir(exist_ok=True)
    (fixtures / "happy-path.json").write_text("[" * 900 + "]" * 900)
    with pytest.raises(SpecError) as raised:
        api.load(spec)
    assert any("nested deeper than 64 levels" in p.message for p in raised.value.problems)
