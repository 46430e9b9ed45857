"""Finished calls -> call records: the report columns (caller hash, origin, the 090x tariff in
force at the time of the call and its revenue) are filled here, then written in order by a worker
thread so event handling never waits on the database. Also rebuilds today's counters on start."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from orchestrator.domain.callers import caller_hash, origin_of, tenant_key
from orchestrator.domain.tariffs import call_revenue_cents
from orchestrator.errors import StoreError
from orchestrator.live.calls import DayCounters, FinishedCall, Outcome
from orchestrator.store import call_records
from orchestrator.store.models import CallRecord

log = logging.getLogger(__name__)
Tariff = tuple[str | None, str | None]  # (per call, per minute), euros as text

_PAID = (Outcome.ANSWERED, Outcome.MAX_DURATION)


def to_row(call: FinishedCall, hash_key: str = "", tariffs: Mapping[str, Tariff] | None = None) -> CallRecord:
    """The record of ``call``; ``hash_key`` is the installation's caller-hash key ("" only in tests
    that do not look at callers), ``tariffs`` the 090x tariffs by number as stored now."""
    u = call_records.utc
    per_call, per_minute = (tariffs or {}).get(call.number, (None, None))
    revenue = revenue_call = 0
    if (per_call or per_minute) and call.outcome in _PAID:
        revenue = call_revenue_cents(Decimal(per_call or 0), Decimal(per_minute or 0), call.talk_s)
        revenue_call = call_revenue_cents(Decimal(per_call or 0), None, 0.0)
    return CallRecord(
        call_id=call.call_id, service_number=call.number, tenant=call.tenant, caller=call.caller,
        started_at=u(call.started_at), answered_at=u(call.answered_at) if call.answered_at else None,
        ended_at=u(call.ended_at), routing=call.routing, destination=call.destination,
        outcome=call.outcome.value, reason=call.reason, wait_s=call.wait_s, talk_s=call.talk_s,
        dial_status=call.dial_status, end_observed=call.end_observed, note=call.note,
        caller_hash=caller_hash(tenant_key(hash_key, call.tenant), call.caller) if hash_key else "",
        origin=origin_of(call.caller), queue=call.queue, queue_result=call.queue_result,
        queue_wait_s=call.queue_wait_s, agent=call.agent, agent_wrapup_s=call.agent_wrapup_s, flow=call.flow,
        path=json.dumps([list(p) for p in call.path], separators=(",", ":")) if call.path else "",
        tariff_per_call=per_call, tariff_per_minute=per_minute, revenue_cents=revenue,
        revenue_call_cents=revenue_call)


def store_batch(engine: Any, batch: list[FinishedCall], hash_key: str) -> None:
    """Blocking: the tariffs in force now (one query per batch), then the records and rollups."""
    tariffs = call_records.tariffs(engine, sorted({c.number for c in batch}))
    call_records.save(engine, [to_row(c, hash_key, tariffs) for c in batch])


def day_counters(engine: Any, day_start: datetime, day: date) -> DayCounters:
    """Today's counters rebuilt from the records (so a restart of the controller loses nothing).
    Blocking: run it in a worker thread."""
    counters = DayCounters(day)
    for outcome, number, tenant, n in call_records.outcome_counts(engine, day_start):
        counters.total[outcome] += n
        counters.by_number[(outcome, number)] += n
        counters.by_tenant[(outcome, tenant or "?")] += n
    return counters


class RecordWriter:
    """Writes finished calls in order, in a worker thread (``asyncio.to_thread``) so event
    handling never waits on the database; keeps them queued while the database is failing."""

    def __init__(self, engine: Any, *, hash_key: str = "", retry_s: float = 2.0) -> None:
        self.engine = engine
        self.hash_key = hash_key
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
            await self._store(batch)
            for call in batch:
                self._queue.task_done()
                log.debug("call %s record stored (%s)", call.call_id, call.outcome.value)

    async def _store(self, batch: list[FinishedCall]) -> None:
        while True:
            try:
                await asyncio.to_thread(store_batch, self.engine, batch, self.hash_key)
            except StoreError as exc:
                if self.up:
                    log.error("database down, %d call record(s) kept for retry: %s", len(batch), exc)
                self.up = False
                await asyncio.sleep(self.retry_s)
                continue
            if not self.up:
                log.info("database back; call records written again")
            self.up = True
            return

    async def drain(self) -> None:
        await self._queue.join()
