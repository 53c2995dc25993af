"""`runbook init PROVIDER`: a new provider spec. It extends the provider's pack when runbook ships
one (`runbook:providers/PROVIDER`), else the shared OpenAI-compatible base (`runbook:openai-compatible`),
by name, so it works from any directory, in a checkout or after `pip install`."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

from engine.core.errors import UsageError
from engine.spec.shipped import SCHEME, shipped_root
from engine.spec.shipped import resolve as resolve_shipped

_PROVIDER = re.compile(r"^[a-z0-9][a-z0-9-]*$")

TEMPLATE = """\
# yaml-language-server: $schema={schema}
# {provider} chat completions: a reliability contract that extends the shared OpenAI-compatible base.
# Re-pin docs, accessed, path, model and the live base URL from the provider's reference, then:
#   runbook validate {path}
#   runbook run {path}                      # against the built-in simulator
#   {secret}=... runbook run {path} --target live
extends: {base}
version: 1
name: {provider}-chat-completions
title: {title} chat completions — reliability contract
vars:
  model: {model}
env:
  {secret}: {{secret: true}}
  {env_prefix}_BASE_URL: {{}}
contract:
  docs: {docs}
  accessed: {today}
  path: /v1/chat/completions
  auth: {{secret: {secret}}}
targets:
  live: {{base_url: "{{{{ env.{env_prefix}_BASE_URL | default('{base_url}') }}}}", alias: {provider}-live}}
# Add the provider's quirks to the table with `before: <rule id>`; override an inherited check or
# criterion by its id; remove one with `- {{id: ..., drop: true}}`. See specs/README.md.
"""

PACK_TEMPLATE = """\
# yaml-language-server: $schema={schema}
# {provider} chat completions: your contract on top of {base}, the pack runbook ships
# for {provider} (its documented contract, error shapes and quirks, each with its source).
# Pin your model and anything your account differs in, then:
#   runbook validate {path}
#   runbook run {path}                      # against the built-in simulator
#   {secret}=... runbook run {path} --target live
extends: {base}
version: 1
name: {provider}-chat-completions
vars:
  model: {model}
# Add your own quirks to the table with `before: <rule id>`; override an inherited check or
# criterion by its id; remove one with `- {{id: ..., drop: true}}`. `runbook specs` lists what ships.
"""


def init_spec(
    provider: str,
    out: Path | None = None,
    *,
    base_url: str | None = None,
    model: str = "gpt-4o-mini",
    docs: str | None = None,
    force: bool = False,
) -> Path:
    """Write the new spec and return its path; never overwrites unless asked."""
    if not _PROVIDER.match(provider):
        raise UsageError(f"provider {provider!r}: use lowercase letters, digits and '-'")
    path = out or Path("specs") / provider / "chat-completions.yaml"
    if path.exists() and not force:
        raise UsageError(f"{path} exists; choose another --out or pass --force")
    pack, _ = resolve_shipped(f"{SCHEME}providers/{provider}")
    env_prefix = provider.upper().replace("-", "_")
    values = {
        "provider": provider,
        "title": provider.replace("-", " ").title(),
        "path": path,
        "model": model,
        "schema": _schema_reference(shipped_root() / "runbook-spec.schema.json", path.parent),
        "docs": docs or f"https://{provider}.example/docs/chat-completions",
        "today": dt.date.today().isoformat(),
        "secret": f"{env_prefix}_API_KEY",
        "env_prefix": env_prefix,
        "base_url": base_url or f"https://api.{provider}.example",
    }
    if pack is not None and base_url is None and docs is None:
        text = PACK_TEMPLATE.format(**values, base=f"{SCHEME}providers/{provider}")
    else:
        text = TEMPLATE.format(**values, base=f"{SCHEME}openai-compatible")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _schema_reference(schema: Path, folder: Path) -> str:
    """Relative inside the working directory's tree (a checkout); else the installed file's absolute path."""
    here = Path.cwd().resolve()
    if schema.resolve().is_relative_to(here) and folder.resolve().is_relative_to(here):
        return _relative(schema, folder)
    return schema.resolve().as_posix()


def _relative(target: Path, start: Path) -> str:
    return Path(os.path.relpath(target.resolve(), start.resolve())).as_posix()
