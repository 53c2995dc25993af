"""Read YAML into plain Python data plus a map of where every node came from."""

from __future__ import annotations

import contextlib
import functools
import gc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import ScalarNode as RuamelScalar

from engine.core.errors import Location, Problem, SpecError
from engine.load import libyaml

PathKey = tuple[str | int, ...]


class _Constructor(RoundTripConstructor):
    """Leaves timestamps as text so that pydantic validates dates with a location."""


_Constructor.add_constructor("tag:yaml.org,2002:timestamp", RoundTripConstructor.construct_yaml_str)


Position = tuple[str, int, int]  # file, 0-based line, 0-based column


@dataclass
class SourceMap:
    """Where the values and keys of a document came from, by path (several files after extends)."""

    file: str
    values: dict[PathKey, Position] = field(default_factory=dict)
    keys: dict[PathKey, Position] = field(default_factory=dict)
    _index: dict[PathKey, list[PathKey]] | None = field(default=None, repr=False, compare=False)
    _index_size: int = field(default=-1, repr=False, compare=False)

    def locate(self, path: PathKey, *, key: bool = False) -> Location:
        """The 1-based position of `path`, or of its nearest recorded ancestor."""
        table = self.keys if key and path in self.keys else self.values
        probe = tuple(path)
        while probe and probe not in table:
            probe = probe[:-1]
            table = self.values
        file, line, col = table.get(probe, (self.file, 0, 0))
        return Location(file, line + 1, col + 1)

    def record(self, path: PathKey, line_col: tuple[int, int], *, key: bool = False) -> None:
        (self.keys if key else self.values)[path] = (self.file, *line_col)

    def copy_subtree(self, other: SourceMap, source_path: PathKey, target_path: PathKey) -> None:
        """Take the positions of `other` under source_path and record them under target_path."""
        size = len(source_path)
        for path in other.subtree(source_path):
            if path in other.values:
                self.values[target_path + path[size:]] = other.values[path]
            if path in other.keys:
                self.keys[target_path + path[size:]] = other.keys[path]

    def subtree(self, root: PathKey) -> list[PathKey]:
        """Every recorded path at or under `root`, found through an index of children (a merge of
        `extends` copies many small subtrees: scanning every position for each is quadratic)."""
        children = self._children()
        found, pending = [], [root]
        while pending:
            path = pending.pop()
            found.append(path)
            pending.extend(children.get(path, ()))
        return found

    def _children(self) -> dict[PathKey, list[PathKey]]:
        size = len(self.values) + len(self.keys)
        if self._index is None or self._index_size != size:
            index: dict[PathKey, list[PathKey]] = {}
            placed: set[PathKey] = set()
            for path in {*self.values, *self.keys}:
                while path and path not in placed:  # the path, and any ancestor not recorded itself
                    placed.add(path)
                    index.setdefault(path[:-1], []).append(path)
                    path = path[:-1]
            self._index, self._index_size = index, size
        return self._index


MAX_SPEC_BYTES = (
    16 * 1024 * 1024
)  # the shipped CometAPI spec and its base are under 40 KB together; 10,000 checks ~2 MB
MAX_VALUES = 200_000  # keys and values after aliases are expanded


def read_yaml(path: Path, display: str) -> tuple[Any, SourceMap]:
    """Parse one YAML file; unreadable files and syntax errors become a located SpecError."""
    text = _read_text(path, display)
    if not text.strip() or all(line.lstrip().startswith("#") for line in text.splitlines() if line.strip()):
        raise SpecError(
            [Problem(Location(display, 1, 1), "", "the file is empty; a spec is a YAML mapping (key: value)")]
        )
    composed = _compose_fast(text, display)
    if composed is not None:
        return composed
    return _read_round_trip(text, display)


