"""The run history in a real PostgreSQL (Debian's `postgresql`, started in a temporary directory):
the runs tests/unit/test_history_store.py records in SQLite give the same trend here, worked out by
hand in tests/support/history_runs.py, so the two stores are proven equal.

Skipped, loudly, when PostgreSQL is not installed (apt-get install postgresql).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from engine.monitor import history_schema
from engine.monitor.history import HistoryError, Upgrade, open_history
from engine.monitor.trend import trend, trend_html, trend_text
from support.history_runs import EXPECTED, NOW, WINDOW_START, at, check_pruning, sample_runs, summary
from support.postgres import PostgresServer, running_postgres

pytestmark = pytest.mark.services

SECRET = "s3cret-Passw0rd"


@pytest.fixture(scope="module")
def postgres():
    with running_postgres() as server:
        yield server


def _record_samples(url: str) -> None:
    with open_history(url) as store:
        for run in sample_runs():
            store.record(run)


def test_postgres_gives_the_trend_worked_out_by_hand_and_the_same_as_sqlite(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    on_postgres, on_sqlite = postgres.create_database("same_trend"), f"sqlite:///{tmp_path / 'history.sqlite'}"
    for url in (on_postgres, on_sqlite):
        _record_samples(url)
    with open_history(on_postgres) as pg, open_history(on_sqlite) as lite:
        from_pg, from_lite = trend(pg, "bulk", WINDOW_START, NOW), trend(lite, "bulk", WINDOW_START, NOW)
        assert summary(from_pg) == EXPECTED
        assert from_pg == from_lite  # every field, run ids and the per-run series included
        assert trend_text(from_pg) == trend_text(from_lite)
        assert trend_html(from_pg) == trend_html(from_lite)
        assert pg.runs("bulk") == lite.runs("bulk")
        assert pg.items("bulk") == lite.items("bulk")


def test_pruning_deletes_old_runs_and_their_items_on_postgres(postgres: PostgresServer) -> None:
    url = postgres.create_database("pruned")
    _record_samples(url)
    with open_history(url) as store:
        check_pruning(store)


def test_probes_sharing_one_store_see_each_others_runs(postgres: PostgresServer) -> None:
    url = postgres.create_database("shared")
    first_run, second_run = sample_runs()[0], sample_runs()[2]
    with open_history(url) as one, open_history(url) as two:  # the second open finds the schema made
        one.record(first_run)
        two.record(second_run)
        assert [run.started for run in one.runs("bulk")] == [at(1), at(2)]
        assert one.runs("bulk") == two.runs("bulk")


def test_an_older_store_is_migrated_and_a_failed_upgrade_leaves_it_as_it_was(
    postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = postgres.create_database("migrated")
    with open_history(url) as store:
        store.record(sample_runs()[0])

    def half_done(conn) -> None:
        conn.execute(text("ALTER TABLE runs ADD COLUMN note VARCHAR"))
        conn.execute(text("SELECT * FROM no_such_table"))

    monkeypatch.setattr(history_schema, "UPGRADES", (Upgrade("runs.note", half_done),))
    with pytest.raises(HistoryError, match='relation "no_such_table" does not exist'):
        open_history(url)
    assert _schema(url) == (1, False)  # PostgreSQL's DDL went back with the failure
    add_note = Upgrade("runs.note", lambda conn: conn.execute(text("ALTER TABLE runs ADD COLUMN note VARCHAR")))
    monkeypatch.setattr(history_schema, "UPGRADES", (add_note,))
    with open_history(url) as store:
        assert [run.started for run in store.runs("bulk")] == [at(1)]
    assert _schema(url) == (2, True)


def _schema(url: str) -> tuple[int, bool]:
    """(schema version, whether runs has the note column), read with psycopg itself."""
    import psycopg

    with psycopg.connect(url) as conn:
        version = conn.execute("SELECT max(version) FROM schema_version").fetchone()
        note = conn.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_name = 'runs' AND column_name = 'note'"
        )
        return int(version[0]) if version else 0, note.fetchone() is not None


def test_a_server_error_is_a_clean_error_without_the_password(postgres: PostgresServer) -> None:
    url = postgres.url("no_such_database").replace("runbook@", f"runbook:{SECRET}@")
    with pytest.raises(
        HistoryError,
        match=r'cannot open the history at postgresql://runbook:\*\*\*@.*"no_such_database" does not exist',
    ) as raised:
        open_history(url)
    assert SECRET not in str(raised.value)
