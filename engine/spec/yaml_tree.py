"""Read YAML into plain Python data plus a map of where every node came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from engine.errors import Location, Problem, SpecError

PathKey = tuple[str | int, ...]


@dataclass
class SourceMap:
    """Positions of the values and keys of one YAML document, by path."""

    file: str
    values: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    keys: dict[PathKey, tuple[int, int]] = field(default_factory=dict)

    def locate(self, path: PathKey, *, key: bool = False) -> Location:
        """The position of `path`, or of its nearest recorded ancestor."""
        table = self.keys if key and path in self.keys else self.values
        probe = tuple(path)
        while probe and probe not in table:
            probe = probe[:-1]
            table = self.values
        line, col = table.get(probe, (0, 0))
        return Location(self.file, line + 1, col + 1)


def read_yaml(path: Path, display: str) -> tuple[Any, SourceMap]:
    """Parse one YAML file; syntax errors become a located SpecError."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError([Problem(Location(display), "", f"cannot read spec: {exc}")]) from None
    try:
        document = YAML(typ="rt", pure=True).load(text)
    except MarkedYAMLError as exc:
        raise SpecError([_syntax_problem(exc, display)]) from None
    except YAMLError as exc:
        raise SpecError([Problem(Location(display, 1, 1), "", f"YAML error: {exc}")]) from None
    source = SourceMap(display)
    source.values[()] = (0, 0)
    return _plain(document, (), source), source


def _syntax_problem(exc: MarkedYAMLError, display: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    text = " ".join(part for part in (exc.context, exc.problem) if part)
    return Problem(Location(display, line, col), "", f"YAML syntax error: {text or exc}")


def _plain(node: Any, path: PathKey, source: SourceMap) -> Any:
    if isinstance(node, CommentedMap):
        return _plain_map(node, path, source)
    if isinstance(node, CommentedSeq):
        out = []
        for index, item in enumerate(node):
            line, col = node.lc.item(index)
            source.values[path + (index,)] = (line, col)
            out.append(_plain(item, path + (index,), source))
        return out
    if hasattr(node, "value") and type(node).__module__.startswith("ruamel"):
        return node.value if not isinstance(node, str) else str(node)
    if isinstance(node, str):
        return str(node)
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node


def _plain_map(node: CommentedMap, path: PathKey, source: SourceMap) -> dict:
    out = {}
    for key, value in node.items():
        name = str(key)
        key_line, key_col = node.lc.key(key)
        value_line, value_col = node.lc.value(key)
        source.keys[path + (name,)] = (key_line, key_col)
        source.values[path + (name,)] = (value_line, value_col)
        out[name] = _plain(value, path + (name,), source)
    return out
