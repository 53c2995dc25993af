"""Load a spec: YAML with positions -> templates rendered -> pydantic models -> cross-checks.

`load_spec` is the stage's one entry point. Every problem found is collected and raised together
as one SpecError whose problems carry file:line:col.
"""

from __future__ import annotations

import difflib
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from engine.core.errors import Problem, SpecError
from engine.load.extends import read_spec_tree
from engine.load.fixtures import GitState, fixture_path, git_states, read_fixture
from engine.load.pydantic_errors import describe_error
from engine.load.semantics import check_document, provider_errors_exist
from engine.load.templating import Environ, TemplateProblem, render_tree, spec_budget
from engine.load.yaml_tree import PathKey, SourceMap, collector_paused, dotted, read_yaml
from engine.spec.models import FaultScript, Spec
from engine.spec.targets import TARGET_MODELS, PluginTarget, settings_model


@dataclass(frozen=True)
class StoredFixture:
    """A check's fixture as found before the run: its document (None: none yet) and its git state."""

    document: dict[str, Any] | None
    path: str
    git: GitState | None = None  # None: not in git


@dataclass(frozen=True, repr=False)
class EnvironmentUse:
    """What loading read from the environment. `read` keeps the values templates read (None: unset)
    so the plan can tell where a host came from; they are never written anywhere."""

    read: Mapping[str, str | None] = field(default_factory=dict)
    present: Mapping[str, bool] = field(default_factory=dict)  # every declared name: is it set?
    command_line: Mapping[str, Any] = field(default_factory=dict)  # the --var values given

    def __repr__(self) -> str:
        return f"EnvironmentUse(read={sorted(self.read)})"


@dataclass(frozen=True)
class LoadedSpec:
    spec: Spec
    path: Path
    source: SourceMap
    fixtures: dict[str, StoredFixture] = field(default_factory=dict)  # check id -> its fixture
    environment: EnvironmentUse = field(default_factory=EnvironmentUse)
    files: tuple[tuple[str, str], ...] = ()  # (path as shown, sha256) of the spec and each base it extends


