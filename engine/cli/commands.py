"""The `runbook` command: a thin shell over engine.api that maps outcomes to exit codes.

Exit codes: 0 ready · 1 not ready (a check or drill failed, a criterion is not met) · 2 invalid spec
or usage · 3 the engine itself failed · 4 not verified or partial (nothing failed, but readiness is
not claimed) · 130 / 143 interrupted by SIGINT / SIGTERM (the results so far are written).

A command imports the stages it needs when it runs: engine.api imports them on use, and the console
summaries (engine.cli.console, which reads the plan's and the results' types) are imported by `run`
and `plan` only. So `--help` imports no stage and `validate` only the load stage.
"""

from __future__ import annotations

import os
import secrets
import signal
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from engine import __version__, api
from engine.api import RunOutcome
from engine.cli.compare import comparison_lines, diff
from engine.cli.options import (
    ENV_FILE_OPTION,
    VAR_OPTION,
    limit_options,
    parse_formats,
    selection_of,
    selection_options,
)
from engine.cli.progress import colour_enabled, progress_on, shown_lines
from engine.core.errors import RunbookError, SpecError, UsageError
from engine.core.redact import printable

EXIT_OK, EXIT_NOT_READY, EXIT_NOT_VERIFIED = (api.EXIT_CODES[v] for v in ("ready", "not_ready", "not_verified"))
EXIT_USAGE, EXIT_ENGINE = 2, 3
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a pipe whose reader left
EXIT_SIGINT, EXIT_SIGTERM = 128 + signal.SIGINT, 128 + signal.SIGTERM  # what api.interrupt_exit_code gives


def say(text: str, err: bool = False) -> None:
    """Print text that may carry a server's or a spec's words, line by line with control characters
    escaped: an ESC or CR from a server can never rewrite what the terminal shows."""
    click.echo(shown_lines([text], colour=False), err=err)


