"""Per-quarter-hour rollups of the call records (``CallRollup``), kept in the same transaction
as the records they sum: a record is in a rollup exactly when it is stored.

A quarter hour in UTC is also a wall-clock quarter hour in Europe/Amsterdam (its offset is a whole
number of hours), so any report interval of 15 minutes or longer is a union of buckets."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

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


def add(session: Session, records: Sequence[CallRecord]) -> None:
    """Add ``records`` (new ones only) to their buckets: one INSERT ... ON CONFLICT DO UPDATE
    adding to the sums, so concurrent writers never lose a count."""
    if not records:
        return
    sums: dict[tuple[Any, ...], list[float]] = {}
    for r in records:
        s = sums.setdefault(_key(r), [0, 0.0, 0.0, 0, 0])
        for i, v in enumerate((1, r.wait_s, r.talk_s, r.revenue_cents, r.revenue_call_cents)):
            s[i] += v
    values = [{**dict(zip(KEY, k, strict=True)), **dict(zip(SUMS, s, strict=True))} for k, s in sums.items()]
    dialect = session.get_bind().dialect.name
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(CallRollup).values(values)
    table = CallRollup.__table__  # type: ignore[attr-defined]
    stmt = stmt.on_conflict_do_update(index_elements=list(KEY),
                                      set_={c: table.c[c] + stmt.excluded[c] for c in SUMS})
    session.execute(stmt)
