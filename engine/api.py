"""The library surface the CLI (and any other caller) uses: the only place the stages meet.

load_spec -> build_plan -> execute_plan -> evaluate -> assemble -> write_reports

Importing this module imports engine.core only: each function imports the stages it uses, and
the names offered here from the stages load on first use (`__getattr__`). So `runbook --help`
imports no stage, and `runbook validate` only the load stage, never what runs, judges and renders
(httpx's transports, the simulator's starlette and uvicorn, the reports).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import json
import os
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from engine.core.errors import EngineError, Problem, RunbookError, SpecError, UsageError, first_line
from engine.core.providers import PROFILE_NAMES as PROFILE_NAMES
from engine.core.providers import PROFILES
from engine.core.redact import printable, scrub, scrub_tree

if TYPE_CHECKING:
    from engine.judge.baselines import diff_results as diff_results
    from engine.judge.baselines import read_results as read_results
    from engine.judge.baselines import with_baseline as with_baseline
    from engine.judge.results import CheckResult, CheckStatus, Results
    from engine.judge.results import Comparison as Comparison
    from engine.load.discover import spec_files as spec_files
    from engine.load.loader import LoadedSpec
    from engine.load.loader import load_fault_script as load_fault_script
    from engine.load.templating import scalar_from_text as scalar_from_text
    from engine.monitor.docs_check import DocsCheck
    from engine.monitor.history import History
    from engine.monitor.metrics import RunMetrics
    from engine.monitor.trend import Trend
    from engine.monitor.watch import Allowance, RunReport, WatchHealth
    from engine.plan.build import Plan
    from engine.plan.select import Selection as Selection
    from engine.report import FORMATS as FORMATS
    from engine.report import available_formats as available_formats
    from engine.report import write_reports as write_reports
    from engine.run.drills import DrillRun as DrillRun
    from engine.run.executor import OnFinished, StepOutcome
    from engine.run.interrupt import Aborted as Aborted
    from engine.run.interrupt import exit_code as interrupt_exit_code
    from engine.spec.models import Limits
    from engine.spec.scaffold import init_spec as init_spec
    from engine.spec.schema import spec_json_schema_text as spec_json_schema_text

__all__ = [
    "EXIT_CODES",
    "FORMATS",
    "Aborted",
    "Comparison",
    "DrillRun",
    "ProgressEvent",
    "RunOutcome",
    "Selection",
    "allow_bases",
    "available_formats",
    "check_formats",
    "check_runs",
    "diff_results",
    "environ_with_env_file",
    "exit_code_for",
    "extension_points",
    "init_spec",
    "interrupt_exit_code",
    "limits_from_options",
    "load",
    "load_checked",
    "plan",
    "plan_with_warnings",
    "printable",
    "read_results",
    "report_name",
    "rerender",
    "run",
    "run_clients",
    "scalar_from_text",
    "serve_fault_script",
    "serve_simulator",
    "shipped_specs",
    "spec_files",
    "spec_json_schema_text",
    "validate_specs",
    "with_baseline",
    "worst_code",
    "worst_exit_code",
    "write_reports",
]


@dataclass(frozen=True)
class RunOutcome:
    results: Results
    written: list[Path]
    exit_code: int
    warnings: tuple[Problem, ...] = ()  # lint warnings of the spec (errors stop the run before it starts)
    notices: tuple[str, ...] = ()  # what went wrong around the run without touching its verdict


@dataclass(frozen=True)
class ProgressEvent:
    """A check or drill that has just finished, judged for display only: the run's results come from
    judging the whole run once it ends, and stay the record."""

    kind: Literal["check", "drill"]
    id: str  # the check's or drill's id (a drill's without its `drill:` prefix)
    status: CheckStatus
    done: int  # checks and drills finished so far in this run, this one included ...
    total: int  # ... of the selected ones
    failures_so_far: int  # failed or errored, this one included
    detail: str = ""  # what was seen, in a few words: "401 3ms", "3x → success", a reason (secrets scrubbed)
    client: str | None = None  # a drill of a client under test: the client's name


Progress = Callable[[ProgressEvent], None]

# Checks in flight at once unless --concurrency says otherwise: enough to overlap the waiting on
# loopback and on a provider, few enough to stay far under a provider's rate limits. Results are
# kept in the spec's order whatever the concurrency, and each check keeps its own deadline.
DEFAULT_CONCURRENCY = 4

EXIT_CODES = {"ready": 0, "not_ready": 1, "not_verified": 4, "partial": 4}
_REFERENCE_CLIENT = "reference"  # the default client: engine.spec.models.REFERENCE_CLIENT, runbook's own

_ON_FIRST_USE = {  # name offered here -> (module, name there), imported when first asked for
    "Aborted": ("engine.run.interrupt", "Aborted"),
    "Comparison": ("engine.judge.results", "Comparison"),
    "DrillRun": ("engine.run.drills", "DrillRun"),
    "FORMATS": ("engine.report", "FORMATS"),
    "Selection": ("engine.plan.select", "Selection"),
    "available_formats": ("engine.report", "available_formats"),
    "diff_results": ("engine.judge.baselines", "diff_results"),
    "init_spec": ("engine.spec.scaffold", "init_spec"),
    "interrupt_exit_code": ("engine.run.interrupt", "exit_code"),
    "load_fault_script": ("engine.load.loader", "load_fault_script"),
    "read_results": ("engine.judge.baselines", "read_results"),
    "scalar_from_text": ("engine.load.templating", "scalar_from_text"),
    "spec_files": ("engine.load.discover", "spec_files"),
    "spec_json_schema_text": ("engine.spec.schema", "spec_json_schema_text"),
    "with_baseline": ("engine.judge.baselines", "with_baseline"),
    "write_reports": ("engine.report", "write_reports"),
}


def __getattr__(name: str) -> object:
    """The names of later stages (see _ON_FIRST_USE), imported on first use and kept."""
    if name not in _ON_FIRST_USE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attribute = _ON_FIRST_USE[name]
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


def extension_points() -> dict[str, list[tuple[str, str]]]:
    """Each extension point's entries: (name, "built-in" or the plugin's module:attribute)."""
    from engine.core.registry import EXTENSION_POINTS

    return {point: registry.origins() for point, registry in EXTENSION_POINTS.items()}


def limits_from_options(
    max_requests: int | None = None, max_tokens: int | None = None, rate: str | None = None
) -> Limits:
    """The command line's caps (--max-requests, --max-tokens, --rate), checked like the spec's."""
    from pydantic import ValidationError

    from engine.spec.models import Limits

    given = {"max_requests": max_requests, "max_requested_tokens": max_tokens, "rate": rate}
    try:
        return Limits.model_validate({key: value for key, value in given.items() if value is not None})
    except ValidationError as exc:
        message = "; ".join(str(error["msg"]).removeprefix("Value error, ") for error in exc.errors())
        raise UsageError(f"invalid limit: {message}") from None


@dataclass(frozen=True)
class ProfileError:
    name: str
    status: int
    code: str
    shape: str


def simulator_profiles() -> list[tuple[str, str, str, list[ProfileError]]]:
    """Every simulator profile: (name, chat path with its required query, auth header, the errors it answers
    by name)."""
    listed = []
    for profile in PROFILES.values():
        errors = []
        for name in profile.situations:
            error = profile.error(name)
            code = "" if error.code is None else str(error.code)
            errors.append(ProfileError(name, error.status, code, profile.shape_of(error)))
        query = "&".join(f"{name}=..." for name in profile.required_query)
        path = f"{profile.chat_path}?{query}" if query else profile.chat_path
        listed.append((profile.name, path, profile.auth_header, errors))
    return listed


def shipped_specs() -> list[tuple[str, Path, str]]:
    """What runbook ships, for `extends: runbook:NAME`: (the name, its file, its title)."""
    from engine.load.yaml_tree import read_yaml
    from engine.spec.shipped import catalogue

    listed = []
    for spec in catalogue():
        try:
            data, _ = read_yaml(spec.path, str(spec.path))
        except SpecError:
            data = {}
        title = data.get("title", "") if isinstance(data, dict) else ""
        listed.append((spec.ref, spec.path, str(title)))
    return listed


def allow_bases(folders: Sequence[Path]) -> None:
    """Let `extends:` read bases from these folders too, in this process (--allow-bases): they join
    the folders RUNBOOK_ALLOW_BASES already lists."""
    if not folders:
        return
    from engine.load.extends import ALLOW_BASES_VARIABLE

    listed = [p for p in os.environ.get(ALLOW_BASES_VARIABLE, "").split(os.pathsep) if p.strip()]
    os.environ[ALLOW_BASES_VARIABLE] = os.pathsep.join([*listed, *(str(Path(f).resolve()) for f in folders)])


def check_formats(formats: Sequence[str]) -> None:
    """Every requested report format is installed, loads and can be written (UsageError if not)."""
    from engine.report import resolve_formats

    try:
        resolve_formats(formats)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def environ_with_env_file(env_file: Path | None) -> Mapping[str, str] | None:
    """`--env-file`: the process environment with the file's KEY=VALUE lines laid over it, for one
    command (pass it as `environ`); None without a file. Nothing is written to os.environ or the file."""
    if env_file is None:
        return None
    from engine.load.envfile import read_env_file

    return {**os.environ, **read_env_file(Path(env_file))}


def validate_specs(
    paths: Sequence[Path], variables: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> list[Problem]:
    """Every problem in every file, lint findings included (errors and warnings)."""
    from engine.load.lint import lint_spec
    from engine.load.loader import load_spec

    problems: list[Problem] = []
    for path in paths:
        try:
            problems += lint_spec(load_spec(Path(path), variables, environ))
        except SpecError as exc:
            problems += exc.problems
    return problems


def load(
    path: Path, variables: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> LoadedSpec:
    from engine.load.loader import load_spec

    return load_spec(Path(path), variables, environ)


def load_checked(
    path: Path, variables: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> tuple[LoadedSpec, tuple[Problem, ...]]:
    """A spec that `validate` accepts, and its lint warnings; lint errors raise SpecError like any other."""
    from engine.load.lint import lint_spec

    loaded = load(path, variables, environ)
    findings = lint_spec(loaded)
    errors = [p for p in findings if p.severity == "error"]
    if errors:
        raise SpecError(findings)
    return loaded, tuple(findings)


def plan(
    path: Path,
    target: str | None = None,
    variables: Mapping[str, Any] | None = None,
    selection: Selection | None = None,
    environ: Mapping[str, str] | None = None,
) -> Plan:
    return plan_with_warnings(path, target, variables, selection, environ)[0]


def plan_with_warnings(
    path: Path,
    target: str | None = None,
    variables: Mapping[str, Any] | None = None,
    selection: Selection | None = None,
    environ: Mapping[str, str] | None = None,
    limits: Limits | None = None,
) -> tuple[Plan, tuple[Problem, ...]]:
    """The plan of a spec that `validate` accepts, and the spec's lint warnings."""
    loaded, warnings = load_checked(path, variables, environ)
    the_plan = _build_plan(loaded, target, selection, _REFERENCE_CLIENT, limits)
    return the_plan, warnings + route_warnings(loaded, the_plan)


