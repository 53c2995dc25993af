"""Run history: each run's outcome, per run and per item, in SQLite or PostgreSQL (SQLAlchemy Core).

    open_history(url) -> History              opens the store, creates or migrates its schema
    History.record(results) -> run id         one run and its checks and drills, in one transaction
    History.runs(spec, since, until, target)  the spec's runs, oldest first
    History.last_run_before(spec, when, target)
    History.items(spec, since, until, target) the checks and drills of those runs
    History.run_items(run_id)
    History.prune(spec, before)               delete the spec's runs (and their items) started before

    HistoryError (a RunbookError)   a bad URL, a missing driver, an unreachable or broken store

Only ids, statuses, classes and numbers are stored: never a prompt, an answer, a header, a URL
or a captured value. The tables, their versions and their migrations: engine.monitor.history_schema.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import Select, create_engine, delete, event, insert, select
from sqlalchemy.engine import URL, Connection, Engine, RowMapping, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from engine.core.redact import one_line, scrub
from engine.judge.results import CheckResult, Counts, Results
from engine.monitor.history_schema import (
    ITEMS,
    RUNS,
    HistoryError,
    Upgrade,
    latest_version,
    migrate,
    read_time,
    stored_time,
)

DEFAULT_HISTORY_URL = "sqlite:///reports/history.sqlite"
URL_FORMS = "sqlite:///PATH or postgresql://USER@HOST:PORT/DATABASE"
DRIVERS = {  # the URL's scheme -> the SQLAlchemy dialect and driver used
    "sqlite": "sqlite",
    "sqlite+pysqlite": "sqlite",
    "postgresql": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
}


# ---- rows read back --------------------------------------------------------------------------


@dataclass(frozen=True)
class RunRow:
    id: int
    spec: str
    spec_hash: str | None
    target: str
    target_kind: str
    client: str
    selection: str
    started: dt.datetime
    finished: dt.datetime
    duration_ms: float
    verdict: str
    checks: Counts
    drills: Counts

    @property
    def checks_ran(self) -> int:
        """Checks that ran: passed, failed or erred (skipped and unselected ones did not)."""
        return self.checks.total - self.checks.skipped


@dataclass(frozen=True)
class ItemRow:
    run_id: int
    item_id: str
    kind: str
    status: str
    selected: bool
    class_: str | None
    action: str | None
    owner: str | None
    latency_ms: float | None
    first_token_ms: float | None
    prompt_tokens: int | None
    completion_tokens: int | None
    total_tokens: int | None
    fixture_status: str | None
    drift: bool


# ---- the store -------------------------------------------------------------------------------


def open_history(url: str) -> History:
    """The history store at `url` (sqlite:///PATH or postgresql://...), its schema created or migrated."""
    parsed = _parse(url)
    shown = parsed.render_as_string(hide_password=True)  # as given: postgresql://, not the driver's name
    engine = _engine(parsed.set(drivername=DRIVERS[parsed.drivername]), shown)
    history = History(engine, parsed, shown)
    try:
        with history.guarded("open"), engine.begin() as conn:
            migrate(conn)
    except HistoryError:
        engine.dispose()
        raise
    return history


class History:
    """An open history store; close it, or use it as a context manager."""

    def __init__(self, engine: Engine, url: URL, shown: str):
        self._engine = engine
        self._url = url
        self.shown = shown  # the URL as messages show it: password hidden

    def __enter__(self) -> History:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._engine.dispose()

    def record(self, results: Results) -> int:
        """Store one run and its items in one transaction; the run's id."""
        with self.guarded("record a run in"), self._engine.begin() as conn:
            run_id = conn.execute(insert(RUNS).values(_run_values(results)).returning(RUNS.c.id)).scalar_one()
            rows = [_item_values(run_id, item, kind) for kind, item in _items_of(results)]
            if rows:
                conn.execute(insert(ITEMS), rows)
        return int(run_id)

    def runs(
        self, spec: str, since: dt.datetime | None = None, until: dt.datetime | None = None, target: str | None = None
    ) -> list[RunRow]:
        """The spec's runs that started in [since, until], oldest first."""
        query = _window(select(RUNS), spec, since, until, target).order_by(RUNS.c.started, RUNS.c.id)
        return [_run_row(row) for row in self._fetch(query)]

    def last_run_before(self, spec: str, when: dt.datetime, target: str | None = None) -> RunRow | None:
        """The spec's latest run that started before `when`: what a window's first run is compared with."""
        query = _window(select(RUNS), spec, None, None, target).where(RUNS.c.started < stored_time(when))
        rows = self._fetch(query.order_by(RUNS.c.started.desc(), RUNS.c.id.desc()).limit(1))
        return _run_row(rows[0]) if rows else None

    def items(
        self, spec: str, since: dt.datetime | None = None, until: dt.datetime | None = None, target: str | None = None
    ) -> list[ItemRow]:
        """The checks and drills of the spec's runs that started in [since, until], in run order."""
        joined = select(ITEMS).join(RUNS, ITEMS.c.run_id == RUNS.c.id)
        query = _window(joined, spec, since, until, target).order_by(RUNS.c.started, RUNS.c.id, ITEMS.c.id)
        return [_item_row(row) for row in self._fetch(query)]

    def run_items(self, run_id: int) -> list[ItemRow]:
        query = select(ITEMS).where(ITEMS.c.run_id == run_id).order_by(ITEMS.c.id)
        return [_item_row(row) for row in self._fetch(query)]

    def prune(self, spec: str, before: dt.datetime) -> int:
        """Delete the spec's runs that started before `before`, and their items, in one transaction;
        how many runs went. (Items are deleted explicitly: SQLite enforces no foreign keys by default.)"""
        old = select(RUNS.c.id).where(RUNS.c.spec == spec, RUNS.c.started < stored_time(before))
        with self.guarded("prune"), self._engine.begin() as conn:
            conn.execute(delete(ITEMS).where(ITEMS.c.run_id.in_(old)))
            return int(conn.execute(delete(RUNS).where(RUNS.c.id.in_(old))).rowcount)

    def _fetch(self, query: Select[Any]) -> list[RowMapping]:
        with self.guarded("read"), self._engine.connect() as conn:
            return [row._mapping for row in conn.execute(query)]

    @contextmanager
    def guarded(self, doing: str) -> Iterator[None]:
        """Database and driver failures as one HistoryError that names the store, password hidden."""
        try:
            yield
        except SQLAlchemyError as error:
            reason = getattr(error, "orig", None) or error
            raise HistoryError(f"cannot {doing} the history at {self.shown}: {self._clean(reason)}") from None
        except OSError as error:
            raise HistoryError(f"cannot {doing} the history at {self.shown}: {self._clean(error)}") from None

    def _clean(self, reason: object) -> str:
        secrets = [self._url.password] if self._url.password else []
        return scrub(one_line(str(reason), limit=300), secrets)


# ---- opening ---------------------------------------------------------------------------------


def _parse(url: str) -> URL:
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise HistoryError(f"the history URL is not a database URL; expected {URL_FORMS}") from None
    if parsed.drivername not in DRIVERS:
        shown = parsed.render_as_string(hide_password=True)
        raise HistoryError(f"the history URL {shown} names {parsed.drivername}; runbook keeps history in {URL_FORMS}")
    return parsed


def _engine(url: URL, shown: str) -> Engine:
    if url.get_backend_name() == "sqlite":
        _make_folder(url, shown)
    try:
        engine = create_engine(url, connect_args=_connect_args(url))
    except ImportError as error:
        hint = (
            "pip install 'runbook[postgresql]'" if url.get_backend_name() == "postgresql" else "a Python with sqlite3"
        )
        raise HistoryError(f"the history at {shown} needs the {error.name or 'database'} driver: {hint}") from None
    if url.get_backend_name() == "sqlite":
        _transactional_sqlite(engine)
    return engine


def _make_folder(url: URL, shown: str) -> None:
    if url.database in (None, "", ":memory:"):
        return
    try:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise HistoryError(f"cannot create the folder of the history at {shown}: {error.strerror}") from None


def _connect_args(url: URL) -> dict[str, Any]:
    if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
        return {"connect_timeout": 10}
    return {}


def _transactional_sqlite(engine: Engine) -> None:
    """SQLite's driver starts transactions only before data changes; make it BEGIN as SQLAlchemy asks,
    so that a schema migration is atomic there as in PostgreSQL (SQLAlchemy's documented recipe)."""

    def on_connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None

    def on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN")

    event.listen(engine, "connect", on_connect)
    event.listen(engine, "begin", on_begin)


# ---- writing ---------------------------------------------------------------------------------


def spec_hash(results: Results) -> str | None:
    """One hash of the spec's content: sha256 over the hashes of the spec and every base, in order."""
    if not results.spec.files:
        return None
    return hashlib.sha256("\n".join(file.sha256 for file in results.spec.files).encode()).hexdigest()


def _run_values(results: Results) -> dict[str, Any]:
    counts = {
        f"{kind}_{name}": value
        for kind, tally in (("checks", results.summary.checks), ("drills", results.summary.drills))
        for name, value in tally.model_dump().items()
    }
    return {
        "spec": results.spec.name,
        "spec_hash": spec_hash(results),
        "target": results.target.name,
        "target_kind": results.target.kind,
        "client": results.client,
        "selection": results.selection,
        "started": stored_time(_parse_time(results.started)),
        "finished": stored_time(_parse_time(results.finished)),
        "duration_ms": results.duration_ms,
        "verdict": results.summary.verdict,
        **counts,
    }


def _items_of(results: Results) -> Iterator[tuple[str, CheckResult]]:
    yield from (("check", check) for check in results.checks)
    yield from (("drill", drill) for drill in results.drills)


def _item_values(run_id: int, item: CheckResult, kind: str) -> dict[str, Any]:
    usage = item.log.usage if item.log is not None and item.log.usage else {}
    fixture = item.fixture.status if item.fixture is not None else None
    return {
        "run_id": run_id,
        "item_id": item.id,
        "kind": kind,
        "status": item.status,
        "selected": item.selected,
        "class": item.class_,
        "action": item.action,
        "owner": item.owner,
        **_latencies(item),
        **{name: _count(usage.get(name)) for name in ("prompt_tokens", "completion_tokens", "total_tokens")},
        "fixture_status": fixture,
        "drift": fixture == "drift",
    }


def _latencies(item: CheckResult) -> dict[str, float | None]:
    """The observed total and a stream's time to its first token (as `runbook diff` compares them)."""
    observed = item.observed
    if observed is None or item.status == "skipped":
        return {"latency_ms": None, "first_token_ms": None}
    first = observed.stream.first_token_ms if observed.stream is not None else None
    return {"latency_ms": observed.elapsed_ms, "first_token_ms": first}


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# ---- reading ---------------------------------------------------------------------------------


def _window(
    query: Select[Any], spec: str, since: dt.datetime | None, until: dt.datetime | None, target: str | None
) -> Select[Any]:
    query = query.where(RUNS.c.spec == spec)
    if since is not None:
        query = query.where(RUNS.c.started >= stored_time(since))
    if until is not None:
        query = query.where(RUNS.c.started <= stored_time(until))
    if target is not None:
        query = query.where(RUNS.c.target == target)
    return query


def _run_row(row: RowMapping) -> RunRow:
    counts = {
        kind: Counts(**{name: row[f"{kind}_{name}"] for name in Counts.model_fields}) for kind in ("checks", "drills")
    }
    plain = {name: row[name] for name in ("id", "spec", "spec_hash", "target", "target_kind", "client", "selection")}
    return RunRow(
        **plain,
        started=read_time(row["started"]),
        finished=read_time(row["finished"]),
        duration_ms=row["duration_ms"],
        verdict=row["verdict"],
        checks=counts["checks"],
        drills=counts["drills"],
    )


def _item_row(row: RowMapping) -> ItemRow:
    values = {name: row[name] for name in ItemRow.__dataclass_fields__ if name != "class_"}
    return ItemRow(**values, class_=row["class"])


# ---- times -----------------------------------------------------------------------------------


def _parse_time(text: str) -> dt.datetime:
    """A results time (ISO 8601; without a zone, UTC) as an aware datetime."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise HistoryError(f"the results' time {text!r} is not an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


__all__ = [
    "DEFAULT_HISTORY_URL",
    "History",
    "HistoryError",
    "ItemRow",
    "RunRow",
    "Upgrade",
    "latest_version",
    "open_history",
    "spec_hash",
]
