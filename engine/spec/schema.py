"""The JSON Schema of the spec format, generated from the pydantic models (for editors and CI).

A spec that `extends` a base names only what it changes, so the schema has two halves: the full
spec, and a "partial" copy of every definition with nothing required, chosen when `extends` is
present.

Every key carries a `description` (editors show it as hover help): a field's is the docstring under
it in the models, a model's is its class docstring; line breaks inside a paragraph are joined here.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from engine.spec.models import Spec

SCHEMA_ID = "https://runbook.dev/schema/spec-v1.json"
_PARTIAL = "Partial"


def spec_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) that a spec file's YAML, read as JSON, must satisfy."""
    full = _unwrapped(Spec.model_json_schema(mode="validation", ref_template="#/$defs/{model}"))
    definitions = full.pop("$defs", {})
    definitions["Spec"] = full
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
