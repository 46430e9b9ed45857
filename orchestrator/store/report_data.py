"""What reports read: the rollups (volume, finance), the call records of a range (the other
kinds, streamed in chunks so a large range is never held twice), what a tenant's records name, and
saved report layouts. Rows come back as plain tuples in the order asked for."""

from __future__ import annotations

import bisect
import json
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, bindparam, delete, distinct, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col
from sqlmodel import select as orm_select

from orchestrator.errors import StoreError
from orchestrator.store.models import AgentPause, CallRecord, CallRollup, ReportLayout, TenantRollup

CALL_COLUMNS = ("started_at", "caller_hash")  # the default; callers name what they need
STREAM_ROWS = 20_000


def _aware(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)  # SQLite gives naive UTC


def rollups(engine: Any, tenant: str, start: datetime, end: datetime, filters: dict[str, str], *,
            per_number: bool) -> list[tuple[Any, ...]]:
    """(bucket, number, outcome, reason, calls, talk_s, revenue_cents, revenue_call_cents) summed
    over queues and flows (and over numbers unless ``per_number``: number is then ""), for the
    quarter hours in [start, end); ``filters`` on number/queue/flow. Summed in the database, so
    what crosses to Python is at most a row per quarter hour and outcome (per number)."""
    # Without filters and numbers the tenant-level sums do: a row per quarter hour and outcome.
    tenant_level = not filters and not per_number
    r = (TenantRollup if tenant_level else CallRollup).__table__.c  # type: ignore[union-attr]
    number = r.service_number if per_number else literal("")
    q = (select(r.bucket, number, r.outcome, r.reason, func.sum(r.calls), func.sum(r.talk_s),
                func.sum(r.revenue_cents), func.sum(r.revenue_call_cents))
         .where(r.tenant == tenant, r.bucket >= start.astimezone(UTC), r.bucket < end.astimezone(UTC)))
    for name, value in filters.items():
        q = q.where(r[{"number": "service_number"}.get(name, name)] == value)
    q = q.group_by(r.bucket, *([r.service_number] if per_number else []), r.outcome, r.reason)
    try:
        with engine.connect() as conn:
            return [(_aware(b), n, o, why, int(c), float(t), int(rv), int(rc))
                    for b, n, o, why, c, t, rv, rc in conn.execute(q)]
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read call rollups: {exc}") from exc


def calls(engine: Any, tenant: str, start: datetime, end: datetime, filters: dict[str, str],
          columns: Sequence[str] = CALL_COLUMNS) -> Iterator[tuple[Any, ...]]:
    """``columns`` of the tenant's calls that started in [start, end), oldest first, streamed."""
    c = CallRecord.__table__.c  # type: ignore[attr-defined]
    q = select(*(c[name] for name in columns)).where(
        c.tenant == tenant, c.started_at >= start.astimezone(UTC), c.started_at < end.astimezone(UTC))
    for name, value in filters.items():
        q = q.where(c[{"number": "service_number"}.get(name, name)] == value)
    times = [i for i, name in enumerate(columns) if name.endswith("_at")]
    try:
        with engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=STREAM_ROWS).execute(
                q.order_by(c.started_at))
            for row in result:
                values = list(row)
                for i in times:
                    values[i] = _aware(values[i])
                yield tuple(values)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read call records: {exc}") from exc


CallerCounts = tuple[dict[int, tuple[int, int, int]], list[tuple[int, str, int]]]


def caller_counts(engine: Any, tenant: str, starts: Sequence[datetime], end: datetime, filters: dict[str, str],
                  more_than: int) -> CallerCounts:
    """Per interval (index into ``starts``, the intervals' UTC starts; the last ends at ``end``):
    (calls, withheld calls, distinct caller hashes), and the (interval, hash, calls) of callers
    with more than ``more_than`` calls in an interval. Exact. PostgreSQL counts in the database
    (width_bucket over the interval starts); SQLite streams the two columns and counts here."""
    c = CallRecord.__table__.c  # type: ignore[attr-defined]
    where = [c.tenant == tenant, c.started_at >= starts[0].astimezone(UTC), c.started_at < end.astimezone(UTC)]
    where += [c[{"number": "service_number"}.get(k, k)] == v for k, v in filters.items()]
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                return _pg_caller_counts(conn, c, where, starts, more_than)
            per: dict[int, Counter[str]] = defaultdict(Counter)
            starts_utc = [t.astimezone(UTC) for t in starts]
            result = conn.execution_options(stream_results=True, yield_per=STREAM_ROWS).execute(
                select(c.started_at, c.caller_hash).where(*where))
            for started, h in result:
                per[bisect.bisect_right(starts_utc, _aware(started)) - 1][h] += 1
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read call records: {exc}") from exc
    counts = {i: (sum(n.values()), n.get("", 0), len(n) - ("" in n)) for i, n in per.items()}
    repeat = [(i, h, k) for i, n in per.items() for h, k in n.items() if h and k > more_than]
    return counts, repeat


