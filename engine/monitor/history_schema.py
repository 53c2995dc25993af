"""The history store's schema, its versions, and how times are stored (see engine.monitor.history).

    migrate(conn)          creates an empty store at the latest version, or upgrades an older one
    latest_version()       1 + len(UPGRADES)
    stored_time(moment) / read_time(stored)

Version 1 is the Tables below, created whole in an empty database. Each later version is one
Upgrade appended to UPGRADES (UPGRADES[0] takes a store from 1 to 2), applied in order to a store
of an older version, in the transaction that opens it (atomic: PostgreSQL's DDL is transactional,
and engine.monitor.history makes SQLite's driver BEGIN before DDL too). Adding version 2 means:
change the Table below (what a new store gets) and append the Upgrade that alters an existing
version-1 store the same way, e.g.

    Upgrade("runs.tool_version", lambda conn: conn.execute(text("ALTER TABLE runs ADD COLUMN tool_version VARCHAR"))),

A released Upgrade never changes. A store newer than this runbook is refused, not touched.
Times are stored in UTC without a zone (the same in both databases), read back as aware UTC.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    func,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Connection

from engine.core.errors import RunbookError
from engine.judge.results import Counts

MIGRATION_LOCK = 0x72756E62  # "runb": one migration at a time among probes sharing a PostgreSQL store


class HistoryError(RunbookError):
    """The history store cannot be opened, read or written; the message never holds a password."""


METADATA = MetaData()

SCHEMA_VERSION = Table(
    "schema_version",
    METADATA,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("applied", DateTime, nullable=False),
)

RUNS = Table(
    "runs",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("spec", String, nullable=False),
    Column("spec_hash", String),  # sha256 over the content hashes of the spec and its bases
    Column("target", String, nullable=False),  # the target's alias, never its URL
    Column("target_kind", String, nullable=False),
    Column("client", String, nullable=False),
    Column("selection", String, nullable=False),
    Column("started", DateTime, nullable=False),
    Column("finished", DateTime, nullable=False),
    Column("duration_ms", Float, nullable=False),
    Column("verdict", String, nullable=False),
    *(
        Column(f"{kind}_{count}", Integer, nullable=False)
        for kind in ("checks", "drills")
        for count in Counts.model_fields
    ),
)
Index("runs_by_spec_and_start", RUNS.c.spec, RUNS.c.started)

ITEMS = Table(
    "items",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("item_id", String, nullable=False),
    Column("kind", String, nullable=False),  # check or drill
    Column("status", String, nullable=False),
    Column("selected", Boolean, nullable=False),
    Column("class", String),
    Column("action", String),
    Column("owner", String),
    Column("latency_ms", Float),  # observed total; none when skipped or not observed
    Column("first_token_ms", Float),  # a stream's time to its first token
    Column("prompt_tokens", Integer),
    Column("completion_tokens", Integer),
    Column("total_tokens", Integer),
    Column("fixture_status", String),  # matched, drift, missing, updated; none: no fixture
    Column("drift", Boolean, nullable=False),
)
Index("items_by_run", ITEMS.c.run_id)


@dataclass(frozen=True)
class Upgrade:
    """What takes a store from one schema version to the next."""

    summary: str
    apply: Callable[[Connection], None]


UPGRADES: tuple[Upgrade, ...] = ()  # version 1 has none yet; see the module docstring


def latest_version() -> int:
    return 1 + len(UPGRADES)


def migrate(conn: Connection) -> None:
    """Bring the store to the latest schema version: create it when empty, upgrade it when older."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    current = _current_version(conn)
    if current > latest_version():
        raise HistoryError(
            f"the history was written by a newer runbook (schema version {current}; "
            f"this runbook knows versions up to {latest_version()})"
        )
    if current == 0:
        _create(conn)
        return
    for version, upgrade in enumerate(UPGRADES[current - 1 :], start=current + 1):
        upgrade.apply(conn)
        _stamp(conn, version)


def _current_version(conn: Connection) -> int:
    if not inspect(conn).has_table(SCHEMA_VERSION.name):
        return 0
    return int(conn.execute(select(func.max(SCHEMA_VERSION.c.version))).scalar_one_or_none() or 0)


def _create(conn: Connection) -> None:
    """An empty store: every table at the latest version (refused if a table of that name is someone else's)."""
    taken = [name for name in (RUNS.name, ITEMS.name) if inspect(conn).has_table(name)]
    if taken:
        raise HistoryError(f"the database already has tables runbook did not create ({', '.join(taken)})")
    METADATA.create_all(conn)
    _stamp(conn, latest_version())


def _stamp(conn: Connection, version: int) -> None:
    conn.execute(insert(SCHEMA_VERSION).values(version=version, applied=stored_time(dt.datetime.now(dt.UTC))))


def stored_time(moment: dt.datetime) -> dt.datetime:
    """UTC without a zone, as both databases store it (a naive datetime is taken as UTC)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return aware.astimezone(dt.UTC).replace(tzinfo=None)


def read_time(stored: dt.datetime) -> dt.datetime:
    return stored.replace(tzinfo=dt.UTC)
