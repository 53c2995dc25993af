"""Cross-reference checks that pydantic cannot express field by field.

They read the rendered document (plain data), not the models, so they run even when other parts
of the spec are invalid: a file with a typo *and* a duplicate id reports both. Anything of the
wrong shape is skipped here; pydantic reports it. Each finding is (path, message).
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterator
from typing import Any

from engine.core.providers import PROFILES
from engine.load.yaml_tree import PathKey
from engine.spec.models import drill_simulator

Finding = tuple[PathKey, str]
Item = dict[str, Any]  # a mapping in a list of the document, as written
Items = list[tuple[int, Item]]  # (index in the list, item)


def check_document(document: dict[str, Any]) -> list[Finding]:
    """Every cross-reference problem in a rendered spec document."""
    rules = _items(document, "classification")
    checks = _items(document, "checks")
    drills = _items(document, "drills")
    criteria = _items(document, "criteria")
    classes: set[str] = {rule["class"] for _, rule in rules if isinstance(rule.get("class"), str)}
    declared = document.get("targets")
    targets: set[str] = set(declared) if isinstance(declared, dict) else set()
    return [
        *_unique_ids("classification", rules),
        *_unique_ids("checks", checks),
        *_unique_ids("criteria", criteria),
        *_unique_ids("drills", drills),
        *_default_rule_last(rules, "classification" in document),
        *_expected_classes_exist("checks", checks, classes),
        *_expected_classes_exist("drills", drills, classes),
        *_criteria_references(
            criteria,
            {c.get("id") for _, c in checks} | {f"drill:{d.get('id')}" for _, d in drills},
            classes,
            targets,
            {c.get("id") for _, c in checks if c.get("fixture")},
        ),
        *_policy_references(document.get("policy"), classes, targets),
        *_client_names(document.get("clients")),
        *provider_errors_exist(drills, _drill_profile(document)),
        *_leftover_directives("classification", rules),
        *_leftover_directives("checks", checks),
        *_leftover_directives("criteria", criteria),
        *_leftover_directives("drills", drills),
    ]


def _items(document: dict[str, Any], section: str) -> Items:
    items = document.get(section)
    if not isinstance(items, list):
        return []
    return [(index, item) for index, item in enumerate(items) if isinstance(item, dict)]


def _unique_ids(section: str, items: Items) -> Iterator[Finding]:
    seen: dict[str, int] = {}
    for index, item in items:
        item_id = item.get("id")
        if not isinstance(item_id, str):
            continue
        if item_id in seen:
            yield (section, index, "id"), f"duplicate id {item_id!r} (first used at {section}[{seen[item_id]}])"
        seen.setdefault(item_id, index)


def _is_catch_all(rule: Item) -> bool:
    when = rule.get("when")
    return isinstance(when, dict) and when.get("any") is True


def _default_rule_last(rules: Items, has_table: bool) -> Iterator[Finding]:
    if not rules:
        return
    catch_all = [index for index, rule in rules if _is_catch_all(rule)]
    if not catch_all and has_table:
        yield ("classification",), "the table needs a default rule as its last entry (when: {any: true})"
    last = rules[-1][0]
    for index in catch_all:
        if index != last:
            rule_id = dict(rules)[index].get("id")
            yield (
                ("classification", index, "when", "any"),
                f"rule {rule_id!r} matches everything, so the rules after it can never match; move it last",
            )


def _did_you_mean(name: str, known: Collection[object], listed: bool = False) -> str:
    """' (did you mean 'x'?)' for the nearest known name; without one, the known names when `listed`."""
    names = sorted(str(item) for item in known if isinstance(item, str))
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" (known: {', '.join(names)})" if listed and names else ""


def _expected_classes_exist(section: str, items: Items, classes: set[str]) -> Iterator[Finding]:
    for index, item in items:
        expect = item.get("expect")
        wanted = expect.get("class") if isinstance(expect, dict) else None
        if isinstance(wanted, str) and classes and wanted not in classes:
            yield (
                (section, index, "expect", "class"),
                f"class {wanted!r} is not produced by any classification rule{_did_you_mean(wanted, classes, True)}",
            )


def _criteria_references(
    criteria: Items, check_ids: set[object], classes: set[str], targets: set[str], fixture_checks: set[object]
) -> Iterator[Finding]:
    for index, criterion in criteria:
        for ref_index, ref in _strings(criterion.get("requires")):
            if ref not in check_ids:
                kind = "drill" if ref.startswith("drill:") else "check"
                yield (
                    ("criteria", index, "requires", ref_index),
                    f"unknown {kind} id {ref.removeprefix('drill:')!r}{_did_you_mean(ref, check_ids)}",
                )
        for ref_index, name in _strings(criterion.get("owners_for")):
            if classes and name not in classes:
                yield (
                    ("criteria", index, "owners_for", ref_index),
                    f"class {name!r} is not produced by any classification rule{_did_you_mean(name, classes)}",
                )
        for ref_index, ref in _strings(criterion.get("fixtures_for")):
            if ref not in fixture_checks:
                yield (
                    ("criteria", index, "fixtures_for", ref_index),
                    f"check {ref!r} does not declare a fixture{'' if ref in check_ids else _did_you_mean(ref, fixture_checks)}",
                )
        for ref_index, target in _strings(criterion.get("targets")):
            if targets and target not in targets:
                yield (
                    ("criteria", index, "targets", ref_index),
                    f"unknown target {target!r}{_did_you_mean(target, targets)}",
                )
        if not any(criterion.get(key) for key in ("requires", "owners_for", "fixtures_for", "pending")):
            yield (
                ("criteria", index),
                "a criterion needs evidence: 'requires' (check ids), 'owners_for' (classes), "
                "'fixtures_for' (checks with fixtures) or 'pending' (why it cannot be checked yet)",
            )


def _strings(value: Any) -> Iterator[tuple[int, str]]:
    if isinstance(value, list):
        yield from ((i, item) for i, item in enumerate(value) if isinstance(item, str))


def _leftover_directives(section: str, items: Items) -> Iterator[Finding]:
    """drop/before/after only mean something when this spec `extends` a base that has the list."""
    for index, item in items:
        for key in ("drop", "before", "after"):
            if key in item:
                yield (
                    (section, index, key),
                    f"'{key}' only applies to an item inherited through 'extends'; nothing here to merge with",
                )


def _policy_references(policy: Any, classes: set[str], targets: set[str]) -> Iterator[Finding]:
    fallback = policy.get("fallback") if isinstance(policy, dict) else None
    if not isinstance(fallback, dict):
        return
    if isinstance(fallback.get("to"), str) and targets and fallback["to"] not in targets:
        yield ("policy", "fallback", "to"), f"unknown target {fallback['to']!r}{_did_you_mean(fallback['to'], targets)}"
    for index, name in _strings(fallback.get("never_for")):
        if classes and name not in classes:
            yield (
                ("policy", "fallback", "never_for", index),
                f"class {name!r} is not produced by any classification rule{_did_you_mean(name, classes)}",
            )


def _client_names(clients: Any) -> Iterator[Finding]:
    if isinstance(clients, dict) and "reference" in clients:
        yield ("clients", "reference"), "'reference' names runbook's own client; give your client another name"


def _drill_profile(document: dict[str, Any]) -> str:
    settings, targets = document.get("drill_settings"), document.get("targets")
    chosen = settings.get("simulator") if isinstance(settings, dict) else None
    sim = targets.get("sim") if isinstance(targets, dict) else None
    return drill_simulator(chosen, sim)


def provider_errors_exist(
    drills: Items, profile: str, keys: tuple[str, ...] = ("faults", "fallback_faults")
) -> Iterator[Finding]:
    """Every `provider_error:` a drill's faults name is one the drills' simulator profile answers."""
    known = PROFILES[profile].situations
    for index, drill in drills:
        for key in keys:
            faults = drill.get(key)
            for position, fault in enumerate(faults if isinstance(faults, list) else []):
                name = fault.get("provider_error") if isinstance(fault, dict) else None
                if isinstance(name, str) and name not in known:
                    yield (
                        ("drills", index, key, position, "provider_error")
                        if index >= 0
                        else (key, position, "provider_error"),
                        f"the {profile} simulator profile has no error {name!r}{_did_you_mean(name, known, True)}",
                    )