def _build_plan(
    loaded: LoadedSpec, target: str | None, selection: Selection | None, client: str, limits: Limits | None
) -> Plan:
    """build_plan, with every check selected and no caps beyond the spec's when selection or limits is None."""
    from engine.plan.build import build_plan
    from engine.plan.select import Selection
    from engine.spec.models import Limits

    selection = Selection() if selection is None else selection
    return build_plan(loaded, target, selection, client, Limits() if limits is None else limits)


def route_warnings(loaded: LoadedSpec, the_plan: Plan) -> tuple[Problem, ...]:
    """A warning, located at the target's base_url, when the secret goes to a host the spec chose."""
    route = the_plan.secret_route
    message = route.warning() if route else None
    if route is None or message is None:
        return ()
    return (Problem(loaded.source.locate(route.field), ".".join(route.field), message, severity="warning"),)


def run(
    path: Path,
    target: str | None = None,
    variables: Mapping[str, Any] | None = None,
    out_dir: Path | None = Path("reports"),
    formats: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    selection: Selection | None = None,
    update_fixtures: bool = False,
    client: str = _REFERENCE_CLIENT,
    progress: Progress | None = None,
    limits: Limits | None = None,
    baseline: Path | None = None,
    interruptible: bool = True,
    history_url: str | None = None,
) -> RunOutcome:
    """Load, plan, execute (checks against the target, drills on the fault simulator), evaluate and
    render one spec; write reports unless out_dir is None.

    With update_fixtures, the observed response shapes are written as the spec's fixtures; that run
    reports them as `updated` and does not count them as checked in. SIGINT/SIGTERM stop the run
    cleanly: what finished is judged and written, marked interrupted. `client` names the client the
    drills exercise: runbook's reference client, or one of the spec's `clients` (run as a command).
    `limits` tightens the spec's caps on what the run may send (see engine.run.budget). `progress`
    is told of each check and drill as it finishes (a ProgressEvent). With `baseline` (an earlier
    results JSON), the results and reports say what changed since it. `formats` defaults to FORMATS.
    With `interruptible` False the run leaves SIGINT/SIGTERM to its caller (runbook watch ends after
    the current run). With `history_url`, the results are also recorded in that run history.
    """
    from engine.judge.assemble import assemble
    from engine.judge.baselines import check_same_spec_name, read_results, with_comparison
    from engine.judge.checks import evaluate
    from engine.judge.drills import drill_passed
    from engine.judge.results import Results
    from engine.report import FORMATS, write_reports
    from engine.report.fixtures import write_fixtures
    from engine.run.executor import execute_plan, new_invalid_token
    from engine.run.interrupt import Interruption
    from engine.run.targets import target_endpoint

    environ = os.environ if environ is None else environ
    formats = FORMATS if formats is None else formats
    check_formats(formats)
    in_folder = baseline is not None and Path(baseline).is_dir()  # a folder: this run's own report in it
    earlier = read_results(baseline) if baseline is not None and not in_folder else None  # said before sending
    loaded, warnings = load_checked(path, variables, environ)
    if earlier is not None and baseline is not None:
        check_same_spec_name(earlier.spec.name, loaded.spec.name, str(baseline))
    the_plan = _build_plan(loaded, target, selection, client, limits)
    if in_folder and baseline is not None:
        baseline, earlier = _baseline_in(baseline, the_plan)
    warnings += route_warnings(loaded, the_plan)
    invalid_token = new_invalid_token()
    with Interruption(install=interruptible) as interruption:
        with target_endpoint(the_plan, environ) as started:
            secrets = started.secrets
            scrubbed = (*secrets.values(), *_secret_values(the_plan, environ), invalid_token)
            base_url = started.base_url.rstrip("/")
            on_finished = _judged(progress, the_plan, base_url, update_fixtures, scrubbed) if progress else None
            record = execute_plan(
                the_plan,
                started.base_url,
                secrets,
                concurrency,
                invalid_token,
                conclusive=lambda drill: drill_passed(drill, the_plan.spec),
                interruption=interruption,
                progress=on_finished,
            )
        if interruption.signal and not record.interrupted:  # stopped while the simulator was shutting down
            record = dataclasses.replace(record, interrupted=interruption.name)
        evaluation = evaluate(record, _command_options(variables, client), update_fixtures)
        write_fixtures((path, scrub_tree(fixture, scrubbed)) for path, fixture in evaluation.refreshed)
        document = scrub_tree(assemble(record, evaluation).to_json_dict(), scrubbed)
        if earlier is not None:
            document = with_comparison(document, earlier, str(baseline))
        results = Results.model_validate(document)
        written = write_reports(document, out_dir, report_name(the_plan), formats, supersede=True) if out_dir else []
        notices = append_step_summary(document, environ)
        if history_url:
            record_history(history_url, results)
    if started.cleanup_problems:  # the reports are written; then the plugin's failure is said
        raise EngineError("; ".join(started.cleanup_problems) + f" (reports written: {len(written)} file(s))")
    return RunOutcome(results, written, exit_code_for(results), warnings, notices)


