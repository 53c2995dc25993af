"""One exception tree for the engine.

    RunbookError                 base of everything the engine raises on purpose
     +-- SpecError               one or more problems in spec files; each has a Location
     +-- UsageError              the command line or environment asks for something impossible
     +-- EngineError             the engine itself failed (a bug or a broken installation)

A failing *server* is never an exception: it becomes a recorded attempt (see engine.run.http).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Location:
    """A 1-based position in a spec file."""

    file: str
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Problem:
    """One located problem in a spec: `file:line:col: path.to.field: message`."""

    location: Location
    path: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        kind = "warning: " if self.severity == "warning" else ""
        return f"{self.location}: {where}{kind}{self.message}"


class RunbookError(Exception):
    """Base of every error the engine raises on purpose."""


class SpecError(RunbookError):
    """A spec is invalid; carries every problem found, not only the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.location, p.path))
        super().__init__("\n".join(str(p) for p in self.problems))


class UsageError(RunbookError):
    """The command line or the environment asks for something that cannot be done."""


class EngineError(RunbookError):
    """The engine itself failed."""


def first_line(exc: BaseException) -> str:
    """An exception's message in one line (its first), or its type's name when it has none."""
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
