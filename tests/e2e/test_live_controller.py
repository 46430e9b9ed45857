"""The live controller end to end: real Asterisk 22, real Redis, real sipp calls.

Calls in progress and today's figures in Redis match the calls placed; every call leaves a
record with the right outcome; the 090x watchdog cuts an overlong call; a Redis outage and an
Asterisk restart are survived (no crash, no ghost calls, figures right again afterwards)."""

from __future__ import annotations

import asyncio
import socket
import statistics
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis
from aiohttp import web
from sqlmodel import Session

from orchestrator.asterisk.dialplan_files import DialplanFiles
from orchestrator.domain.plan import AMSTERDAM, parse_plan
from orchestrator.live.controller import LiveController
from orchestrator.live.http import make_app
from orchestrator.services.apply import ApplyTarget, apply_plan
from orchestrator.store import call_records
from orchestrator.store import engine as store_engine
from orchestrator.store import plans as plan_store
from orchestrator.store.models import CallRecord
from tests.harness.databases import Databases
from tests.harness.redis_server import RedisServer
from tests.harness.sipp import free_port, place_call, place_calls

pytestmark = pytest.mark.e2e

ANSWER, BUSY, NOANSWER, UNREACHABLE = "+31205550011", "+31205550002", "+31205550003", "+31205550004"
N_MAIN, N_BUSY, N_NOANSWER, N_UNREACH, N_LIMIT, N_PREMIUM = (
    "+318000000101", "+318000000102", "+318000000103", "+318000000104", "+318000000105", "+319001230106")
MAX_DURATION = 12


def plan() -> dict[str, Any]:
    def n(number: str, dest: str, **extra: Any) -> dict[str, Any]:
        return {"number": number, "routings": {"main": [{"number": dest, "ring_time": 5}]}, "active": "main", **extra}
    return {"tenant": "live", "numbers": [
        n("0800 000 0101", ANSWER, blocking={"anonymous": True}),
        n("0800 000 0102", BUSY),
        n("0800 000 0103", NOANSWER),
        n("0800 000 0104", UNREACHABLE),
        n("0800 000 0105", ANSWER, max_concurrent_calls=1),
        n("0900 123 0106", ANSWER, tariff={"per_call": "0.10", "max_duration": MAX_DURATION, "warning_before": 2}),
    ]}


def day_of(moment: datetime) -> date:
    """The Amsterdam day of a record's moment: the controller counts a call on the day it ended,
    so a run across midnight expects each day's figures from the records, never from "now"."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(AMSTERDAM).date()


class Live:
    def __init__(self, runtime: Any, redis: RedisServer, service: LiveController, http_url: str, workdir: Path) -> None:
        self.runtime, self.redis, self.service, self.http_url, self.workdir = runtime, redis, service, http_url, workdir
        self.client = aioredis.Redis.from_url(redis.url, decode_responses=True)

    async def call(self, to: str, caller: str = "0201234567", **kw: Any) -> Any:
        return await asyncio.to_thread(place_call, self.runtime.settings.sip_port, to, caller,
                                       workdir=self.workdir, **kw)

    async def in_progress(self) -> dict[str, int]:
        return {k: int(v) for k, v in (await self.client.hgetall("svc:live:in_progress:number")).items()}

    async def day(self, day: date) -> dict[str, int]:
        return {k: int(v) for k, v in (await self.client.hgetall(f"svc:live:day:{day.isoformat()}")).items()}

    def answered_on(self, day: date) -> int:
        """Answered calls to N_MAIN that ended on ``day``: what the day's figure must show."""
        start = datetime.combine(day, datetime.min.time(), AMSTERDAM) - timedelta(days=1)
        return sum(1 for r in self.records_since(start, N_MAIN)
                   if r.outcome == "answered" and day_of(r.ended_at) == day)

    def records_since(self, since: datetime, number: str | None = None) -> list[CallRecord]:
        return call_records.between(self.service.engine, since, datetime.now(UTC) + timedelta(hours=1), number=number)

    async def wait_records(self, since: datetime, count: int, number: str | None = None,
                           timeout: float = 15) -> list[CallRecord]:
        deadline = time.monotonic() + timeout
        while True:
            rows = self.records_since(since, number)
            if len(rows) >= count or time.monotonic() > deadline:
                return rows
            await asyncio.sleep(0.1)

    async def health(self) -> tuple[int, dict[str, Any]]:
        async with aiohttp.ClientSession() as s, s.get(f"{self.http_url}/health") as r:
            return r.status, await r.json()


