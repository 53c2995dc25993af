"""Hostile templates end in a located error within a few seconds and little memory (issue 11, failure 4):
padding and format widths, repeated values, the spec's total output and its range() loops are bounded."""

from __future__ import annotations

import pytest

from engine import api
from engine.api import validate_specs

AMPLIFIERS = {
    "x: \"{{ 'a'.center(2000000000) }}\"": "a width of 2e+09 is over the 10000 limit",
    "x: \"{{ 'a' | center(2000000000) }}\"": "a width of 2e+09 is over the 10000 limit",
    "x: \"{{ '%1000000000d' % 1 }}\"": "a format width of 1000000000 is over the 10000 limit",
    "x: \"{{ '{:>1000000000}'.format(1) }}\"": "a format width of 1000000000 is over the 10000 limit",
    "x: \"{{ '%1000000000d' | format(1) }}\"": "a format width of 1000000000 is over the 10000 limit",
    "x: \"{{ 'a' * 2000000 }}\"": "a repeated value of 2000000 characters is over the 1048576 limit",
    'x: "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"': (
        "range() loops over more than 100000 items in one spec's templates"
    ),
}


@pytest.mark.parametrize("var, refused", AMPLIFIERS.items(), ids=range(len(AMPLIFIERS)))
def test_an_amplifier_is_refused_where_it_is_written(child_spec, var, refused):
    spec = child_spec(f"vars:\n  {var}\n", name="amp")
    (problem,) = validate_specs([spec])
    assert (problem.location.line, problem.path) == (5, "vars.x")
    assert problem.message == f"template refused by the sandbox: {refused}"


def test_many_values_each_under_the_limit_exhaust_the_spec_budget(child_spec):
    many = "".join(f"  v{i}: \"{{{{ 'a' * 1000000 }}}}\"\n" for i in range(100))
    problems = validate_specs([child_spec(f"vars:\n{many}", name="amp")])
    assert problems and "the spec's templates render more than 16777216 characters in all" in problems[0].message


def test_ordinary_templates_still_render(child_spec):
    spec = child_spec("vars:\n  padded: \"{{ 'a'.center(5) }}|{{ '%05d' % 7 }}|{{ '{:>4}'.format('x') }}\"\n")
    assert api.load(spec).spec.vars["padded"] == "  a  |00007|   x"
