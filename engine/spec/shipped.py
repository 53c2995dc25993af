"""The specs that ship with runbook, by name: `extends: runbook:openai-compatible`,
`extends: runbook:providers/azure-openai`.

In a checkout they are the repository's `specs/` folder; an installed runbook carries the same
files as the package data `engine/specs/` (pyproject maps that package onto `specs/`). A name is a
path below that folder without `.yaml`; a bare name is also looked for in `shared/`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

SCHEME = "runbook:"
_PACKAGE = Path(__file__).resolve().parents[1]  # engine/
_NOT_SPECS = ("fixtures",)  # folders of data next to the specs


def shipped_root() -> Path:
    """Where the shipped specs are: inside the installed package, or the checkout's specs/."""
    installed = _PACKAGE / "specs"
    return installed if installed.is_dir() else _PACKAGE.parent / "specs"


@dataclass(frozen=True)
class ShippedSpec:
    ref: str  # what `extends:` takes: runbook:providers/azure-openai
    path: Path


def catalogue() -> list[ShippedSpec]:
    """Every shipped spec file, by name, sorted (fixture folders and non-YAML files left out)."""
    root = shipped_root()
    found = []
    for path in sorted(root.rglob("*.yaml")):
        relative = path.relative_to(root)
        if any(part in _NOT_SPECS for part in relative.parts):
            continue
        name = relative.with_suffix("").as_posix()
        found.append(ShippedSpec(SCHEME + name.removeprefix("shared/"), path))
    return found


def resolve(ref: str) -> tuple[Path | None, str]:
    """The file a `runbook:NAME` reference names, or (None, why not, with the nearest names)."""
    name = ref.removeprefix(SCHEME).strip().removesuffix(".yaml")
    root = shipped_root()
    if name and ".." not in Path(name).parts and not Path(name).is_absolute():
        for candidate in (root / f"{name}.yaml", root / "shared" / f"{name}.yaml"):
            if candidate.is_file():
                return candidate, ""
    known = [spec.ref for spec in catalogue()]
    close = difflib.get_close_matches(SCHEME + name, known, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}?" if close else f"shipped: {', '.join(known)}"
    return None, f"runbook ships no spec {ref!r}: {hint} (`runbook specs` lists them)"
