"""Simulator profiles: how the built-in simulator differs per provider, as data.

A profile changes only what a provider pack's checks see differ: the chat-completions path it
serves, the header (and scheme) that carries the key, and for a path that names a deployment,
the answer to an unknown one. Everything else is the CometAPI-like simulator: its validation,
completions, streams and error envelope. Each value follows the pack of the same name in
specs/providers/, whose comments cite the provider's documentation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class SimProfile:
    name: str
    chat_path: str = "/v1/chat/completions"  # Starlette syntax: `{deployment}` is a path segment
    auth_header: str = "authorization"
    auth_scheme: Literal["bearer", "key"] = "bearer"  # `key`: the header carries the key alone
    unknown_deployment: tuple[int, str, str] | None = (
        None  # (status, error.code, message) for a `{deployment}` not served
    )

    @property
    def models_path(self) -> str:
        return self.chat_path.removesuffix("chat/completions") + "models"


PROFILES: dict[str, SimProfile] = {
    profile.name: profile
    for profile in (
        SimProfile("cometapi"),
        SimProfile(
            "azure-openai",
            chat_path="/openai/deployments/{deployment}/chat/completions",
            auth_header="api-key",
            auth_scheme="key",
            unknown_deployment=(404, "DeploymentNotFound", "The API deployment for this resource does not exist."),
        ),
        SimProfile("openrouter", chat_path="/api/v1/chat/completions"),
        SimProfile("groq", chat_path="/openai/v1/chat/completions"),
        SimProfile("fireworks", chat_path="/inference/v1/chat/completions"),
    )
}
PROFILE_NAMES = tuple(PROFILES)
