"""The run-history store (engine.monitor.history) on SQLite, and the trend it gives (engine.monitor.trend).

The same runs are recorded in a real PostgreSQL by tests/services/test_history_postgres.py; the
numbers they must give are worked out by hand in tests/support/history_runs.py.
(tests/unit/test_history.py is about the stamped report copies under reports/runs/, not this store.)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from engine import api
from engine.monitor import history as history_module
from engine.monitor import history_schema
from engine.monitor.history import DEFAULT_HISTORY_URL, History, HistoryError, Upgrade, open_history, spec_hash
from engine.monitor.trend import VerdictShift, parse_since, trend, trend_html, trend_text
from support.history_runs import (
    EXPECTED,
    NOW,
    USAGE,
    WINDOW_START,
    at,
    check_pruning,
    item,
    results,
    sample_runs,
    summary,
)

SECRET = "s3cret-Passw0rd"


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'history.sqlite'}"


@pytest.fixture
def recorded(url: str):
    with open_history(url) as store:
        for run in sample_runs():
            store.record(run)
        yield store


def _version(url: str) -> int:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
        return int(db.execute("SELECT max(version) FROM schema_version").fetchone()[0])


def _columns(url: str, table: str) -> list[str]:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
        return [row[1] for row in db.execute(f"PRAGMA table_info({table})")]


# ---- recording and reading back --------------------------------------------------------------


def test_runs_come_back_oldest_first_and_a_window_keeps_only_its_own(recorded: History) -> None:
    every = recorded.runs("bulk")
    assert [run.started for run in every] == [at(1), at(2), at(3), at(4), at(5), at(7)]  # recorded out of order
    window = recorded.runs("bulk", since=WINDOW_START, until=NOW)
    assert [(run.started, run.verdict) for run in window] == [
        (at(2), "ready"),
        (at(3), "not_ready"),
        (at(4), "not_ready"),
        (at(5), "ready"),
    ]
    assert [run.spec for run in recorded.runs("other")] == ["other"]
    assert recorded.runs("no-such-spec") == []


def test_pruning_deletes_old_runs_and_their_items(recorded: History, url: str) -> None:
    check_pruning(recorded)
    with sqlite3.connect(url.removeprefix("sqlite:///")) as db:  # no orphaned item rows are left behind
        orphans = db.execute("SELECT count(*) FROM items WHERE run_id NOT IN (SELECT id FROM runs)").fetchone()[0]
    assert orphans == 0


def test_a_run_keeps_its_counts_target_and_the_hash_of_its_spec_files(recorded: History) -> None:
    run = recorded.runs("bulk", since=at(3), until=at(3))[0]
    assert (run.target, run.target_kind, run.client, run.selection) == ("sim", "simulator", "reference", "all checks")
    assert (run.checks.total, run.checks.passed, run.checks.failed, run.checks.error, run.checks.skipped) == (
        4,
        1,
        1,
        1,
        1,
    )
    assert run.checks_ran == 3
    assert run.spec_hash == hashlib.sha256(("ab" * 32).encode()).hexdigest()  # one file: the hash of its hash
    assert run.started.tzinfo is dt.UTC  # stored as 12:00+02:00, read back in UTC
    assert run.duration_ms == 1000.0


def test_items_keep_status_class_owner_latencies_usage_and_drift(recorded: History) -> None:
    run = recorded.runs("bulk", since=at(3), until=at(3))[0]
    found = {row.item_id: row for row in recorded.run_items(run.id)}
    a, b, c, d = found["a"], found["b"], found["c"], found["d"]
    assert (a.kind, a.status, a.class_, a.action, a.owner, a.latency_ms) == (
        "check", "failed", "server_error", "retry_briefly", "provider", 40.0)  # fmt: skip
    assert (b.status, b.fixture_status, b.drift, b.latency_ms) == ("passed", "drift", True, 24.0)
    assert (b.prompt_tokens, b.completion_tokens, b.total_tokens) == tuple(USAGE.values())
    assert (c.status, c.class_, c.owner, c.latency_ms, c.first_token_ms) == ("error", "transport", None, 100.0, None)
    assert (d.status, d.latency_ms, d.fixture_status, d.drift, d.total_tokens) == ("skipped", None, None, False, None)
    assert c.fixture_status is None and not c.drift
    later = recorded.runs("bulk", since=at(4), until=at(4))[0]
    drill = next(row for row in recorded.run_items(later.id) if row.kind == "drill")
    assert (drill.item_id, drill.status, drill.class_, drill.owner) == (
        "drill:rate-limit",
        "failed",
        "rate_limit",
        "client-team",
    )


def test_the_spec_hash_covers_every_file_in_order_and_is_none_without_files() -> None:
    run = results("2026-05-01T10:00:00Z", "ready", [item("a", "passed", 1)])
    two = run.model_copy(update={"spec": run.spec.model_copy(update={"files": [*run.spec.files, *run.spec.files]})})
    assert spec_hash(two) == hashlib.sha256(("ab" * 32 + "\n" + "ab" * 32).encode()).hexdigest()
    assert spec_hash(run.model_copy(update={"spec": run.spec.model_copy(update={"files": []})})) is None


def test_a_run_is_recorded_whole_or_not_at_all(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = {"item_id": None}  # NOT NULL: the items' insert fails after the run's row went in
    monkeypatch.setattr(history_module, "_item_values", lambda run_id, item, kind: {"run_id": run_id, **broken})
    with open_history(url) as store:
        with pytest.raises(HistoryError, match="cannot record a run in the history"):
            store.record(sample_runs()[0])
        assert store.runs("bulk") == []


def test_a_real_run_on_the_simulator_is_recorded_without_any_content(url: str, cometapi_spec: Path) -> None:
    only = ("happy-path", "stream-happy-path", "server-503-then-success")
    real = api.run(cometapi_spec, out_dir=None, selection=api.Selection(only=only)).results
    with open_history(url) as store:
        run_id = store.record(real)
        rows = {row.item_id: row for row in store.run_items(run_id)}
    assert rows["happy-path"].total_tokens == real.checks[0].log.usage["total_tokens"]  # type: ignore[union-attr]
    assert rows["stream-happy-path"].first_token_ms is not None
    assert rows["drill:server-503-then-success"].kind == "drill"
    stored = _dump(url)
    content = [value for check in real.checks for value in _content_of(check)]
    assert content, "the run should have produced content to look for"
    assert [value for value in content if value in stored] == []


def _content_of(check) -> list[str]:
    """What must never reach the history: request ids, URLs, bodies, captured values."""
    seen = check.observed
    found = [json.dumps(value) for value in check.captures.values()]
    found += [check.request.url, check.request.body] if check.request else []
    found += [v for v in (seen.request_id, seen.client_request_id, seen.body_excerpt) if v] if seen else []
    return [value.strip('"') for value in found if len(value.strip('"')) > 6]


def _dump(url: str) -> str:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
        return "\n".join(repr(row) for table in ("runs", "items") for row in db.execute(f"SELECT * FROM {table}"))


# ---- the trend -------------------------------------------------------------------------------


def test_the_trend_gives_the_numbers_worked_out_by_hand(recorded: History) -> None:
    assert summary(trend(recorded, "bulk", WINDOW_START, NOW)) == EXPECTED


def test_failing_classes_are_listed_by_owner_most_first(recorded: History) -> None:
    failing = trend(recorded, "bulk", WINDOW_START, NOW).failing
    assert list(failing) == ["provider", "(no owner)", "client-team"]  # 2, then the ones by name


def test_without_a_start_every_run_until_now_counts_and_the_first_is_compared_with_nothing(recorded: History) -> None:
    whole = trend(recorded, "bulk", None, NOW)
    assert whole.runs == 5
    assert [(d.started, d.item_id) for d in whole.new_drift] == [(at(1), "a"), (at(3), "b"), (at(5), "c")]
    assert [(s.started, s.new) for s in whole.verdict_changes] == [
        (at(2), "ready"),
        (at(3), "not_ready"),
        (at(5), "ready"),
    ]


def test_a_window_that_starts_on_a_run_holds_it_and_compares_it_with_the_run_before(recorded: History) -> None:
    on_run_1 = trend(recorded, "bulk", at(2), NOW)
    assert [point.started for point in on_run_1.series] == [at(2), at(3), at(4), at(5)]
    assert on_run_1.verdict_changes[0] == VerdictShift(at(2), "partial", "ready")


def test_a_target_filter_leaves_out_runs_on_other_targets(recorded: History) -> None:
    recorded.record(
        results("2026-05-04T11:00:00Z", "not_ready", [item("a", "failed", 900, **{"class_": "x"})], target="live")
    )
    assert trend(recorded, "bulk", WINDOW_START, NOW).runs == 5
    assert summary(trend(recorded, "bulk", WINDOW_START, NOW, target="sim")) == EXPECTED


def test_a_window_without_runs_says_so_and_no_number_is_made_up(recorded: History) -> None:
    empty = trend(recorded, "bulk", at(6), at(6) + dt.timedelta(hours=1))
    assert (empty.runs, empty.pass_rate, empty.latency, empty.first_token) == (0, None, None, None)
    assert "no runs recorded in this window" in trend_text(empty)
    assert "No runs recorded in this window." in trend_html(empty)


def test_first_token_without_a_stream_is_no_data(url: str) -> None:
    with open_history(url) as store:
        store.record(results("2026-05-03T10:00:00Z", "ready", [item("a", "passed", 12.5)]))
        text_out = trend_text(trend(store, "bulk", WINDOW_START, NOW))
    assert "first token: no data (no streamed checks recorded one)" in text_out
    assert "latency: p50 12.5 ms, p95 12.5 ms (over 1 checks)" in text_out
    assert "pass rate: 100.0% (1 of 1 checks that ran)" in text_out


def test_the_text_shows_every_part_of_the_trend(recorded: History) -> None:
    shown = trend_text(trend(recorded, "bulk", WINDOW_START, NOW))
    for line in (
        "history of bulk: since 2026-05-02 00:00:00 UTC, until 2026-05-06 00:00:00 UTC",
        "runs: 4",
        "pass rate: 76.9% (10 of 13 checks that ran)",
        "latency: p50 28.0 ms, p95 100.0 ms (over 12 checks)",
        "first token: p50 7.0 ms, p95 8.0 ms (over 3 streamed checks)",
        "  2026-05-03 10:00:00 UTC  ready -> not_ready",
        "  2026-05-05 10:00:00 UTC  check c",
        "  provider: server_error 2",
        "  2026-05-04 10:00:00 UTC  sim  not_ready  66.7%  p50 33.0 ms, p95 50.0 ms",
    ):
        assert line in shown.splitlines(), line


HOSTILE = "<script>alert(1)</script>\x1b[2J"


def test_hostile_names_are_escaped_in_the_text_and_the_page(url: str) -> None:
    check = item(f"id{HOSTILE}", "failed", 10, fixture="drift", class_=f"class{HOSTILE}", owner=f"owner{HOSTILE}")
    with open_history(url) as store:
        store.record(results("2026-05-03T10:00:00Z", "not_ready", [check], spec=f"spec{HOSTILE}"))
        shown = trend(store, f"spec{HOSTILE}", WINDOW_START, NOW)
    printed, page = trend_text(shown), trend_html(shown)
    assert "\x1b" not in printed and "\x1b" not in page
    assert "owner<script>alert(1)</script>\\x1b[2J: class<script>alert(1)</script>\\x1b[2J 1" in printed
    assert "<script" not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;\\x1b[2J") >= 4  # spec, item, owner, class


def test_the_page_draws_pass_rate_and_latency_as_inline_svg_without_external_resources(recorded: History) -> None:
    page = trend_html(trend(recorded, "bulk", WINDOW_START, NOW))
    assert page.count("<svg") == 2
    assert page.count('<polyline class="rate"') == 1
    assert page.count('<polyline class="p50"') == 1 and page.count('<polyline class="p95"') == 1
    assert page.count("<circle") == 4 * 3  # a dot a run on each of the three lines
    assert "2026-05-04 10:00:00 UTC: p95 50.0 ms" in page  # a dot's hover title
    assert "<script" not in page and "src=" not in page and "http" not in page and "@import" not in page


# ---- --since ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("since", "back"),
    [("7d", dt.timedelta(days=7)), ("12h", dt.timedelta(hours=12)), ("30m", dt.timedelta(minutes=30)),
     ("2w", dt.timedelta(weeks=2))],
)  # fmt: skip
def test_since_takes_a_span_back_from_now(since: str, back: dt.timedelta) -> None:
    assert parse_since(since, NOW) == NOW - back


def test_since_takes_an_iso_time_without_a_zone_as_utc_and_refuses_anything_else() -> None:
    assert parse_since("2026-05-02T06:00:00", NOW) == dt.datetime(2026, 5, 2, 6, tzinfo=dt.UTC)
    assert parse_since("2026-05-02T06:00:00+02:00", NOW) == dt.datetime(2026, 5, 2, 4, tzinfo=dt.UTC)
    with pytest.raises(HistoryError, match=r"--since 'last\\x1b week' is neither a span"):
        parse_since("last\x1b week", NOW)


# ---- opening, migrating and errors -----------------------------------------------------------


def test_the_default_url_is_a_file_under_reports_created_with_its_folder(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with open_history(DEFAULT_HISTORY_URL) as store:
        store.record(sample_runs()[0])
    assert (tmp_path / "reports" / "history.sqlite").is_file()
    with open_history(f"sqlite:///{tmp_path}/deep/er/h.sqlite"):
        assert (tmp_path / "deep" / "er" / "h.sqlite").is_file()


def test_a_new_store_is_at_the_latest_version(url: str) -> None:
    open_history(url).close()
    assert _version(url) == history_schema.latest_version() == 1


def _add_note(conn) -> None:
    conn.execute(text("ALTER TABLE runs ADD COLUMN note VARCHAR"))


def test_a_store_of_an_older_version_is_migrated_once_and_keeps_its_runs(url: str, monkeypatch) -> None:
    with open_history(url) as store:
        store.record(sample_runs()[0])
    monkeypatch.setattr(history_schema, "UPGRADES", (Upgrade("runs.note", _add_note),))
    with open_history(url) as store:
        assert [run.started for run in store.runs("bulk")] == [at(1)]
    assert _version(url) == 2
    assert "note" in _columns(url, "runs")
    open_history(url).close()  # at version 2 now: the ALTER is not applied again (it would fail)
    assert _version(url) == 2


def test_an_upgrade_that_fails_leaves_the_store_as_it_was(url: str, monkeypatch) -> None:
    open_history(url).close()

    def half_done(conn) -> None:
        _add_note(conn)
        conn.execute(text("SELECT * FROM no_such_table"))

    monkeypatch.setattr(history_schema, "UPGRADES", (Upgrade("runs.note", half_done),))
    with pytest.raises(HistoryError, match=r"cannot open the history at sqlite:///.*no such table: no_such_table"):
        open_history(url)
    assert _version(url) == 1
    assert "note" not in _columns(url, "runs")  # the ALTER went back with the failure


def test_a_store_of_a_newer_runbook_is_refused_untouched(url: str) -> None:
    open_history(url).close()
    with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
        db.execute("INSERT INTO schema_version VALUES (9, '2030-01-01 00:00:00')")
    with pytest.raises(HistoryError, match=r"written by a newer runbook \(schema version 9; .* up to 1\)"):
        open_history(url)


def test_a_database_with_tables_of_someone_else_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "theirs.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE runs (whatever TEXT)")
    with pytest.raises(HistoryError, match=r"already has tables runbook did not create \(runs\)"):
        open_history(f"sqlite:///{path}")


def test_a_file_that_is_not_a_database_is_a_clean_error(tmp_path: Path) -> None:
    path = tmp_path / "garbage.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(HistoryError, match=r"cannot open the history at sqlite:///.*file is not a database"):
        open_history(f"sqlite:///{path}")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (f"not a url {SECRET}", "the history URL is not a database URL; expected sqlite:///PATH or postgresql://"),
        ("", "the history URL is not a database URL"),
        (
            f"mysql://probe:{SECRET}@db.example/history",
            r"the history URL mysql://probe:\*\*\*@db.example/history names mysql",
        ),
    ],
)
def test_a_bad_url_is_one_clean_error_without_the_password(url: str, message: str) -> None:
    with pytest.raises(HistoryError, match=message) as raised:
        open_history(url)
    assert SECRET not in str(raised.value)


def test_a_missing_driver_names_the_package_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # `import psycopg` fails as when it is not installed
    with pytest.raises(HistoryError, match=r"needs the psycopg driver: pip install 'runbook\[postgresql\]'") as raised:
        open_history(f"postgresql://probe:{SECRET}@127.0.0.1:5432/history")
    assert SECRET not in str(raised.value)
    assert "postgresql://probe:***@127.0.0.1:5432/history" in str(raised.value)


def test_an_unreachable_server_is_a_clean_error_without_the_password() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens there once closed
    with pytest.raises(HistoryError, match=r"cannot open the history at postgresql://probe:\*\*\*@") as raised:
        open_history(f"postgresql://probe:{SECRET}@127.0.0.1:{port}/history")
    assert SECRET not in str(raised.value)
    assert "Connection refused" in str(raised.value)


def test_nothing_but_the_history_imports_sqlalchemy(repo_root: Path) -> None:
    probe = (
        "import sys, engine.api, engine.cli.commands, engine.monitor, engine.report; print('sqlalchemy' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=repo_root, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout.strip()) == (0, "False"), done.stderr
