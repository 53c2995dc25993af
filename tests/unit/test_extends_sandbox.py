"""`extends:` reads bases only from the spec's own tree (issue 11, failure 5): a file elsewhere on the
machine is refused before it is read, so its content can never be quoted in an error."""

from __future__ import annotations

from engine.api import validate_specs


def foreign(tmp_path_factory, text: str = "root:$6$hash-never-shown:19000:0:99999:7:::\n"):
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "shadow"
    elsewhere.write_text(text)
    return elsewhere


def spec_extending(folder, ref) -> object:
    spec = folder / "spec.yaml"
    spec.write_text(f"extends: {ref}\nversion: 1\nname: x\n")
    return spec


def test_a_file_outside_the_tree_is_refused_unread(tmp_path, tmp_path_factory):
    shadow = foreign(tmp_path_factory)
    (problem,) = validate_specs([spec_extending(tmp_path, shadow)])
    assert (problem.location.line, problem.location.col, problem.path) == (1, 10, "extends")
    assert "is outside this spec's tree" in problem.message and "RUNBOOK_ALLOW_BASES" in problem.message
    assert "hash-never-shown" not in problem.message


def test_a_valid_spec_reached_through_dot_dots_is_refused_too(tmp_path, tmp_path_factory, cometapi_spec):
    outside = tmp_path_factory.mktemp("other") / "base.yaml"
    outside.write_text(
        cometapi_spec.read_text().replace("extends: ../shared/", f"extends: {cometapi_spec.parent.parent}/shared/")
    )
    inner = tmp_path / "a" / "b"
    inner.mkdir(parents=True)
    (problem,) = validate_specs([spec_extending(inner, "../../" * 8 + str(outside).lstrip("/"))])
    assert "is outside this spec's tree" in problem.message


def test_an_allowed_folder_and_the_shipped_specs_are_readable(tmp_path, tmp_path_factory, monkeypatch, cometapi_spec):
    assert [p for p in validate_specs([spec_extending(tmp_path, cometapi_spec)]) if p.severity == "error"] == []
    shadow = foreign(tmp_path_factory, "version: 1\n")
    monkeypatch.setenv("RUNBOOK_ALLOW_BASES", str(shadow.parent))
    problems = validate_specs([spec_extending(tmp_path, shadow)])
    assert all("outside this spec's tree" not in p.message for p in problems)


def test_the_command_line_allows_a_folder_for_bases(tmp_path, tmp_path_factory, monkeypatch):
    from click.testing import CliRunner

    from engine.cli.commands import main

    monkeypatch.setenv("RUNBOOK_ALLOW_BASES", "")  # restored after the test: --allow-bases sets it
    base = tmp_path_factory.mktemp("team-bases") / "base.yaml"
    base.write_text("version: 1\nname: team-base\n")
    spec = spec_extending(tmp_path, base)
    refused = CliRunner().invoke(main, ["validate", str(spec)])
    assert refused.exit_code == 2 and "outside this spec's tree" in refused.output
    assert "--allow-bases DIR" in refused.output
    allowed = CliRunner().invoke(main, ["--allow-bases", str(base.parent), "validate", str(spec)])
    assert "outside this spec's tree" not in allowed.output
