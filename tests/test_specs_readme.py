"""specs/README.md is the spec reference: every example validates, every key is documented."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from conftest import REPO_ROOT
from engine import api
from engine.spec import models


def yaml_examples(readme: str) -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", readme, flags=re.S)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`example`: each YAML example of specs/README.md, one test each."""
    if "example" in metafunc.fixturenames:
        examples = yaml_examples((REPO_ROOT / "specs" / "README.md").read_text(encoding="utf-8"))
        metafunc.parametrize("example", examples, ids=[f"example-{i}" for i in range(len(examples))])


@pytest.fixture(scope="module")
def readme(repo_root) -> str:
    return (repo_root / "specs" / "README.md").read_text(encoding="utf-8")


@pytest.fixture
def example_file(tmp_path, shared_base, example) -> Path:
    """The example as a file whose `extends: shared/...` points at the shipped bases."""
    spec = tmp_path / "example.yaml"
    spec.write_text(example.replace("extends: shared/", f"extends: {shared_base}/"), encoding="utf-8")
    return spec


def test_there_are_examples(readme):
    assert len(yaml_examples(readme)) >= 8


def test_every_example_validates(example_file):
    errors = [str(p) for p in api.validate_specs([example_file]) if p.severity == "error"]
    assert errors == []


def test_every_example_runs_against_the_simulator(example_file, example):
    inherited = tuple(d.id for d in api.load(example_file).spec.drills if f"id: {d.id}" not in example)
    outcome = api.run(
        example_file, out_dir=None, selection=api.Selection(skip=inherited)
    )  # the base's drills run elsewhere
    assert outcome.results.summary.checks.failed == 0 and outcome.results.summary.drills.failed == 0, [
        c.mismatches for c in outcome.results.checks if c.mismatches
    ]


def _model_keys(model: type[BaseModel], seen: set) -> set[str]:
    if model in seen:
        return set()
    seen.add(model)
    keys = set()
    for name, field in model.model_fields.items():
        keys.add(field.alias or name)
        for inner in _models_inside(field.annotation):
            keys |= _model_keys(inner, seen)
    return keys


def _models_inside(annotation) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_inside(arg)]


def test_every_key_of_the_format_is_documented(readme):
    keys = _model_keys(models.Spec, set())
    missing = sorted(key for key in keys if f"`{key}`" not in readme)
    assert missing == []