def _secret_values(the_plan: Plan, environ: Mapping[str, str]) -> tuple[str, ...]:
    """What every variable the spec declares `secret: true` holds in this run's environment (an env
    file's values included): scrubbed like the target's own secrets, whichever target runs."""
    spec = the_plan.spec
    names = {spec.contract.auth.secret, *(name for name, declared in spec.env.items() if declared.secret)}
    return tuple(environ[name] for name in sorted(names) if environ.get(name))


def _baseline_in(folder: Path, the_plan: Plan) -> tuple[Path, Results]:
    """`--baseline FOLDER`: the results JSON an earlier run of this spec (and client) wrote there."""
    from engine.judge.baselines import check_same_spec_name, read_results

    path = Path(folder) / f"{report_name(the_plan)}.json"
    earlier = read_results(path)
    check_same_spec_name(earlier.spec.name, the_plan.spec.name, str(path))
    return path, earlier


def append_step_summary(document: dict[str, Any], environ: Mapping[str, str]) -> tuple[str, ...]:
    """In GitHub Actions (GITHUB_STEP_SUMMARY names a file), append the run's Markdown summary.
    A file that cannot be written is a notice, not a failure: the verdict stands."""
    from engine.report import render_markdown

    target = environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return ()
    try:
        with open(target, "a", encoding="utf-8") as summary:
            summary.write(render_markdown(document) + "\n")
    except OSError as exc:
        return (f"could not append the summary to GITHUB_STEP_SUMMARY ({target}): {exc.strerror or exc}",)
    return ()