class _Group(click.Group):
    """Turns engine errors into clean messages and documented exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SpecError as exc:
            for problem in exc.problems:
                say(str(problem), err=True)
            say(f"{len(exc.problems)} problem(s) found", err=True)
            sys.exit(EXIT_USAGE)
        except UsageError as exc:
            say(f"error: {exc}", err=True)
            sys.exit(EXIT_USAGE)
        except KeyboardInterrupt:
            say("runbook: interrupted", err=True)
            sys.exit(EXIT_SIGINT)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except BrokenPipeError:  # the reader left (`runbook specs | head`): nothing more to say
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(EXIT_BROKEN_PIPE)
        except Exception as exc:
            if os.environ.get("RUNBOOK_DEBUG"):
                traceback.print_exc()
            kind = "engine error" if isinstance(exc, RunbookError) else f"internal error ({type(exc).__name__})"
            say(f"runbook: {kind}: {exc} (set RUNBOOK_DEBUG=1 for the traceback)", err=True)
            sys.exit(EXIT_ENGINE)
        except BaseException as exc:  # api.Aborted, raised only by a run: its module loads only then
            if not isinstance(exc, api.Aborted):
                raise
            say(f"runbook: aborted by a second {exc.signal_name}; no results were written", err=True)
            sys.exit(api.interrupt_exit_code(exc.signal_name))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="runbook")
@click.option(
    "--allow-bases",
    "allow_bases",
    multiple=True,
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="A folder outside the spec's tree that `extends:` may read bases from (repeatable).",
)
def main(allow_bases: tuple[Path, ...]) -> None:
    """Reliability contracts for LLM chat-completions APIs, written as YAML.

    \b
    Example:
      runbook validate specs/cometapi/chat-completions.yaml
      runbook run specs/cometapi/chat-completions.yaml            # against the built-in simulator
      runbook run specs/cometapi/chat-completions.yaml --target live --var model=gpt-4o-mini
      runbook sim --port 8787

    Exit codes: 0 ready, 1 not ready, 2 invalid spec or usage, 3 engine failure,
    4 not verified or partial, 130/143 interrupted (SIGINT/SIGTERM; results so far are written).
    """
    api.allow_bases(allow_bases)


def _report_problems(specs: tuple[Path, ...], variables: dict[str, Any], strict: bool, env_file: Path | None) -> None:
    paths = api.spec_files(specs)
    problems = api.validate_specs(paths, variables, api.environ_with_env_file(env_file))
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity == "warning"]
    for problem in sorted(problems, key=lambda p: (p.location, p.path)):
        say(str(problem), err=True)
    if errors or (strict and warnings):
        say(f"{len(errors)} error(s), {len(warnings)} warning(s): {len(problems)} problem(s) found", err=True)
        sys.exit(EXIT_USAGE)
    say(f"ok: {len(paths)} spec(s) valid" + (f", {len(warnings)} warning(s)" if warnings else ""))


@main.command()
@click.argument("specs", nargs=-1, required=True, type=click.Path(path_type=Path))
@VAR_OPTION
@ENV_FILE_OPTION
def validate(specs: tuple[Path, ...], variables: dict[str, str], env_file: Path | None) -> None:
    """Check specs and print every problem as file:line:col: path: message (lint included).

    A folder means every spec below it: each .yaml or .yml file with a top-level `version:` key,
    outside fixtures/ and hidden folders.

    \b
    Example:
      runbook validate specs/cometapi/chat-completions.yaml specs/other.yaml
      runbook validate specs/                       # every spec below specs/
    """
    _report_problems(specs, variables, strict=False, env_file=env_file)


@main.command()
@click.argument("specs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--strict", is_flag=True, help="Warnings fail too (exit 2).")
@VAR_OPTION
@ENV_FILE_OPTION
def lint(specs: tuple[Path, ...], strict: bool, variables: dict[str, str], env_file: Path | None) -> None:
    """Validate specs and lint them: shadowed rules, gaps only the default rule catches,
    unused checks, paging actions without an owner. A folder means every spec below it.

    \b
    Example:
      runbook lint --strict specs/cometapi/chat-completions.yaml
      runbook lint --strict specs/
    """
    _report_problems(specs, variables, strict=strict, env_file=env_file)


@main.command()
@click.argument("specs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--target", default=None, help="Target from the spec's targets (default: sim, the built-in simulator).")
@click.option(
    "--out",
    "out_dir",
    default="reports",
    show_default=True,
    type=click.Path(path_type=Path),
    help="Folder for the reports.",
)
@click.option(
    "--format",
    "formats",
    default="html,md,json",
    show_default=True,
    callback=parse_formats,
    help="Comma-separated report formats.",
)
@click.option(
    "--concurrency",
    default=api.DEFAULT_CONCURRENCY,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Checks in flight at once (results stay in the spec's order; 1: one after another).",
)
@click.option(
    "--update-fixtures",
    is_flag=True,
    help="Write the observed response shapes as the spec's sanitized fixtures (then commit them).",
)
@click.option(
    "--client",
    "client",
    default="reference",
    show_default=True,
    metavar="NAME",
    help="Whose policy the drills exercise: reference (runbook's own client), a client of the spec, or all.",
)
@click.option(
    "--baseline",
    default=None,
    metavar="OLD.json",
    type=click.Path(path_type=Path),
    help="An earlier run's results: the reports say what newly fails, what was fixed, and what moved. "
    "A folder (an earlier --out): each spec compares with its own <name>.json there.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress; print only the verdict, its notes and the reports.")
@click.option(
    "--verbose", "-v", is_flag=True, help="Also print what each failed or errored check and drill saw, and why."
)
@click.option(
    "--history",
    "history_url",
    default=None,
    metavar="URL",
    help="Also record the run in this history: sqlite:///reports/history.sqlite or postgresql://USER@HOST/DB.",
)
@selection_options
@limit_options
@VAR_OPTION
@ENV_FILE_OPTION
def run(
    specs: tuple[Path, ...],
    target: str | None,
    out_dir: Path,
    formats: list[str],
    concurrency: int,
    update_fixtures: bool,
    client: str,
    baseline: Path | None,
    quiet: bool,
    verbose: bool,
    history_url: str | None,
    tags: tuple[str, ...],
    only: tuple[str, ...],
    skip: tuple[str, ...],
    schedule: str | None,
    max_requests: int | None,
    max_tokens: int | None,
    rate: str | None,
    variables: dict[str, str],
    env_file: Path | None,
) -> None:
    """Run a spec's checks against a target and write readiness reports.

    Progress goes to stderr as each check and drill finishes: one live line on a terminal, one line
    per item elsewhere. Colour only on a terminal, and never with NO_COLOR set.

    Several specs (files, or folders: every spec below them) run one after another, each with its
    own reports, and the options apply to each. All are checked first: if one is invalid or lacks
    what the options ask for (a --target, a --client, an --only id), nothing runs (exit 2). Then each
    run's summary, one verdict line per spec, and the worst exit code; an interruption stops the rest.

    \b
    Example:
      runbook run specs/cometapi/chat-completions.yaml
      runbook run specs/cometapi/chat-completions.yaml --tags smoke
      runbook run specs/cometapi/chat-completions.yaml --client app --tags drill     # your own client
      COMETAPI_API_KEY=... runbook run specs/cometapi/chat-completions.yaml --target live --var model=gpt-4o-mini
      runbook run specs/cometapi/chat-completions.yaml --target live --max-requests 40 --rate 2/s   # cost guards
      runbook run specs/cometapi/chat-completions.yaml --quiet      # only the verdict, its notes, the reports
      runbook run specs/cometapi/chat-completions.yaml --baseline reports/cometapi-chat-completions.json
      runbook run specs/ --env-file .env --quiet                  # every spec below specs/, in turn
    """
    if quiet and verbose:
        raise click.UsageError("--quiet and --verbose cannot be used together")
    paths = api.spec_files(specs)
    options: dict[str, Any] = {
        "target": target,
        "variables": variables,
        "out_dir": out_dir,
        "formats": formats,
        "concurrency": concurrency,
        "selection": selection_of(tags, only, skip, schedule),
        "update_fixtures": update_fixtures,
        "limits": api.limits_from_options(max_requests, max_tokens, rate),
        "baseline": baseline,
        "environ": api.environ_with_env_file(env_file),
        "history_url": history_url,
    }
    if len(paths) == 1:
        sys.exit(api.worst_exit_code(_run_spec(paths[0], client, quiet, verbose, options)))
    _refuse_unless_all_can_run(paths, client, options)
    sys.exit(_run_specs(paths, client, quiet, verbose, options))


def _run_spec(path: Path, client: str, quiet: bool, verbose: bool, options: dict[str, Any]) -> list[RunOutcome]:
    """One spec's runs (one per client): progress on stderr, warnings, then each run's summary."""
    with progress_on(sys.stderr, enabled=not quiet) as progress:
        outcomes = api.run_clients(path, client, progress=progress, **options)
    for warning in outcomes[0].warnings:
        say(str(warning), err=True)
    for notice in (notice for outcome in outcomes for notice in outcome.notices):
        say(f"warning: {notice}", err=True)
    _show_outcomes(outcomes, quiet, verbose)
    return outcomes


def _refuse_unless_all_can_run(paths: Sequence[Path], client: str, options: dict[str, Any]) -> None:
    """Several specs: every problem of every invalid spec, and what each lacks for these options; exit
    2 before anything is sent when there is any."""
    checked = {key: options[key] for key in ("target", "variables", "selection", "limits", "baseline", "environ")}
    try:
        usage = api.check_runs(paths, client, **checked)
    except SpecError as exc:
        for problem in exc.problems:
            say(str(problem), err=True)
        say(f"{len(exc.problems)} problem(s) found; none of the {len(paths)} specs was run", err=True)
        sys.exit(EXIT_USAGE)
    for message in usage:
        say(f"error: {message}", err=True)
    if usage:
        say(f"none of the {len(paths)} specs was run", err=True)
        sys.exit(EXIT_USAGE)


def _run_specs(paths: Sequence[Path], client: str, quiet: bool, verbose: bool, options: dict[str, Any]) -> int:
    """Each spec in turn, then one verdict line per run; the worst exit code. A spec that fails to
    start (its secret unset, say) is reported, counts as exit 2, and the others still run."""
    rows: list[tuple[str, str, int | None]] = []  # (spec, verdict, exit code)
    for index, path in enumerate(paths):
        if any(code is not None and code != EXIT_USAGE for _, _, code in rows):
            click.echo("")  # a blank line between two runs' summaries
        try:
            outcomes = _run_spec(path, client, quiet, verbose, options)
        except (SpecError, UsageError) as exc:
            problems = [str(p) for p in exc.problems] if isinstance(exc, SpecError) else [f"error: {path}: {exc}"]
            for line in problems:
                say(line, err=True)
            rows.append((f"{path} (did not start: see above)", "error", EXIT_USAGE))
            continue
        rows += [(_run_label(path, o), _verdict_name(o), o.exit_code) for o in outcomes]
        if any(outcome.results.summary.interrupted for outcome in outcomes):
            rows += [(f"{rest} (interrupted before it started)", "not run", None) for rest in paths[index + 1 :]]
            break
    worst = api.worst_code([code for _, _, code in rows if code is not None])
    click.echo("")
    say("\n".join(_verdict_rows(rows, worst)))
    return worst


def _run_label(path: Path, outcome: RunOutcome) -> str:
    client = outcome.results.client
    return f"{path} --client {client}" if client != "reference" else str(path)


def _verdict_name(outcome: RunOutcome) -> str:
    return "interrupted" if outcome.results.summary.interrupted else outcome.results.summary.verdict


def _verdict_rows(rows: Sequence[tuple[str, str, int | None]], worst: int) -> list[str]:
    """One line per run, under the worst exit code: its verdict, its exit code, the spec."""
    width = max(len(verdict) for _, verdict, _ in rows)
    lines = [f"Verdicts ({len(rows)} spec run(s), worst exit {worst}):"]
    for label, verdict, code in rows:
        exit_code = f"exit {code}" if code is not None else ""
        lines.append(f"  {verdict:<{width}}  {exit_code:<9}{label}")
    return lines


def _show_outcomes(outcomes: Sequence[RunOutcome], quiet: bool, verbose: bool) -> None:
    """Each run's summary on stdout (--quiet: its verdict, notes and reports), escaped like `say`."""
    from engine.cli.console import quiet_lines, summary_lines

    colour = colour_enabled(sys.stdout)
    for outcome in outcomes:
        if quiet:
            lines = quiet_lines(outcome.results, outcome.written)
        else:
            lines = summary_lines(outcome.results, outcome.written, verbose=verbose)
        if outcome.results.baseline is not None:  # --baseline: what changed, before the report paths
            lines = _with_baseline_lines(lines, outcome)
        click.echo(shown_lines(lines, colour))


