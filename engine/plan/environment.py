"""What a run reads from the environment, and where its secret goes.

A spec reads only the environment variables it declares (`env:`). The plan lists each one: is it
set, and what reads it. When the secret is sent to a host that neither the environment nor the
command line chose (the spec's own `base_url`), the plan says so: a spec written by someone else
must not quietly send your key somewhere you did not pick.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from engine.load.loader import EnvironmentUse
from engine.spec.models import Spec


@dataclass(frozen=True)
class SecretRoute:
    """The host the spec's secret is sent to, and who chose that host (None: the spec did)."""

    secret: str
    header: str
    host: str
    chosen_by: str | None
    field: tuple[str, ...]  # where in the spec the host is written

    def describe(self) -> str:
        who = self.chosen_by or f"the spec ({'.'.join(self.field)}), not the environment or the command line"
        return f"{self.secret} is sent as the {self.header} header to {self.host}; the host comes from {who}"

    def warning(self) -> str | None:
        if self.chosen_by:
            return None
        return (
            f"the secret {self.secret} goes to {self.host}, a host the spec chose, not the environment or the "
            "command line; check the host, or set it yourself through the variable or --var the spec reads"
        )


@dataclass(frozen=True)
class EnvRead:
    """One declared environment variable: is it set, and what reads it (never its value)."""

    name: str
    secret: bool
    set: bool
    read: str
    description: str = ""


def secret_route(spec: Spec, target_name: str, base_url: str | None, use: EnvironmentUse) -> SecretRoute | None:
    """Where the secret goes for an http target (None: the secret is not sent to a host the plan knows)."""
    auth = spec.contract.auth
    if base_url is None:
        return None
    host = urlsplit(base_url).hostname or base_url
    return SecretRoute(
        auth.secret,
        auth.header,
        host,
        _chosen_by(host, use.read, use.command_line),
        ("targets", target_name, "base_url"),
    )


def environment_reads(spec: Spec, use: EnvironmentUse, route: SecretRoute | None) -> tuple[EnvRead, ...]:
    """Every declared variable, in the spec's order, with what reads it."""
    reads = []
    for name, declared in spec.env.items():
        if name == spec.contract.auth.secret:
            read = route.describe() if route else "not read: this target does not receive the secret"
        elif name in use.read:
            read = "templates"
        else:
            read = "not read"
        reads.append(EnvRead(name, declared.secret, bool(use.present.get(name)), read, declared.description))
    return tuple(reads)


def _chosen_by(host: str, env_read: Mapping[str, str | None], command_line: Mapping[str, Any]) -> str | None:
    for name, value in env_read.items():
        if isinstance(value, str) and _host_of(value) == host:
            return f"the environment ({name})"
    for name, value in command_line.items():
        if isinstance(value, str) and _host_of(value) == host:
            return f"the command line (--var {name})"
    return None


def _host_of(value: str) -> str:
    text = value.strip()
    return (urlsplit(text).hostname or "") if "://" in text else text.lower()
