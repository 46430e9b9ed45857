"""Call records (one row per call to a service number): stored by the live controller's writer,
read back by interval and counted per day. Each function opens its own session: the controller
runs them in a worker thread (``asyncio.to_thread``), never on its event loop."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, col, func, select

from orchestrator.errors import StoreError
from orchestrator.store import rollups
from orchestrator.store.models import AgentPause, CallRecord, ServiceNumber

log = logging.getLogger(__name__)


def utc(t: datetime) -> datetime:
    return t.astimezone(UTC)  # SQLModel insists on aware datetimes; always UTC in the table


def save(engine: Any, rows: Sequence[CallRecord]) -> int:
    """Insert records and add them to the rollups, in one transaction; a call id already stored
    is skipped (a re-sync may finish a call twice), so a call is never counted twice. The number
    of records added."""
    try:
        with Session(engine) as session:
            ids = [r.call_id for r in rows]
            known = set(session.exec(select(CallRecord.call_id).where(col(CallRecord.call_id).in_(ids))))
            new: dict[str, CallRecord] = {}
            for row in rows:
                if row.call_id not in known and row.call_id not in new:
                    new[row.call_id] = row
            session.add_all(new.values())
            rollups.add(session, list(new.values()))
            session.commit()
            return len(new)
    except IntegrityError as exc:  # a concurrent writer stored one of them: store the rest singly
        if len(rows) == 1:
            return 0
        log.info("call record batch conflicted (%s); saving one by one", exc.orig)
        # rolled back, so transient again: each can go into a new session
        return sum(save(engine, [row]) for row in rows)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot store {len(rows)} call record(s): {exc}") from exc


def between(engine: Any, start: datetime, end: datetime, *, number: str | None = None,
            tenant: str | None = None) -> list[CallRecord]:
    """Calls that started in [start, end), oldest first."""
    try:
        with Session(engine) as session:
            q = select(CallRecord).where(col(CallRecord.started_at) >= utc(start),
                                         col(CallRecord.started_at) < utc(end))
            if number is not None:
                q = q.where(CallRecord.service_number == number)
            if tenant is not None:
                q = q.where(CallRecord.tenant == tenant)
            return list(session.exec(q.order_by(col(CallRecord.started_at), col(CallRecord.id))))
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read call records: {exc}") from exc


def outcome_counts(engine: Any, since: datetime) -> list[tuple[str, str, str, int]]:
    """(outcome, service number, tenant, calls) of the calls that ended from ``since`` on."""
    try:
        with Session(engine) as session:
            rows = session.exec(
                select(CallRecord.outcome, CallRecord.service_number, CallRecord.tenant, func.count())
                .where(col(CallRecord.ended_at) >= utc(since))
                .group_by(col(CallRecord.outcome), col(CallRecord.service_number), col(CallRecord.tenant)))
            return [(str(o), str(n), str(t or ""), int(c)) for o, n, t, c in rows]
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read call records: {exc}") from exc


def ping(engine: Any) -> None:
    try:
        with Session(engine) as session:
            session.exec(select(1)).first()
    except SQLAlchemyError as exc:
        raise StoreError(f"database unreachable: {exc}") from exc


def save_values(engine: Any, values: Sequence[dict[str, Any]]) -> int:
    """``save`` for records given as column values (rebuilt calls); the number added."""
    return sum(save(engine, [CallRecord(**v) for v in values[i:i + 500]]) for i in range(0, len(values), 500))


def tariffs(engine: Any, numbers: Sequence[str]) -> dict[str, tuple[str | None, str | None]]:
    """(per call, per minute) of the 090x numbers among ``numbers``, as the applied plan has them now."""
    if not numbers:
        return {}
    n = ServiceNumber.__table__.c  # type: ignore[attr-defined]
    try:
        with engine.connect() as conn:  # Core, no ORM session: this runs for every batch of records
            rows = conn.execute(select(n.e164, n.tariff_per_call, n.tariff_per_minute)
                                .where(n.e164.in_(list(numbers))))
            return {e: (c, m) for e, c, m in rows if c is not None or m is not None}
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read tariffs: {exc}") from exc


def save_pause(engine: Any, tenant: str, agent: str, started_at: datetime, ended_at: datetime, reason: str) -> None:
    """One finished agent pause (live controller; the queues report sums them)."""
    try:
        with Session(engine) as session:
            session.add(AgentPause(tenant=tenant, agent=agent, started_at=utc(started_at), ended_at=utc(ended_at),
                                   reason=reason))
            session.commit()
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot store a pause of agent {agent}: {exc}") from exc


def forget_callers(engine: Any, before: datetime) -> int:
    """Empty the raw caller of the records of calls started before ``before`` (the hash and
    origin stay); the number of records changed."""
    try:
        with Session(engine) as session:
            result = session.execute(update(CallRecord)
                                     .where(col(CallRecord.started_at) < utc(before), col(CallRecord.caller) != "")
                                     .values(caller=""))
            session.commit()
            return int(result.rowcount or 0)  # type: ignore[attr-defined]
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot remove callers from call records: {exc}") from exc
