"""Cross-reference checks that pydantic cannot express field by field.

Each finding is (path, message) so the loader can point at the exact list item.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.spec.models import Spec
from engine.spec.yaml_tree import PathKey

Finding = tuple[PathKey, str]


def check_spec(spec: Spec) -> list[Finding]:
    """Every cross-reference problem in a validated spec."""
    return [
        *_unique_ids("classification", [r.id for r in spec.classification]),
        *_unique_ids("checks", [c.id for c in spec.checks]),
        *_unique_ids("criteria", [c.id for c in spec.criteria]),
        *_default_rule_last(spec),
        *_expected_classes_exist(spec),
        *_criteria_references(spec),
    ]


def _unique_ids(section: str, ids: list[str]) -> Iterator[Finding]:
    seen: dict[str, int] = {}
    for index, item_id in enumerate(ids):
        if item_id in seen:
            yield (section, index, "id"), f"duplicate id {item_id!r} (first used at {section}[{seen[item_id]}])"
        seen.setdefault(item_id, index)


def _default_rule_last(spec: Spec) -> Iterator[Finding]:
    rules = spec.classification
    catch_all = [i for i, rule in enumerate(rules) if rule.when.any]
    if not catch_all:
        yield ("classification",), "the table needs a default rule as its last entry (when: {any: true})"
    for index in catch_all:
        if index != len(rules) - 1:
            yield (("classification", index, "when", "any"),
                   f"rule {rules[index].id!r} matches everything, so the rules after it can never match; move it last")


def _expected_classes_exist(spec: Spec) -> Iterator[Finding]:
    classes = {rule.class_ for rule in spec.classification}
    for index, check in enumerate(spec.checks):
        wanted = check.expect.class_
        if wanted and wanted not in classes:
            yield (("checks", index, "expect", "class"),
                   f"class {wanted!r} is not produced by any classification rule (known: {', '.join(sorted(classes))})")


def _criteria_references(spec: Spec) -> Iterator[Finding]:
    checks = {check.id for check in spec.checks}
    classes = {rule.class_ for rule in spec.classification}
    for index, criterion in enumerate(spec.criteria):
        for ref_index, ref in enumerate(criterion.requires):
            if ref not in checks:
                yield ("criteria", index, "requires", ref_index), f"unknown check id {ref!r}"
        for ref_index, name in enumerate(criterion.owners_for):
            if name not in classes:
                yield ("criteria", index, "owners_for", ref_index), f"class {name!r} is not produced by any classification rule"
        for ref_index, target in enumerate(criterion.targets or []):
            if target not in spec.targets:
                yield ("criteria", index, "targets", ref_index), f"unknown target {target!r}"
        if not (criterion.requires or criterion.owners_for or criterion.pending):
            yield (("criteria", index),
                   "a criterion needs evidence: 'requires' (check ids), 'owners_for' (classes) or 'pending' (why it cannot be checked yet)")