async def until(predicate: Callable[[], Any], timeout: float, what: str) -> float:
    """Poll an async predicate; seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if await predicate():
            return time.monotonic() - started
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what}: not within {timeout} s")


@pytest.fixture(scope="module")
async def live(runtime: Any, carrier: Any, tmp_path_factory: pytest.TempPathFactory,
               module_db_url: str) -> AsyncIterator[Live]:
    tmp = tmp_path_factory.mktemp("live")
    engine = store_engine.make_engine(module_db_url)
    with RedisServer(tmp / "redis") as redis:
        settings = runtime.settings.with_(redis_url=redis.url, live_port=free_port(socket.SOCK_STREAM))
        service = LiveController(settings, engine=engine, resync_interval_s=5)
        runner = web.AppRunner(make_app(service))
        await runner.setup()
        await web.TCPSite(runner, settings.bind_host, settings.live_port).start()
        try:
            await until(lambda: asyncio.sleep(0, service.resynced_at is not None), 10, "first AMI login + re-sync")
            target = ApplyTarget(DialplanFiles(runtime.etc_dir), runtime.sounds_dir, runtime.asterisk_path,
                                 service.ami)
            with Session(engine) as session:
                await apply_plan(parse_plan(plan()), session, target, now=datetime.now(AMSTERDAM))
            live = Live(runtime, redis, service, f"http://{settings.bind_host}:{settings.live_port}", tmp)
            yield live
            await live.client.aclose()
        finally:
            await runner.cleanup()
    assert service.failed_task() is None


async def test_health_reports_every_component_up(live: Live) -> None:
    await until(lambda: asyncio.sleep(0, live.service.ami.logged_in), 10, "AMI login")
    status, body = await live.health()
    assert status == 200, body
    assert body["components"] == {"ami": "up", "redis": "up", "db": "up"}
    async with aiohttp.ClientSession() as s, s.get(f"{live.http_url}/metrics") as r:
        text = await r.text()
    assert 'svc_component_up{component="ami"} 1.0' in text


async def test_concurrent_calls_are_counted_then_released(live: Live) -> None:
    since = datetime.now(UTC)
    placing = asyncio.create_task(asyncio.to_thread(
        place_calls, live.runtime.settings.sip_port, "08000000101", "0201234567", count=20, hold_s=8,
        workdir=live.workdir, rate=20))
    peak = 0

    async def twenty() -> bool:
        nonlocal peak
        peak = max(peak, (await live.in_progress()).get(N_MAIN, 0))
        return peak == 20
    await until(twenty, 20, "20 calls in progress")
    assert (await live.client.hgetall("svc:live:in_progress:tenant")) == {"live": "20"}
    results = await placing
    assert [r.final_code for r in results] == [200] * 20
    await until(lambda: _zero(live), 10, "calls in progress back to 0")
    rows = await live.wait_records(since, 20, N_MAIN)
    assert len(rows) == 20 and {r.outcome for r in rows} == {"answered"}
    assert all(r.destination == ANSWER and r.answered_at and r.talk_s >= 7 for r in rows)
    for day, n in Counter(day_of(r.ended_at) for r in rows).items():
        assert (await live.day(day)).get(f"answered:number:{N_MAIN}") == n
    # Figures were written as the calls came and went (how fast is a figure of `make bench`, the
    # "live figures, AMI event -> Redis" row: a timed assertion here failed on a loaded machine).
    lags = sorted(live.service.redis.latencies)
    assert len(lags) >= 2
    print(f"\nevent-to-Redis latency over {len(lags)} writes: median {statistics.median(lags) * 1000:.1f} ms, "
          f"max {lags[-1] * 1000:.1f} ms")


async def _zero(live: Live) -> bool:
    return sum((await live.in_progress()).values()) == 0


@pytest.mark.parametrize(("to", "caller", "kw", "outcome", "reason", "dest"), [
    ("08000000101", "0201234567", {"hold_s": 2}, "answered", None, ANSWER),
    ("08000000101", "anonymous", {"anonymous": True}, "blocked", "anonymous", None),
    ("08000000102", "0201234567", {}, "busy", "destination", BUSY),
    ("08000000103", "0201234567", {}, "no_answer", None, NOANSWER),
    ("08000000104", "0201234567", {}, "unreachable", None, UNREACHABLE),
])
async def test_a_record_per_call_with_its_outcome(live: Live, to: str, caller: str, kw: dict[str, Any],
                                                  outcome: str, reason: str | None, dest: str | None) -> None:
    since = datetime.now(UTC)
    await live.call(to, caller, **kw)
    [row] = await live.wait_records(since, 1)
    assert (row.outcome, row.reason, row.destination) == (outcome, reason, dest)
    assert row.tenant == "live" and row.service_number == "+31" + to[1:]
    assert row.caller == ("" if caller == "anonymous" else "+31201234567")
    assert row.ended_at >= row.started_at and row.end_observed
    assert (row.answered_at is not None) == (outcome == "answered")
    if outcome == "no_answer":
        assert row.wait_s >= 5  # rang for ring_time


async def test_concurrency_limit_is_recorded_as_busy(live: Live) -> None:
    since = datetime.now(UTC)
    results = await asyncio.to_thread(place_calls, live.runtime.settings.sip_port, "08000000105", "0201234567",
                                      count=2, hold_s=3, workdir=live.workdir)
    assert sorted(r.final_code for r in results) == [200, 486]
    rows = await live.wait_records(since, 2)
    assert sorted((r.outcome, r.reason) for r in rows) == [("answered", None), ("busy", "limit")]


async def test_premium_call_ended_by_its_maximum_duration(live: Live) -> None:
    since = datetime.now(UTC)
    await live.call("09001230106", hold_s=MAX_DURATION + 20, timeout=90)
    [row] = await live.wait_records(since, 1)
    assert (row.outcome, row.reason) == ("max_duration", "limit")
    assert MAX_DURATION - 1 <= row.talk_s <= MAX_DURATION + 1.5


async def test_watchdog_cuts_a_call_that_outlives_its_limit(live: Live) -> None:
    # The dialplan's L() holds the limit by itself; to see the watchdog act, pretend the limit is
    # 3 s by a negative grace (the watchdog fires at answer + limit + grace).
    live.service.grace_s = 3 - MAX_DURATION
    try:
        since = datetime.now(UTC)
        before = live.service.metrics.incidents._value.get()
        await live.call("09001230106", hold_s=MAX_DURATION + 20, timeout=90)
        [row] = await live.wait_records(since, 1)
    finally:
        live.service.grace_s = 2.0
    assert (row.outcome, row.reason) == ("max_duration", "watchdog")
    assert 2.5 <= row.talk_s <= 5  # cut at ~3 s, long before the dialplan's 12 s
    assert live.service.metrics.incidents._value.get() == before + 1


async def test_redis_outage_is_survived_and_figures_catch_up(live: Live) -> None:
    live.redis.stop()
    since = datetime.now(UTC)
    results = await asyncio.to_thread(place_calls, live.runtime.settings.sip_port, "08000000101", "0201234567",
                                      count=3, hold_s=1, workdir=live.workdir)
    assert [r.final_code for r in results] == [200] * 3
    rows = await live.wait_records(since, 3)  # records do not depend on Redis
    assert len(rows) == 3
    status, body = await live.health()
    assert status == 200 and body["components"]["redis"] == "down" and body["status"] == "degraded"
    assert live.service.failed_task() is None
    live.redis.start()  # an empty Redis: no persistence, as after a crash
    day = day_of(max(r.ended_at for r in rows))
    expected = await asyncio.to_thread(live.answered_on, day)
    assert expected >= 3
    took = await until(lambda: _answered_is(live, day, expected), 10, "figures back in Redis")
    print(f"\nfigures back {took:.2f} s after Redis returned")
    assert await live.in_progress() == {}


async def _answered_is(live: Live, day: date, n: int) -> bool:
    try:
        return (await live.day(day)).get(f"answered:number:{N_MAIN}") == n
    except (aioredis.ConnectionError, OSError):
        return False


async def test_a_controller_started_mid_call_adopts_the_calls(live: Live, tmp_path: Path,
                                                                databases: Databases) -> None:
    """A second controller (own database and Redis db) started while calls are up: its first
    re-sync adopts them from Asterisk, and their ends give complete-enough records."""
    held = asyncio.create_task(asyncio.to_thread(
        place_calls, live.runtime.settings.sip_port, "08000000101", "0201234567", count=3, hold_s=6,
        workdir=live.workdir))
    await until(lambda: _in_progress_is(live, 3), 20, "3 held calls in progress")
    engine = store_engine.make_engine(databases.like(str(live.service.engine.url), tmp_path))
    with Session(engine) as session:  # the plan (for the tenant of adopted calls), not applied
        plan_store.save_plan(session, parse_plan(plan()))
        session.commit()
    settings = live.service.settings.with_(redis_url=live.redis.url[:-1] + "1")
    second = LiveController(settings, engine=engine)
    await second.start()
    try:
        await until(lambda: asyncio.sleep(0, second.resynced_at is not None), 10, "second controller re-sync")
        assert len(second.book.calls) == 3 and all(c.adopted and c.answered_at for c in second.book.calls.values())
        assert [r.final_code for r in await held] == [200] * 3
        await until(lambda: asyncio.sleep(0, not second.book.calls), 5, "adopted calls ended")
        await second.writer.drain()
        rows = call_records.between(engine, datetime.now(UTC) - timedelta(minutes=5), datetime.now(UTC))
        assert len(rows) == 3 and {(r.outcome, r.tenant, r.caller) for r in rows} == {
            ("answered", "live", "+31201234567")}
        assert all("adopted" in r.note and r.end_observed for r in rows)
    finally:
        await second.stop()
    assert second.failed_task() is None


async def test_asterisk_restart_reconnects_resyncs_and_leaves_no_ghosts(live: Live) -> None:
    rt = live.runtime
    held = asyncio.create_task(asyncio.to_thread(
        place_calls, rt.settings.sip_port, "08000000101", "0201234567", count=3, hold_s=60, workdir=live.workdir,
        timeout=20))
    await until(lambda: _in_progress_is(live, 3), 20, "3 held calls in progress")
    since = datetime.now(UTC)
    logins = live.service.ami.logins
    rt.down()
    up_at = time.monotonic()
    rt.up(faketime_file=rt.clock_file)
    booted = time.monotonic() - up_at

    async def resynced() -> bool:
        return live.service.ami.logins > logins and live.service.resynced_at is not None \
            and live.service.resynced_at > up_at
    took = await until(resynced, 10 + booted, "AMI re-login and re-sync after the restart")
    print(f"\nAsterisk start {booted:.1f} s; AMI re-login + re-sync {took:.1f} s after starting it "
          f"({took - booted:.1f} s after it was up)")
    assert took - booted <= 10
    await until(lambda: _zero(live), 5, "no ghost calls after the restart")
    assert len(live.service.book.calls) == 0
    held.cancel()  # the sipp callers are cut off with Asterisk; their own timeout ends them
    cut = await live.wait_records(since - timedelta(seconds=30), 3, N_MAIN)
    assert len(cut) >= 3
    # calls after the restart: exactly one record each
    await until(lambda: asyncio.sleep(0, live.service.ami.logged_in), 15, "AMI back")
    after = datetime.now(UTC)
    results = await asyncio.to_thread(place_calls, rt.settings.sip_port, "08000000101", "0201234567",
                                      count=4, hold_s=1, workdir=live.workdir)
    assert [r.final_code for r in results] == [200] * 4
    await live.wait_records(after, 4)
    # The controller is done with every call (a record is written when it ends a call), so a
    # duplicate record would be here by now.
    await until(lambda: asyncio.sleep(0, not live.service.book.calls), 5, "calls ended in the controller")
    await until(lambda: _zero(live), 5, "no calls in progress")
    rows = live.records_since(after)
    assert len(rows) == 4 and len({r.call_id for r in rows}) == 4
    assert {r.outcome for r in rows} == {"answered"} and all(r.end_observed for r in rows)
    status, body = await live.health()
    assert status == 200 and body["components"]["ami"] == "up"


async def _in_progress_is(live: Live, n: int) -> bool:
    return (await live.in_progress()).get(N_MAIN, 0) == n