def _read_round_trip(text: str, display: str) -> tuple[Any, SourceMap]:
    """The reference reader: ruamel's pure round-trip loader, whose errors carry the marks and
    wording the syntax messages are built from. Slow (about 1.4 ms a check); the fast path below
    hands anything unusual here."""
    yaml = YAML(typ="rt", pure=True)
    yaml.Constructor = _Constructor
    try:
        document = yaml.load(text)
    except MarkedYAMLError as exc:
        raise SpecError([_syntax_problem(exc, display, text)]) from None
    except (YAMLError, ValueError, TypeError) as exc:
        raise SpecError([Problem(Location(display, 1, 1), "", f"YAML error: {exc}")]) from None
    except RecursionError:
        raise SpecError([Problem(Location(display, 1, 1), "", "YAML nested too deeply")]) from None
    source = SourceMap(display)
    source.record((), _root_position(document, text))
    try:
        data = _plain(document, (), source)
    except RecursionError:
        raise SpecError([Problem(Location(display, 1, 1), "", "YAML nested too deeply")]) from None
    except _TooManyValues:
        message = f"the document expands to more than {MAX_VALUES:,} values (YAML aliases that repeat each other?)"
        raise SpecError([Problem(Location(display, 1, 1), "", message)]) from None
    unsupported = [
        Problem(source.locate(path), dotted(path), f"{value[1:-1]} is not part of the spec format")
        for path, value in _walk(data, ())
        if isinstance(value, _Unsupported)
    ]
    if unsupported:
        raise SpecError(unsupported)
    return data, source


_CORE = "tag:yaml.org,2002:"
_FAST_SCALARS = frozenset(_CORE + name for name in ("str", "int", "float", "bool", "null", "timestamp"))


class _NotFast(Exception):
    """The document holds something the fast path leaves to the round-trip reader."""


def _compose_fast(text: str, display: str) -> tuple[Any, SourceMap] | None:
    """Compose the document into nodes with libyaml (C: marks, no comments; via PyYAML, resolving
    scalars by ruamel's YAML 1.2 rules) and build plain data and positions from them: about 10x
    cheaper than the round-trip loader. None — the round-trip reader decides — without libyaml, and
    for a syntax error, several documents, merge keys, duplicate keys, complex keys, tags beyond the
    core schema, or a tree too deep or too large. Otherwise the result is the round-trip reader's,
    value for value and position for position (tests/unit/test_yaml_fast_path.py)."""
    try:
        with collector_paused():
            root = libyaml.compose(text)
            if root is None or not isinstance(root, (libyaml.MappingNode, libyaml.SequenceNode)):
                return None
            source = SourceMap(display)
            source.record((), (root.start_mark.line, root.start_mark.column))
            return _from_node(root, (), source, _ScalarReader()), source
    except (_NotFast, libyaml.Unreadable, RecursionError, _TooManyValues):
        return None


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a large tree is built (it holds no cycles, and each
    collection would walk every node made so far: 2-3x the build time at 10,000 checks)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _ScalarReader:
    """Core-schema scalars as the round-trip reader gives them (YAML 1.2; timestamps left as text)."""

    def __init__(self) -> None:
        self.constructor = YAML(typ="safe", pure=True).constructor

    def read(self, node: Any) -> Any:
        tag = node.tag
        if tag == _CORE + "str" or tag == _CORE + "timestamp":
            return node.value
        if tag == _CORE + "null":
            return None
        if tag == _CORE + "bool":
            return node.value.lower() == "true"
        if tag not in _FAST_SCALARS:
            raise _NotFast
        return self.constructor.construct_object(RuamelScalar(tag, node.value))  # int, float: ruamel's own rules


def _from_node(node: Any, path: PathKey, source: SourceMap, scalars: _ScalarReader) -> Any:
    if len(source.values) > MAX_VALUES:
        raise _TooManyValues
    if isinstance(node, libyaml.ScalarNode):
        return scalars.read(node)
    if isinstance(node, libyaml.SequenceNode) and node.tag == _CORE + "seq":
        out: list[Any] = []
        for index, item in enumerate(node.value):
            source.record(path + (index,), (item.start_mark.line, item.start_mark.column))
            out.append(_from_node(item, path + (index,), source, scalars))
        return out
    if isinstance(node, libyaml.MappingNode) and node.tag == _CORE + "map":
        return _map_from_node(node, path, source, scalars)
    raise _NotFast


