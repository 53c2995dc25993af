"""The command line's shared options: --var, --env-file, --format, the selection and the limits."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from engine import api
from engine.core.errors import UsageError

Command = TypeVar("Command", bound=Callable[..., Any])


def _parse_vars(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{item!r} is not KEY=VALUE")
        parsed[key.strip()] = api.scalar_from_text(value)
    return parsed


def parse_formats(_ctx: click.Context, _param: click.Parameter, value: str) -> list[str]:
    formats = [f.strip() for f in value.split(",") if f.strip()]
    known = api.available_formats()
    unknown = [f for f in formats if f not in known]
    if unknown or not formats:
        raise click.BadParameter(f"choose from {', '.join(known)} (got {value!r})")
    try:
        api.check_formats(formats)
    except UsageError as exc:
        raise click.BadParameter(str(exc)) from None
    return formats


def _split_names(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(name.strip() for value in values for name in value.split(",") if name.strip())


def stacked(*options: Callable[[Command], Command]) -> Callable[[Command], Command]:
    """Several click options as one decorator, in the order written."""

    def apply(command: Command) -> Command:
        for option in reversed(options):
            command = option(command)
        return command

    return apply


selection_options = stacked(  # --tags / --only / --skip / --schedule, shared by run and plan
    click.option(
        "--tags",
        multiple=True,
        callback=_split_names,
        metavar="TAG[,TAG]",
        help="Run checks that carry any of these tags (repeatable).",
    ),
    click.option("--only", multiple=True, callback=_split_names, metavar="ID[,ID]", help="Run only these checks."),
    click.option("--skip", multiple=True, callback=_split_names, metavar="ID[,ID]", help="Leave these checks out."),
    click.option("--schedule", default=None, metavar="NAME", help="Select the checks of a schedule in the spec."),
)
limit_options = stacked(  # --max-requests / --max-tokens / --rate for run and plan: they only tighten limits
    click.option(
        "--max-requests",
        type=click.IntRange(1),
        default=None,
        metavar="N",
        help="Send at most N requests (checks and drill attempts, retries and fallbacks included).",
    ),
    click.option(
        "--max-tokens",
        type=click.IntRange(1),
        default=None,
        metavar="N",
        help="Ask for at most N tokens in total (the max_tokens of every request sent).",
    ),
    click.option("--rate", default=None, metavar="RATE", help="Pace requests to the target: 5/s, 30/min, 600/h."),
)


def selection_of(
    tags: tuple[str, ...], only: tuple[str, ...], skip: tuple[str, ...], schedule: str | None
) -> api.Selection:
    return api.Selection(tags=tags, only=only, skip=skip, schedule=schedule)


VAR_OPTION = click.option(
    "--var",
    "variables",
    multiple=True,
    callback=_parse_vars,
    metavar="KEY=VALUE",
    help="Set a variable the spec declares (repeatable), e.g. --var model=gpt-4o-mini; 30, 0.5, true are typed.",
)

ENV_FILE_OPTION = click.option(
    "--env-file",
    "env_file",
    default=None,
    metavar="PATH",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read KEY=VALUE lines (a dotenv file) over the environment, for this command only.",
)
