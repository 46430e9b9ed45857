"""The database engine: SQLite by default, any SQLAlchemy URL (PostgreSQL in production).

SQLite runs in WAL mode with a busy timeout: readers never wait for a writer (an apply, the live
controller's call records), and a writer waits for another writer's short transaction instead of
failing with "database is locked" (docs/apply.md, "Limits").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, create_engine

from orchestrator.errors import StoreError
from orchestrator.store import schema

BUSY_TIMEOUT_S = 30.0  # longer than any write transaction of ours (an apply stages in ~1 s per 10,000 numbers)
# Rows per IN (...) list: a statement may carry at most 65,535 bound parameters in PostgreSQL and
# 32,766 in SQLite's default build. Statements per row were what made storing 10,000 numbers take
# 30 s (benchmarks, issue 9); now it is a fixed number of statements per chunk.
CHUNK = 500
T = TypeVar("T")


def chunks(items: Sequence[T]) -> list[Sequence[T]]:
    return [items[i:i + CHUNK] for i in range(0, len(items), CHUNK)]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")  # persistent in the file; cheap to repeat
        cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA foreign_keys=OFF")  # as before: rows are replaced set-based
    finally:
        cursor.close()


def make_engine(url: str, *, check_schema: bool = True) -> Engine:
    """The engine for ``url``. An empty database gets the newest schema; one whose schema is
    behind is refused (SchemaOutdated names `orchestrator db upgrade`) unless ``check_schema`` is
    off, which only that command does."""
    if url.startswith("postgresql://"):  # psycopg 3, whatever SQLAlchemy's default driver is
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    try:
        sqlite = url.startswith("sqlite")
        engine = create_engine(url, **_engine_options(url))
        if sqlite:
            event.listen(engine, "connect", _sqlite_pragmas)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot open database {url}: {exc}") from exc
    if check_schema:
        schema.ensure_current(engine)
    return engine


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": BUSY_TIMEOUT_S}}
    if not url.startswith("postgresql"):
        return {}
    # Timestamps are TIMESTAMP WITH TIME ZONE there and come back in the session's zone: UTC, as
    # SQLite stores them, whatever zone the server is configured with. pre_ping: a long-running
    # controller reconnects after a PostgreSQL restart instead of failing its next write.
    return {"connect_args": {"options": "-c timezone=UTC"}, "pool_pre_ping": True}


def upsert(session: Session, model: Any, values: dict[str, Any], *, key: str) -> None:
    """Insert the row or update the one with the same ``key``, in one statement: a get-then-insert
    lets two services writing the first row at once (API and CLI applies) fail on the key.
    Both databases have INSERT ... ON CONFLICT, each dialect its own construct."""
    dialect = session.get_bind().dialect.name
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(model).values(**values)
    session.execute(stmt.on_conflict_do_update(index_elements=[key], set_={k: v for k, v in values.items()
                                                                           if k != key}))
    session.get(model, values[key], populate_existing=True)  # a loaded copy in the session: refreshed
