"""Turn pydantic error dicts into short messages with 'did you mean' hints."""

from __future__ import annotations

import difflib
import re
import typing
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from engine.spec.models import Spec
from engine.spec.targets import TARGET_MODELS

_QUOTED = re.compile(r"'([^']*)'")
_CHOICE_SEPARATORS = re.compile(r",\s*|\s+or\s+")
_INSTANCE_OF = re.compile(r" or instance of \w+")
_UNION_TAGS = TARGET_MODELS
_PATTERN_HINTS = {
    "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$": "is not an HTTP header name (letters, digits and !#$%&'*+.^_`|~-)",
    "^[\\t\\x20-\\x7e]*$": "cannot be sent in an HTTP header (visible ASCII only)",
    "^[a-z0-9][a-z0-9_.-]*$": "is not a valid id or name: use lowercase letters, digits, '-', '_' and '.', starting with a letter or digit",
    "^[A-Za-z_][A-Za-z0-9_]*$": "is not an environment variable name (letters, digits and '_', not starting with a digit)",
}


def describe_error(error: Mapping[str, Any], root: type[BaseModel] = Spec) -> str:
    """One readable sentence for one pydantic error."""
    kind, loc = error["type"], error["loc"]
    if kind == "missing":
        return f"missing required key {loc[-1]!r}" if loc else "missing required key"
    if kind == "extra_forbidden":
        return f"unknown key {loc[-1]!r}{_suggest(str(loc[-1]), allowed_keys(loc[:-1], root))}"
    if kind in ("literal_error", "enum"):
        choices = _choices(str(error.get("ctx", {}).get("expected", "")))
        return f"{error['input']!r} is not allowed; use one of: {', '.join(choices)}{_suggest(str(error['input']), choices)}"
    if kind == "string_pattern_mismatch":
        hint = _PATTERN_HINTS.get(str(error.get("ctx", {}).get("pattern")), "has the wrong form")
        return f"{error['input']!r} {hint}"
    message = _INSTANCE_OF.sub("", str(error["msg"]).removeprefix("Value error, "))
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return f"{message} (got {_short(error.get('input'))})"
    return message


def _choices(expected: str) -> list[str]:
    quoted = _QUOTED.findall(expected)
    return quoted or [part for part in _CHOICE_SEPARATORS.split(expected) if part]


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def allowed_keys(loc: tuple[str | int, ...], root: type[BaseModel] = Spec) -> list[str]:
    """The keys the model at `loc` accepts (aliases where they exist)."""
    models = _models_at(root, list(loc))
    keys: list[str] = []
    for model in models:
        keys += [field.alias or name for name, field in model.model_fields.items()]
    return keys


def _models_at(annotation: Any, loc: list[str | int]) -> list[type[BaseModel]]:
    models = _models_in(annotation)
    if not loc:
        return models
    head, rest = loc[0], loc[1:]
    if head in _UNION_TAGS:
        return _models_at(_UNION_TAGS[head], rest)
    found: list[type[BaseModel]] = []
    for model in models:
        field = next((f for n, f in model.model_fields.items() if head in (n, f.alias)), None)
        if field is not None:
            found += _models_at(field.annotation, rest)
    if not models:
        found += _models_at(_container_item(annotation), rest)
    return found


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if typing.get_origin(annotation) in (typing.Union, typing.Annotated) or type(annotation).__name__ == "UnionType":
        args = typing.get_args(annotation)
        args = args[:1] if typing.get_origin(annotation) is typing.Annotated else args
        return [m for arg in args for m in _models_in(arg)]
    return []


def _container_item(annotation: Any) -> Any:
    if typing.get_origin(annotation) is typing.Annotated:
        return _container_item(typing.get_args(annotation)[0])
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (list, dict) and args:
        return args[-1]
    for arg in args:
        if typing.get_origin(arg) in (list, dict) or typing.get_origin(arg) is typing.Annotated:
            return _container_item(arg)
    return None
