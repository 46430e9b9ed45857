"""Call-centre figures published by the live controller (`orchestrator serve`): real Asterisk,
real AMI events, real Redis. Waiting now and longest wait, answered / abandoned, service level,
agents per state."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from sqlmodel import Session

from orchestrator.asterisk.dialplan_files import DialplanFiles
from orchestrator.cli.live import format_status
from orchestrator.domain.plan import AMSTERDAM, parse_plan
from orchestrator.live import resync
from orchestrator.live.controller import LiveController
from orchestrator.live.notifier import read_figures
from orchestrator.services.apply import ApplyTarget, apply_plan
from orchestrator.services.callcentre import control
from orchestrator.store import engine as store_engine
from tests.harness.redis_server import RedisServer
from tests.harness.sipp import free_port, place_call

pytestmark = pytest.mark.e2e
QUEUE = "fig.desk"
NUMBER = "08000000301"


def plan() -> dict[str, Any]:
    return {"tenant": "fig",
            "agents": {"amy": {"number": "+31201113101", "wrapup": 30}, "ben": {"number": "+31201113111"}},
            "queues": {"desk": {"strategy": "fixed", "agents": ["amy", "ben"], "ring_time": 10,
                                "service_level": 20}},
            "numbers": [{"number": NUMBER, "routings": {"main": [{"number": "queue:desk"}]}, "active": "main"}]}


async def until(predicate: Callable[[], Any], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout} s")


@pytest.fixture(scope="module")
async def live(runtime: Any, carrier: Any, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Any]:
    tmp = tmp_path_factory.mktemp("figures")
    engine = store_engine.make_engine(f"sqlite:///{tmp / 'fig.db'}")
    with RedisServer(tmp / "redis") as redis:
        settings = runtime.settings.with_(redis_url=redis.url, live_port=free_port(socket.SOCK_STREAM))
        target = ApplyTarget(DialplanFiles(runtime.etc_dir), runtime.sounds_dir, runtime.asterisk_path, None)
        service = LiveController(settings, engine=engine, resync_interval_s=30)
        await service.start()
        try:
            await until(lambda: asyncio.sleep(0, service.resynced_at is not None), 10, "AMI login")
            target = ApplyTarget(target.files, target.sounds_dir, target.asterisk_path, service.ami)
            with Session(engine) as session:
                await apply_plan(parse_plan(plan()), session, target, now=datetime.now(AMSTERDAM))
            service.queues.service_levels = resync.service_levels(engine)
            client = aioredis.Redis.from_url(redis.url, decode_responses=True)
            yield service, client, redis, tmp
            await client.aclose()
        finally:
            await service.stop()
    assert service.failed_task() is None


async def test_figures_answered_abandoned_waiting_and_agents(live: Any, runtime: Any) -> None:
    service, client, redis, tmp = live

    async def figures() -> dict[str, str]:
        return dict(await client.hgetall(f"svc:live:queue:{QUEUE}"))

    def call(hold: float) -> Any:
        return place_call(runtime.settings.sip_port, NUMBER, "0201234567", workdir=Path(tmp), hold_s=hold)

    # Two answered calls: amy (then in 30 s wrap-up), then ben.
    for _ in range(2):
        assert (await asyncio.to_thread(call, 1.0)).answered
        await until(lambda: no_channels(service.ami), 10, "the agent's leg cleared")
    await until(lambda: _is(figures, "answered", "2"), 10, "2 answered")
    f = await figures()
    assert f["service_level_pct"] == "100.0" and f["agents_wrap_up"] == "1" and f["agents_available"] == "1"

    # Both unavailable: two callers wait, then hang up (abandoned).
    await control.set_agent_state(service.ami, "fig", "ben", "unavailable", "meeting")
    await control.set_agent_state(service.ami, "fig", "amy", "logged-out")
    waiting = [asyncio.create_task(asyncio.to_thread(call, 4.0)) for _ in range(2)]
    await until(lambda: _is(figures, "waiting", "2"), 10, "2 waiting")

    async def longest_grows() -> bool:  # republished each second while callers wait
        return float((await figures()).get("longest_wait_s", 0)) >= 2.0
    await until(longest_grows, 4, "longest wait of 2 s")
    f = await figures()
    assert (f["agents_unavailable"], f["agents_logged_out"]) == ("1", "1")
    await asyncio.gather(*waiting)
    await until(lambda: _is(figures, "abandoned", "2"), 10, "2 abandoned")
    f = await figures()
    assert f["waiting"] == "0" and f["answered"] == "2"
    text = format_status(await read_figures(redis.url, datetime.now(AMSTERDAM).date().isoformat()), "today")
    assert f"queue {QUEUE}: 0 waiting" in text and "abandoned 2" in text
    for agent in ("amy", "ben"):
        await control.set_agent_state(service.ami, "fig", agent, "available")


async def no_channels(ami: Any) -> bool:
    return (await ami.command("core show channels count")).startswith("0 active channels")


async def _is(get: Callable[[], Any], key: str, value: str) -> bool:
    return bool((await get()).get(key) == value)


async def test_login_resync_puts_agent_pauses_back_from_astdb(live: Any) -> None:
    service, client, _redis, _tmp = live
    await control.set_agent_state(service.ami, "fig", "ben", "unavailable", "training")
    # What an Asterisk restart does to a static member: back to available, AstDB still knows better.
    await service.ami.queue_pause("Local/ben@svca-fig", False)
    assert {s.agent: s.state for s in await control.agent_states(service.ami, "fig")}["ben"] == "available"
    answered = (await client.hgetall(f"svc:live:queue:{QUEUE}"))["answered"]
    resynced = time.time()
    await service._resync("login", next(iter(service.nodes)))  # the one node (single Asterisk)

    async def published() -> bool:  # the controller's next write to Redis after the re-sync
        return float(await client.get("svc:live:updated_at") or 0) > resynced
    await until(published, 5, "a publication after the re-sync")
    assert (await client.hgetall(f"svc:live:queue:{QUEUE}"))["answered"] == answered  # counts kept
    states = {s.agent: s for s in await control.agent_states(service.ami, "fig")}
    assert (states["ben"].state, states["ben"].reason) == ("unavailable", "training")
    await control.set_agent_state(service.ami, "fig", "ben", "available")
