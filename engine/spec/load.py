"""Load a spec: YAML with positions -> templates rendered -> pydantic models -> cross-checks.

`load_spec` is the stage's one entry point. Every problem found is collected and raised together
as one SpecError whose problems carry file:line:col.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from pydantic import ValidationError

from engine.errors import Problem, SpecError
from engine.spec.models import Spec
from engine.spec.pydantic_errors import describe_error
from engine.spec.semantics import check_spec
from engine.spec.templating import Environ, TemplateProblem, render_tree
from engine.spec.yaml_tree import PathKey, SourceMap, read_yaml


@dataclass(frozen=True)
class LoadedSpec:
    spec: Spec
    path: Path
    source: SourceMap


def load_spec(
    path: Path,
    variables: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> LoadedSpec:
    """Read, render and validate one spec file; raise SpecError listing every problem."""
    display = _display_path(path)
    data, source = read_yaml(path, display)
    if not isinstance(data, dict):
        raise SpecError([Problem(source.locate(()), "", "a spec is a YAML mapping (key: value) at the top level")])
    rendered, problems = _render(data, dict(variables or {}), environ, source)
    spec = _validate(rendered, source, problems)
    return LoadedSpec(spec=spec, path=path, source=source)


def _display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _render(
    data: dict, variables: dict[str, Any], environ: Mapping[str, str] | None, source: SourceMap
) -> tuple[dict, list[Problem]]:
    env = Environ(_secret_names(data), environ)
    found: list[TemplateProblem] = []
    spec_vars, vars_problems = render_tree(data.get("vars") or {}, {"env": env}, ("vars",))
    found += vars_problems
    merged_vars = {**spec_vars, **variables} if isinstance(spec_vars, dict) else dict(variables)
    context: dict[str, Any] = {"vars": merged_vars, "env": env}
    contract, contract_problems = render_tree(data.get("contract"), context, ("contract",))
    found += contract_problems
    context["contract"] = contract if isinstance(contract, dict) else {}
    rest = {key: value for key, value in data.items() if key not in ("vars", "contract")}
    rendered_rest, rest_problems = render_tree(rest, context)
    found += rest_problems
    rendered = {**rendered_rest, "vars": merged_vars, "contract": contract}
    if "contract" not in data:
        del rendered["contract"]
    problems = [Problem(source.locate(p.path), _dotted(p.path), p.message) for p in found]
    return {key: rendered[key] for key in [*data, *rendered] if key in rendered}, problems


def _secret_names(data: dict) -> set[str]:
    auth = (data.get("contract") or {}).get("auth") if isinstance(data.get("contract"), dict) else None
    secret = auth.get("secret") if isinstance(auth, dict) else None
    return {secret} if isinstance(secret, str) else set()


def _validate(data: dict, source: SourceMap, problems: list[Problem]) -> Spec:
    try:
        spec = Spec.model_validate(data)
    except ValidationError as exc:
        problems += [_problem_from_error(error, data, source) for error in exc.errors()]
        raise SpecError(problems) from None
    problems += [Problem(source.locate(path), _dotted(path), message) for path, message in check_spec(spec)]
    if problems:
        raise SpecError(problems)
    return spec


def _problem_from_error(error: dict, data: dict, source: SourceMap) -> Problem:
    path = _data_path(error["loc"], data)
    is_key = error["type"] == "extra_forbidden"
    return Problem(source.locate(path, key=is_key), _dotted(path), describe_error(error))


def _data_path(loc: tuple, data: Any) -> PathKey:
    """Keep the parts of a pydantic error location that exist in the document (drops union tags)."""
    path: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
            path.append(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            path.append(part)
        elif isinstance(node, dict) and isinstance(part, str) and part == loc[-1]:
            path.append(part)
    return tuple(path)


def _dotted(path: PathKey) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
