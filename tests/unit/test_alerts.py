"""alert_rules (engine/monitor/alerts.py): the classification table of every shipped spec becomes
Prometheus alerting rules, one per alerting rule, labelled for routing. `promtool` checks the same
files in tests/services/test_prometheus.py."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from engine import api
from engine.monitor.alerts import (
    ALERTING_ACTIONS,
    STALLED_ALERT,
    alert_name,
    alert_rules,
    prometheus_duration,
    promql_string,
    template_literal,
)
from engine.spec.models import Rule, Spec

REPO_ROOT = Path(__file__).resolve().parents[2]
SHIPPED = [REPO_ROOT / "specs" / "cometapi" / "chat-completions.yaml", *sorted((REPO_ROOT / "specs" / "providers").glob("*.yaml"))]  # fmt: skip
ALERT_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
SEVERITY = {"page_owner": "critical", "refresh_credentials": "critical", "store_fixture_and_alert": "warning"}


def parsed(text: str) -> dict[str, Any]:
    document: dict[str, Any] = YAML(typ="safe", pure=True).load(text)
    return document


def all_alerts_of(spec: Spec, for_seconds: float | None = None) -> list[dict[str, Any]]:
    (group,) = parsed(alert_rules(spec, for_seconds))["groups"]
    assert group["name"] == spec.name
    return list(group["rules"])


def alerts_of(spec: Spec, for_seconds: float | None = None) -> list[dict[str, Any]]:
    """The failing alerts, one per alerting rule: every alert but the last, the stalled-watch one."""
    *failing, stalled = all_alerts_of(spec, for_seconds)
    assert stalled["alert"] == STALLED_ALERT
    return failing


@pytest.fixture(scope="module", params=SHIPPED, ids=lambda path: path.stem)
def shipped(request: pytest.FixtureRequest) -> Spec:
    return api.load(request.param).spec


def test_the_shipped_specs_are_all_here() -> None:
    assert len(SHIPPED) >= 13 and all(path.is_file() for path in SHIPPED)


def test_every_alerting_rule_becomes_exactly_one_alert_with_its_labels(shipped: Spec) -> None:
    alerting = [rule for rule in shipped.classification if rule.action in ALERTING_ACTIONS]
    alerts = alerts_of(shipped)
    assert alerting and [a["labels"]["rule"] for a in alerts] == [rule.id for rule in alerting]
    for rule, alert in zip(alerting, alerts, strict=True):
        assert alert["labels"] == {
            "owner": rule.owner or "unowned",
            "action": rule.action,
            "class": rule.class_,
            "rule": rule.id,
            "severity": SEVERITY[rule.action],
        }
        assert alert["expr"] == f'runbook_failing_items{{spec="{shipped.name}",kind="check",rule="{rule.id}"}} > 0'
        assert ALERT_NAME.match(alert["alert"]) and alert["alert"] == alert_name(rule.class_)


def test_rules_of_other_actions_give_no_alert(shipped: Spec) -> None:
    quiet = {rule.id for rule in shipped.classification if rule.action not in ALERTING_ACTIONS}
    assert quiet  # retry_briefly, fix_request, none, ...: the table has them
    text = alert_rules(shipped)
    assert not [rule for rule in quiet if f'rule="{rule}"' in text]


def test_annotations_say_what_the_rule_says(shipped: Spec) -> None:
    for rule, alert in zip(_alerting(shipped), alerts_of(shipped), strict=True):
        assert "{{ $labels.target }}" in alert["annotations"]["summary"]
        assert rule.class_ in alert["annotations"]["summary"]
        assert " ".join(rule.notes.split()) in alert["annotations"]["description"]
        assert f"rule {rule.id} of spec {shipped.name}" in alert["annotations"]["description"]


def test_every_spec_gets_one_stalled_watch_alert_for_its_own_watch(shipped: Spec) -> None:
    stalled = all_alerts_of(shipped)[-1]
    spec = f'{{spec="{shipped.name}"}}'
    assert stalled["expr"] == (
        f"(time() - runbook_watch_next_run_timestamp_seconds{spec} > 2 * runbook_watch_interval_seconds{spec})"
        f" or absent(runbook_watch_next_run_timestamp_seconds{spec})"
    )
    assert stalled["for"] == "5m"
    assert stalled["labels"] == {"class": "watch_stalled", "severity": "warning"}
    assert shipped.name in stalled["annotations"]["summary"]


def test_failing_alerts_fire_at_once_unless_a_for_span_is_given(shipped: Spec) -> None:
    assert not [a for a in alerts_of(shipped) if "for" in a]
    waiting = alerts_of(shipped, for_seconds=300)
    assert waiting and {a["for"] for a in waiting} == {"5m"}
    assert all_alerts_of(shipped, for_seconds=60)[-1]["for"] == "5m"  # the stalled alert keeps its own


@pytest.mark.parametrize(
    ("seconds", "duration"),
    [(300, "5m"), (90, "1m30s"), (5400, "1h30m"), (0.25, "250ms"), (604_800 + 86_400, "1w1d"), (0.0001, "1ms")],
)
def test_prometheus_duration(seconds: float, duration: str) -> None:
    assert prometheus_duration(seconds) == duration


def test_the_same_spec_gives_the_same_bytes(shipped: Spec) -> None:
    again = shipped.model_copy(deep=True)
    assert alert_rules(shipped) == alert_rules(again) == alert_rules(shipped)


def _alerting(spec: Spec) -> list[Rule]:
    return [rule for rule in spec.classification if rule.action in ALERTING_ACTIONS]


def _with_rule(spec: Spec, rule_id: str, **changes: object) -> Spec:
    rules = [r.model_copy(update=changes) if r.id == rule_id else r for r in spec.classification]
    return spec.model_copy(update={"classification": rules})


@pytest.fixture(scope="module")
def cometapi() -> Spec:
    return api.load(SHIPPED[0]).spec


def test_a_rule_without_an_owner_is_routed_to_unowned(cometapi: Spec) -> None:
    spec = _with_rule(cometapi, "invalid-json", owner=None)
    (alert,) = [a for a in alerts_of(spec) if a["labels"]["rule"] == "invalid-json"]
    assert alert["labels"]["owner"] == "unowned"


def test_changing_a_rule_to_a_quiet_action_removes_its_alert(cometapi: Spec) -> None:
    spec = _with_rule(cometapi, "billing", action="retry_briefly")
    assert "billing" not in [a["labels"]["rule"] for a in alerts_of(spec)]
    assert len(alerts_of(spec)) == len(alerts_of(cometapi)) - 1


HOSTILE_NOTES = 'Call {{ .Owner }} now}} "quoted" \\ back\x07slash\x1b[31m\u202e\nsecond   line {{'


def test_hostile_notes_and_owners_are_escaped(cometapi: Spec) -> None:
    spec = _with_rule(cometapi, "auth", notes=HOSTILE_NOTES, owner='sec"ops {{x}}\x00')
    text = alert_rules(spec)
    assert not [c for c in text if not c.isprintable() and c != "\n"]
    (alert,) = [a for a in alerts_of(spec) if a["labels"]["rule"] == "auth"]
    description = alert["annotations"]["description"]
    assert description.startswith(
        'Call {{ "{{" }} .Owner {{ "}}" }} now{{ "}}" }} "quoted" \\ backslash[31m second line'
    )
    assert alert["labels"]["owner"] == 'sec"ops {{ "{{" }}x{{ "}}" }}'  # expands to the series' owner


@pytest.mark.parametrize(
    ("value", "literal"),
    [("auth", '"auth"'), ('a"b', '"a\\"b"'), ("a\\b", '"a\\\\b"'), ("a\nb", '"a\\nb"')],
)
def test_promql_string(value: str, literal: str) -> None:
    assert promql_string(value) == literal


@pytest.mark.parametrize(
    ("class_", "name"),
    [
        ("auth", "RunbookAuthFailing"),
        ("partial_stream", "RunbookPartialStreamFailing"),
        ("a.b-c9", "RunbookABC9Failing"),
    ],
)
def test_alert_names_are_camel_case(class_: str, name: str) -> None:
    assert alert_name(class_) == name


def test_template_literal_leaves_plain_text_alone() -> None:
    assert template_literal("no braces { here }") == "no braces { here }"
    assert template_literal("{{}}") == '{{ "{{" }}{{ "}}" }}'
