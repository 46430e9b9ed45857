"""Reports from real calls (issue 16): sipp calls through the real Asterisk 22 running the generated
dialplan, followed by the real live controller, written as call records; then the reports show
them with the right outcomes, queue figures, flow path and money. Lean: five calls, about 20 s."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from orchestrator.asterisk.dialplan_files import DialplanFiles
from orchestrator.domain.plan import AMSTERDAM, parse_plan
from orchestrator.domain.reports.model import Report
from orchestrator.domain.tariffs import call_revenue_cents
from orchestrator.live.controller import LiveController
from orchestrator.services import report_rebuild, reports
from orchestrator.services.apply import ApplyTarget, apply_plan
from orchestrator.services.callcentre import control
from orchestrator.store import engine as store_engine
from orchestrator.store import plans as plan_store
from orchestrator.store.models import AgentPause, CallRecord
from tests.harness.keys import call_with_keys
from tests.harness.redis_server import RedisServer
from tests.harness.sipp import free_port, place_call

pytestmark = pytest.mark.e2e
TENANT = "rep"
DESK, SLOW, MENU, PREMIUM = "08000000451", "08000000452", "08000000453", "09001230455"
BUSY_LINE = "+31205550002"  # the carrier answers 486 Busy
KEY_TIMEOUT = 4


def plan() -> dict[str, Any]:
    beep = {"sound": "beep"}
    menu = {"start": "main", "blocks": {
        "main": {"type": "menu", "params": {"prompt": beep, "timeout": KEY_TIMEOUT, "invalid_prompt": beep},
                 "exits": {"1": "sales", "2": "bye", "failed": "bye"}},
        "sales": {"type": "dial", "params": {"destinations": [{"number": BUSY_LINE, "ring_time": 5}]},
                  "exits": {"failed": "bye"}},
        "bye": {"type": "hangup"}}}
    return {"tenant": TENANT,
            "agents": {"amy": {"number": "+31201114501", "wrapup": 3},  # numbers ending in 1 answer, 3 ring
                       "nora": {"number": "+31201114503"}},
            "queues": {"desk": {"strategy": "fixed", "agents": ["amy"], "ring_time": 10, "service_level": 20},
                       "slow": {"agents": ["nora"], "ring_time": 5, "max_wait": 60}},
            "flows": {"ivr": menu},
            "numbers": [{"number": DESK, "routings": {"main": [{"number": "queue:desk"}]}, "active": "main"},
                        {"number": SLOW, "routings": {"main": [{"number": "queue:slow"}]}, "active": "main"},
                        {"number": MENU, "package": "premium", "flow": "ivr"},
                        {"number": PREMIUM, "routings": {"main": [{"number": "+31205550011", "ring_time": 5}]},
                         "active": "main", "tariff": {"per_call": "0.50", "per_minute": "0.10"}}]}


async def until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout} s")


@pytest.fixture(scope="module")
async def live(runtime: Any, carrier: Any, tmp_path_factory: pytest.TempPathFactory,
               module_db_url: str) -> AsyncIterator[tuple[LiveController, Path]]:
    tmp = tmp_path_factory.mktemp("reports")
    engine = store_engine.make_engine(module_db_url)
    with RedisServer(tmp / "redis") as redis:
        settings = runtime.settings.with_(redis_url=redis.url, live_port=free_port(socket.SOCK_STREAM))
        service = LiveController(settings, engine=engine, resync_interval_s=30)
        await service.start()
        try:
            await until(lambda: service.resynced_at is not None, 10, "AMI login")
            target = ApplyTarget(DialplanFiles(runtime.etc_dir), runtime.sounds_dir, runtime.asterisk_path,
                                 service.ami)
            with Session(engine) as session:
                await apply_plan(parse_plan(plan()), session, target, now=datetime.now(AMSTERDAM))
            yield service, tmp
        finally:
            await service.stop()
    assert service.failed_task() is None


def report(service: LiveController, kind: str, since: datetime, **filters: Any) -> Report:
    # Whole local days around the calls: a run across midnight still has them all in the totals.
    start = since.astimezone(AMSTERDAM).date()
    end = datetime.now(AMSTERDAM).date() + timedelta(days=1)
    return reports.report(service.engine, reports.Request(TENANT, kind, start.isoformat(), end.isoformat(), "day",
                                                          **filters))


def rows(r: Report, table: int = 0) -> list[dict[str, Any]]:
    t = r.tables[table]
    return [dict(zip(t.columns, row, strict=True)) for row in t.rows]


async def test_real_calls_show_up_in_the_reports(live: tuple[LiveController, Path], runtime: Any) -> None:
    service, tmp = live
    port = runtime.settings.sip_port
    since = datetime.now(UTC)

    def call(number: str, caller: str, hold: float) -> Any:
        return place_call(port, number, caller, workdir=tmp, hold_s=hold, timeout=60)

    placed = await asyncio.gather(
        asyncio.to_thread(call, DESK, "0101114001", 2.0),  # amy answers at once
        asyncio.to_thread(call, SLOW, "0201114002", 7.0),  # nora never answers: gives up after 7 s waiting
        asyncio.to_thread(call, PREMIUM, "0301114003", 2.0),  # 090x, answered
        asyncio.to_thread(call_with_keys, port, MENU, "0101114004", "1", workdir=tmp, timeout=KEY_TIMEOUT),
    )
    assert all(p.answered for p in placed[:3]), placed

    def stored() -> list[CallRecord]:
        with Session(service.engine) as s:
            return list(s.exec(select(CallRecord).where(CallRecord.tenant == TENANT,
                                                        CallRecord.started_at >= since)))
    await until(lambda: len(stored()) == 4, 20, "four call records")
    by_number = {r.service_number: r for r in stored()}

    total = rows(report(service, "volume", since))[-1]
    assert (total["offered"], total["answered"], total["abandoned"], total["busy"]) == (4, 2, 1, 1), total

    q = report(service, "queues", since)
    queues = {r["queue"]: r for r in rows(q)}
    assert (queues["desk"]["offered"], queues["desk"]["answered"], queues["desk"]["service_level_pct"]) \
        == (1, 1, 100.0)
    assert (queues["slow"]["abandoned"], queues["slow"]["abandoned_within_s"], queues["slow"]["service_level_pct"]) \
        == (1, 0, 0.0)
    assert [(a["agent"], a["queues"], a["calls"], a["wrapup_s"]) for a in rows(q, 1)] == [("amy", "desk", 1, 3.0)]
    slow = by_number["+318000000452"]
    assert slow.queue_result == "abandoned" and 6.0 <= (slow.queue_wait_s or 0) <= 9.0, slow

    path = {(r["block"], r["exit"]): r["calls"] for r in rows(report(service, "routing", since, flow="ivr"))}
    assert path == {("main", "1"): 1, (f"dial {BUSY_LINE}", "busy"): 1, ("sales", "failed"): 1, ("bye", "end"): 1}

    premium = by_number["+319001230455"]
    expected = call_revenue_cents(Decimal("0.50"), Decimal("0.10"), premium.talk_s)
    (money, _total) = rows(report(service, "finance", since, number=PREMIUM))
    assert (money["calls"], money["answered"], money["revenue_per_call_eur"]) == (1, 1, "0.50")
    assert money["revenue_eur"] == f"{Decimal(expected) / 100:.2f}" and premium.revenue_cents == expected

    # One row per day, no total (unique callers do not add up): four callers, one call each, on
    # whichever side of midnight their calls fell.
    assert sum(r["unique_callers"] for r in rows(report(service, "callers", since))) == 4
    origins = {r["origin"] for r in rows(report(service, "origins", since))}
    assert origins == {"010", "020", "030"}

    # A pause of amy's (unavailable, then available again) is stored and summed in the agents' table.
    await control.set_agent_state(service.ami, TENANT, "amy", "unavailable", "lunch")
    await until(lambda: (TENANT, "amy") in service.pauses.open, 10, "amy paused")
    await control.set_agent_state(service.ami, TENANT, "amy", "available")

    def pauses() -> list[AgentPause]:
        with Session(service.engine) as s:
            return list(s.exec(select(AgentPause).where(AgentPause.tenant == TENANT)))
    await until(lambda: len(pauses()) == 1, 10, "amy's pause stored")
    (pause,) = pauses()
    assert (pause.agent, pause.reason) == ("amy", "lunch")
    agents = {a["agent"]: a for a in rows(report(service, "queues", since), 1)}
    assert agents["amy"]["pause_s"] == round((pause.ended_at - pause.started_at).total_seconds(), 1)

    # The same calls rebuilt from Asterisk's own CDR and queue_log, as if the controller had been
    # down: into an empty database with only the plan, they come out as the controller saw them.
    paths = runtime.paths
    await until(lambda: all(r.call_id in paths.cdr_csv.read_text() for r in by_number.values()),
                10, "the CDR rows of the four calls")
    fresh = store_engine.make_engine(f"sqlite:///{tmp / 'rebuilt.db'}")
    with Session(fresh) as session:
        plan_store.save_plan(session, parse_plan(plan()))
        session.commit()
    done = report_rebuild.rebuild_calls(fresh, paths.cdr_csv.read_text().splitlines(),
                                        paths.queue_log.read_text().splitlines(), "key", since - timedelta(seconds=1))
    assert done.added == 4, done
    with Session(fresh) as s:
        rebuilt = {r.call_id: r for r in s.exec(select(CallRecord))}
    for seen in by_number.values():
        again = rebuilt[seen.call_id]
        assert (again.service_number, again.outcome, again.queue, again.queue_result, again.agent, again.flow) == (
            seen.service_number, seen.outcome, seen.queue, seen.queue_result, seen.agent, seen.flow), again
        assert again.note == report_rebuild.NOTE and abs(again.talk_s - seen.talk_s) <= 1.5
    # Into the controller's own database nothing is added: every call is there already.
    assert report_rebuild.rebuild_calls(service.engine, paths.cdr_csv.read_text().splitlines(), [], "key",
                                        since - timedelta(seconds=1)).added == 0
