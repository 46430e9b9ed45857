"""Active blocking end to end: real Asterisk 22, real sipp, real DTMF (RFC 4733 events).

The carrier answers destinations ending in 7 and, 1 s into the call, presses *9 (the default
SVC_ACTIVE_BLOCK_CODE); deploy/sipp/caller_dtmf.xml is a caller that presses *9 itself."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select

from orchestrator.domain.naming import blacklist_family
from orchestrator.domain.plan import AMSTERDAM, parse_plan
from orchestrator.live.controller import LiveController
from orchestrator.services.apply import ApplyTarget, apply_plan
from orchestrator.store import engine as store_engine
from orchestrator.store.models import BlacklistEntry
from tests.e2e.events import EventLog, connect, first_channels
from tests.harness.redis_server import RedisServer
from tests.harness.sipp import free_port, place_call

pytestmark = pytest.mark.e2e

PRESSER, ANSWER = "+31205550037", "+31205550011"  # carrier: 7 answers and presses *9, 1 answers
N_PRESS, N_CALLER_PRESSES, N_WITHHELD, N_LIVE = "+318000000301", "+318000000302", "+318000000303", "+318000000304"


def plan() -> dict[str, Any]:
    def n(number: str, dest: str) -> dict[str, Any]:
        return {"number": number, "routings": {"main": [{"number": dest, "ring_time": 5}]}, "active": "main"}
    return {"tenant": "blk", "numbers": [n(N_PRESS, PRESSER), n(N_CALLER_PRESSES, ANSWER), n(N_WITHHELD, PRESSER),
                                         n(N_LIVE, PRESSER)]}


class Stack:
    def __init__(self, runtime: Any, carrier: Any, engine: Any, ami: Any, events: EventLog, target: ApplyTarget,
                 workdir: Path) -> None:
        self.runtime, self.carrier, self.engine, self.ami, self.events = runtime, carrier, engine, ami, events
        self.target, self.workdir = target, workdir
        self.timed: list[tuple[float, dict[str, Any]]] = []  # (monotonic receipt time, event)

    def record_timed(self, _manager: Any, message: Any) -> None:
        self.timed.append((time.monotonic(), dict(message.items())))

    async def call(self, to: str, caller: str, **kw: Any) -> Any:
        self.carrier.clear()
        self.events.clear()
        self.timed.clear()
        mark = self.events.mark()
        result = await asyncio.to_thread(place_call, self.runtime.settings.sip_port, "0" + to[3:], caller,
                                         workdir=self.workdir, **kw)
        # every leg hung up: the call's last AMI events are in
        await self.events.settled(mark, calls=first_channels(result, refused=False))
        return result

    def blocks(self) -> list[dict[str, Any]]:
        return [e for e in self.events.events
                if e.get("Event") == "UserEvent" and e.get("UserEvent") == "SvcActiveBlock"]

    async def entries(self, number: str) -> dict[str, str]:
        out = await self.ami.command(f"database show {blacklist_family(number)}")
        return dict(line.split(":", 1) for line in out.splitlines() if line.startswith("/"))


@pytest.fixture(scope="module")
async def stack(runtime: Any, carrier: Any, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    tmp = tmp_path_factory.mktemp("activeblock")
    engine = store_engine.make_engine(f"sqlite:///{tmp / 'e2e.db'}")
    ami, events, target = await connect(runtime)
    st = Stack(runtime, carrier, engine, ami, events, target, tmp)
    ami.on_event("DTMFEnd", st.record_timed)
    ami.on_event("UserEvent", st.record_timed)
    with Session(engine) as session:
        await apply_plan(parse_plan(plan()), session, target, now=datetime.now(AMSTERDAM))
    for number in (N_PRESS, N_CALLER_PRESSES, N_WITHHELD, N_LIVE):
        await ami.db_deltree(blacklist_family(number))
    yield st
    ami.close()


async def test_answerer_presses_code_next_call_is_rejected(stack: Stack) -> None:
    caller = "0201110001"
    r = await stack.call(N_PRESS, caller, hold_s=3)
    assert r.final_code == 200 and stack.carrier.invites() == [PRESSER]
    [event] = stack.blocks()
    assert (event["Number"], event["Caller"]) == (N_PRESS, "+31201110001")
    assert event["Channel"].startswith("PJSIP/carrier-") and event["Linkedid"] != event["Uniqueid"]
    assert await stack.ami.db_get(blacklist_family(N_PRESS), "+31201110001") == "1"
    # The confirmation tone plays to the answerer (its channel ran the subroutine).
    beeps = [e for e in stack.events.events if e.get("Event") == "Newexten" and e.get("Context") == "svc-activeblock"
             and e.get("Application") == "Playback"]
    assert beeps and beeps[0]["Channel"] == event["Channel"] and beeps[0]["AppData"] == "beep"
    # From the last digit (9) received on the answering channel to the AstDB entry (+ UserEvent).
    nine = [t for t, e in stack.timed if e.get("Event") == "DTMFEnd" and e.get("Digit") == "9"
            and e.get("Direction") == "Received" and e.get("Channel") == event["Channel"]]
    done = [t for t, e in stack.timed if e.get("UserEvent") == "SvcActiveBlock"]
    assert nine and done
    print(f"\n*9 (DTMFEnd of 9) to AstDB entry + UserEvent: {(done[0] - nine[0]) * 1000:.1f} ms")

    again = await stack.call(N_PRESS, caller)
    assert again.final_code == 403 and stack.carrier.invites() == []
    assert [e["Reason"] for e in stack.events.svc() if e.get("Step") == "blocked"] == ["blacklist"]
    # Another caller still gets through; the entry is per service number.
    other = await stack.call(N_CALLER_PRESSES, caller, hold_s=0.5)
    assert other.final_code == 200


async def test_caller_pressing_the_code_changes_nothing(stack: Stack) -> None:
    r = await stack.call(N_CALLER_PRESSES, "0201110002", hold_s=2, scenario="caller_dtmf.xml")
    assert r.final_code == 200 and stack.carrier.invites() == [ANSWER]
    # The digits did reach Asterisk from the caller's side ...
    assert any(e.get("Event") == "DTMFEnd" and e.get("Digit") == "9" for _, e in stack.timed)
    # ... ran the feature on the caller's own channel (DYNAMIC_FEATURES is inherited both ways),
    # where svc-activeblock returns at once: no AstDB write, no event, no tone ...
    ran = [e for e in stack.events.events if e.get("Event") == "Newexten" and e.get("Context") == "svc-activeblock"]
    assert ran and {e["Channel"] for e in ran} == {e["Channel"] for e in stack.events.svc() if e.get("Step") == "start"}
    assert [e["Application"] for e in ran] == ["GotoIf", "Return"]
    # ... and changed nothing.
    assert stack.blocks() == []
    assert await stack.entries(N_CALLER_PRESSES) == {}
    again = await stack.call(N_CALLER_PRESSES, "0201110002", hold_s=0.5)
    assert again.final_code == 200


async def test_withheld_caller_leaves_no_entry(stack: Stack) -> None:
    r = await stack.call(N_WITHHELD, "anonymous", hold_s=3, anonymous=True)
    assert r.final_code == 200 and stack.carrier.invites() == [PRESSER]
    assert any(e.get("Event") == "DTMFEnd" and e.get("Digit") == "9" for _, e in stack.timed)
    assert stack.blocks() == []
    assert await stack.entries(N_WITHHELD) == {}


async def test_live_controller_records_the_block_with_source_dtmf(stack: Stack, tmp_path: Path) -> None:
    def entries() -> list[tuple[str, str]]:
        with Session(stack.engine) as session:
            rows = session.exec(select(BlacklistEntry).where(col(BlacklistEntry.service_number_e164) == N_LIVE))
            return [(r.caller, r.source) for r in rows]

    with RedisServer(tmp_path / "redis") as redis:
        settings = stack.runtime.settings.with_(redis_url=redis.url, live_port=free_port(socket.SOCK_STREAM))
        service = LiveController(settings, engine=stack.engine)
        await service.start()
        try:
            deadline = time.monotonic() + 10
            while service.resynced_at is None and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert service.resynced_at is not None, "live controller did not log in"
            r = await stack.call(N_LIVE, "0201110004", hold_s=3)
            assert r.final_code == 200 and len(stack.blocks()) == 1
            deadline = time.monotonic() + 5
            while not entries() and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert entries() == [("+31201110004", "dtmf")]
            assert await stack.ami.db_get(blacklist_family(N_LIVE), "+31201110004") == "1"
            again = await stack.call(N_LIVE, "0201110004")
            assert again.final_code == 403 and stack.carrier.invites() == []
        finally:
            await service.stop()
        assert service.failed_task() is None
