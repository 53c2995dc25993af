"""Spec files for tests: the minimal valid spec and copies of it with deliberate mistakes."""

from __future__ import annotations

from pathlib import Path

MINIMAL = Path(__file__).resolve().parents[1] / "corpus" / "valid" / "minimal.yaml"


def with_mistakes(tmp_path: Path, *replacements: tuple[str, str]) -> Path:
    """A copy of the minimal spec with each `old` text replaced by `new` (first occurrence)."""
    text = MINIMAL.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    return path
