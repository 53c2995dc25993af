import json
import shutil

from engine import api
from engine.judge.drift import compare, fixture_document, shape_of

RESPONSE = {
    "id": "c1",
    "object": "chat.completion",
    "model": "m",
    "created": 1,
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "private answer"}, "finish_reason": "stop"}],
    "usage": {"total_tokens": 9},
}


def test_shapes_keep_the_contract_and_drop_the_content():
    shape = shape_of(RESPONSE)
    assert shape["object"] == "chat.completion" and shape["choices"][0]["finish_reason"] == "stop"
    assert shape["choices"][0]["message"] == {"role": "assistant", "content": "<string>"}
    assert shape["usage"] == {"total_tokens": "<number>"} and shape["id"] == "<string>"
    assert "private answer" not in json.dumps(
        fixture_document(
            "POST", "/v1", {"messages": [{"content": "secret"}]}, 200, "application/json; charset=utf-8", RESPONSE
        )
    )


def test_drift_removed_and_changed_break_added_is_tolerated():
    stored = fixture_document("POST", "/v1", {}, 200, "application/json", RESPONSE)
    changed = {**RESPONSE, "usage": {"total_tokens": "9"}, "system_fingerprint": "fp"}
    del changed["created"]
    drift = compare(stored, fixture_document("POST", "/v1", {}, 200, "application/json", changed))
    assert drift.removed == ("body.created",) and drift.changed == ("body.usage.total_tokens",)
    assert drift.added == ("body.system_fingerprint",) and drift.breaking
    only_added = compare(stored, fixture_document("POST", "/v1", {}, 200, "application/json", {**RESPONSE, "x": 1}))
    assert not only_added.breaking and only_added.added == ("body.x",)


def test_fixtures_round_trip_through_a_live_target(tmp_path, provider, repo_root):
    from conftest import PROVIDER_KEY

    spec_dir = tmp_path / "specs"
    shutil.copytree(repo_root / "specs", spec_dir)
    spec = spec_dir / "cometapi" / "chat-completions.yaml"
    env = {
        "COMETAPI_BASE_URL": provider.base_url,
        "COMETAPI_API_KEY": PROVIDER_KEY,
        "RUNBOOK_ALLOW_BASES": str(spec_dir),
    }  # a copy of the specs, outside git

    def verdict(**options):
        outcome = api.run(
            spec, target="live", out_dir=None, environ=env, selection=api.Selection(only=("happy-path",)), **options
        )
        criterion = next(c for c in outcome.results.criteria if c.id == "sanitized-fixtures-checked-in")
        happy = next(c for c in outcome.results.checks if c.id == "happy-path")
        return criterion, happy

    criterion, happy = verdict()
    assert criterion.verdict == "not_met" and "--update-fixtures" in criterion.next_step
    assert happy.fixture.status == "missing" and happy.status == "passed"

    criterion, happy = verdict(update_fixtures=True)
    stored = spec_dir / "cometapi" / "fixtures" / "happy-path.json"
    assert stored.is_file() and happy.fixture.status == "updated"
    assert criterion.verdict == "not_met" and "written by this run" in criterion.reasons[0]  # never judges itself
    assert PROVIDER_KEY not in stored.read_text() and "Return JSON only" not in stored.read_text()

    criterion, happy = verdict()  # not in a git work tree: a fixture that exists is enough
    assert criterion.verdict == "met" and happy.fixture.status == "matched" and happy.fixture.git is None

    document = json.loads(stored.read_text())
    document["response"]["body"]["choices"][0]["message"]["annotations"] = []
    stored.write_text(json.dumps(document))
    criterion, happy = verdict()
    assert happy.status == "failed" and happy.fixture.status == "drift"
    assert happy.mismatches[-1].message.endswith("removed body.choices[0].message.annotations")
    assert criterion.verdict == "not_met"


def test_git_says_whether_each_fixture_is_checked_in(tmp_path):
    import subprocess

    from engine.load.fixtures import git_states

    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
            cwd=tmp_path,
            check=True,
            capture_output=True,
        )

    names = ["committed", "modified", "staged", "untracked", "ignored/one"]
    files = {name: tmp_path / "fixtures" / f"{name}.json" for name in names}
    for path in files.values():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
    (tmp_path / ".gitignore").write_text("fixtures/ignored/\n")
    git("init", "-q")
    git("add", ".gitignore", str(files["committed"]), str(files["modified"]))
    git("commit", "-q", "-m", "x")
    files["modified"].write_text('{"changed": true}')
    git("add", str(files["staged"]))
    missing = tmp_path / "fixtures" / "missing.json"
    states = git_states(tmp_path, [*files.values(), missing])
    assert {
        path.stem if path.parent.name == "fixtures" else "ignored/one": state for path, state in states.items()
    } == {
        "committed": "committed",
        "modified": "modified",
        "staged": "not_committed",
        "untracked": "untracked",
        "ignored/one": "ignored",
    }
    assert missing not in states


def test_outside_a_git_work_tree_nothing_is_claimed(tmp_path):
    from engine.load.fixtures import git_states

    (tmp_path / "a.json").write_text("{}")
    assert git_states(tmp_path, [tmp_path / "a.json"]) == {}
