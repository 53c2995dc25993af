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
`refresh_credentials`, `warning` for `store_fixture_and_alert`. `for_seconds` (`runbook alerts --for 5m`)
makes each of these alerts wait that long before firing, for teams that page only on a lasting failure;
by default they fire on the first failing run, as the table asks.

The group also holds `RunbookWatchStalled` (severity warning, class `watch_stalled`), which fires after
five minutes in which the watch of this spec is overdue or gone:

    (time() - runbook_watch_next_run_timestamp_seconds{spec="X"} > 2 * runbook_watch_interval_seconds{spec="X"})
      or absent(runbook_watch_next_run_timestamp_seconds{spec="X"})

The first half catches a watch that still serves metrics but no longer runs (its next run lies more
than two intervals in the past). The second catches a watch that is gone: a stopped process or an
unreachable `/metrics` leaves no series, and without `absent()` every failing alert above would then
resolve silently, reading the end of the monitoring as recovery. Label values are cleaned as the
metrics clean theirs, so they match the series. Annotations come from the rule's notes, with
control characters removed; their Go template braces, and those of label values, are escaped. The same spec gives the same bytes.
"""

from __future__ import annotations

import io
import re
from typing import Any

from ruamel.yaml import YAML

from engine.monitor.metrics import FAILING_ITEMS, INTERVAL, NEXT_RUN, RuleKey, label_value, rule_key
from engine.spec.models import Rule, Spec

SEVERITY = {"page_owner": "critical", "refresh_credentials": "critical", "store_fixture_and_alert": "warning"}
ALERTING_ACTIONS = tuple(SEVERITY)
MAX_TEXT_LENGTH = 1000  # characters of a rule's notes kept in an annotation
STALLED_ALERT = "RunbookWatchStalled"
STALLED_INTERVALS = 2  # a watch whose next run is this many intervals overdue has stalled
STALLED_FOR_SECONDS = 300.0
_DURATION_UNITS = (("w", 604_800_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1))

_TEMPLATE_BRACES = re.compile(r"\{\{|\}\}")
_SPACES = re.compile(r"\s+")


def alert_rules(spec: Spec, for_seconds: float | None = None) -> str:
    """The Prometheus rule file (YAML text) of the spec's alerting classification rules, and the
    stalled-watch alert; with `for_seconds`, each failing alert waits that long before it fires."""
    rules = [_alert(spec.name, rule, for_seconds) for rule in spec.classification if rule.action in ALERTING_ACTIONS]
    rules.append(_stalled_alert(label_value(spec.name)))
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


def prometheus_duration(seconds: float) -> str:
    """Seconds as a Prometheus duration: 300 -> '5m', 5400 -> '1h30m', 0.25 -> '250ms'."""
    left = max(1, round(seconds * 1000))
    parts = []
    for unit, size in _DURATION_UNITS:
        count, left = divmod(left, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def _alert(spec_name: str, rule: Rule, for_seconds: float | None) -> dict[str, Any]:
    key = rule_key(rule.id, rule.class_, rule.action, rule.owner)
    waiting = {} if for_seconds is None else {"for": prometheus_duration(for_seconds)}
    return {
        "alert": alert_name(key.class_),
        "expr": _expression(label_value(spec_name), key),
        **waiting,
        "labels": _labels(key, SEVERITY[rule.action]),
        "annotations": {"summary": _summary(spec_name, key), "description": _description(spec_name, rule, key)},
    }


def _stalled_alert(spec_name: str) -> dict[str, Any]:
    spec = f"{{spec={promql_string(spec_name)}}}"
    overdue = f"time() - {NEXT_RUN}{spec} > {STALLED_INTERVALS} * {INTERVAL}{spec}"
    subject = template_text(f"{spec_name}: the watch has not run for over {STALLED_INTERVALS} intervals, or is gone")
    return {
        "alert": STALLED_ALERT,
        "expr": f"({overdue}) or absent({NEXT_RUN}{spec})",
        "for": prometheus_duration(STALLED_FOR_SECONDS),
        "labels": {"class": "watch_stalled", "severity": "warning"},
        "annotations": {
            "summary": subject,
            "description": template_text(
                f"No runbook watch of spec {spec_name} has run on time: its metrics are gone (the process "
                "stopped, or Prometheus cannot scrape it) or its next run is overdue. Until it runs again, "
                "the failing alerts of this spec cannot fire."
            ),
        },
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
