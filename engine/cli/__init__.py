"""The `runbook` command line: parses options, calls `engine.api`, prints, and maps outcomes to exit
codes. No engine logic lives here.
"""

from engine.cli.commands import (
    EXIT_ENGINE,
    EXIT_NOT_READY,
    EXIT_NOT_VERIFIED,
    EXIT_OK,
    EXIT_SIGINT,
    EXIT_SIGTERM,
    EXIT_USAGE,
    main,
)

__all__ = [
    "EXIT_ENGINE",
    "EXIT_NOT_READY",
    "EXIT_NOT_VERIFIED",
    "EXIT_OK",
    "EXIT_SIGINT",
    "EXIT_SIGTERM",
    "EXIT_USAGE",
    "main",
]

from engine.cli import monitoring as _monitoring  # noqa: F401  (registers watch, history, alerts, docs-check)
