"""The database engine: SQLite by default, any SQLAlchemy URL (PostgreSQL in production).

SQLite runs in WAL mode with a busy timeout: readers never wait for a writer (an apply, the live
controller's call records), and a writer waits for another writer's short transaction instead of
failing with "database is locked" (docs/apply.md, "Limits").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import SQLModel, create_engine

from orchestrator.errors import StoreError

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


def make_engine(url: str) -> Engine:
    """Create the engine and the tables (idempotent)."""
    try:
        sqlite = url.startswith("sqlite")
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S} if sqlite else {})
        if sqlite:
            event.listen(engine, "connect", _sqlite_pragmas)
        SQLModel.metadata.create_all(engine)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot open database {url}: {exc}") from exc
    return engine
