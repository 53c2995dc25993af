"""Spec inheritance: `extends: ../shared/openai-compatible.yaml` merges a base spec under this one.

Merge rules (documented in specs/README.md):
- mappings merge key by key, recursively;
- lists whose items all carry an `id` (classification, checks, criteria) merge by id: an item
  with an inherited id replaces, in place, the keys it names; an item with a new id is appended,
  or placed with `before: ID` / `after: ID`; `drop: true` removes the inherited item;
- any other value (scalars, other lists) in the extending spec replaces the base's.
A base may itself extend another; a cycle is an error located at the `extends` that closes it.
Positions survive the merge, so a problem inside a base file points at that file and line.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

from engine.core.errors import Problem, SpecError
from engine.load.fixtures import work_tree
from engine.load.yaml_tree import PathKey, SourceMap, dotted, read_yaml
from engine.spec.shipped import SCHEME, shipped_root
from engine.spec.shipped import resolve as resolve_shipped

DIRECTIVES = ("drop", "before", "after")
Display = Callable[[Path], str]
YamlMap = dict[str, Any]  # a YAML mapping as read: keys are always strings


@dataclass(frozen=True)
class _Side:
    """One document taking part in a merge: its data at `path`, with its positions."""

    source: SourceMap
    path: PathKey


@dataclass
class _Entry:
    value: YamlMap
    place: Callable[[SourceMap, PathKey], None]


@dataclass
class _Merge:
    out: SourceMap
    problems: list[Problem] = field(default_factory=list)


ALLOW_BASES_VARIABLE = "RUNBOOK_ALLOW_BASES"
SHIPPED_SPECS = shipped_root()  # runbook's own bases: the package's data, or the checkout's specs/


def read_spec_tree(path: Path, display: Display, environ: Mapping[str, str] | None = None) -> tuple[Any, SourceMap]:
    """Read a spec and everything it extends, merged into one document. Bases are read only from the
    spec's own tree (see `base_roots`), so `extends:` cannot read, or quote, any file on the machine."""
    return _read(path, display, (), base_roots(path, os.environ if environ is None else environ))


def base_roots(top: Path, environ: Mapping[str, str]) -> tuple[Path, ...]:
    """Where bases may live: the top spec's git work tree (outside git, its folder), runbook's shipped
    specs, and the folders listed in RUNBOOK_ALLOW_BASES (separated like PATH)."""
    folder = top.resolve().parent
    tree = work_tree(folder) or folder
    allowed = [p for p in environ.get(ALLOW_BASES_VARIABLE, "").split(os.pathsep) if p.strip()]
    return (tree, SHIPPED_SPECS, *(Path(p).resolve() for p in allowed))


def _read(path: Path, display: Display, chain: tuple[Path, ...], roots: tuple[Path, ...]) -> tuple[Any, SourceMap]:
    data, source = read_yaml(path, display(path))
    if not isinstance(data, dict) or "extends" not in data:
        return data, source
    base_path = _base_path(path, data["extends"], source, chain + (path.resolve(),), display)
    _check_inside(base_path, roots, source, display)
    base, base_source = _read(base_path, display, chain + (path.resolve(),), roots)
    if not isinstance(base, dict):
        raise SpecError(
            [Problem(base_source.locate(()), "", "a base spec is a YAML mapping (key: value) at the top level")]
        )
    child = {key: value for key, value in data.items() if key != "extends"}
    merge = _Merge(SourceMap(source.file))
    merged = _merge_maps(base, _Side(base_source, ()), child, _Side(source, ()), merge, ())
    if merge.problems:
        raise SpecError(merge.problems)
    return merged, merge.out


def _check_inside(base: Path, roots: tuple[Path, ...], source: SourceMap, display: Display) -> None:
    if any(base.is_relative_to(root) for root in roots):
        return
    message = (
        f"base spec {display(base)} is outside this spec's tree ({display(roots[0])}); bases are read only "
        f"from there and runbook's shipped specs (allow a folder with --allow-bases DIR or {ALLOW_BASES_VARIABLE}=DIR)"
    )
    raise SpecError([Problem(source.locate(("extends",)), "extends", message)])


def _base_path(path: Path, ref: Any, source: SourceMap, chain: tuple[Path, ...], display: Display) -> Path:
    where = source.locate(("extends",))
    if not isinstance(ref, str) or not ref.strip():
        raise SpecError(
            [
                Problem(
                    where,
                    "extends",
                    "extends takes the relative path of a base spec, or runbook:NAME for one runbook ships",
                )
            ]
        )
    if ref.startswith(SCHEME):  # a base runbook ships, by name
        found, why = resolve_shipped(ref)
        if found is None:
            raise SpecError([Problem(where, "extends", why)])
        base = found.resolve()
    else:
        base = (path.parent / ref).resolve()
    if base in chain:
        cycle = " -> ".join(display(p) for p in (*chain[chain.index(base) :], base))
        raise SpecError([Problem(where, "extends", f"extends cycle: {cycle}")])
    if not base.is_file():
        raise SpecError([Problem(where, "extends", f"base spec {ref!r} not found (looked for {display(base)})")])
    return base


def _merge_value(base: Any, bside: _Side, child: Any, cside: _Side, merge: _Merge, out: PathKey) -> Any:
    if isinstance(base, dict) and isinstance(child, dict):
        return _merge_maps(base, bside, child, cside, merge, out)
    if _is_id_list(base) and _is_id_list(child):
        return _merge_id_lists(base, bside, child, cside, merge, out)
    merge.out.copy_subtree(cside.source, cside.path, out)
    return child


