"""The broken-spec corpus: every mistake is reported at its place, with a useful message.

Each file in tests/corpus/broken/ is tests/corpus/valid/minimal.yaml with one deliberate mistake,
preceded by the problems the loader must report and, for a known engine bug, followed by why:

    # expect: LINE:COL TEXT   first lines, one per problem; TEXT is found in 'path: message'
    # xfail: WHY              last line, only while the engine gets it wrong (strict xfail)

The xfail line is last so that deleting it, once the bug is fixed, moves no position.

Positions are those of the key for unknown keys, of the value for bad values, of the list item for
item-level problems and of the parent mapping for missing keys. The problems must match the expect
lines one to one: a mistake that drags in unrelated problems fails too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from engine.api import validate_specs
from engine.cli.commands import main
from engine.core.errors import Problem
from support.specs import with_mistakes

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
MINIMAL = CORPUS / "valid" / "minimal.yaml"
BROKEN = sorted((CORPUS / "broken").glob("*.yaml"))
SECRET_NAME, SECRET_VALUE = "COMETAPI_API_KEY", "sk-corpus-secret-never-printed"


@dataclass(frozen=True)
class Expect:
    line: int
    col: int
    text: str

    def matches(self, problem: Problem) -> bool:
        where = (problem.location.line, problem.location.col)
        return where == (self.line, self.col) and self.text in _path_and_message(problem)

    def matches_output_line(self, line: str) -> bool:
        where = f":{self.line}:{self.col}: "
        return where in line and self.text in line.split(where, 1)[1]


def _path_and_message(problem: Problem) -> str:
    return f"{problem.path}: {problem.message}" if problem.path else problem.message


def header(path: Path, tag: str) -> list[str]:
    """The values of the `# tag: value` comment lines of a corpus file."""
    prefix = f"# {tag}: "
    lines = path.read_bytes().decode("utf-8", errors="replace").splitlines()
    return [line.removeprefix(prefix) for line in lines if line.startswith(prefix)]


def expectations(path: Path) -> list[Expect]:
    found = []
    for value in header(path, "expect"):
        position, text = value.split(" ", 1)
        line, col = position.split(":")
        found.append(Expect(int(line), int(col), text))
    assert found, f"{path.name} has no '# expect:' line"
    return found


def corpus_params(paths: list[Path]) -> list:
    params = []
    for path in paths:
        reasons = header(path, "xfail")
        marks = [pytest.mark.xfail(strict=True, reason=f"engine bug: {reasons[0]}")] if reasons else []
        params.append(pytest.param(path, id=path.stem, marks=marks))
    return params


def unmatched(expected: list[Expect], found: list, matches) -> tuple[list[Expect], list]:
    """Pair expectations with found items one to one; return what is left on either side."""
    left = list(found)
    missing = []
    for expect in expected:
        hit = next((item for item in left if matches(expect, item)), None)
        if hit is None:
            missing.append(expect)
        else:
            left.remove(hit)
    return missing, left


def run_validate(*paths: Path) -> Result:
    return CliRunner().invoke(main, ["validate", *(str(p) for p in paths)])


def output_problem_lines(result: Result) -> list[str]:
    """The CLI prints one line per problem, then a 'N problem(s) found' summary."""
    return [line for line in result.output.splitlines() if not line.endswith("problem(s) found")]


def assert_problem_format(problem: Problem, path: Path) -> None:
    """`file:line:col: path: message`, naming the file that was validated (or the base it extends), 1-based."""
    named = Path(problem.location.file).resolve()
    assert named == path.resolve() or named.parent == (CORPUS / "bases").resolve()
    assert problem.location.line >= 1 and problem.location.col >= 1, str(problem)
    assert (
        str(problem) == f"{problem.location.file}:{problem.location.line}:{problem.location.col}: "
        f"{_path_and_message(problem)}"
    )


def assert_reported(path: Path, problems: list[Problem]) -> None:
    missing, extra = unmatched(expectations(path), problems, Expect.matches)
    shown = "\n".join(str(p) for p in problems)
    assert not missing and not extra, f"missing {missing}, unexpected {[str(p) for p in extra]}; got:\n{shown}"
    for problem in problems:
        assert_problem_format(problem, path)


def assert_cli_reported(result: Result, paths: list[Path]) -> None:
    expected = [e for path in paths for e in expectations(path)]
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert SECRET_VALUE not in result.output
    missing, extra = unmatched(expected, output_problem_lines(result), Expect.matches_output_line)
    assert not missing and not extra, f"missing {missing}, unexpected {extra}; got:\n{result.output}"
    assert f"{len(expected)} problem(s) found" in result.output


@pytest.fixture(autouse=True)
def _secret_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The contract's secret is set, so a template that reads it would really leak it."""
    monkeypatch.setenv(SECRET_NAME, SECRET_VALUE)


def test_the_corpus_is_large_enough():
    assert len(BROKEN) >= 30


@pytest.mark.parametrize("path", corpus_params(BROKEN))
def test_loader_reports_the_mistake(path: Path):
    problems = validate_specs([path])
    assert_reported(path, problems)
    assert all(SECRET_VALUE not in str(p) for p in problems)


@pytest.mark.parametrize("path", corpus_params(BROKEN))
def test_cli_reports_the_mistake(path: Path):
    assert_cli_reported(run_validate(path), [path])


def test_minimal_spec_is_valid():
    assert [p for p in validate_specs([MINIMAL]) if p.severity == "error"] == []  # lint warnings only
    result = run_validate(MINIMAL)
    assert result.exit_code == 0, result.output
    assert "ok: 1 spec(s) valid" in result.output


def test_every_file_is_reported_at_once():
    paths = [
        CORPUS / "broken" / f"{name}.yaml"
        for name in ("unknown-key-top-level", "bad-enum-retry", "criterion-unknown-check")
    ]
    assert_cli_reported(run_validate(*paths), paths)


def position_of(path: Path, needle: str) -> tuple[int, int]:
    """1-based line and column of the first occurrence of `needle`."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number, line.index(needle) + 1
    raise AssertionError(f"{needle!r} not in {path}")


def test_every_mistake_in_one_file_is_reported_at_once(tmp_path: Path):
    path = with_mistakes(
        tmp_path,
        ("{{ vars.model }}", "{{ vars.modle }}"),  # template stage
        ("retry: no", "retry: mabye"),  # model stage: bad enum value
        ("      status: 2xx", "      statuss: 2xx"),  # model stage: unknown key
    )
    wanted = [
        (position_of(path, '"{{ vars.modle }}"'), "vars.modle is not defined"),
        (position_of(path, "mabye"), "did you mean 'maybe'?"),
        (position_of(path, "statuss"), "did you mean 'status'?"),
    ]
    problems = validate_specs([path])
    got = [((p.location.line, p.location.col), p.message) for p in problems]
    assert len(problems) == 3, got
    for where, text in wanted:
        assert any(w == where and text in message for w, message in got), (where, text, got)
    result = run_validate(path)
    assert result.exit_code == 2 and "3 problem(s) found" in result.output


def test_errors_inside_a_base_name_the_base_file():
    result = run_validate(CORPUS / "broken" / "extends-error-in-base.yaml")
    assert "tests/corpus/bases/broken-base.yaml:6:26: classification[0].retry:" in result.output