def _with_baseline_lines(lines: list[str], outcome: RunOutcome) -> list[str]:
    """The summary with 'Since the baseline:' and the comparison inserted before the report paths."""
    assert outcome.results.baseline is not None
    since = ["Since the baseline:", *(f"  {line}" for line in comparison_lines(outcome.results.baseline))]
    cut = lines.index("Reports:") if "Reports:" in lines else len(lines)
    return [*lines[:cut], *since, *lines[cut:]]


@main.command(name="plan")
@click.argument("spec", type=click.Path(path_type=Path))
@click.option("--target", default=None, help="Target from the spec's targets (default: sim).")
@click.option("--concurrency", default=api.DEFAULT_CONCURRENCY, show_default=True, type=click.IntRange(1, 64))
@selection_options
@limit_options
@VAR_OPTION
@ENV_FILE_OPTION
def plan_command(
    spec: Path,
    target: str | None,
    concurrency: int,
    tags: tuple[str, ...],
    only: tuple[str, ...],
    skip: tuple[str, ...],
    schedule: str | None,
    max_requests: int | None,
    max_tokens: int | None,
    rate: str | None,
    variables: dict[str, str],
    env_file: Path | None,
) -> None:
    """Print what a run would send, with secrets as references; send nothing (a dry run).

    \b
    Example:
      runbook plan specs/cometapi/chat-completions.yaml --target live --tags release
      runbook plan specs/cometapi/chat-completions.yaml --target live --env-file .env
    """
    from engine.cli.console import plan_lines

    limits = api.limits_from_options(max_requests, max_tokens, rate)
    selection = selection_of(tags, only, skip, schedule)
    environ = api.environ_with_env_file(env_file)
    the_plan, warnings = api.plan_with_warnings(spec, target, variables, selection, environ, limits=limits)
    for warning in warnings:
        say(str(warning), err=True)
    say("\n".join(plan_lines(the_plan, concurrency)))