def load_spec(
    path: Path,
    variables: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> LoadedSpec:
    """Read, render and validate one spec file; raise SpecError listing every problem."""
    with collector_paused():  # a load builds many objects and no garbage cycles worth collecting
        return _load_spec(path, variables, environ)


def _load_spec(path: Path, variables: Mapping[str, Any] | None, environ: Mapping[str, str] | None) -> LoadedSpec:
    data, source = read_spec_tree(path, _display_path, environ)
    if not isinstance(data, dict):
        raise SpecError([Problem(source.locate(()), "", "a spec is a YAML mapping (key: value) at the top level")])
    with spec_budget():  # one output and loop budget for all of this spec's templates
        rendered, problems, environment = _render(data, dict(variables or {}), environ, source)
    spec = _validate(rendered, source, problems)
    fixtures = _stored_fixtures(spec, path, source)
    return LoadedSpec(
        spec=spec, path=path, source=source, fixtures=fixtures, environment=environment, files=_file_hashes(source)
    )


def _file_hashes(source: SourceMap) -> tuple[tuple[str, str], ...]:
    """The spec file first, then each base in the order its values were first met."""
    files = dict.fromkeys([source.file, *(position[0] for position in source.values.values())])
    hashes = []
    for name in files:
        try:
            hashes.append((name, hashlib.sha256(Path(name).read_bytes()).hexdigest()))
        except OSError:  # read a moment ago; gone now: say so rather than guess
            hashes.append((name, "unreadable"))
    return tuple(hashes)


def _stored_fixtures(spec: Spec, path: Path, source: SourceMap) -> dict[str, StoredFixture]:
    locations = {
        check.id: fixture_path(path, spec.fixtures_dir, check.fixture) for check in spec.checks if check.fixture
    }
    states = git_states(path.parent, list(locations.values()))
    stored, problems = {}, []
    for index, check in enumerate(spec.checks):
        if check.id not in locations:
            continue
        location = locations[check.id]
        try:
            document = read_fixture(location)
        except (OSError, ValueError) as exc:
            problems.append(
                Problem(
                    source.locate(("checks", index, "fixture")),
                    f"checks[{index}].fixture",
                    f"fixture {location} cannot be read: {exc}",
                )
            )
            continue
        stored[check.id] = StoredFixture(document, _display_path(location), states.get(location))
    if problems:
        raise SpecError(problems)
    return stored


def _display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _render(
    data: dict[str, Any], variables: dict[str, Any], environ: Mapping[str, str] | None, source: SourceMap
) -> tuple[dict[str, Any], list[Problem], EnvironmentUse]:
    secret, secret_problem = _auth_secret(data)
    if secret_problem:  # nothing may render before we know which names are secret
        where = ("contract", "auth", "secret") if "template" in secret_problem else ("contract", "auth")
        raise SpecError([Problem(source.locate(where), dotted(where), secret_problem)])
    declared = _declared_env(data)
    problems = _undeclared_secret(declared, secret, source)
    if secret:
        declared[secret] = True  # never readable in templates, declared or not
    env = Environ(declared, environ)
    found: list[TemplateProblem] = []
    raw_vars = data.get("vars")
    spec_vars, vars_problems = render_tree(raw_vars if isinstance(raw_vars, dict) else {}, {"env": env}, ("vars",))
    found += vars_problems
    problems += _undeclared_variables(variables, raw_vars, source)
    merged_vars = {**spec_vars, **variables}
    context: dict[str, Any] = {"vars": merged_vars, "env": env}
    contract, contract_problems = render_tree(data.get("contract"), context, ("contract",))
    found += contract_problems
    context["contract"] = contract if isinstance(contract, dict) else {}
    literal = ("vars", "contract", "env")  # `env:` itself is never rendered: it says what may be read
    rest = {key: value for key, value in data.items() if key not in literal}
    rendered_rest, rest_problems = render_tree(rest, context)
    found += rest_problems
    rendered = {
        **rendered_rest,
        "vars": merged_vars if isinstance(raw_vars, (dict, type(None))) else raw_vars,
        "contract": contract,
        **({"env": data["env"]} if "env" in data else {}),
    }
    if "contract" not in data:
        del rendered["contract"]
    problems += [Problem(source.locate(p.path), dotted(p.path), p.message) for p in found]
    source_env = os.environ if environ is None else environ
    use = EnvironmentUse(
        read=dict(env.read),
        present={name: name in source_env for name in declared},
        command_line=dict(variables),
    )
    return {key: rendered[key] for key in [*data, *rendered] if key in rendered}, problems, use


def _auth_secret(data: dict[str, Any]) -> tuple[str | None, str | None]:
    """The env var name that holds the secret, read before anything renders.

    `contract.auth` must be written out literally: if it came from a template, the loader could not
    know which environment variable to keep out of templates.
    """
    contract = data.get("contract")
    auth = contract.get("auth") if isinstance(contract, dict) else None
    if auth is None:
        return None, None
    secret = auth.get("secret") if isinstance(auth, dict) else None
    if not isinstance(auth, dict) or not isinstance(secret, str):
        return None, "contract.auth must be written out as a mapping with 'secret: ENV_VAR_NAME'"
    if "{{" in secret or "{%" in secret:
        return None, "the secret must be the plain name of an environment variable, not a template"
    return secret, None


def _declared_env(data: dict[str, Any]) -> dict[str, bool]:
    """`env:` as written: each declared name and whether it is a secret (its shape is checked later)."""
    declared = data.get("env")
    if not isinstance(declared, dict):
        return {}
    return {
        str(name): bool(entry.get("secret")) if isinstance(entry, dict) else False for name, entry in declared.items()
    }


def _undeclared_variables(variables: dict[str, Any], raw_vars: Any, source: SourceMap) -> list[Problem]:
    """`--var NAME=VALUE` sets a variable the spec declares under `vars:`, its own or a base's; any other
    name is a mistake, located at the spec's `vars:` (else its first line), with the nearest declared name."""
    if not isinstance(raw_vars, (dict, type(None))):
        return []  # `vars:` of the wrong shape: validation says so
    declared = sorted(str(name) for name in raw_vars or {})
    where = source.locate(("vars",), key=True)
    if raw_vars is None or where.file != source.file:  # no vars, or only a base's: the top of this spec
        where = source.locate(())
    problems = []
    for name in variables:
        if name in declared:
            continue
        close = difflib.get_close_matches(name, declared, n=1, cutoff=0.6)
        known = f"its vars: {', '.join(declared)}" if declared else "it declares no vars:"
        hint = f" (did you mean {close[0]!r}?)" if close else f" (--var sets a variable the spec declares; {known})"
        problems.append(Problem(where, "vars", f"the spec has no variable {name!r}{hint}"))
    return problems


def _undeclared_secret(declared: dict[str, bool], secret: str | None, source: SourceMap) -> list[Problem]:
    if secret is None or declared.get(secret):
        return []
    where = ("contract", "auth", "secret")
    how = "declares it without 'secret: true'" if secret in declared else "does not declare it"
    return [
        Problem(
            source.locate(where),
            dotted(where),
            f"the secret {secret} must be declared as one: the spec {how} "
            f"(add `env: {{{secret}: {{secret: true}}}}` at the top level)",
        )
    ]


def _validate(data: dict[str, Any], source: SourceMap, problems: list[Problem]) -> Spec:
    problems += [Problem(source.locate(path), dotted(path), message) for path, message in check_document(data)]
    try:
        spec = Spec.model_validate(data)
    except ValidationError as exc:
        errors = _drop_missing_explained_by_typo(exc.errors())
        problems += [_problem_from_error(error, data, source) for error in errors]
        raise SpecError(problems) from None
    problems += _plugin_target_problems(spec, data, source)
    if problems:
        raise SpecError(problems)
    return spec


def _plugin_target_problems(spec: Spec, data: dict[str, Any], source: SourceMap) -> list[Problem]:
    """Each plugin target's settings, checked by its plugin's model; every problem located in the file."""
    problems = []
    for name, target in spec.targets.items():
        if not isinstance(target, PluginTarget):
            continue
        model = settings_model(target.kind)
        try:
            target.with_settings(model.model_validate(target.raw_settings))
        except ValidationError as exc:
            for error in _drop_missing_explained_by_typo(exc.errors()):
                path = _data_path(("targets", name, *error["loc"]), data)
                where = source.locate(path, key=error["type"] == "extra_forbidden")
                problems.append(Problem(where, dotted(path), describe_error(error, model)))
    return problems


def _drop_missing_explained_by_typo(errors: list[ErrorDetails]) -> list[ErrorDetails]:
    """`retyr: no` yields 'missing retry' and 'unknown retyr'; the second says it all."""
    unknown = {(e["loc"][:-1], str(e["loc"][-1])) for e in errors if e["type"] == "extra_forbidden"}

    def explained(error: ErrorDetails) -> bool:
        parent, name = error["loc"][:-1], str(error["loc"][-1])
        siblings = [key for where, key in unknown if where == parent]
        return error["type"] == "missing" and bool(difflib.get_close_matches(name, siblings, n=1, cutoff=0.6))

    return [error for error in errors if not explained(error)]


def _problem_from_error(error: ErrorDetails, data: Any, source: SourceMap, root: type[BaseModel] = Spec) -> Problem:
    path = _data_path(error["loc"], data)
    is_key = error["type"] == "extra_forbidden"
    return Problem(source.locate(path, key=is_key), dotted(path), describe_error(error, root))


def _data_path(loc: tuple[int | str, ...], data: Any) -> PathKey:
    """Keep the parts of a pydantic error location that exist in the document (drops union tags)."""
    path: list[str | int] = []
    node = data
    for part in loc:
        if _has_child(node, part):
            node = node[part]
            path.append(part)
        elif isinstance(node, dict) and isinstance(part, str) and part == loc[-1] and part not in TARGET_MODELS:
            path.append(part)
    return tuple(path)


def _has_child(node: Any, part: int | str) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def load_fault_script(path: Path) -> FaultScript:
    """Read a `runbook sim --script` file; problems are located like a spec's."""
    data, source = read_yaml(path, _display_path(path))
    try:
        script = FaultScript.model_validate(data)
    except ValidationError as exc:
        raise SpecError([_problem_from_error(error, data, source, FaultScript) for error in exc.errors()]) from None
    unknown = provider_errors_exist([(-1, data)], script.simulator, keys=("faults",))
    problems = [Problem(source.locate(where), dotted(where), message) for where, message in unknown]
    if problems:
        raise SpecError(problems)
    return script
