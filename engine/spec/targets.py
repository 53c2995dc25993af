"""Where a spec's checks can go: the built-in simulator, an HTTP endpoint, or a plugin's target kind.

A target's model is chosen by its literal `kind:`, or, when it has none, by the key only one
built-in kind has (`simulator:` or `base_url:`); a target with neither is reported with every key
checked against all the built-in kinds' keys.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    WithJsonSchema,
    model_validator,
)

from engine.core.providers import PROFILE_NAMES
from engine.core.registry import TARGET_KINDS, PluginError
from engine.spec.values import HttpUrl, Strict


class SimulatorTarget(Strict):
    """runbook's built-in simulator, started for the run: `simulator: cometapi` (`kind: simulator` optional)."""

    kind: Literal["simulator"] = "simulator"
    """`simulator`; optional, since `simulator:` says which kind this is."""
    simulator: Literal[PROFILE_NAMES]  # type: ignore[valid-type]
    """The built-in simulator, started on an ephemeral loopback port for the run, behaving like `cometapi`
    or a provider pack's profile: its path, auth header and errors (engine/core/providers.py)."""
    context_tokens: int = Field(default=8192, ge=16)
    """The context window; a larger prompt gets the profile's context-length error (`context_length_exceeded`)."""
    models: list[str] | None = None
    """Model ids it knows; another gets the profile's unknown-model error (`model_not_found`)."""


class HttpTarget(Strict):
    """A provider (or gateway) reached over HTTP: `base_url:` (`kind: http` optional)."""

    kind: Literal["http"] = "http"
    """`http`; optional, since `base_url:` says which kind this is."""
    base_url: HttpUrl
    """The API base URL, without the path; no credentials, query or fragment."""
    alias: str | None = None
    """A name for the URL in reports."""


class PluginTarget(Strict):
    """A target of a kind a plugin adds (`runbook plugins` lists them). Its other keys are the
    plugin's settings, checked by the plugin's own settings model."""

    # The load stage checks the settings (with locations, engine.load.loader) and keeps them here.

    model_config = ConfigDict(extra="allow", frozen=True)

    kind: str = Field(json_schema_extra={"not": {"enum": ["simulator", "http"]}})
    """The plugin's target kind (`runbook plugins` lists them)."""
    alias: str | None = None
    """A name for the target in reports."""
    _settings: BaseModel | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _kind_is_installed(self) -> PluginTarget:
        settings_model(self.kind)  # a ValueError names what is wrong
        return self

    @property
    def raw_settings(self) -> dict[str, Any]:
        """The target's keys besides `kind` and `alias`, as written."""
        return dict(self.model_extra or {})

    @property
    def settings(self) -> BaseModel | None:
        """The plugin's validated settings for this target (set when the spec is loaded)."""
        return self._settings

    def with_settings(self, settings: BaseModel) -> None:
        self._settings = settings


def settings_model(kind: str) -> type[BaseModel]:
    """The pydantic model a plugin's target kind checks its settings with; ValueError if there is none."""
    if kind not in TARGET_KINDS:
        raise ValueError(f"unknown target kind {kind!r}; use one of: {', '.join(TARGET_KINDS.names())}")
    try:
        model = TARGET_KINDS.get(kind).settings
    except PluginError as exc:
        raise ValueError(str(exc)) from None
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise ValueError(f"target kind {kind!r} is broken: its `settings` is not a pydantic model")
    return model


class UntypedTarget(Strict):
    """A target with no `kind:`, `simulator:` or `base_url:`: every key is checked against all the
    built-in kinds' keys (so a misspelling gets its suggestion), then the missing kind is reported."""

    kind: Any = None
    simulator: Any = None
    context_tokens: Any = None
    models: Any = None
    base_url: Any = None
    alias: Any = None

    @model_validator(mode="after")
    def _needs_a_kind(self) -> UntypedTarget:
        raise ValueError(
            "a target needs `kind:` (simulator, http or a plugin's kind), a `simulator:` or a `base_url:` key"
        )


TARGET_TAGS = {"simulator": "<simulator target>", "http": "<http target>"}  # never keys in a document
PLUGIN_TAG, UNTYPED_TAG = "<plugin target>", "<target of no kind>"
TARGET_DESCRIPTION = (
    "A target: the built-in simulator (`simulator:`), an HTTP endpoint (`base_url:`) or a plugin's `kind:`."
)


def _target_tag(value: Any) -> str:
    """Which model checks a target: its `kind:`, else the key only one built-in kind has."""
    if not isinstance(value, dict):
        return TARGET_TAGS.get(getattr(value, "kind", ""), PLUGIN_TAG)
    if "kind" in value:
        return TARGET_TAGS.get(str(value["kind"]), PLUGIN_TAG)
    if "base_url" in value:
        return TARGET_TAGS["http"]
    return TARGET_TAGS["simulator"] if "simulator" in value else UNTYPED_TAG


TARGET_MODELS: dict[str, type[BaseModel]] = {
    TARGET_TAGS["simulator"]: SimulatorTarget,
    TARGET_TAGS["http"]: HttpTarget,
    PLUGIN_TAG: PluginTarget,
    UNTYPED_TAG: UntypedTarget,
}

Target = Annotated[
    Annotated[SimulatorTarget, Tag(TARGET_TAGS["simulator"])]
    | Annotated[HttpTarget, Tag(TARGET_TAGS["http"])]
    | Annotated[PluginTarget, Tag(PLUGIN_TAG)]
    | Annotated[UntypedTarget, Tag(UNTYPED_TAG), WithJsonSchema({"not": {}, "description": "no kind: invalid"})],
    Discriminator(_target_tag),
]