def _map_from_node(node: Any, path: PathKey, source: SourceMap, scalars: _ScalarReader) -> dict[str, Any]:
    out: dict[str, Any] = {}
    keys: set[Any] = set()
    for key_node, value_node in node.value:
        if not isinstance(key_node, libyaml.ScalarNode) or key_node.tag == _CORE + "merge":
            raise _NotFast
        key = scalars.read(key_node)
        name = str(key)
        if key in keys or name in out:
            raise _NotFast  # a duplicate key (1 and true are one key): the round-trip reader words it
        keys.add(key)
        key_position = (key_node.start_mark.line, key_node.start_mark.column)
        source.record(path + (name,), key_position, key=True)
        value = _from_node(value_node, path + (name,), source, scalars)
        value_mark = value_node.start_mark
        # An empty value has no position of its own: the key's stands in (as the round-trip reader's).
        source.record(path + (name,), key_position if value is None else (value_mark.line, value_mark.column))
        out[name] = value
    return out


def _walk(node: Any, path: PathKey) -> Iterator[tuple[PathKey, Any]]:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, path + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, path + (index,))


def _read_text(path: Path, display: str) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_SPEC_BYTES:
            message = f"the file is {size:,} bytes; a spec is at most {MAX_SPEC_BYTES:,} (split it with extends)"
            raise SpecError([Problem(Location(display, 1, 1), "", message)])
        raw = path.read_bytes()[: MAX_SPEC_BYTES + 1]
    except OSError as exc:
        raise SpecError([Problem(Location(display, 1, 1), "", f"cannot read spec: {exc.strerror or exc}")]) from None
    if len(raw) > MAX_SPEC_BYTES:  # a file that grew, or a pipe: what stat said is not the end
        message = f"the file is over {MAX_SPEC_BYTES:,} bytes; a spec is at most that (split it with extends)"
        raise SpecError([Problem(Location(display, 1, 1), "", message)])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        message = f"not UTF-8: byte 0x{raw[exc.start]:02x} cannot be decoded; save the spec as UTF-8"
        raise SpecError([Problem(Location(display, line, col), "", message)]) from None


def _root_position(document: Any, text: str) -> tuple[int, int]:
    if isinstance(document, (CommentedMap, CommentedSeq)):
        return document.lc.line, document.lc.col
    for number, line in enumerate(text.splitlines()):
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and stripped not in ("---", "..."):
            return number, len(line) - len(line.lstrip())
    return 0, 0


def _syntax_problem(exc: MarkedYAMLError, display: str, text: str) -> Problem:
    problem = exc.problem or ""
    mark = exc.problem_mark or exc.context_mark
    if exc.context_mark is not None and (mark is None or "<stream end>" in problem or "end of the stream" in problem):
        mark = exc.context_mark
    line, col = (mark.line, mark.column) if mark else (0, 0)
    message = " ".join(part for part in (exc.context, problem) if part) or str(exc)
    if "duplicate key" in message:
        message = message.replace("while constructing a mapping ", "")
        return Problem(Location(display, line + 1, col + 1), "", message)
    lines = text.splitlines()
    source_line = lines[line] if line < len(lines) else ""
    indentation = _indentation_problem(exc, lines, line)
    if indentation is not None:
        col, message = indentation
        return Problem(Location(display, line + 1, col + 1), "", message)
    if "mapping values are not allowed" in problem:
        col = len(source_line) - len(source_line.lstrip())
        message += " (check the indentation of this line)"
    if "'\\t'" in problem:
        message += " (indent with spaces, not tabs)"
    return Problem(Location(display, line + 1, col + 1), "", f"YAML syntax error: {message}")


def _indentation_problem(exc: MarkedYAMLError, lines: list[str], line: int) -> tuple[int, str] | None:
    """(0-based column, 'indentation: ...') when the parser's marks and the lines show that a line is
    indented wrongly: a tab in its indentation, deeper than a key with a value, or between two levels.
    None otherwise (the raw YAML message is kept)."""
    problem, mark = exc.problem or "", exc.problem_mark
    if mark is None or line >= len(lines) or mark.line != line:
        return None
    text = lines[line]
    indent = len(text) - len(text.lstrip(" "))
    if "'\\t'" in problem:  # a tab in the indentation, not one inside a value or before a comment
        tabbed = text[: mark.column].strip(" ") == ""
        return (
            (mark.column, "indentation: this line is indented with a tab; YAML indents with spaces only")
            if tabbed
            else None
        )
    above = _line_above(lines, line)
    if above is None:
        return None
    number, columns = above[0] + 1, _node_columns(above[1])
    first_colon = mark.column == text.find(":", indent) and "mapping values are not allowed" in problem
    block_end = mark.column == indent and "expected <block end>" in problem
    if (first_colon or block_end) and indent > columns[-1]:
        return indent, (
            f"indentation: this line is deeper than the key above it (line {number}); "
            f"start it at column {columns[-1] + 1}, like that key"
        )
    parent = exc.context_mark
    if not block_end or parent is None or not parent.column < indent < columns[-1] or indent in columns:
        return None
    deeper = min(column for column in columns if column > indent)
    outer = _line_with_column(lines, line, parent.column) or parent.line + 1  # the nearest line at the outer level
    if outer == number:
        return indent, (
            f"indentation: this line is shallower than the key above it (line {number}); "
            f"start it at column {deeper + 1}, like that key"
        )
    return indent, (
        f"indentation: this line is shallower than the line above it (line {number}) and deeper than line "
        f"{outer}; start it at column {deeper + 1} like line {number}, or {parent.column + 1} like line {outer}"
    )