def _merge_maps(base: YamlMap, bside: _Side, child: YamlMap, cside: _Side, merge: _Merge, out: PathKey) -> YamlMap:
    _place_node(merge.out, cside, out)
    merged: dict[str, Any] = {}
    for key in [*base, *(k for k in child if k not in base)]:
        here = out + (key,)
        if key not in child:
            merge.out.copy_subtree(bside.source, bside.path + (key,), here)
            merged[key] = base[key]
        elif key not in base:
            merge.out.copy_subtree(cside.source, cside.path + (key,), here)
            merged[key] = child[key]
        else:
            merged[key] = _merge_value(
                base[key],
                _Side(bside.source, bside.path + (key,)),
                child[key],
                _Side(cside.source, cside.path + (key,)),
                merge,
                here,
            )
    return merged


def _place_node(out: SourceMap, side: _Side, at: PathKey) -> None:
    """Record where the node itself (not its children) sits in the extending file."""
    for table, mine in ((side.source.values, out.values), (side.source.keys, out.keys)):
        if side.path in table:
            mine[at] = table[side.path]


def _is_id_list(value: Any) -> TypeGuard[list[YamlMap]]:
    return isinstance(value, list) and all(isinstance(item, dict) and "id" in item for item in value)


def _merge_id_lists(
    base: list[YamlMap], bside: _Side, child: list[YamlMap], cside: _Side, merge: _Merge, out: PathKey
) -> list[YamlMap]:
    _report_duplicate_ids(child, cside, merge)
    entries = [_inherited(item, bside, index) for index, item in enumerate(base)]
    ids = _Ids([entry.value.get("id") for entry in entries])
    for index, item in enumerate(child):
        _apply_child_item(entries, ids, item, _Side(cside.source, cside.path + (index,)), merge)
    merged: list[YamlMap] = []
    for index, entry in enumerate(entries):
        entry.place(merge.out, out + (index,))
        merged.append(entry.value)
    return merged


def _inherited(item: YamlMap, side: _Side, index: int) -> _Entry:
    path = side.path + (index,)
    return _Entry(item, lambda out, at: out.copy_subtree(side.source, path, at))


def _report_duplicate_ids(items: list[YamlMap], side: _Side, merge: _Merge) -> None:
    """The merge would silently fold two items with one id together; say so instead."""
    seen: set[object] = set()
    for index, item in enumerate(items):
        if item["id"] in seen:
            merge.problems.append(
                _problem(_Side(side.source, side.path + (index,)), "id", f"duplicate id {item['id']!r} in this file")
            )
        seen.add(item["id"])


class _Ids:
    """The ids of the merged list, in order, kept beside it: a set answers "is it inherited?" at
    once (thousands of new checks would otherwise rescan the list for each)."""

    def __init__(self, ids: list[object]) -> None:
        self.order = ids
        self.known = {value for value in ids if _hashable(value)}

    def index(self, value: object) -> int | None:
        if _hashable(value) and value not in self.known:
            return None
        return self.order.index(value) if value in self.order else None

    def insert(self, at: int, value: object) -> None:
        self.order.insert(at, value)
        if _hashable(value):
            self.known.add(value)

    def delete(self, at: int) -> None:
        value = self.order.pop(at)
        if _hashable(value) and value not in self.order:
            self.known.discard(value)


def _hashable(value: object) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _apply_child_item(entries: list[_Entry], ids: _Ids, item: YamlMap, side: _Side, merge: _Merge) -> None:
    existing = ids.index(item["id"])
    body = {key: value for key, value in item.items() if key not in DIRECTIVES}
    if "drop" in item and not isinstance(item["drop"], bool):
        merge.problems.append(_problem(side, "drop", f"drop takes true or false, not {item['drop']!r}"))
        return
    if item.get("drop") is True:
        if existing is None:
            merge.problems.append(_problem(side, "drop", f"nothing to drop: no inherited item has id {item['id']!r}"))
        else:
            del entries[existing]
            ids.delete(existing)
        return
    if existing is not None:
        entries[existing] = _overridden(entries[existing], body, side)
        return
    at = _insert_at(entries, ids, item, side, merge)
    entries.insert(at, _Entry(body, _placer(side, body)))
    ids.insert(at, item["id"])


def _overridden(inherited: _Entry, body: YamlMap, side: _Side) -> _Entry:
    """The inherited item with each key the child names replaced."""

    def place(out: SourceMap, at: PathKey) -> None:
        inherited.place(out, at)
        for key in body:
            out.copy_subtree(side.source, side.path + (key,), at + (key,))

    return _Entry({**inherited.value, **body}, place)


def _placer(side: _Side, body: YamlMap) -> Callable[[SourceMap, PathKey], None]:
    def place(out: SourceMap, at: PathKey) -> None:
        _place_node(out, side, at)
        for key in body:
            out.copy_subtree(side.source, side.path + (key,), at + (key,))

    return place


def _insert_at(entries: list[_Entry], ids: _Ids, item: YamlMap, side: _Side, merge: _Merge) -> int:
    for directive, offset in (("before", 0), ("after", 1)):
        anchor = item.get(directive)
        if anchor is None:
            continue
        found = ids.index(anchor)
        if found is not None:
            return found + offset
        merge.problems.append(_problem(side, directive, f"no inherited item has id {anchor!r}"))
    return len(entries)


def _problem(side: _Side, key: str, message: str) -> Problem:
    path = side.path + (key,)
    return Problem(side.source.locate(path), dotted(path), message)