def _judged(
    progress: Progress, the_plan: Plan, base_url: str, updated_fixtures: bool, secrets: Sequence[str]
) -> OnFinished:
    """The run stage's "this finished" as a ProgressEvent: that one check or drill judged as evaluate()
    judges it (which judges the whole run again at the end)."""
    from engine.judge.checks import judge_check
    from engine.judge.client_drills import judge_client_drill
    from engine.judge.drills import judge_drill
    from engine.run.drills import DrillRun
    from engine.run.executor import StepOutcome

    spec, failures = the_plan.spec, 0

    def judged(item: StepOutcome | DrillRun, done: int, total: int) -> None:
        nonlocal failures
        kind: Literal["check", "drill"] = "check" if isinstance(item, StepOutcome) else "drill"
        if isinstance(item, StepOutcome):
            result = judge_check(item, spec, base_url, the_plan.target.alias, updated_fixtures)
        else:
            result = (judge_client_drill if item.client_calls else judge_drill)(item, spec)
        failures += result.status in ("failed", "error")
        client = item.client if isinstance(item, DrillRun) and item.client_calls else None
        detail = scrub(_seen(item, result), secrets)
        item_id = result.id.removeprefix("drill:")
        progress(ProgressEvent(kind, item_id, result.status, done, total, failures, detail, client))

    return judged


