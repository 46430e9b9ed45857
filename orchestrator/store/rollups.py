"""Per-quarter-hour rollups of the call records (``CallRollup``), kept in the same transaction
as the records they sum: a record is in a rollup exactly when it is stored.

A quarter hour in UTC is also a wall-clock quarter hour in Europe/Amsterdam (its offset is a whole
number of hours), so any report interval of 15 minutes or longer is a union of buckets."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from orchestrator.store.models import CallRecord, CallRollup

KEY = ("bucket", "tenant", "service_number", "queue", "flow", "outcome", "reason")
SUMS = ("calls", "wait_s", "talk_s", "revenue_cents", "revenue_call_cents")


def bucket_of(t: datetime) -> datetime:
    """The UTC quarter hour ``t`` falls in."""
    t = t.astimezone(UTC)
    return t.replace(minute=t.minute - t.minute % 15, second=0, microsecond=0)


def _key(r: CallRecord) -> tuple[Any, ...]:
    return (bucket_of(r.started_at), r.tenant, r.service_number, r.queue or "", r.flow or "", r.outcome,
            r.reason or "")


@cache
def _upsert(dialect: str) -> Any:
    """INSERT ... ON CONFLICT DO UPDATE adding to the sums, built once per dialect: executed with a
    list of rows, so it is compiled once, not per batch."""
    table = CallRollup.__table__  # type: ignore[attr-defined]
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
    return stmt.on_conflict_do_update(index_elements=list(KEY), set_={c: table.c[c] + stmt.excluded[c] for c in SUMS})


def add(session: Session, records: Sequence[CallRecord]) -> None:
    """Add ``records`` (new ones only) to their buckets in the session's transaction, adding to
    the sums in the database, so concurrent writers never lose a count."""
    if not records:
        return
    sums: dict[tuple[Any, ...], list[float]] = {}
    for r in records:
        s = sums.setdefault(_key(r), [0, 0.0, 0.0, 0, 0])
        for i, v in enumerate((1, r.wait_s, r.talk_s, r.revenue_cents, r.revenue_call_cents)):
            s[i] += v
    values = [{**dict(zip(KEY, k, strict=True)), **dict(zip(SUMS, s, strict=True))} for k, s in sums.items()]
    connection = session.connection()
    connection.execute(_upsert(connection.dialect.name), values)


def _bucket_sql(dialect: str) -> str:
    if dialect == "postgresql":
        return "date_bin('15 minutes', started_at, TIMESTAMPTZ '2000-01-01 00:00:00+00')"
    # SQLite keeps DateTime as 'YYYY-MM-DD HH:MM:SS.ffffff' text (UTC), which this rebuilds.
    return ("strftime('%Y-%m-%d %H:', started_at) || printf('%02d', "
            "(CAST(strftime('%M', started_at) AS INTEGER) / 15) * 15) || '\\:00.000000'")


def rebuild(engine: Any) -> int:
    """Build the rollups again from every record, in one transaction (after records were imported
    in bulk, e.g. by a benchmark, or to repair them); the number of rollup rows."""
    bucket = _bucket_sql(engine.dialect.name)
    keys = "tenant, service_number, COALESCE(queue, ''), COALESCE(flow, ''), outcome, COALESCE(reason, '')"
    with engine.begin() as conn:
        conn.execute(delete(CallRollup))
        conn.execute(text(
            f"INSERT INTO callrollup (bucket, {', '.join(KEY[1:])}, {', '.join(SUMS)}) "
            f"SELECT {bucket}, {keys}, COUNT(*), SUM(wait_s), SUM(talk_s), SUM(revenue_cents), "
            f"SUM(revenue_call_cents) FROM callrecord GROUP BY {bucket}, {keys}"))
        return int(conn.execute(select(func.count()).select_from(CallRollup)).scalar_one())
