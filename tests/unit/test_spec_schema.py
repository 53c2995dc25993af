"""The exported JSON Schema: in sync with the models, accepts every shipped spec, rejects schema-level mistakes."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from engine.load.extends import read_spec_tree
from engine.load.yaml_tree import read_yaml
from engine.spec.schema import spec_json_schema, spec_json_schema_text

SHIPPED = sorted(Path("specs").rglob("*.yaml"))
CORPUS = Path("tests/corpus/broken")
VALIDATOR = jsonschema.Draft202012Validator(
    spec_json_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)
# Corpus mistakes that a JSON Schema can see (types, enums, patterns, unknown or missing keys).
SCHEMA_LEVEL = [
    "bad-date-word",
    "bad-duration-negative",
    "bad-duration-words",
    "bad-duration-zero",
    "bad-enum-action",
    "bad-enum-auth-mode",
    "bad-enum-method",
    "bad-enum-parser",
    "bad-enum-retry",
    "bad-enum-transport",
    "bad-enum-version",
    "bad-slug-id",
    "bad-status-class",
    "bad-status-two-digits",
    "bad-status-word",
    "empty-classification",
    "empty-targets",
    "missing-contract",
    "missing-expect",
    "missing-name",
    "missing-rule-class",
    "top-level-list",
    "top-level-scalar",
    "unknown-key-contract",
    "unknown-key-expect",
    "unknown-key-http-target",
    "unknown-key-request",
    "unknown-key-rule",
    "unknown-key-target",
    "unknown-key-top-level",
    "wrong-type-bool",
    "wrong-type-contract-null",
    "wrong-type-int",
    "wrong-type-list",
    "wrong-type-mapping",
    "wrong-type-vars",
]


def as_json(path: Path):
    data, _ = read_yaml(path, str(path))
    return json.loads(json.dumps(data))


def test_the_shipped_schema_file_is_up_to_date():
    assert Path("specs/runbook-spec.schema.json").read_text() == spec_json_schema_text(), (
        "regenerate it: runbook schema --out specs/runbook-spec.schema.json"
    )


def test_the_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(spec_json_schema())


@pytest.mark.parametrize("path", SHIPPED, ids=str)
def test_every_shipped_spec_file_is_accepted(path):
    errors = sorted(VALIDATOR.iter_errors(as_json(path)), key=str)
    assert not errors, "\n".join(e.message for e in errors[:5])


@pytest.mark.parametrize("path", SHIPPED, ids=str)
def test_every_shipped_spec_after_extends_is_accepted_as_a_full_spec(path):
    merged, _ = read_spec_tree(path, str)
    assert not list(VALIDATOR.iter_errors(json.loads(json.dumps(merged))))


@pytest.mark.parametrize("name", SCHEMA_LEVEL)
def test_schema_level_mistakes_of_the_corpus_are_rejected(name):
    assert list(VALIDATOR.iter_errors(as_json(CORPUS / f"{name}.yaml"))), f"{name} passed the schema"


def test_the_valid_corpus_spec_is_accepted():
    assert not list(VALIDATOR.iter_errors(as_json(Path("tests/corpus/valid/minimal.yaml"))))


def test_a_spec_that_extends_may_leave_out_what_it_inherits():
    assert not list(VALIDATOR.iter_errors({"extends": "base.yaml", "contract": {"auth": {"secret": "K"}}}))
    assert list(VALIDATOR.iter_errors({"extends": "base.yaml", "contract": {"timeouts": {"read": "soon"}}}))


def test_every_shipped_spec_starts_with_the_schema_modeline():
    for path in SHIPPED:
        first = path.read_text().splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), path
        target = (path.parent / first.split("$schema=", 1)[1]).resolve()
        assert target == Path("specs/runbook-spec.schema.json").resolve(), path
