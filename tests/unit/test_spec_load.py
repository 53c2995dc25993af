"""The spec loader on valid specs: variables, templates, environment, durations, tristates, positions."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli.commands import main
from engine.core.errors import SpecError
from engine.load.loader import LoadedSpec, load_spec
from engine.spec.durations import parse_duration
from support.specs import with_mistakes

MINIMAL = Path(__file__).resolve().parents[1] / "corpus" / "valid" / "minimal.yaml"
SECRET_VALUE = "sk-load-test-secret"


def load_minimal(*replacements: tuple[str, str], tmp_path: Path | None = None, **options) -> LoadedSpec:
    """Load the minimal spec, first replacing each `old` text by `new` in a copy under tmp_path."""
    if not replacements:
        return load_spec(MINIMAL, **options)
    return load_spec(with_mistakes(tmp_path, *replacements), **options)


DECLARED = "env: {COMETAPI_API_KEY: {secret: true}, RUNBOOK_TEST_MODEL: {}, OTHER: {}}"


def with_model(template: str, tmp_path: Path, **options) -> LoadedSpec:
    return load_minimal(
        ('"{{ vars.model }}"', f'"{template}"'),
        ("env: {COMETAPI_API_KEY: {secret: true}}", DECLARED),
        tmp_path=tmp_path,
        **options,
    )


def test_spec_vars_give_the_contract_model():
    assert load_minimal().spec.contract.model == "gpt-4o-mini"


def test_var_override_changes_the_contract_model():
    spec = load_minimal(variables={"model": "gpt-4.1-nano"}).spec
    assert spec.contract.model == "gpt-4.1-nano"
    assert spec.defaults.request.json_["model"] == "gpt-4.1-nano"  # through {{ contract.model }}


def test_a_var_the_spec_does_not_declare_is_refused_with_a_suggestion(tmp_path: Path):
    with pytest.raises(SpecError) as caught:
        load_minimal(variables={"modle": "gpt-5-mini"})
    assert "the spec has no variable 'modle' (did you mean 'model'?)" in str(caught.value)


def test_whole_expression_keeps_its_native_type():
    max_tokens = load_minimal().spec.defaults.request.json_["max_tokens"]
    assert max_tokens == 20 and isinstance(max_tokens, int)


def test_text_around_an_expression_renders_a_string(tmp_path: Path):
    spec = load_minimal(('"{{ vars.limit }}"', '"{{ vars.limit }} tokens"'), tmp_path=tmp_path).spec
    assert spec.defaults.request.json_["max_tokens"] == "20 tokens"


@pytest.mark.parametrize("environ, model", [({}, "d"), ({"RUNBOOK_TEST_MODEL": "from-env"}, "from-env")])
def test_env_value_with_default(tmp_path: Path, environ: dict, model: str):
    spec = with_model("{{ env.RUNBOOK_TEST_MODEL | default('d') }}", tmp_path, environ=environ).spec
    assert spec.contract.model == model


def test_env_value_without_default_must_exist(tmp_path: Path):
    with pytest.raises(SpecError) as caught:
        with_model("{{ env.RUNBOOK_TEST_MODEL }}", tmp_path, environ={})
    assert [p.path for p in caught.value.problems] == ["contract.model"]
    assert "RUNBOOK_TEST_MODEL" in caught.value.problems[0].message


@pytest.mark.parametrize(
    "template",
    [
        "{{ env.COMETAPI_API_KEY }}",
        "{{ env['COMETAPI_API_KEY'] }}",
        "{{ env.get('COMETAPI_API_KEY', 'x') }}",
        "{{ env | list | join(',') }}x",
    ],
)
def test_the_contract_secret_never_renders(tmp_path: Path, template: str):
    environ = {"COMETAPI_API_KEY": SECRET_VALUE, "OTHER": "1"}
    try:
        model = with_model(template, tmp_path, environ=environ).spec.contract.model
    except SpecError as exc:
        assert SECRET_VALUE not in str(exc)
    else:
        assert SECRET_VALUE not in model


@pytest.mark.parametrize(
    "template",
    ["{{ env.UNDECLARED }}", "{{ env.UNDECLARED | default('d') }}", "{{ env.get('UNDECLARED', 'd') }}"],
)
def test_an_undeclared_variable_is_refused_even_with_a_default(tmp_path: Path, template: str):
    with pytest.raises(SpecError) as caught:
        with_model(template, tmp_path, environ={"UNDECLARED": "sk-undeclared-value"})
    (problem,) = caught.value.problems
    assert problem.path == "contract.model" and "env.UNDECLARED is not declared" in problem.message
    assert "sk-undeclared-value" not in str(caught.value)


def test_templates_see_only_declared_names_that_are_not_secrets(tmp_path: Path):
    environ = {"COMETAPI_API_KEY": SECRET_VALUE, "OTHER": "1", "HOME": "/root", "RUNBOOK_TEST_MODEL": "m"}
    spec = with_model("{{ env | list | sort | join(',') }}", tmp_path, environ=environ).spec
    assert spec.contract.model == "OTHER,RUNBOOK_TEST_MODEL"


def test_the_loader_records_what_it_read_from_the_environment(tmp_path: Path):
    loaded = with_model("{{ env.RUNBOOK_TEST_MODEL | default('d') }}", tmp_path, environ={"OTHER": "1"})
    use = loaded.environment
    assert dict(use.read) == {"RUNBOOK_TEST_MODEL": None}  # read, and not set
    assert dict(use.present) == {"COMETAPI_API_KEY": False, "RUNBOOK_TEST_MODEL": False, "OTHER": True}
    assert "1" not in repr(use)


@pytest.mark.parametrize(
    "text, seconds", [("500ms", 0.5), ("2s", 2.0), ("1m", 60.0), ("1.5m", 90.0), ("1h", 3600.0), (3, 3.0)]
)
def test_parse_duration(text: str | int, seconds: float):
    assert parse_duration(text) == seconds


def test_durations_in_a_spec_are_seconds(tmp_path: Path):
    spec = load_minimal(
        ("{connect: 2s, read: 30s, deadline: 45s}", "{connect: 500ms, read: 1m, deadline: 90}"), tmp_path=tmp_path
    ).spec
    assert spec.contract.timeouts.model_dump() == {"connect": 0.5, "read": 60.0, "deadline": 90.0}


def test_booleans_become_yes_and_no(tmp_path: Path):
    spec = load_minimal(("retry: no\n    fallback: no", "retry: true\n    fallback: false"), tmp_path=tmp_path).spec
    assert (spec.classification[0].retry, spec.classification[0].fallback) == ("yes", "no")


def test_tristate_keeps_maybe(tmp_path: Path):
    spec = load_minimal(("retry: no", "retry: maybe"), tmp_path=tmp_path).spec
    assert spec.classification[0].retry == "maybe"


@pytest.mark.parametrize(
    "path, key, line, col",
    [
        ((), False, 1, 1),
        (("version",), True, 1, 1),
        (("version",), False, 1, 10),
        (("contract", "docs"), False, 7, 9),
        (("checks", 1), False, 40, 5),
        (("checks", 1, "id"), False, 40, 9),
        (("checks", 1, "no_such_key"), False, 40, 5),  # falls back to the nearest recorded ancestor
    ],
)
def test_positions_are_one_based(path: tuple, key: bool, line: int, col: int):
    location = load_minimal().source.locate(path, key=key)
    assert (location.line, location.col) == (line, col)


def test_problem_positions_are_one_based(tmp_path: Path):
    with pytest.raises(SpecError) as caught:
        load_minimal(("version: 1\n", "version: 1\nbogus: x\n"), tmp_path=tmp_path)
    [problem] = caught.value.problems
    assert (problem.location.line, problem.location.col, problem.path) == (2, 1, "bogus")


def test_a_missing_file_is_a_problem_not_a_traceback(tmp_path: Path):
    result = CliRunner().invoke(main, ["validate", str(tmp_path / "absent.yaml")])
    assert result.exit_code == 2
    assert "cannot read spec" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    "text, value",
    [
        ("30", 30),
        ("-2", -2),
        ("0.5", 0.5),
        ("true", True),
        ("false", False),
        ("gpt-4o-mini", "gpt-4o-mini"),
        ("1.2.3", "1.2.3"),
        ("", ""),
    ],
)
def test_cli_var_values_are_typed_like_yaml_scalars(text, value):
    from engine.load.templating import scalar_from_text

    assert scalar_from_text(text) == value and type(scalar_from_text(text)) is type(value)


def test_a_misspelt_variable_gets_a_suggestion(tmp_path: Path):
    from engine.core.errors import SpecError
    from engine.load.loader import load_spec

    spec = tmp_path / "spec.yaml"
    spec.write_text(MINIMAL.read_text().replace("{{ vars.model }}", "{{ vars.modle }}", 1))
    with pytest.raises(SpecError) as caught:
        load_spec(spec)
    assert "vars.modle is not defined (did you mean 'model'?)" in str(caught.value)


def test_structural_and_cross_reference_problems_are_reported_together(tmp_path: Path):
    from engine.core.errors import SpecError
    from engine.load.loader import load_spec

    spec = tmp_path / "spec.yaml"
    spec.write_text(
        MINIMAL.read_text()
        .replace("  - id: missing-auth", "  - id: happy-path", 1)
        .replace("    retry: no\n", "    retyr: no\n", 1)
    )
    with pytest.raises(SpecError) as caught:
        load_spec(spec)
    messages = [p.message for p in caught.value.problems]
    assert any("unknown key 'retyr'" in m for m in messages)
    assert any("duplicate id 'happy-path'" in m for m in messages)
