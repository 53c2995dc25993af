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


def described_keys(node, path: str = "#"):
    """(path, schema) of every key a spec can write: each `properties` entry, and each additionalProperties
    or patternProperties schema (a key the user names, such as a target or an env variable), anywhere in
    the schema, both halves included. Paths read `Contract.auth`, `Spec.targets.*`, `Spec.env.<pattern>`."""
    if isinstance(node, list):
        for item in node:
            yield from described_keys(item, path)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key == "$defs":
            for name, definition in value.items():
                yield from described_keys(definition, name)
        elif key == "properties":
            for name, prop in value.items():
                yield f"{path}.{name}", prop
                yield from described_keys(prop, f"{path}.{name}")
        elif key == "patternProperties":
            for pattern, prop in value.items():
                yield f"{path}.<{pattern}>", prop
                yield from described_keys(prop, f"{path}.<{pattern}>")
        elif key == "additionalProperties" and isinstance(value, dict):
            yield f"{path}.*", value
            yield from described_keys(value, f"{path}.*")
        elif key == "items":
            yield from described_keys(value, f"{path}[]")
        elif isinstance(value, dict | list) and key not in ("default", "examples", "const", "enum"):
            yield from described_keys(value, path)


def test_every_key_of_the_schema_has_a_description():
    """Hover help in editors: the description must sit on the key's own schema, beside any `$ref`, not
    only on the definition it refers to (the model's docstring says what the type is, not what the key
    is for). It comes from the docstring under the field, or Field(description=...) for a dict's values."""
    keys = dict(described_keys(spec_json_schema()))
    assert {"Spec.contract", "Contract.auth", "Spec.targets.*", "SpecPartial.targets.*", "Rule.class"} <= set(keys)
    missing = sorted(path for path, schema in keys.items() if not str(schema.get("description", "")).strip())
    assert missing == [], (
        "no description (a docstring under the field, or Field(description=...) on a dict's values): "
        + ", ".join(missing)
    )


def test_every_model_of_the_schema_has_a_description():
    definitions = spec_json_schema()["$defs"]
    assert [name for name, body in definitions.items() if not body.get("description", "").strip()] == []


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