def _seen(item: StepOutcome | DrillRun, result: CheckResult) -> str:
    """A few words on what a finished check or drill saw (the console's summary line says the same)."""
    from engine.run.drills import DrillRun
    from engine.run.executor import StepOutcome

    if isinstance(item, DrillRun) and item.client_calls:
        seconds = max(c.ended - c.started for c in item.client_calls)
        return f"client {item.client}: {len(item.client_calls)} call(s), {seconds:.1f}s"
    if isinstance(item, DrillRun) and item.calls:
        last = item.calls[-1]
        return f"{sum(a.target == 'primary' for a in last.attempts)}x → {last.outcome}"
    seen = result.observed
    if isinstance(item, StepOutcome) and seen is not None:
        return f"{seen.status if seen.status is not None else seen.transport_error or '?'} {seen.elapsed_ms:.0f}ms"
    return result.reason or ""


def run_clients(path: Path, clients: str = _REFERENCE_CLIENT, **options: Any) -> list[RunOutcome]:
    """`--client NAME` runs one client; `--client all` runs the reference client and each declared one in turn."""
    from engine.plan.build import client_names

    names = (
        client_names(load(path, options.get("variables"), options.get("environ")).spec)
        if clients == "all"
        else [clients]
    )
    outcomes: list[RunOutcome] = []
    for name in names:
        outcomes.append(run(path, client=name, **options))
        if outcomes[-1].results.summary.interrupted:
            break
    return outcomes


