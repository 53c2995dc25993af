"""The classification table applied to one observation: first matching rule wins."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from engine.spec.durations import parse_status_pattern
from engine.spec.models import CONDITIONS, Rule, When
from engine.spec.values import SUCCESS_ACTION

Tristate = Literal["yes", "maybe", "no"]


class Facts(Protocol):
    """What a rule's conditions look at; an observation of the run stage is one."""

    @property
    def status(self) -> int | None: ...
    @property
    def error_code(self) -> str | None: ...
    @property
    def error_type(self) -> str | None: ...
    @property
    def error_message(self) -> str | None: ...
    @property
    def transport_error(self) -> str | None: ...
    @property
    def parser(self) -> str: ...
    @property
    def content_type(self) -> str | None: ...


class Classification(BaseModel):
    """The rule that matched, and what it tells the operator to do."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    rule: str
    class_: str = Field(alias="class")
    retry: Tristate
    fallback: Tristate
    action: str
    owner: str | None = None

    @property
    def is_success(self) -> bool:
        """The spec language's definition of a success: the matching rule's action is `none`."""
        return self.action == SUCCESS_ACTION


def classify(observation: Facts, rules: Sequence[Rule]) -> Classification:
    """The first rule whose conditions all hold. Specs always end with a catch-all rule."""
    for rule in rules:
        if rule_matches(rule.when, observation):
            return Classification(
                rule=rule.id,
                class_=rule.class_,
                retry=rule.retry,
                fallback=rule.fallback,
                action=rule.action,
                owner=rule.owner,
            )
    return Classification(
        rule="(none)", class_="unclassified", retry="no", fallback="no", action="page_owner", owner=None
    )


def rule_matches(when: When, observation: Facts) -> bool:
    """All given conditions hold; within one condition, any listed value matches."""
    if when.any:
        return True
    return all(
        (
            when.status is None or status_matches(observation.status, when.status),
            when.error_code is None or observation.error_code in when.error_code,
            when.error_type is None or observation.error_type in when.error_type,
            when.message is None or _message_matches(observation.error_message, when.message),
            when.transport is None or observation.transport_error in when.transport,
            when.parser is None or observation.parser in when.parser,
            when.content_type is None or _content_type_matches(observation.content_type, when.content_type),
        )
    )


def _message_matches(message: str | None, pieces: Sequence[str]) -> bool:
    """A case-insensitive plain-text search: bounded by the pieces' and the message's own length limits."""
    return message is not None and any(piece.casefold() in message.casefold() for piece in pieces)


def _content_type_matches(content_type: str | None, wanted: Sequence[str]) -> bool:
    return content_type is not None and any(w.lower() in content_type.lower() for w in wanted)


def status_matches(status: int | None, patterns: Sequence[int | str]) -> bool:
    if status is None:
        return False
    return any(low <= status <= high for low, high in map(parse_status_pattern, patterns))


def describe_when(when: When) -> str:
    """A rule's conditions in one line, for reports."""
    if when.any:
        return "anything else"
    parts = []
    for name in CONDITIONS:
        values = getattr(when, name)
        if values:
            parts.append(f"{name} {' | '.join(str(v) for v in values)}")
    return " and ".join(parts)
