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

from orchestrator.store.models import CallRecord, CallRollup, TenantRollup

KEY = ("bucket", "tenant", "service_number", "queue", "flow", "outcome", "reason")
TENANT_KEY = ("bucket", "tenant", "outcome", "reason")  # TenantRollup: summed over number, queue, flow
SUMS = ("calls", "wait_s", "talk_s", "revenue_cents", "revenue_call_cents")


def bucket_of(t: datetime) -> datetime:
    """The UTC quarter hour ``t`` falls in."""
    t = t.astimezone(UTC)
    return t.replace(minute=t.minute - t.minute % 15, second=0, microsecond=0)


def _key(r: CallRecord) -> tuple[Any, ...]:
    return (bucket_of(r.started_at), r.tenant, r.service_number, r.queue or "", r.flow or "", r.outcome,
            r.reason or "")


@cache
def _upsert(dialect: str, tenant_level: bool) -> Any:
    """INSERT ... ON CONFLICT DO UPDATE adding to the sums, built once per dialect and table:
    executed with a list of rows, so it is compiled once, not per batch."""
    table = (TenantRollup if tenant_level else CallRollup).__table__  # type: ignore[union-attr]
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
    return stmt.on_conflict_do_update(index_elements=list(TENANT_KEY if tenant_level else KEY),
                                      set_={c: table.c[c] + stmt.excluded[c] for c in SUMS})


def _sums(keys: Sequence[tuple[Any, ...]], records: Sequence[CallRecord]) -> dict[tuple[Any, ...], list[float]]:
    sums: dict[tuple[Any, ...], list[float]] = {}
    for k, r in zip(keys, records, strict=True):
        s = sums.setdefault(k, [0, 0.0, 0.0, 0, 0])
        for i, v in enumerate((1, r.wait_s, r.talk_s, r.revenue_cents, r.revenue_call_cents)):
            s[i] += v
    return sums


def add(session: Session, records: Sequence[CallRecord]) -> None:
    """Add ``records`` (new ones only) to their buckets of both rollups in the session's
    transaction, adding to the sums in the database, so concurrent writers never lose a count."""
    if not records:
        return
    connection = session.connection()
    keys = [_key(r) for r in records]
    for tenant_level, names in ((False, KEY), (True, TENANT_KEY)):
        mine = [(k[0], k[1], k[5], k[6]) for k in keys] if tenant_level else keys
        values = [{**dict(zip(names, k, strict=True)), **dict(zip(SUMS, s, strict=True))}
                  for k, s in _sums(mine, records).items()]
        connection.execute(_upsert(connection.dialect.name, tenant_level), values)


def _bucket_sql(dialect: str) -> str:
    if dialect == "postgresql":
        return "date_bin('15 minutes', started_at, TIMESTAMPTZ '2000-01-01 00:00:00+00')"
    # SQLite keeps DateTime as 'YYYY-MM-DD HH:MM:SS.ffffff' text (UTC), which this rebuilds.
    return ("strftime('%Y-%m-%d %H:', started_at) || printf('%02d', "
            "(CAST(strftime('%M', started_at) AS INTEGER) / 15) * 15) || '\\:00.000000'")


def rebuild(engine: Any) -> int:
    """Build both rollups again from every record, in one transaction (after records were
    imported in bulk, e.g. by a benchmark, or to repair them); the number of CallRollup rows."""
    bucket = _bucket_sql(engine.dialect.name)
    keys = "tenant, service_number, COALESCE(queue, ''), COALESCE(flow, ''), outcome, COALESCE(reason, '')"
    sums = ", ".join(f"SUM({c})" for c in SUMS[1:])
    with engine.begin() as conn:
        conn.execute(delete(CallRollup))
        conn.execute(delete(TenantRollup))
        conn.execute(text(
            f"INSERT INTO callrollup (bucket, {', '.join(KEY[1:])}, {', '.join(SUMS)}) "
            f"SELECT {bucket}, {keys}, COUNT(*), {sums} FROM callrecord GROUP BY {bucket}, {keys}"))
        conn.execute(text(
            f"INSERT INTO tenantrollup ({', '.join(TENANT_KEY)}, {', '.join(SUMS)}) "
            f"SELECT {', '.join(TENANT_KEY)}, SUM(calls), {sums} FROM callrollup GROUP BY {', '.join(TENANT_KEY)}"))
        return int(conn.execute(select(func.count()).select_from(CallRollup)).scalar_one())
