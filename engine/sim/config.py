"""What a simulated CometAPI endpoint accepts: keys, models and the context window."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.core.profiles import SimProfile
from engine.core.providers import PROFILES

DEFAULT_MODELS: tuple[str, ...] = ("gpt-4o-mini", "gpt-5-mini", "claude-sonnet-4-5", "deepseek-v3")


@dataclass(frozen=True)
class SimConfig:
    """Settings of one simulator instance.

    `keys` are the accepted bearer keys, `models` the model ids that exist, and
    `context_tokens` the simulated context window (prompt tokens are estimated as
    ceil(characters of all message contents / 4)). Lists are stored as tuples.
    """

    keys: tuple[str, ...]
    models: tuple[str, ...] = DEFAULT_MODELS
    context_tokens: int = 8192
    profile: SimProfile = field(default_factory=lambda: PROFILES["cometapi"])  # see engine/core/profiles.py

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", _strings("keys", self.keys))
        object.__setattr__(self, "models", _strings("models", self.models))
        if isinstance(self.context_tokens, bool) or not isinstance(self.context_tokens, int):
            raise TypeError("SimConfig.context_tokens must be an int")
        if self.context_tokens < 1:
            raise ValueError("SimConfig.context_tokens must be at least 1")


def _strings(field: str, values: object) -> tuple[str, ...]:
    """Return `values` as a tuple of non-empty strings, or raise naming the field."""
    if isinstance(values, str) or not isinstance(values, (tuple, list)):
        raise TypeError(f"SimConfig.{field} must be a tuple of strings")
    if not all(isinstance(value, str) and value for value in values):
        raise ValueError(f"SimConfig.{field} must contain only non-empty strings")
    return tuple(values)
