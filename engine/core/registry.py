"""Extension points: report formats, target kinds and client adapters, each registered in one place.

The built-in entries are named here by import path, so this module imports no stage; another
package adds entries through Python entry points, the way a `runbook-foo` plugin would:

    [project.entry-points."runbook.report_formats"]
    tap = "runbook_foo:TAP"               # an object with name, suffix, render(results) -> str

    [project.entry-points."runbook.target_kinds"]
    echo = "runbook_foo:ECHO"              # see engine.run.targets.TargetKind

    [project.entry-points."runbook.client_adapters"]
    inline = "runbook_foo:INLINE"          # see engine.run.client_drills.ClientAdapter

An entry is imported only when it is asked for, so an unused plugin costs nothing but the listing of
entry points, and a broken one fails only the runs that use it, with a clear message.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint


class PluginError(Exception):
    """An entry point that cannot be imported, or is not what its group needs."""


@dataclass(frozen=True)
class Registry:
    """One extension point: names of built-in entries and of installed plugins' entries."""

    group: str
    builtin: dict[str, str] = field(default_factory=dict)  # name -> "module:attribute"
    needs: tuple[str, ...] = ()  # the attributes a plugin's entry must have

    def names(self) -> tuple[str, ...]:
        """Built-in names first, in their order, then plugins' names, sorted."""
        plugins = sorted(name for name in _plugin_entries(self.group) if name not in self.builtin)
        return (*self.builtin, *plugins)

    def origins(self) -> list[tuple[str, str]]:
        """(name, where it comes from): "built-in", or the plugin's module:attribute."""
        entries = _plugin_entries(self.group)
        return [(name, "built-in" if name in self.builtin else entries[name].value) for name in self.names()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self.names()

    def get(self, name: str) -> Any:
        """The entry called `name`, imported on first use; KeyError for a name nobody registered."""
        if name in self.builtin:
            return _import(self.builtin[name])
        entry = _plugin_entries(self.group).get(name)
        if entry is None:
            raise KeyError(name)
        try:
            found = entry.load()
        except Exception as exc:  # a plugin's own import error, whatever it is
            raise PluginError(f"plugin {entry.value!r} ({self.group} {name!r}) cannot be loaded: {exc}") from exc
        missing = [attribute for attribute in self.needs if not hasattr(found, attribute)]
        if missing:
            raise PluginError(f"plugin {entry.value!r} ({self.group} {name!r}) has no {', '.join(missing)}")
        return found

    def origin(self, name: str) -> str:
        """ "built-in", or the plugin's module:attribute (for messages about it)."""
        entry = _plugin_entries(self.group).get(name)
        return "built-in" if name in self.builtin or entry is None else entry.value


@cache
def _plugin_entries(group: str) -> dict[str, EntryPoint]:
    from importlib.metadata import entry_points  # ~15 ms, for the commands that meet a plugin name

    return {entry.name: entry for entry in entry_points(group=group)}


def _import(target: str) -> Any:
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


REPORT_FORMATS = Registry(
    "runbook.report_formats",
    {
        "html": "engine.report.formats:HTML",
        "md": "engine.report.formats:MARKDOWN",
        "json": "engine.report.formats:JSON",
        "junit": "engine.report.formats:JUNIT",
    },
    needs=("name", "suffix", "render"),
)
TARGET_KINDS = Registry(
    "runbook.target_kinds",
    {"simulator": "engine.run.targets:SIMULATOR", "http": "engine.run.targets:HTTP"},
    needs=("name", "settings", "live", "endpoint"),
)
CLIENT_ADAPTERS = Registry(
    "runbook.client_adapters", {"command": "engine.run.client_drills:COMMAND"}, needs=("name", "call")
)
EXTENSION_POINTS = {"report formats": REPORT_FORMATS, "target kinds": TARGET_KINDS, "client adapters": CLIENT_ADAPTERS}
