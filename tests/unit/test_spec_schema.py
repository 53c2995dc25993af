"""The exported JSON Schema: in sync with the models, accepts every shipped spec, rejects schema-level mistakes."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from conftest import REPO_ROOT
from engine.load.extends import read_spec_tree
from engine.load.yaml_tree import read_yaml
from engine.spec.schema import spec_json_schema, spec_json_schema_text
from support.specs import MINIMAL

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


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`shipped_spec`: every spec file under specs/, one test each, named by its path in the repository."""
    if "shipped_spec" in metafunc.fixturenames:
        shipped = sorted((REPO_ROOT / "specs").rglob("*.yaml"))
        metafunc.parametrize("shipped_spec", shipped, ids=[str(p.relative_to(REPO_ROOT)) for p in shipped])


@pytest.fixture(scope="module")
def schema_file(repo_root: Path) -> Path:
    return repo_root / "specs" / "runbook-spec.schema.json"


def as_json(path: Path):
    data, _ = read_yaml(path, str(path))
    return json.loads(json.dumps(data))


def test_the_shipped_schema_file_is_up_to_date(schema_file):
    assert schema_file.read_text() == spec_json_schema_text(), (
        "regenerate it: runbook schema --out specs/runbook-spec.schema.json"
    )


def test_the_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(spec_json_schema())


def test_every_shipped_spec_file_is_accepted(shipped_spec):
    errors = sorted(VALIDATOR.iter_errors(as_json(shipped_spec)), key=str)
    assert not errors, "\n".join(e.message for e in errors[:5])


def test_every_shipped_spec_after_extends_is_accepted_as_a_full_spec(shipped_spec):
    merged, _ = read_spec_tree(shipped_spec, str)
    assert not list(VALIDATOR.iter_errors(json.loads(json.dumps(merged))))


@pytest.mark.parametrize("name", SCHEMA_LEVEL)
def test_schema_level_mistakes_of_the_corpus_are_rejected(repo_root, name):
    broken = repo_root / "tests" / "corpus" / "broken" / f"{name}.yaml"
    assert list(VALIDATOR.iter_errors(as_json(broken))), f"{name} passed the schema"


def test_the_valid_corpus_spec_is_accepted():
    assert not list(VALIDATOR.iter_errors(as_json(MINIMAL)))


def test_a_spec_that_extends_may_leave_out_what_it_inherits():
    assert not list(VALIDATOR.iter_errors({"extends": "base.yaml", "contract": {"auth": {"secret": "K"}}}))
    assert list(VALIDATOR.iter_errors({"extends": "base.yaml", "contract": {"timeouts": {"read": "soon"}}}))


def test_every_shipped_spec_starts_with_the_schema_modeline(shipped_spec, schema_file):
    first = shipped_spec.read_text().splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema=")
    target = (shipped_spec.parent / first.split("$schema=", 1)[1]).resolve()
    assert target == schema_file
