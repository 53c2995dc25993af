"""specs/README.md is the spec reference: every example validates, every key is documented."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from engine import api
from engine.spec import models

README = Path("specs/README.md").read_text(encoding="utf-8")
SHARED = Path("specs/shared").resolve()
EXAMPLES = re.findall(r"```yaml\n(.*?)```", README, flags=re.S)


def test_there_are_examples():
    assert len(EXAMPLES) >= 8


@pytest.mark.parametrize("index", range(len(EXAMPLES)))
def test_every_example_validates(index, tmp_path):
    spec = tmp_path / f"example-{index}.yaml"
    spec.write_text(EXAMPLES[index].replace("extends: shared/", f"extends: {SHARED}/"), encoding="utf-8")
    errors = [str(p) for p in api.validate_specs([spec]) if p.severity == "error"]
    assert errors == []


@pytest.mark.parametrize("index", range(len(EXAMPLES)))
def test_every_example_runs_against_the_simulator(index, tmp_path):
    spec = tmp_path / f"example-{index}.yaml"
    spec.write_text(EXAMPLES[index].replace("extends: shared/", f"extends: {SHARED}/"), encoding="utf-8")
    inherited = tuple(d.id for d in api.load(spec).spec.drills if f"id: {d.id}" not in EXAMPLES[index])
    outcome = api.run(spec, out_dir=None, selection=api.Selection(skip=inherited))  # the base's drills run elsewhere
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


def test_every_key_of_the_format_is_documented():
    keys = _model_keys(models.Spec, set())
    missing = sorted(key for key in keys if f"`{key}`" not in README)
    assert missing == []
