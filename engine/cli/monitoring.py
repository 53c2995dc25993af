"""The monitoring commands: `watch`, `history`, `alerts` and `docs-check` (a thin shell over engine.api).

`watch` exits 0 when a signal ended it (after its current run), else with the worst exit code of
its runs (`--runs N`). `history` and `alerts` exit 0, or 2 for a bad spec, URL or option.
`docs-check` exits 0 when the reference is unchanged, 1 when it changed, 4 when it could not be
checked (unreachable, or no digest recorded yet: `--record` writes one).
"""

from __future__ import annotations

import re
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from engine import api
from engine.cli.commands import EXIT_NOT_READY, EXIT_NOT_VERIFIED, EXIT_OK, main, say
from engine.cli.options import ENV_FILE_OPTION, VAR_OPTION, limit_options, parse_formats, selection_of

DEFAULT_HISTORY = "sqlite:///reports/history.sqlite"
_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_SPAN_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _span(_ctx: click.Context, _param: click.Parameter, value: str | None) -> float | None:
    """'90s', '5m', '1h', '7d', '2w' -> seconds."""
    if value is None:
        return None
    match = _SPAN.match(value)
    if not match or float(match.group(1)) <= 0:
        raise click.BadParameter(f"{value!r} is not a time span like 60s, 5m, 1h or 7d")
    return float(match.group(1)) * _SPAN_SECONDS[match.group(2)]


def _shown_span(seconds: float) -> str:
    """Seconds as the largest whole unit that spans them: 7776000 -> '90d'."""
    for unit in ("w", "d", "h", "m"):
        if seconds % _SPAN_SECONDS[unit] == 0:
            return f"{seconds / _SPAN_SECONDS[unit]:g}{unit}"
    return f"{seconds:g}s"


HISTORY_OPTION = click.option(
    "--history",
    "history_url",
    default=None,
    metavar="URL",
    help=f"Record every run in this history: sqlite:///FILE or postgresql://USER@HOST/DB (e.g. {DEFAULT_HISTORY}).",
)


@main.command()
@click.argument("spec", type=click.Path(path_type=Path))
@click.option("--target", default=None, help="Target from the spec's targets (default: sim, the built-in simulator).")
@click.option("--every", default=None, callback=_span, metavar="SPAN", help="Time between runs: 60s, 5m, 1h.")
@click.option(
    "--jitter", default=0.1, show_default=True, type=click.FloatRange(0, 0.5), help="Each interval x (1 ± this)."
)
@click.option(
    "--runs", default=None, type=click.IntRange(1), metavar="N", help="Stop after N runs (default: a signal)."
)
@click.option("--metrics-port", default=None, type=click.IntRange(0, 65535), metavar="N", help="Serve /metrics here.")
@HISTORY_OPTION
@click.option("--out", "out_dir", default="reports", show_default=True, type=click.Path(path_type=Path))
@click.option("--format", "formats", default="html,md,json", show_default=True, callback=parse_formats)
@click.option("--max-requests-per-hour", default=None, type=click.IntRange(1), metavar="N")
@click.option("--max-tokens-per-hour", default=None, type=click.IntRange(1), metavar="N")
@click.option("--tags", multiple=True, metavar="TAG[,TAG]", help="Run checks that carry any of these tags.")
@click.option("--only", multiple=True, metavar="ID[,ID]", help="Run only these checks.")
@click.option(
    "--schedule", default=None, metavar="NAME", help="The spec's schedule to repeat (its `every:` is the default)."
)
@limit_options
@VAR_OPTION
@ENV_FILE_OPTION
def watch(spec: Path, **options: Any) -> None:
    """Run a schedule again and again until stopped: each run a normal run, with its reports.

    Runs never overlap: a start that comes while a run goes on is skipped. The first SIGTERM or
    Ctrl-C ends the watch after the current run; a second one ends it at once. After each run one
    line: its verdict, when the next run is due, and failures in a row.

    \b
    Example:
      runbook watch specs/cometapi/chat-completions.yaml --schedule continuous --every 60s \\
          --metrics-port 9464 --history sqlite:///reports/history.sqlite
    """
    every, runs = options.pop("every"), options.pop("runs")
    timing = {
        "every": every,
        "runs": runs,
        "jitter": options.pop("jitter"),
        "max_requests_per_hour": options.pop("max_requests_per_hour"),
        "max_tokens_per_hour": options.pop("max_tokens_per_hour"),
    }
    health = api.watch(spec, **timing, **_watch_options(spec, options, every))
    codes = [EXIT_NOT_READY if report.failed else EXIT_OK for report in health.reports]
    sys.exit(max(codes, default=EXIT_OK) if runs is not None and not health.stopped else EXIT_OK)


