"""Which checks a run selects: --tags / --only / --skip, or a named schedule from the spec."""

from __future__ import annotations

import difflib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TypeVar

from engine.core.errors import UsageError
from engine.spec.models import Check, Drill, Spec

Item = TypeVar("Item", Check, Drill)  # what a selection picks from: the checks, or the drills


@dataclass(frozen=True)
class Selection:
    tags: tuple[str, ...] = ()
    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    schedule: str | None = None

    def describe(self) -> str:
        parts = [f"schedule {self.schedule}"] if self.schedule else []
        parts += [
            f"--{name} {','.join(values)}"
            for name, values in (("tags", self.tags), ("only", self.only), ("skip", self.skip))
            if values
        ]
        return " ".join(parts) or "all checks"


def resolve(spec: Spec, selection: Selection) -> Selection:
    """Expand a schedule into tags/only/skip and refuse names the spec does not have."""
    if selection.schedule is not None:
        schedule = spec.schedules.get(selection.schedule)
        if schedule is None:
            raise UsageError(
                f"spec {spec.name!r} has no schedule {selection.schedule!r}{_hint(selection.schedule, spec.schedules)}"
            )
        selection = Selection(
            tuple(schedule.tags) + selection.tags,
            tuple(schedule.only) + selection.only,
            tuple(schedule.skip) + selection.skip,
            selection.schedule,
        )
    items: list[Check | Drill] = [*spec.checks, *spec.drills]
    ids = [item.id for item in items]
    tags = sorted({tag for item in items for tag in item.tags})
    for check_id in (*selection.only, *selection.skip):
        if check_id not in ids:
            raise UsageError(f"spec {spec.name!r} has no check {check_id!r}{_hint(check_id, ids)}")
    for tag in selection.tags:
        if tag not in tags:
            raise UsageError(f"no check in {spec.name!r} has tag {tag!r} (tags: {', '.join(tags) or 'none'})")
    return selection


def partition(items: Sequence[Item], selection: Selection) -> tuple[list[Item], list[tuple[str, str]]]:
    """(selected checks or drills, [(id, why not selected)]) in spec order."""
    chosen: list[Item] = []
    left_out: list[tuple[str, str]] = []
    for check in items:
        why = _why_not(check, selection)
        if why:
            left_out.append((check.id, f"not selected: {why}"))
        else:
            chosen.append(check)
    return chosen, left_out


def _why_not(check: Check | Drill, selection: Selection) -> str | None:
    if check.id in selection.skip:
        return "--skip"
    if selection.only and check.id not in selection.only:
        return "not in --only"
    if selection.tags and not set(selection.tags) & set(check.tags):
        return f"no tag of {', '.join(selection.tags)}"
    return None


def _hint(name: str, known: Collection[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(known) or 'none'})"
