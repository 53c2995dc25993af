"""The fast YAML path (ruamel's C-backed composer) reads every document exactly as the round-trip
reader does: the same values and the same position for every key and value. What it cannot read
the same way (merge keys, duplicates, tags, syntax errors) it hands to the round-trip reader."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from engine.core.errors import SpecError
from engine.load import yaml_tree
from engine.load.yaml_tree import SourceMap, _compose_fast, _read_round_trip, read_yaml

REPO = Path(__file__).resolve().parents[2]
EVERY_YAML = sorted(
    path
    for folder in ("specs", "tests/corpus", "tests/support")
    for path in (REPO / folder).rglob("*.y*ml")
    if path.suffix in (".yaml", ".yml")
)

EDGE_CASES = {
    "scalars": """\
ints: [1_000, 0o17, 017, +12, -0x1f, 0, -0]
floats: [.inf, -.INF, 1e3, 1.5e-3, 12., -0.0]
bools: [true, True, TRUE, false, yes, no, on, off, y, n]
nulls: [~, null, Null, NULL, "null"]
dates: [2026-12-02, 2026-12-02T10:00:00Z, "2026-12-02"]
quoted: ['1', "2", '~', "true", 'it''s']
""",
    "keys": """\
1: int key
1.5: float key
null: null key
false: bool key
"quoted": value
ключ: [a, b]
? explicit
: value
""",
    "empty values and comments": """\
# a comment
a:          # empty
b: ~
c:
  - # an empty item
  -
  - x   # trailing
d: {e: , f: [ ]}
""",
    "blocks": """\
literal: |
  line one
  line two
folded: >-
  folded
  text
indented:
    deeper:
        - one
        -   two
        - {three: 3}
""",
    "anchors": """\
base: &base {retry: no, owner: team}
copies: [*base, *base]
seq: &items [1, 2]
again: *items
""",
    "crlf": "a: 1\r\nb:\r\n  - x\r\n  - y\r\n",
    "bom": "\ufeffa: 1\nb: [2]\n",
    "flow": "checks: [{id: a, request: {json: {model: m, messages: [{role: user, content: hi}]}}}, {id: b}]\n",
    "root sequence": "- a\n- b: 1\n",
}

HANDED_OVER = {
    "merge key": "base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\n",
    "duplicate key": "a: 1\na: 2\n",
    "one key twice as int and bool": "1: a\ntrue: b\n",
    "one name twice as text and int": "'1': a\n1: b\n",
    "set": "s: !!set {a, b}\n",
    "custom tag": "s: !secret x\n",
    "binary": "s: !!binary aGk=\n",
    "two documents": "a: 1\n---\nb: 2\n",
    "syntax error": "a: [1, 2\n",
    "an empty flow entry ruamel accepts": "a: [x, , y]\n",
    "scalar root": "just text\n",
    "complex key": "? [a, b]\n: c\n",
}


def _same(fast: Any, slow: Any) -> bool:
    """Equal, with NaN equal to NaN and bool never equal to int."""
    if isinstance(fast, float) and isinstance(slow, float) and math.isnan(fast):
        return math.isnan(slow)
    if type(fast) is not type(slow):
        return False
    if isinstance(fast, dict):
        return list(fast) == list(slow) and all(_same(fast[key], slow[key]) for key in fast)
    if isinstance(fast, list):
        return len(fast) == len(slow) and all(_same(a, b) for a, b in zip(fast, slow, strict=True))
    return bool(fast == slow)


def _assert_read_alike(text: str, name: str) -> None:
    fast = _compose_fast(text, name)
    assert fast is not None, f"{name}: the fast path handed over a document it should read"
    (fast_data, fast_source), (slow_data, slow_source) = fast, _read_round_trip(text, name)
    assert _same(fast_data, slow_data), (name, fast_data, slow_data)
    _assert_same_positions(fast_source, slow_source, name)


def _assert_same_positions(fast: SourceMap, slow: SourceMap, name: str) -> None:
    assert fast.values == slow.values, (name, set(fast.values.items()) ^ set(slow.values.items()))
    assert fast.keys == slow.keys, (name, set(fast.keys.items()) ^ set(slow.keys.items()))


@pytest.mark.parametrize("path", EVERY_YAML, ids=lambda path: str(path.relative_to(REPO)))
def test_every_yaml_in_the_repository_is_read_alike(path: Path) -> None:
    text = path.read_text(encoding="utf-8", errors="replace")
    fast = _compose_fast(text, path.name)
    try:
        slow = _read_round_trip(text, path.name)
    except SpecError:
        assert fast is None, f"{path}: the fast path read a document the round-trip reader rejects"
        return
    if fast is not None:
        assert _same(fast[0], slow[0]), path
        _assert_same_positions(fast[1], slow[1], path.name)


def test_the_shipped_specs_take_the_fast_path() -> None:
    shipped = [path for path in EVERY_YAML if path.is_relative_to(REPO / "specs")]
    assert len(shipped) > 10
    slow = [path for path in shipped if _compose_fast(path.read_text(encoding="utf-8"), path.name) is None]
    assert slow == []


@pytest.mark.parametrize("name", sorted(EDGE_CASES))
def test_edge_cases_are_read_alike(name: str) -> None:
    _assert_read_alike(EDGE_CASES[name], name)


@pytest.mark.parametrize("name", sorted(HANDED_OVER))
def test_what_the_fast_path_cannot_read_alike_goes_to_the_round_trip_reader(name: str, tmp_path: Path) -> None:
    text = HANDED_OVER[name]
    assert _compose_fast(text, name) is None
    spec = tmp_path / "spec.yaml"
    spec.write_text(text, encoding="utf-8")
    try:
        outcome: Any = read_yaml(spec, "spec.yaml")
    except SpecError as error:
        outcome = [str(problem) for problem in error.problems]
    try:
        expected: Any = _read_round_trip(text, "spec.yaml")
    except SpecError as error:
        expected = [str(problem) for problem in error.problems]
    if isinstance(expected, list):
        assert outcome == expected
    else:
        assert _same(outcome[0], expected[0])


def test_an_alias_bomb_is_still_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yaml_tree, "MAX_VALUES", 50)
    bomb = "a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b]\n"
    spec = tmp_path / "bomb.yaml"
    spec.write_text(bomb, encoding="utf-8")
    with pytest.raises(SpecError, match="expands to more than 50 values"):
        read_yaml(spec, "bomb.yaml")


def test_without_libyaml_the_round_trip_reader_reads_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.load import libyaml

    shipped = REPO / "specs" / "cometapi" / "chat-completions.yaml"
    expected = read_yaml(shipped, "spec.yaml")
    monkeypatch.setattr(libyaml, "_pyyaml", None)
    assert _compose_fast(shipped.read_text(encoding="utf-8"), "spec.yaml") is None
    data, source = read_yaml(shipped, "spec.yaml")
    assert _same(data, expected[0])
    _assert_same_positions(source, expected[1], "spec.yaml")
