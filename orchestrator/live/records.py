"""Call records in the database: written from finished calls, read back by interval.

The writer runs blocking SQLAlchemy work in a worker thread (``asyncio.to_thread``) so event
handling never waits on the database; a failed write is kept and retried, not dropped.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, col, func, select

from orchestrator.errors import StoreError
from orchestrator.live.calls import DayCounters, FinishedCall, Outcome
from orchestrator.store.models import CallRecord

log = logging.getLogger(__name__)


def _utc(t: datetime) -> datetime:
    return t.astimezone(UTC)  # SQLModel insists on aware datetimes; always UTC in the table


def to_row(call: FinishedCall) -> CallRecord:
    return CallRecord(
        call_id=call.call_id, service_number=call.number, tenant=call.tenant, caller=call.caller,
        started_at=_utc(call.started_at), answered_at=_utc(call.answered_at) if call.answered_at else None,
        ended_at=_utc(call.ended_at), routing=call.routing, destination=call.destination,
        outcome=call.outcome.value, reason=call.reason, wait_s=call.wait_s, talk_s=call.talk_s,
        dial_status=call.dial_status, end_observed=call.end_observed, note=call.note)


def save(engine: Any, calls: list[FinishedCall]) -> None:
    """Insert records; a call id already stored is skipped (a re-sync may finish a call twice)."""
    try:
        with Session(engine) as session:
            for call in calls:
                exists = session.exec(select(CallRecord.id).where(CallRecord.call_id == call.call_id)).first()
                if exists is None:
                    session.add(to_row(call))
            session.commit()
    except IntegrityError as exc:  # a concurrent writer stored one of them: store the rest singly
        if len(calls) == 1:
            return
        log.info("call record batch conflicted (%s); saving one by one", exc.orig)
        for call in calls:
            save(engine, [call])
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot store {len(calls)} call record(s): {exc}") from exc


def between(engine: Any, start: datetime, end: datetime, *, number: str | None = None,
            tenant: str | None = None) -> list[CallRecord]:
    """Calls that started in [start, end), oldest first."""
    try:
        with Session(engine) as session:
            q = select(CallRecord).where(col(CallRecord.started_at) >= _utc(start),
                                         col(CallRecord.started_at) < _utc(end))
            if number is not None:
                q = q.where(CallRecord.service_number == number)
            if tenant is not None:
                q = q.where(CallRecord.tenant == tenant)
            return list(session.exec(q.order_by(col(CallRecord.started_at), col(CallRecord.id))))
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read call records: {exc}") from exc


def day_counters(engine: Any, day_start: datetime, day: Any) -> DayCounters:
    """Today's counters rebuilt from the records (so a restart of the service loses nothing)."""
    counters = DayCounters(day)
    try:
        with Session(engine) as session:
            rows = session.exec(
                select(CallRecord.outcome, CallRecord.service_number, CallRecord.tenant, func.count())
                .where(col(CallRecord.ended_at) >= _utc(day_start))
                .group_by(col(CallRecord.outcome), col(CallRecord.service_number), col(CallRecord.tenant)))
            for outcome, number, tenant, n in rows:
                counters.total[outcome] += n
                counters.by_number[(outcome, number)] += n
                counters.by_tenant[(outcome, tenant or "?")] += n
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read call records: {exc}") from exc
    return counters


def ping(engine: Any) -> None:
    try:
        with Session(engine) as session:
            session.exec(select(1)).first()
    except SQLAlchemyError as exc:
        raise StoreError(f"database unreachable: {exc}") from exc


class RecordWriter:
    """Writes finished calls in order; keeps them queued while the database is failing."""

    def __init__(self, engine: Any, *, retry_s: float = 2.0) -> None:
        self.engine = engine
        self.retry_s = retry_s
        self.up = True
        self._queue: asyncio.Queue[FinishedCall] = asyncio.Queue()

    def put(self, call: FinishedCall) -> None:
        self._queue.put_nowait(call)

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    async def run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty() and len(batch) < 200:
                batch.append(self._queue.get_nowait())
            while True:
                try:
                    await asyncio.to_thread(save, self.engine, batch)
                except StoreError as exc:
                    if self.up:
                        log.error("database down, %d call record(s) kept for retry: %s", len(batch), exc)
                    self.up = False
                    await asyncio.sleep(self.retry_s)
                    continue
                if not self.up:
                    log.info("database back; call records written again")
                self.up = True
                break
            for call in batch:
                self._queue.task_done()
                log.debug("call %s record stored (%s)", call.call_id, call.outcome.value)

    async def drain(self) -> None:
        await self._queue.join()


__all__ = ["Outcome", "RecordWriter", "between", "day_counters", "save", "to_row"]
