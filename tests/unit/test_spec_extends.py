"""extends: merge rules, located errors across files, cycles."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.core.errors import SpecError
from engine.load.loader import load_spec
from support.specs import MINIMAL


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def child(folder: Path, body: str, base: str = "base.yaml") -> Path:
    write(folder, "base.yaml", MINIMAL.read_text())
    return write(folder, "child.yaml", f"extends: {base}\nversion: 1\nname: child\n{body}")


def problems(path: Path) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    return [str(p) for p in caught.value.problems]


def test_mappings_merge_deeply_and_scalars_replace(tmp_path):
    spec = load_spec(child(tmp_path, "contract:\n  timeouts: {read: 5s}\n  policy_version: v2\n")).spec
    assert spec.name == "child" and spec.contract.policy_version == "v2"
    assert spec.contract.timeouts.read == 5.0 and spec.contract.timeouts.connect == 2.0  # inherited
    assert spec.contract.path == "/v1/chat/completions"


def test_items_with_an_inherited_id_are_overridden_in_place(tmp_path):
    spec = load_spec(child(tmp_path, "classification:\n  - {id: success, owner: team-x}\n")).spec
    first = spec.classification[0]
    assert (first.id, first.owner, first.class_, first.action) == ("success", "team-x", "success", "none")
    assert [r.id for r in spec.classification] == ["success", "default"]


def test_new_items_are_appended_or_placed(tmp_path):
    body = (
        "classification:\n"
        "  - {id: throttled, before: default, when: {status: 429}, class: throttled, retry: maybe, fallback: maybe, action: retry_briefly}\n"
        "checks:\n"
        "  - {id: extra, expect: {status: 2xx}}\n"
        "  - {id: first, before: happy-path, expect: {status: 2xx}}\n"
    )
    spec = load_spec(child(tmp_path, body)).spec
    assert [r.id for r in spec.classification] == ["success", "throttled", "default"]
    assert [c.id for c in spec.checks] == ["first", "happy-path", "missing-auth", "extra"]


def test_drop_removes_an_inherited_item(tmp_path):
    body = "checks:\n  - {id: missing-auth, drop: true}\ncriteria:\n  - {id: works, requires: [happy-path]}\n"
    spec = load_spec(child(tmp_path, body)).spec
    assert [c.id for c in spec.checks] == ["happy-path"]


def test_child_vars_feed_templates_written_in_the_base(tmp_path):
    spec = load_spec(child(tmp_path, "vars:\n  model: child-model\n")).spec
    assert spec.contract.model == "child-model"
    assert spec.defaults.request.json_["model"] == "child-model"


def test_a_chain_of_bases_merges_in_order(tmp_path):
    write(tmp_path, "base.yaml", MINIMAL.read_text())
    write(tmp_path, "mid/mid.yaml", "extends: ../base.yaml\nversion: 1\nname: mid\ncontract: {policy_version: mid}\n")
    top = write(tmp_path, "top.yaml", "extends: mid/mid.yaml\nversion: 1\nname: top\nvars: {model: top-model}\n")
    spec = load_spec(top).spec
    assert (spec.name, spec.contract.policy_version, spec.contract.model) == ("top", "mid", "top-model")


def test_a_problem_inside_the_base_points_at_the_base_file(tmp_path, cwd_elsewhere):
    write(tmp_path, "base.yaml", MINIMAL.read_text().replace("    retry: no\n", "    retry: mabye\n", 1))
    path = write(tmp_path, "child.yaml", "extends: base.yaml\nversion: 1\nname: child\n")
    (found,) = problems(path)
    line = next(n for n, text in enumerate(MINIMAL.read_text().splitlines(), 1) if text == "    retry: no")
    assert found.startswith(f"{tmp_path / 'base.yaml'}:{line}:12: classification[0].retry: 'mabye' is not allowed")


def test_a_problem_in_an_overriding_item_points_at_the_child(tmp_path):
    (found,) = problems(child(tmp_path, "classification:\n  - {id: success, retry: mabye}\n"))
    assert "child.yaml:5:" in found and "'mabye' is not allowed" in found


def test_a_syntax_error_in_the_base_is_located_there(tmp_path):
    write(tmp_path, "base.yaml", "version: 1\nname: [unclosed\n")
    path = write(tmp_path, "child.yaml", "extends: base.yaml\n")
    (found,) = problems(path)
    assert "base.yaml:2:7: YAML syntax error" in found


def test_cycles_are_located_at_the_extends_that_closes_them(tmp_path, cwd_elsewhere):
    write(tmp_path, "a.yaml", "extends: b.yaml\nversion: 1\n")
    write(tmp_path, "b.yaml", "version: 1\nextends: a.yaml\n")
    (found,) = problems(tmp_path / "a.yaml")
    assert found.startswith(f"{tmp_path / 'b.yaml'}:2:10: extends: extends cycle:")
    assert found.endswith("a.yaml -> " + str(tmp_path / "b.yaml") + " -> " + str(tmp_path / "a.yaml"))


def test_a_spec_extending_itself_is_a_cycle(tmp_path):
    path = write(tmp_path, "self.yaml", "extends: self.yaml\n")
    assert "extends cycle" in problems(path)[0]


def test_a_missing_base_is_located_at_extends(tmp_path):
    path = write(tmp_path, "child.yaml", "version: 1\nextends: nowhere.yaml\n")
    (found,) = problems(path)
    assert "child.yaml:2:10: extends: base spec 'nowhere.yaml' not found" in found


def test_extends_must_be_a_path(tmp_path):
    path = write(tmp_path, "child.yaml", "extends: [a, b]\n")
    assert "extends takes the relative path of a base spec" in problems(path)[0]


@pytest.mark.parametrize(
    "body, message",
    [
        ("checks:\n  - {id: nothing, drop: true}\n", "nothing to drop: no inherited item has id 'nothing'"),
        ("checks:\n  - {id: new, before: nothing, expect: {status: 200}}\n", "no inherited item has id 'nothing'"),
    ],
)
def test_directives_naming_unknown_items_are_located(tmp_path, body, message):
    (found,) = problems(child(tmp_path, body))
    assert "child.yaml:5:" in found and message in found


def test_directives_outside_a_merge_are_refused(tmp_path):
    path = write(
        tmp_path,
        "spec.yaml",
        MINIMAL.read_text().replace("  - id: missing-auth\n", "  - id: missing-auth\n    drop: true\n", 1),
    )
    assert any("'drop' only applies to an item inherited through 'extends'" in p for p in problems(path))


def test_the_shipped_cometapi_spec_inherits_the_shared_table_and_adds_its_quirks(cometapi_spec):
    spec = load_spec(cometapi_spec).spec
    ids = [rule.id for rule in spec.classification]
    assert ids.index("cometapi-500-invalid-request") < ids.index("server-error")
    assert ids.index("cometapi-524-gateway-timeout") < ids.index("server-error")
    assert ids.index("wrong-path-redirect") < ids.index("auth") and ids[-1] == "default"
    assert spec.contract.auth.secret == "COMETAPI_API_KEY" and spec.contract.docs.startswith(
        "https://apidoc.cometapi.com"
    )
    criterion = next(c for c in spec.criteria if c.id == "endpoint-and-auth-match-reference")
    assert "CometAPI" in criterion.text and criterion.targets == ["live"]  # text overridden, targets inherited


def test_drop_must_be_a_boolean(tmp_path):
    (found,) = problems(child(tmp_path, "checks:\n  - {id: happy-path, drop: yes}\n"))
    assert "drop takes true or false, not 'yes'" in found


def test_two_items_with_one_new_id_are_a_duplicate_not_a_silent_merge(tmp_path):
    body = "checks:\n  - {id: extra, expect: {status: 200}}\n  - {id: extra, expect: {status: 500}}\n"
    (found,) = problems(child(tmp_path, body))
    assert "child.yaml:6:" in found and "duplicate id 'extra' in this file" in found
