"""Hostile spec files end in a located error quickly (issue 11, failure 4): an alias bomb is stopped
while it expands, and a file over the size limit is refused before it is parsed."""

from __future__ import annotations

from engine.api import validate_specs
from engine.load.yaml_tree import MAX_SPEC_BYTES, MAX_VALUES


def test_an_alias_bomb_is_stopped_while_it_expands(tmp_path):
    lines = ['  a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]  # 9**10 values
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("version: 1\nname: bomb\nvars:\n" + "\n".join(lines) + "\n")
    (problem,) = validate_specs([bomb])
    assert (problem.location.line, problem.location.col) == (1, 1)
    assert (
        problem.message
        == f"the document expands to more than {MAX_VALUES:,} values (YAML aliases that repeat each other?)"
    )


def test_a_spec_over_the_size_limit_is_refused_unread(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text("version: 1\nname: big\n" + "# padding\n" * (MAX_SPEC_BYTES // 10 + 1))
    (problem,) = validate_specs([big])
    assert problem.message.startswith("the file is ") and f"a spec is at most {MAX_SPEC_BYTES:,}" in problem.message


def test_aliases_a_spec_really_uses_still_load(child_spec):
    spec = child_spec("vars:\n  shared: &shared {a: 1}\n  again: *shared\n")
    assert [p for p in validate_specs([spec]) if p.severity == "error"] == []