def _line_above(lines: list[str], line: int) -> tuple[int, str] | None:
    """The nearest line above `line` that holds YAML (not blank, not only a comment): (index, text)."""
    for index in range(line - 1, -1, -1):
        stripped = lines[index].strip()
        if stripped and not stripped.startswith("#"):
            return index, lines[index]
    return None


def _line_with_column(lines: list[str], line: int, column: int) -> int | None:
    """The 1-based number of the nearest line above `line` with a node starting at `column`."""
    for index in range(line - 1, -1, -1):
        stripped = lines[index].strip()
        if stripped and not stripped.startswith("#") and column in _node_columns(lines[index]):
            return index + 1
    return None


def _node_columns(text: str) -> list[int]:
    """Where a line's nodes start: its indentation, then after each `- ` of a list item ('  - id: x' -> [2, 4])."""
    columns = [len(text) - len(text.lstrip(" "))]
    while text[columns[-1] :].startswith("- ") or text[columns[-1] :] == "-":
        rest = text[columns[-1] + 1 :]
        columns.append(columns[-1] + 1 + len(rest) - len(rest.lstrip(" ")))
    return columns


class _TooManyValues(Exception):
    """The document expands to more values than any spec has (YAML aliases repeating each other)."""


def _plain(node: Any, path: PathKey, source: SourceMap) -> Any:
    if len(source.values) > MAX_VALUES:
        raise _TooManyValues
    if isinstance(node, CommentedMap):
        return _plain_map(node, path, source)
    if isinstance(node, CommentedSeq):
        out: list[Any] = []
        for index, item in enumerate(node):
            source.record(path + (index,), _position(functools.partial(node.lc.item, index), source, path))
            out.append(_plain(item, path + (index,), source))
        return out
    if isinstance(node, (set, frozenset)) or (hasattr(node, "tag") and getattr(node.tag, "value", None)):
        return _Unsupported(type(node).__name__)
    if isinstance(node, str):
        return str(node)
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return _Unsupported(type(node).__name__)


class _Unsupported(str):
    """A YAML node the spec format has no use for (sets, custom tags); pydantic rejects it by type."""

    def __new__(cls, kind: str) -> _Unsupported:
        names = {"CommentedSet": "a YAML set (!!set)", "TaggedScalar": "a custom YAML tag"}
        return super().__new__(cls, f"<{names.get(kind, 'YAML type ' + kind)}>")


def _position(read: Callable[[], Any], source: SourceMap, parent: PathKey) -> tuple[int, int]:
    """A node's position, or its parent's when ruamel has none (merge keys `<<`, tags)."""
    try:
        position = read()  # ruamel's (line, column) pair
    except (KeyError, IndexError, AttributeError, TypeError):
        position = None
    if position is None or None in position:
        _, line, col = source.values.get(parent, (source.file, 0, 0))
        return line, col
    line, col = position
    return line, col


def _plain_map(node: CommentedMap, path: PathKey, source: SourceMap) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in node.items():
        name = str(key)
        key_position = _position(functools.partial(node.lc.key, key), source, path)
        source.record(path + (name,), key_position, key=True)
        # An empty value has no position of its own: ruamel gives the next token's; use the key's.
        value_position = (
            key_position if value is None else _position(functools.partial(node.lc.value, key), source, path)
        )
        source.record(path + (name,), value_position)
        out[name] = _plain(value, path + (name,), source)
    return out


def dotted(path: PathKey) -> str:
    """('checks', 2, 'expect') -> 'checks[2].expect'."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