@main.command()
@click.argument("results_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", default="reports", show_default=True, type=click.Path(path_type=Path))
@click.option("--format", "formats", default="html,md", show_default=True, callback=parse_formats)
def report(results_file: Path, out_dir: Path, formats: list[str]) -> None:
    """Re-render reports from a saved results JSON.

    \b
    Example:
      runbook report reports/cometapi-chat-completions.json --format html --out /tmp/reports
    """
    for path in api.rerender(results_file, out_dir, formats):
        say(str(path))


@main.command()
@click.argument("provider")
@click.option(
    "--out",
    "out_file",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the spec (default: specs/PROVIDER/chat-completions.yaml).",
)
@click.option("--base-url", default=None, help="The provider's API base URL (without /v1).")
@click.option("--model", default="gpt-4o-mini", show_default=True, help="The model id to test.")
@click.option("--docs", default=None, help="URL of the provider's chat-completions reference.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(provider: str, out_file: Path | None, base_url: str | None, model: str, docs: str | None, force: bool) -> None:
    """Write a new provider spec: it extends runbook's pack for PROVIDER when one ships
    (runbook specs lists them), else the shared OpenAI-compatible base. Works from any directory.

    \b
    Example:
      runbook init azure-openai --out my-azure.yaml
      runbook init mistral --base-url https://api.mistral.ai --model mistral-small-latest
      runbook validate specs/mistral/chat-completions.yaml
    """
    path = api.init_spec(provider, out_file, base_url=base_url, model=model, docs=docs, force=force)
    say(f"wrote {path}; next: runbook validate {path}")


@main.command(name="specs")
@click.option("--profiles", is_flag=True, help="List the simulator profiles instead, with the errors each answers.")
def specs_command(profiles: bool) -> None:
    """List the specs runbook ships: the shared base and the provider packs, by the name
    `extends:` takes (runbook:NAME), with their files.

    \b
    Example:
      runbook specs
      runbook init azure-openai --out my-azure.yaml      # extends runbook:providers/azure-openai
      runbook specs --profiles                           # the names `faults: [{provider_error: NAME}]` takes
    """
    if profiles:
        _show_profiles()
        return
    listed = api.shipped_specs()
    width = max((len(ref) for ref, _, _ in listed), default=0)
    for ref, path, title in listed:
        say(f"{ref:<{width}}  {title or '(no title)'}")
        say(f"{'':<{width}}  {path}")


def _show_profiles() -> None:
    for name, path, header, errors in api.simulator_profiles():
        say(f"{name}  (POST {path}, key in {header})")
        for error in errors:
            code = f" code {error.code}" if error.code else ""
            say(f"  {error.name:<26} {error.status}{code}  ({error.shape})")


@main.command()
@click.option(
    "--out",
    "out_file",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the schema to this file instead of printing it.",
)
def schema(out_file: Path | None) -> None:
    """Print the JSON Schema of the spec format (for editors and CI).

    \b
    Example:
      runbook schema --out specs/runbook-spec.schema.json
      # then start a spec with: # yaml-language-server: $schema=../runbook-spec.schema.json
    """
    text = api.spec_json_schema_text()
    if out_file is None:
        click.echo(text, nl=False)
    else:
        out_file.write_text(text, encoding="utf-8")
        say(str(out_file))


@main.command()
def plugins() -> None:
    """List the report formats, target kinds and client adapters, built in and from plugins.

    A plugin package registers entries under the entry point groups runbook.report_formats,
    runbook.target_kinds and runbook.client_adapters (see the README's "Extending runbook").

    \b
    Example:
      runbook plugins
    """
    for point, entries in api.extension_points().items():
        say(f"{point}:")
        for name, origin in entries:
            say(f"  {printable(name):<12} {printable(origin)}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8787, show_default=True, type=click.IntRange(0, 65535), help="0 picks a free port.")
@click.option("--key", "keys", multiple=True, help="Accepted bearer key (repeatable; default: one generated key).")
@click.option("--model", "models", multiple=True, help="Known model id (repeatable; default: a built-in list).")
@click.option("--context-tokens", type=click.IntRange(16), default=None, help="Simulated context window.")
@click.option(
    "--profile",
    type=click.Choice(api.PROFILE_NAMES),
    default="cometapi",
    show_default=True,
    help="Behave like this provider: its path, auth header and errors (runbook specs --profiles).",
)
@click.option(
    "--script",
    "script",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Serve this fault script instead: consecutive attempts get its answers (any key).",
)
@click.option(
    "--mode",
    default="normal",
    show_default=True,
    metavar="NAME",
    help="Start in this mode: normal, or one of the profile's errors that every request then gets "
    "(invalid_key, internal, ...); PUT /_runbook/mode switches it while it runs.",
)
@click.option(
    "--log",
    "log_path",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="With --script: append every attempt received, and when its answer ended, to this JSONL file.",
)
def sim(
    host: str,
    port: int,
    keys: tuple[str, ...],
    models: tuple[str, ...],
    context_tokens: int | None,
    profile: str,
    script: Path | None,
    mode: str,
    log_path: Path | None,
) -> None:
    """Serve the built-in CometAPI-compatible simulator (or a provider's profile) until Ctrl-C.

    \b
    Example:
      runbook sim --port 8787 --key sk-test
      curl -H 'Authorization: Bearer sk-test' -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}' \\
           http://127.0.0.1:8787/v1/chat/completions
      runbook sim --profile mistral --key sk-test               # Mistral's path and error bodies
      runbook sim --script faults.yaml --log attempts.jsonl     # your own client against scripted faults
      curl -X PUT -H 'Authorization: Bearer sk-test' -d '{"mode":"invalid_key"}' http://127.0.0.1:8787/_runbook/mode

    With --script, each call gets the script from its first step when it names itself with the
    base_url http://HOST:PORT/call/<id>/v1 or the header X-Runbook-Call: <id>; other requests share
    one sequence whose last step repeats.

    A mode other than normal answers every API request with that error of the profile (a revoked
    key, an outage), until PUT /_runbook/mode {"mode": "normal"}: what a watch should see and
    recover from. GET /_runbook/mode lists the modes; both take an accepted key.
    """
    if log_path is not None and script is None:
        raise click.UsageError(
            "--log needs --script: it logs the attempts a fault script is served to "
            "(runbook sim --script FAULTS.yaml --log ATTEMPTS.jsonl)"
        )
    if script is not None and mode != "normal":
        raise click.UsageError("--mode is for the simulator; a fault script says what each attempt gets")
    if script is not None and profile != "cometapi":
        raise click.UsageError("--profile is for the simulator; a fault script names its profile with `simulator:`")
    if script is not None:

        def script_ready(base_url: str) -> None:
            say(f"runbook fault simulator listening on {base_url}  (OpenAI SDK base_url: {base_url}/v1)")
            say(f"one call per id: base_url {base_url}/call/<id>/v1, or the header X-Runbook-Call: <id>")
            say(f"script: {script}" + (f"; attempts logged to {log_path}" if log_path else ""))
            say("Ctrl-C to stop")

        api.serve_fault_script(script, host, port, log_path, script_ready)
        return
    keys = keys or (f"sk-runbook-sim-{secrets.token_hex(12)}",)

    def ready(base_url: str) -> None:
        say(f"runbook simulator listening on {base_url}  (OpenAI SDK base_url: {base_url}/v1)")
        say(f"accepted key(s): {', '.join(keys)}")
        say(f'mode: {mode}; switch it with PUT {base_url}/_runbook/mode {{"mode": NAME}} (GET lists the modes)')
        say("Ctrl-C to stop")

    api.serve_simulator(
        host, port, keys, ready, models=models or None, context_tokens=context_tokens, profile=profile, mode=mode
    )


main.add_command(diff)  # runbook diff OLD.json NEW.json (engine/cli/compare.py)
