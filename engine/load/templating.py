"""Render `{{ ... }}` templates in spec values, sandboxed, with strict undefined.

Context: `vars` (the spec's vars with --var overrides), `env` (the environment variables the spec
declares under `env:`, except its secrets), `contract` (the spec's contract after its own templates are rendered). A value
that is one whole expression keeps its native type (`max_tokens: "{{ vars.limit }}"` is an int);
anything else renders to a string.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from engine.load.yaml_tree import PathKey

_WHOLE_EXPRESSION = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\{\{|\}\}).)*)\}\}\s*$", re.S)
MAX_TEMPLATE_BYTES = 1024 * 1024  # one rendered value, or one repeated string inside it
MAX_SPEC_OUTPUT = 16 * 1024 * 1024  # everything the templates of one spec render, together
MAX_RANGE_ITEMS = 100_000  # items of every range() of one spec's templates, together
MAX_WIDTH = 10_000  # a padding or format width (center, ljust, '%10000d', '{:>10000}')
_WIDTHS = re.compile(r"%[-#0 +]*(\d+)|%[-#0 +]*\d*\.(\d+)|\{[^{}]*:[^{}]*?(\d+)[^{}]*\}")
_PADDING_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})
_budget: ContextVar[list[int]] = ContextVar("template_budget")  # [output left, range items left]


class _BoundedSandbox(ImmutableSandboxedEnvironment):
    """The sandbox, with limits on what a template may allocate: repeated values, padding and format
    widths, exponents, and the total output and range() items of one spec (see render_tree)."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, (int, float)) and abs(right) > 64:
            raise SecurityError("exponent too large (at most 64)")
        if operator == "*":
            size = _repeated_size(left, right) or _repeated_size(right, left)
            if size is not None and size > MAX_TEMPLATE_BYTES:
                raise SecurityError(f"a repeated value of {size} characters is over the {MAX_TEMPLATE_BYTES} limit")
        if operator == "%" and isinstance(left, str):
            _check_widths(left)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str) and getattr(__obj, "__name__", "") in _PADDING_METHODS:
            _check_width_args(args, kwargs)
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Any:
        """`'{:>N}'.format(...)`: the format string's widths are checked before it is formatted."""
        owner = getattr(value, "__self__", None)
        if isinstance(owner, str) and getattr(value, "__name__", "") in ("format", "format_map"):
            _check_widths(owner)
        return super().wrap_str_format(value)