def _watch_options(spec: Path, options: dict[str, Any], every: float | None) -> dict[str, Any]:
    """api.watch's keywords from the command's options (the WatchSettings ones already taken)."""
    tags, only = (
        tuple(name for given in options.pop(key) for name in given.split(",") if name) for key in ("tags", "only")
    )
    run_options = {
        "target": options.pop("target"),
        "out_dir": options.pop("out_dir"),
        "formats": options.pop("formats"),
        "selection": selection_of(tags, only, (), options.pop("schedule")),
        "limits": api.limits_from_options(options.pop("max_requests"), options.pop("max_tokens"), options.pop("rate")),
        "variables": options.pop("variables"),
        "environ": api.environ_with_env_file(options.pop("env_file")),
    }
    say(f"watching {spec}" + (f" every {every:g}s" if every else "") + "; SIGTERM or Ctrl-C ends it after the run")
    return {
        "history_url": options.pop("history_url"),
        "metrics_port": options.pop("metrics_port"),
        "say": say,
        **run_options,
    }


@main.command()
@click.argument("spec")
@HISTORY_OPTION
@click.option(
    "--since", default="7d", show_default=True, callback=_span, metavar="SPAN", help="How far back: 1h, 7d, 2w."
)
@click.option(
    "--html",
    "html_file",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the trend page.",
)
@click.option(
    "--prune",
    "prune_after",
    default=None,
    callback=_span,
    metavar="SPAN",
    help="First delete this spec's runs older than this (90d): a watch every minute adds 500,000 runs a year.",
)
def history(
    spec: str, history_url: str | None, since: float, html_file: Path | None, prune_after: float | None
) -> None:
    """The trend of a spec's recorded runs: pass rate, latency and first-token p50/p95, verdict
    changes, new drift, failing classes by owner. SPEC is a spec file or a spec's name.

    \b
    Example:
      runbook history specs/cometapi/chat-completions.yaml --since 7d --html reports/trend.html
      runbook history specs/cometapi/chat-completions.yaml --prune 90d    # keep 90 days (e.g. nightly)
    """
    url = history_url or DEFAULT_HISTORY
    if prune_after is not None:
        pruned = api.prune_history(url, spec, timedelta(seconds=prune_after))
        say(f"pruned {pruned} run(s) older than {_shown_span(prune_after)} from the history")
    found = api.history_trend(url, spec, timedelta(seconds=since))
    say(api.trend_text(found))
    if html_file is not None:
        html_file.parent.mkdir(parents=True, exist_ok=True)
        html_file.write_text(api.trend_html(found), encoding="utf-8")
        say(f"trend page: {html_file}")


@main.command()
@click.argument("spec", type=click.Path(path_type=Path))
@click.option(
    "--out", "out_file", default=None, type=click.Path(dir_okay=False, path_type=Path), help="Write here, not stdout."
)
@click.option(
    "--for",
    "for_seconds",
    default=None,
    callback=_span,
    metavar="SPAN",
    help="Fire a failing alert only once the failure has lasted this long (5m); default: on the first failing run.",
)
def alerts(spec: Path, out_file: Path | None, for_seconds: float | None) -> None:
    """Prometheus alerting rules from the spec's classification table: one alert for every rule
    whose action is page_owner, refresh_credentials or store_fixture_and_alert, labelled with its
    owner, action and class for Alertmanager's routes (check it with `promtool check rules`), and
    RunbookWatchStalled for a watch of the spec that is overdue or gone.

    \b
    Example:
      runbook alerts specs/cometapi/chat-completions.yaml --out prometheus/runbook-rules.yml
      promtool check rules prometheus/runbook-rules.yml
    """
    text = api.alert_rules(spec, for_seconds)
    if out_file is None:
        click.echo(text, nl=False)
        return
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(text, encoding="utf-8")
    say(f"alert rules: {out_file}")


@main.command(name="docs-check")
@click.argument("spec", type=click.Path(path_type=Path))
@click.option("--record", is_flag=True, help="Record the reference's current digest (then commit it).")
def docs_check(spec: Path, record: bool) -> None:
    """Has the provider's reference (`contract.docs`) changed since its digest was recorded? Exit 1
    when it has: the trigger for the release-gate schedule ("when the provider's reference changes").
    Exit 4 when it could not be checked: the page did not load, or no digest is recorded yet.

    \b
    Example:
      runbook docs-check specs/cometapi/chat-completions.yaml --record     # once; commit the digest
      runbook docs-check specs/cometapi/chat-completions.yaml || runbook run specs/cometapi/chat-completions.yaml --schedule release-gate
    """
    found = api.docs_check(spec, record=record)
    say(found.message)
    codes = {"unchanged": EXIT_OK, "recorded": EXIT_OK, "changed": EXIT_NOT_READY}
    sys.exit(codes.get(found.status, EXIT_NOT_VERIFIED))
