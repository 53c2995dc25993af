"""What a simulated CometAPI endpoint accepts: keys, models and the context window."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from engine.core.profiles import SimProfile
from engine.core.providers import PROFILES

NORMAL = "normal"  # the mode that answers as the provider does (engine/sim/modes.py)
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
    mode: str = NORMAL  # the mode it starts in: normal, or an error of the profile (engine/sim/modes.py)

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", _strings("keys", self.keys))
        object.__setattr__(self, "models", _strings("models", self.models))
        if isinstance(self.context_tokens, bool) or not isinstance(self.context_tokens, int):
            raise TypeError("SimConfig.context_tokens must be an int")
        if self.context_tokens < 1:
            raise ValueError("SimConfig.context_tokens must be at least 1")
        situation_of(self.mode, self.profile)


def _strings(field: str, values: object) -> tuple[str, ...]:
    """Return `values` as a tuple of non-empty strings, or raise naming the field."""
    if isinstance(values, str) or not isinstance(values, (tuple, list)):
        raise TypeError(f"SimConfig.{field} must be a tuple of strings")
    if not all(isinstance(value, str) and value for value in values):
        raise ValueError(f"SimConfig.{field} must contain only non-empty strings")
    return tuple(values)


def modes_of(profile: SimProfile) -> tuple[str, ...]:
    """Every mode a simulator of this profile can be put in."""
    return (NORMAL, *profile.situations)


def situation_of(mode: str, profile: SimProfile) -> str | None:
    """The error a mode answers with (None: normal); ValueError naming the modes for an unknown one."""
    if mode == NORMAL:
        return None
    if mode not in profile.situations:
        close = difflib.get_close_matches(mode, modes_of(profile), n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ValueError(f"unknown simulator mode {mode!r}: {hint}one of {', '.join(modes_of(profile))}")
    return mode
