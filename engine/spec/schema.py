"""The JSON Schema of the spec format, generated from the pydantic models (for editors and CI).

A spec that `extends` a base names only what it changes, so the schema has two halves: the full
spec, and a "partial" copy of every definition with nothing required, chosen when `extends` is
present.

Every key carries a `description` (editors show it as hover help): a field's is the docstring under
it in the models, a model's is its class docstring; line breaks inside a paragraph are joined here.
The field docstrings are read from the models' source here, when a schema is asked for, rather than
by pydantic when each model class is made (that cost every command ~70 ms at start-up).
"""

from __future__ import annotations

import ast
import copy
import inspect
import itertools
import json
import sys
from typing import Any

from pydantic import BaseModel

from engine.spec.models import Spec

SCHEMA_ID = "https://runbook.dev/schema/spec-v1.json"
_PARTIAL = "Partial"


def spec_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) that a spec file's YAML, read as JSON, must satisfy."""
    full = Spec.model_json_schema(mode="validation", ref_template="#/$defs/{model}")
    definitions = full.pop("$defs", {})
    definitions["Spec"] = full
    _add_field_docstrings(definitions)
    definitions = _unwrapped(definitions)
    partial = {name + _PARTIAL: _relaxed(body) for name, body in definitions.items()}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "runbook spec",
        "description": "A reliability contract for a chat-completions API (runbook spec format, version 1).",
        "if": {"required": ["extends"]},
        "then": {"$ref": f"#/$defs/Spec{_PARTIAL}"},
        "else": {"$ref": "#/$defs/Spec"},
        "$defs": {**definitions, **partial},
    }


def spec_json_schema_text() -> str:
    return json.dumps(spec_json_schema(), indent=2, sort_keys=True) + "\n"


def _unwrapped(node: Any) -> Any:
    """A copy with each `description` written as paragraphs of one line (docstrings wrap at 120 columns)."""
    if isinstance(node, dict):
        return {
            key: _one_line_paragraphs(value) if key == "description" and isinstance(value, str) else _unwrapped(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_unwrapped(item) for item in node]
    return node


def _one_line_paragraphs(text: str) -> str:
    return "\n\n".join(" ".join(paragraph.split()) for paragraph in text.split("\n\n"))


def _relaxed(node: Any) -> Any:
    """A copy with every `required` dropped, every $ref pointed at the partial definitions, and every
    `oneOf` an `anyOf` (with nothing required, more than one choice may fit a part)."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "required":
                continue
            if key == "$ref" and isinstance(value, str) and value.startswith("#/$defs/"):
                out[key] = value + _PARTIAL
            elif key == "oneOf":
                out["anyOf"] = _relaxed(value)
            else:
                out[key] = _relaxed(value)
        return out
    if isinstance(node, list):
        return [_relaxed(item) for item in node]
    return copy.deepcopy(node)


def _add_field_docstrings(definitions: dict[str, Any]) -> None:
    """Give each model property without a `description` the docstring under its field, as pydantic's
    `use_attribute_docstrings` would (an explicit `Field(description=...)` wins)."""
    for model in _models_under(Spec):  # a class name is its definition's name (ref_template)
        properties = definitions.get(model.__name__, {}).get("properties", {})
        docs = _field_docstrings(model)
        for name, field in model.model_fields.items():
            key = field.alias or name
            if key in properties and name in docs and "description" not in properties[key]:
                properties[key]["description"] = docs[name]


def _models_under(root: type[BaseModel]) -> list[type[BaseModel]]:
    """Every model class of the spec's modules (engine.spec.*), where `root` and its parts live."""
    package = root.__module__.rpartition(".")[0] + "."
    modules = [module for name, module in list(sys.modules.items()) if name.startswith(package)]
    found = {
        value
        for module in modules
        for value in vars(module).values()
        if inspect.isclass(value) and issubclass(value, BaseModel) and value.__module__.startswith(package)
    }
    return sorted(found, key=lambda cls: (cls.__module__, cls.__qualname__))


def _field_docstrings(model: type[BaseModel]) -> dict[str, str]:
    """Field name -> the string literal right under its annotated assignment, in `model` and its bases."""
    docs: dict[str, str] = {}
    for cls in reversed(model.__mro__):
        if cls.__module__.startswith("engine."):
            docs.update(_class_docstrings(cls.__module__, cls.__qualname__))
    return docs


_PARSED: dict[str, ast.Module] = {}


def _class_docstrings(module: str, qualname: str) -> dict[str, str]:
    tree = _PARSED.get(module) or _PARSED.setdefault(module, ast.parse(inspect.getsource(sys.modules[module])))
    body = next((node.body for node in tree.body if isinstance(node, ast.ClassDef) and node.name == qualname), [])
    docs = {}
    for previous, node in itertools.pairwise(body):
        if (
            isinstance(previous, ast.AnnAssign)
            and isinstance(previous.target, ast.Name)
            and isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            docs[previous.target.id] = inspect.cleandoc(node.value.value)
    return docs
