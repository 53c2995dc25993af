"""`runbook init PROVIDER`: a new provider spec that extends the shared OpenAI-compatible base."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

from engine.core.errors import UsageError

SHARED_BASE = Path("specs/shared/openai-compatible.yaml")
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


def init_spec(
    provider: str,
    out: Path | None = None,
    *,
    base_url: str | None = None,
    model: str = "gpt-4o-mini",
    docs: str | None = None,
    force: bool = False,
    shared_base: Path = SHARED_BASE,
) -> Path:
    """Write the new spec and return its path; never overwrites unless asked."""
    if not _PROVIDER.match(provider):
        raise UsageError(f"provider {provider!r}: use lowercase letters, digits and '-'")
    path = out or Path("specs") / provider / "chat-completions.yaml"
    if path.exists() and not force:
        raise UsageError(f"{path} exists; choose another --out or pass --force")
    if not shared_base.is_file():
        raise UsageError(f"the shared base {shared_base} is missing (run from the repository root)")
    schema = shared_base.parent.parent / "runbook-spec.schema.json"
    env_prefix = provider.upper().replace("-", "_")
    text = TEMPLATE.format(
        provider=provider,
        title=provider.replace("-", " ").title(),
        path=path,
        model=model,
        base=_relative(shared_base, path.parent),
        schema=_relative(schema, path.parent),
        docs=docs or f"https://{provider}.example/docs/chat-completions",
        today=dt.date.today().isoformat(),
        secret=f"{env_prefix}_API_KEY",
        env_prefix=env_prefix,
        base_url=base_url or f"https://api.{provider}.example",
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _relative(target: Path, start: Path) -> str:
    return Path(os.path.relpath(target.resolve(), start.resolve())).as_posix()