def _pg_caller_counts(conn: Any, c: Any, where: list[Any], starts: Sequence[datetime], more_than: int) -> CallerCounts:
    bounds = bindparam("bounds", [t.astimezone(UTC) for t in starts], type_=ARRAY(DateTime(timezone=True)))
    i = (func.width_bucket(c.started_at, bounds) - 1).label("i")
    known = c.caller_hash != ""
    q1 = select(i, func.count(), func.count().filter(c.caller_hash == ""),
                func.count(distinct(c.caller_hash)).filter(known)).where(*where).group_by(i)
    counts = {int(k): (int(a), int(w), int(u)) for k, a, w, u in conn.execute(q1)}
    q2 = (select(i, c.caller_hash, func.count()).where(*where, known).group_by(i, c.caller_hash)
          .having(func.count() > more_than))
    return counts, [(int(k), str(h), int(n)) for k, h, n in conn.execute(q2)]


def pauses(engine: Any, tenant: str, start: datetime, end: datetime) -> list[tuple[str, datetime, datetime, str]]:
    """(agent, started_at, ended_at, reason) of the tenant's agent pauses that overlap [start, end)."""
    p = AgentPause.__table__.c  # type: ignore[attr-defined]
    q = select(p.agent, p.started_at, p.ended_at, p.reason).where(
        p.tenant == tenant, p.started_at < end.astimezone(UTC), p.ended_at > start.astimezone(UTC))
    try:
        with engine.connect() as conn:
            return [(a, _aware(s), _aware(e), r) for a, s, e, r in conn.execute(q.order_by(p.started_at))]
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read agent pauses: {exc}") from exc


def named(engine: Any, tenant: str, what: str) -> set[str]:
    """The numbers, queues or flows the tenant's call records name (so a report on a number no
    longer in the plan still works, and another tenant's never does)."""
    r = CallRollup.__table__.c  # type: ignore[attr-defined]
    column = r[{"number": "service_number"}.get(what, what)]
    try:
        with engine.connect() as conn:
            return {str(v) for (v,) in conn.execute(select(column).where(r.tenant == tenant).distinct()) if v}
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read call rollups: {exc}") from exc


# --- saved layouts ---------------------------------------------------------------------------------

def save_layout(engine: Any, tenant: str, name: str, spec: dict[str, Any]) -> None:
    try:
        with Session(engine) as session:
            existing = session.exec(orm_select(ReportLayout).where(col(ReportLayout.tenant) == tenant,
                                                               col(ReportLayout.name) == name)).first()
            if existing is not None:
                existing.spec_json = json.dumps(spec, sort_keys=True)
                existing.updated_at = datetime.now(UTC)
            else:
                session.add(ReportLayout(tenant=tenant, name=name, spec_json=json.dumps(spec, sort_keys=True)))
            session.commit()
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot save report layout {name!r}: {exc}") from exc


def layouts(engine: Any, tenant: str) -> dict[str, dict[str, Any]]:
    try:
        with Session(engine) as session:
            rows = session.exec(orm_select(ReportLayout).where(col(ReportLayout.tenant) == tenant)
                                .order_by(col(ReportLayout.name)))
            return {r.name: dict(json.loads(r.spec_json)) for r in rows}
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read report layouts: {exc}") from exc


def delete_layout(engine: Any, tenant: str, name: str) -> bool:
    try:
        with Session(engine) as session:
            result = session.execute(delete(ReportLayout).where(col(ReportLayout.tenant) == tenant,
                                                                col(ReportLayout.name) == name))
            session.commit()
            return bool(result.rowcount)  # type: ignore[attr-defined]
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot delete report layout {name!r}: {exc}") from exc