def _check_width_args(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    for value in (*args, *kwargs.values()):
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > MAX_WIDTH:
            raise SecurityError(f"a width of {value:g} is over the {MAX_WIDTH} limit")


def _check_widths(template: str) -> None:
    for match in _WIDTHS.finditer(template):
        width = max(int(group) for group in match.groups() if group)
        if width > MAX_WIDTH:
            raise SecurityError(f"a format width of {width} is over the {MAX_WIDTH} limit")


def _bounded_range(*args: int) -> range:
    items = range(*args)
    budget = _budget.get(None)
    left = budget[1] if budget is not None else MAX_RANGE_ITEMS
    if len(items) > left:
        raise SecurityError(f"range() loops over more than {MAX_RANGE_ITEMS} items in one spec's templates")
    if budget is not None:
        budget[1] -= len(items)
    return items


def _spend_output(value: Any) -> None:
    size = len(value) if isinstance(value, (str, list, dict, tuple)) else 0
    if size > MAX_TEMPLATE_BYTES:
        raise SecurityError(f"a rendered value of {size} characters is over the {MAX_TEMPLATE_BYTES} limit")
    budget = _budget.get(None)
    if budget is not None:
        budget[0] -= size
        if budget[0] < 0:
            raise SecurityError(f"the spec's templates render more than {MAX_SPEC_OUTPUT} characters in all")


def _bounded_filter(name: str, width_positions: tuple[int, ...]) -> Any:
    original = _ENV.filters[name]  # Jinja's own filter, wrapped (read before it is replaced)

    def bounded(value: Any, *args: Any, **kwargs: Any) -> Any:
        _check_width_args(
            tuple(args[i] for i in width_positions if i < len(args)), {k: v for k, v in kwargs.items() if k == "width"}
        )
        if name == "format" and isinstance(value, str):
            _check_widths(value)
        return original(value, *args, **kwargs)

    return bounded


def _repeated_size(sequence: Any, times: Any) -> int | None:
    if isinstance(sequence, (str, list, tuple)) and isinstance(times, int) and not isinstance(times, bool):
        return len(sequence) * max(times, 0)
    return None


_ENV = _BoundedSandbox(undefined=StrictUndefined, autoescape=False)
_ENV.globals["range"] = _bounded_range
_ENV.filters.update(
    center=_bounded_filter("center", (0,)), indent=_bounded_filter("indent", (0,)), format=_bounded_filter("format", ())
)
_MISSING_ATTRIBUTE = re.compile(r"has no attribute '([^']+)'|'([^']+)' is undefined")


class TemplateProblem(Exception):
    """A template could not be rendered; `path` says where in the document."""

    def __init__(self, path: PathKey, message: str):
        super().__init__(message)
        self.path = path
        self.message = message


class UndeclaredEnv(SecurityError):
    """A template read an environment variable the spec does not declare under `env:`."""


class Environ(Mapping[str, str]):
    """Read-only view of the environment variables a spec declares. A secret, or a name the spec
    does not declare, is refused; every name read is recorded in `read` (None: it was not set)."""

    def __init__(self, declared: Mapping[str, bool], source: Mapping[str, str] | None = None):
        self._declared = declared  # name -> whether it is a secret
        self._source = os.environ if source is None else source
        self.read: dict[str, str | None] = {}

    def __getitem__(self, name: str) -> str:
        if name not in self._declared:
            raise UndeclaredEnv(
                f"env.{name} is not declared; a spec reads only the environment variables it lists under "
                f"`env:` (add `env: {{{name}: {{}}}}` at the top level)"
            )
        if self._declared[name]:
            raise SecurityError(
                f"{name} is a secret; reference it with 'secret: {name}' so it is read only at send time"
            )
        value = self._source.get(name)
        self.read[name] = value
        if value is None:
            raise KeyError(name)
        return value

    def __iter__(self) -> Iterator[str]:
        return (name for name, secret in self._declared.items() if not secret and name in self._source)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def render_tree(node: Any, context: dict[str, Any], path: PathKey = ()) -> tuple[Any, list[TemplateProblem]]:
    """Render every templated string in `node`; collect every failure instead of stopping. The output
    and range() budgets of one spec are shared by every call made while `spec_budget()` is open."""
    problems: list[TemplateProblem] = []
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            out[key], found = render_tree(value, context, path + (key,))
            problems += found
        return out, problems
    if isinstance(node, list):
        items = []
        for index, value in enumerate(node):
            rendered, found = render_tree(value, context, path + (index,))
            items.append(rendered)
            problems += found
        return items, problems
    if isinstance(node, str) and ("{{" in node or "{%" in node):
        try:
            return render_value(node, context), problems
        except TemplateProblem as exc:
            return node, [TemplateProblem(path, exc.message)]
    return node, problems


@contextmanager
def spec_budget() -> Iterator[None]:
    """One spec's template budget: MAX_SPEC_OUTPUT characters and MAX_RANGE_ITEMS range() items."""
    token = _budget.set([MAX_SPEC_OUTPUT, MAX_RANGE_ITEMS])
    try:
        yield
    finally:
        _budget.reset(token)


def render_value(text: str, context: dict[str, Any]) -> Any:
    """Render one templated string in the sandbox."""
    try:
        whole = _WHOLE_EXPRESSION.match(text)
        if whole:
            value = _ENV.compile_expression(whole.group("expr"), undefined_to_none=False)(**context)
            value = str(value) if isinstance(value, StrictUndefined) else value
        else:
            value = _ENV.from_string(text).render(**context)
        _spend_output(value)
        return value
    except UndeclaredEnv as exc:
        raise TemplateProblem((), str(exc)) from None
    except SecurityError as exc:
        raise TemplateProblem((), f"template refused by the sandbox: {exc}") from None
    except UndefinedError as exc:
        raise TemplateProblem((), _undefined_message(str(exc.message or exc), text, context)) from None
    except TemplateError as exc:
        raise TemplateProblem((), f"template error: {exc.message or exc}") from None
    except (ArithmeticError, TypeError, ValueError) as exc:
        raise TemplateProblem((), f"template error: {exc}") from None
    except (MemoryError, RecursionError):
        raise TemplateProblem((), "template error: the value is too large to render") from None


def _undefined_message(message: str, text: str, context: dict[str, Any]) -> str:
    """'vars.modle is not defined (did you mean 'model'?)' instead of Jinja's wording."""
    match = _MISSING_ATTRIBUTE.search(message)
    name = match and (match.group(1) or match.group(2))
    if not name:
        return f"template error: {message}"
    owner = re.search(rf"(\w+)\s*(?:\.\s*{re.escape(name)}\b|\[\s*['\"]{re.escape(name)}['\"]\s*\])", text)
    container = owner.group(1) if owner else None
    if container == "env":
        return f"environment variable {name} is not set; set it or write {{{{ env.{name} | default('...') }}}}"
    known = context.get(container) if container else context
    choices = [str(key) for key in known] if isinstance(known, Mapping) else []
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    hint = (
        f" (did you mean {close[0]!r}?)"
        if close
        else (f" (known: {', '.join(sorted(choices))})" if choices and len(choices) <= 8 else "")
    )
    where = f"{container}.{name}" if container else name
    return f"undefined variable: {where} is not defined{hint}"


_INT = re.compile(r"^-?\d+$")
_FLOAT = re.compile(r"^-?\d+\.\d*(?:[eE][-+]?\d+)?$")


def scalar_from_text(text: str) -> Any:
    """A --var value as YAML would read a plain scalar: 30 -> int, 0.5 -> float, true -> bool."""
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text):
        return float(text)
    return {"true": True, "false": False}.get(text, text)