def worst_exit_code(outcomes: Sequence[RunOutcome]) -> int:
    """One exit code for several runs: interrupted, then not ready, then not verified, else ready."""
    codes = [outcome.exit_code for outcome in outcomes]
    for code in (*sorted({c for c in codes if c >= 128}), EXIT_CODES["not_ready"], EXIT_CODES["not_verified"]):
        if code in codes:
            return code
    return EXIT_CODES["ready"]


def worst_code(codes: Sequence[int]) -> int:
    """One exit code for several specs: interrupted, then a spec that could not run (2), then not
    ready, then not verified, else ready."""
    for code in (*sorted({c for c in codes if c >= 128}), 2, EXIT_CODES["not_ready"], EXIT_CODES["not_verified"]):
        if code in codes:
            return code
    return EXIT_CODES["ready"]


def check_runs(
    paths: Sequence[Path],
    client: str = _REFERENCE_CLIENT,
    *,
    target: str | None = None,
    variables: Mapping[str, Any] | None = None,
    selection: Selection | None = None,
    limits: Limits | None = None,
    baseline: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[str]:
    """Before several specs run, what would stop one of them, so that none starts: the problems of every
    invalid spec are raised together (SpecError); then what the options ask of a spec that it lacks (a
    target, a client, an id or tag of the selection, its report in a --baseline folder) are returned,
    one message per spec, naming its file. Nothing is sent."""
    from engine.plan.build import client_names

    problems: list[Problem] = []
    usage = []
    if baseline is not None and not Path(baseline).is_dir() and len(paths) > 1:
        usage.append(f"--baseline {baseline} holds one run; for several specs, name the folder an earlier run wrote")
    for path in paths:
        try:
            loaded, _ = load_checked(path, variables, environ)
        except SpecError as exc:
            problems += exc.problems
            continue
        try:
            for name in client_names(loaded.spec) if client == "all" else [client]:
                the_plan = _build_plan(loaded, target, selection, name, limits)
                if baseline is not None and Path(baseline).is_dir():
                    _baseline_in(baseline, the_plan)
        except UsageError as exc:
            usage.append(f"{path}: {exc}")
    if problems:
        raise SpecError(problems)
    return usage


def report_name(the_plan: Plan) -> str:
    """Reports are named after the spec, and after the client when it is not the reference client."""
    client = the_plan.client
    return the_plan.spec.name if client.is_reference else f"{the_plan.spec.name}.{client.name}"


def _command_options(variables: Mapping[str, Any] | None, client: str) -> str:
    """The run's --client and --var options, repeated in the commands the report suggests."""
    chosen = "" if client == _REFERENCE_CLIENT else f" --client {shlex.quote(client)}"
    return chosen + "".join(f" --var {shlex.quote(f'{key}={value}')}" for key, value in (variables or {}).items())


def rerender(results_file: Path, out_dir: Path, formats: Sequence[str]) -> list[Path]:
    """Render reports again from a saved results JSON (validated first)."""
    from engine.judge.results import Results
    from engine.report import write_reports

    try:
        document = json.loads(Path(results_file).read_text(encoding="utf-8"))
        results = Results.model_validate(document)
    except (OSError, ValueError) as exc:
        raise UsageError(f"{results_file}: not a runbook results JSON file ({first_line(exc)})") from None
    try:
        return write_reports(results.to_json_dict(), out_dir, results.spec.name, formats)
    except ValueError as exc:
        raise UsageError(f"{results_file}: {exc}") from None


def exit_code_for(results: Results) -> int:
    """0 ready · 1 not ready · 4 not verified or partial · 130/143 interrupted by SIGINT/SIGTERM."""
    from engine.run.interrupt import exit_code

    if results.summary.interrupted:
        return exit_code(results.summary.interrupted)
    return EXIT_CODES[results.summary.verdict]


def serve_fault_script(
    script: Path, host: str, port: int, log_path: Path | None, on_ready: Callable[[str], None]
) -> None:
    """Serve a fault script (runbook sim --script) until interrupted, logging attempts as JSONL."""
    from engine.core.loopback import loopback_address
    from engine.load.loader import load_fault_script
    from engine.run.drills import fault_steps
    from engine.sim.standalone import open_log, serve_script

    loaded = load_fault_script(Path(script))
    try:
        host = loopback_address(host, "the fault simulator")
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    try:
        log = open_log(log_path)
    except OSError as exc:
        raise UsageError(f"cannot write the attempt log {log_path}: {exc.strerror or exc}") from None
    try:
        serve_script(fault_steps(loaded.faults, loaded.time_scale, loaded.simulator), host, port, log, on_ready)
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    finally:
        if log is not None:
            log.close()


def serve_simulator(
    host: str,
    port: int,
    keys: Sequence[str],
    on_ready: Callable[[str], None],
    models: Sequence[str] | None = None,
    context_tokens: int | None = None,
    profile: str = "cometapi",
    mode: str = "normal",
) -> None:
    """Serve the built-in simulator until interrupted, behaving as `profile`'s provider, starting in
    `mode` (normal, or an error every API request gets: engine/sim/modes.py)."""
    from engine.sim import DEFAULT_MODELS, SimConfig, serve_forever

    try:
        models = tuple(models or DEFAULT_MODELS)
        config = SimConfig(keys=tuple(keys), models=models, profile=PROFILES[profile], mode=mode)
        if context_tokens:
            config = dataclasses.replace(config, context_tokens=context_tokens)
        serve_forever(config, host=host, port=port, on_ready=on_ready)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


# --- monitoring: runbook watch, history, alerts, docs-check (engine.monitor) -------------------------


def watch(
    path: Path,
    every: float | None = None,
    runs: int | None = None,
    jitter: float = 0.1,
    max_requests_per_hour: int | None = None,
    max_tokens_per_hour: int | None = None,
    history_url: str | None = None,
    metrics_port: int | None = None,
    say: Callable[[str], None] = lambda _line: None,
    **run_options: Any,
) -> WatchHealth:
    """Run `path` again and again (engine.monitor.watch) until a signal or `runs` runs: each run a
    normal `run` (`run_options` as run takes them), recorded in `history_url` and shown on the
    metrics port when given. `every` (seconds) defaults to the selected schedule's `every:`."""
    from engine.monitor.watch import Watch, WatchOutput, WatchSettings, interval_of, stopped_by_signals

    loaded, _warnings = load_checked(path, run_options.get("variables"), run_options.get("environ") or os.environ)
    selection = run_options.get("selection")
    interval = interval_of(loaded.spec, selection.schedule if selection else None, every)
    settings = WatchSettings(interval, jitter, runs, max_requests_per_hour, max_tokens_per_hour)
    with contextlib.ExitStack() as stack:
        history = stack.enter_context(open_history(history_url)) if history_url else None
        metrics = _watch_metrics(metrics_port, loaded.spec.name, interval, stack, say)
        output = WatchOutput(metrics, say)
        the_watch = Watch(settings, _watch_run(path, run_options, history, metrics), output.health, output.skipped)
        with stopped_by_signals(the_watch, say):
            return the_watch.loop()


def _watch_metrics(
    port: int | None, spec: str, interval: float, stack: contextlib.ExitStack, say: Callable[[str], None]
) -> RunMetrics | None:
    if port is None:
        return None
    from engine.monitor.metrics import RunMetrics

    metrics = RunMetrics(spec, interval)
    try:
        server = stack.enter_context(metrics.serve(port))
    except OSError as exc:
        raise UsageError(f"cannot serve metrics on port {port}: {exc.strerror or exc}") from None
    say(f"metrics: {server.url}")
    return metrics


def _watch_run(
    path: Path, options: dict[str, Any], history: History | None, metrics: RunMetrics | None
) -> Callable[[Allowance], RunReport]:
    from engine.monitor.watch import RunReport, report_of

    def run_once(allowance: Allowance) -> RunReport:
        limits = (options.get("limits") or limits_from_options()).tightened(
            limits_from_options(allowance.max_requests, allowance.max_tokens)
        )
        try:
            outcome = run(path, **{**options, "limits": limits, "interruptible": False})
        except RunbookError as exc:
            return RunReport(failed=True, summary=f"the run could not be done: {first_line(exc)}")
        return report_of(outcome.results, history, metrics)

    return run_once


def open_history(url: str) -> History:
    """The run history at `url` (sqlite:///FILE or postgresql://...); UsageError if it cannot be opened."""
    from engine.monitor.history import HistoryError
    from engine.monitor.history import open_history as opened

    try:
        return opened(url)
    except HistoryError as exc:
        raise UsageError(str(exc)) from None


def record_history(url: str, results: Results) -> int:
    """Record one run's results in the history at `url`; the run's id there."""
    with open_history(url) as history:
        return history.record(results)


def history_trend(url: str, spec: str, since: timedelta | None = None) -> Trend:
    """The trend of spec `spec` (a spec file, or a spec's name) in the history at `url`."""
    from engine.monitor.trend import trend

    name = _spec_name(spec)
    now = datetime.now(UTC)
    with open_history(url) as history:
        return trend(history, name, now - since if since else None, now)


def prune_history(url: str, spec: str, older_than: timedelta) -> int:
    """Delete the runs of spec `spec` (a file or a name) older than `older_than` from the history; how many."""
    with open_history(url) as history:
        return history.prune(_spec_name(spec), datetime.now(UTC) - older_than)


def _spec_name(spec: str) -> str:
    """A spec file's spec name; anything else is taken as the name itself."""
    return load(Path(spec)).spec.name if Path(spec).is_file() else spec


def trend_text(found: Trend) -> str:
    from engine.monitor.trend import trend_text as text_of

    return text_of(found)


def trend_html(found: Trend) -> str:
    from engine.monitor.trend import trend_html as page_of

    return page_of(found)


def alert_rules(path: Path, for_seconds: float | None = None) -> str:
    """Prometheus alerting rules from the spec's classification table (engine.monitor.alerts); with
    `for_seconds`, a failure must last that long before its alert fires."""
    from engine.monitor.alerts import alert_rules as rules_of

    return rules_of(load_checked(path)[0].spec, for_seconds)


def docs_check(path: Path, record: bool = False) -> DocsCheck:
    """Compare the spec's `contract.docs` page with its recorded digest (engine.monitor.docs_check);
    with `record`, store the page's digest now."""
    from engine.monitor.docs_check import DIGEST_FILE
    from engine.monitor.docs_check import docs_check as checked

    spec = load_checked(path)[0].spec
    return checked(str(spec.contract.docs), Path(path).parent / spec.fixtures_dir / DIGEST_FILE, record)
