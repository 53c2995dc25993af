"""Prometheus alerting rules from a spec's classification table (`runbook alerts SPEC`).

`alert_rules(spec)` returns a rule file with one group, named after the spec, holding one alert per
classification rule whose action is `page_owner`, `refresh_credentials` or `store_fixture_and_alert`.
Each alert fires while a check of the latest watch run fails with that rule's classification:

    - alert: RunbookAuthFailing
      expr: runbook_failing_items{spec="cometapi-chat-completions",kind="check",rule="auth"} > 0
      labels: {owner: platform-secrets, action: page_owner, class: auth, rule: auth, severity: critical}

It reads the gauge `runbook_failing_items` (engine.monitor.metrics) rather than
`increase(runbook_failures_total[...])`: the gauge holds while the failure lasts and clears on the
first run that passes, whatever the watch interval, where an increase over a window misses a counter
born at 1 and forgets a failure once the window is past. Drills are left out (`kind="check"`): they
exercise the client's policy on the fault simulator, and their failures are not the owner's to fix.

The `owner`, `action` and `class` labels let Alertmanager route by the owner the table names; a
rule without an owner gets owner `unowned`. The `rule` label names the rule: two rules of one class,
action and owner are two alerts (promtool rejects two alerts of one name with the same labels). `severity` is `critical` for `page_owner` and
`refresh_credentials`, `warning` for `store_fixture_and_alert`. Label values are cleaned as the
metrics clean theirs, so they match the series. Annotations come from the rule's notes, with
control characters removed; their Go template braces, and those of label values, are escaped. The same spec gives the same bytes.
"""

from __future__ import annotations

import io
import re
from typing import Any

from ruamel.yaml import YAML

from engine.monitor.metrics import FAILING_ITEMS, RuleKey, label_value, rule_key
from engine.spec.models import Rule, Spec

SEVERITY = {"page_owner": "critical", "refresh_credentials": "critical", "store_fixture_and_alert": "warning"}
ALERTING_ACTIONS = tuple(SEVERITY)
MAX_TEXT_LENGTH = 1000  # characters of a rule's notes kept in an annotation

_TEMPLATE_BRACES = re.compile(r"\{\{|\}\}")
_SPACES = re.compile(r"\s+")


def alert_rules(spec: Spec) -> str:
    """The Prometheus rule file (YAML text) of the spec's alerting classification rules."""
    rules = [_alert(spec.name, rule) for rule in spec.classification if rule.action in ALERTING_ACTIONS]
    document = {"groups": [{"name": label_value(spec.name), "rules": rules}]}
    header = f"# Prometheus alerting rules of spec {label_value(spec.name)}, written by `runbook alerts`.\n"
    return header + _yaml_text(document)


def alert_name(class_: str) -> str:
    """`Runbook<Class>Failing`, the class in CamelCase: a valid Prometheus alert name."""
    words = re.split(r"[^A-Za-z0-9]+", class_)
    return "Runbook" + "".join(word[:1].upper() + word[1:] for word in words) + "Failing"


def promql_string(value: str) -> str:
    """A PromQL double-quoted string literal of value."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def template_text(text: str) -> str:
    """Free text made safe for an annotation: one line, no control characters, Go template braces printed
    as themselves."""
    kept = "".join(c for c in _SPACES.sub(" ", text) if c.isprintable())[:MAX_TEXT_LENGTH]
    return template_literal(kept)


def template_literal(text: str) -> str:
    """Text that a Go template (Prometheus expands alert labels and annotations) prints unchanged."""
    return _TEMPLATE_BRACES.sub(lambda braces: '{{ "' + braces.group() + '" }}', text)


def _alert(spec_name: str, rule: Rule) -> dict[str, Any]:
    key = rule_key(rule.id, rule.class_, rule.action, rule.owner)
    return {
        "alert": alert_name(key.class_),
        "expr": _expression(label_value(spec_name), key),
        "labels": _labels(key, SEVERITY[rule.action]),
        "annotations": {"summary": _summary(spec_name, key), "description": _description(spec_name, rule, key)},
    }


def _labels(key: RuleKey, severity: str) -> dict[str, str]:
    """The alert's labels: once Prometheus expands them, the same values as the series' labels."""
    values = {"owner": key.owner, "action": key.action, "class": key.class_, "rule": key.rule}
    return {name: template_literal(value) for name, value in values.items()} | {"severity": severity}


def _expression(spec_name: str, key: RuleKey) -> str:
    matchers = f'spec={promql_string(spec_name)},kind="check",rule={promql_string(key.rule)}'
    return f"{FAILING_ITEMS}{{{matchers}}} > 0"


def _summary(spec_name: str, key: RuleKey) -> str:
    subject = template_text(f"{spec_name}: checks fail as {key.class_} on target ")
    return subject + "{{ $labels.target }}" + template_text(f" ({key.action}, owner {key.owner})")


def _description(spec_name: str, rule: Rule, key: RuleKey) -> str:
    notes = template_text(rule.notes).strip()
    origin = template_text(f"Classification rule {key.rule} of spec {spec_name} matched ")
    count = origin + "{{ $value }} failing check(s) in the latest run."
    return f"{notes} {count}" if notes else count


def _yaml_text(document: dict[str, Any]) -> str:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    yaml.width = 4096  # one line per value: no folding
    yaml.allow_unicode = True
    stream = io.StringIO()
    yaml.dump(document, stream)
    return stream.getvalue()
