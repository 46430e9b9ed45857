"""The percentage split's tickets on real calls (docs/asterisk.md "Percentage split"): each call
takes the next ticket of the split's AstDB counter without LOCK(), and a GROUP() per ticket shows
when two live calls hold one. Here the counter is set back (AMI DBPut) under calls that hold its
tickets, and calls arriving then must skip every held ticket (svc-lib,split-claim), so the shares
stay exact. The 1,000-call share test is tests/e2e/test_standaard_calls.py; the simulator's
agreement, ticket by ticket, tests/e2e/test_differential.py."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import pytest
from sqlmodel import Session

from orchestrator.domain.compile import compile_plan
from orchestrator.domain.flow_compile import compile_flows
from orchestrator.domain.ir import Split
from orchestrator.domain.naming import SPLIT_TICKET_KEY
from orchestrator.domain.plan import AMSTERDAM, parse_plan
from orchestrator.services.apply import apply_plan
from orchestrator.store import engine as store_engine
from tests.e2e.events import EventLog, connect, until
from tests.e2e.flow_bench import TIMEOUT
from tests.harness.keys import call_with_keys
from tests.harness.sipp import CallResult, Hold, place_call, place_calls
from tests.plans import standaard_number, tenant_plan

pytestmark = pytest.mark.e2e

NUMBER, E164 = "08007654323", "+318007654323"
SHARE_TO = ("+31205550021", "+31205550041")  # 70 % amsterdam-a, 30 % amsterdam-b (tests/plans.py)


def again_flow() -> dict[str, Any]:
    """A flow whose menu leads back to its split: key 1 passes the split again."""
    beep = {"sound": "beep"}
    return {"start": "spread", "blocks": {
        "spread": {"type": "split", "params": {"shares": {"a": 50, "b": 50}}, "exits": {"a": "ask", "b": "ask"}},
        "ask": {"type": "menu", "params": {"prompt": beep, "timeout": TIMEOUT},
                "exits": {"1": "spread", "2": "hangup", "failed": "hangup"}}}}


@pytest.fixture(scope="module")
async def stack(runtime: Any, carrier: Any, tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("split-tickets")
    engine = store_engine.make_engine(f"sqlite:///{tmp / 'split.db'}")
    ami, events, target = await connect(runtime)
    # The split first: no region or roster (so no clock) before it.
    number = standaard_number(number="0800 7654323", regions=None, rosters={}, start="spread")
    premium = {"number": "0800 7654324", "package": "premium", "flow": "again"}
    plan = parse_plan(tenant_plan(number, premium) | {"tenant": "splitt", "flows": {"again": again_flow()}})
    with Session(engine) as session:
        await apply_plan(plan, session, target, now=datetime.now(AMSTERDAM))
    [split] = [n for f in compile_plan(plan, {}) for n in f.nodes.values() if isinstance(n, Split)]
    [flow] = compile_flows(plan.tenant, plan.flows, {})
    yield {"runtime": runtime, "carrier": carrier, "ami": ami, "events": events, "tmp": tmp, "split": split,
           "flow_split": flow.nodes["b-spread"]}
    ami.close()


def split_events(events: EventLog) -> dict[str, dict[str, Any]]:
    """Uniqueid of the caller's channel -> its split event (Ticket, Exit)."""
    return {e["Uniqueid"]: e for e in events.svc(E164) if e.get("Step") == "split"}


def claimed(events: EventLog) -> set[str]:
    """Channels that went through the collision path (svc-lib,split-claim)."""
    return {e["Uniqueid"] for e in events.events
            if e.get("Event") == "Newexten" and e.get("Context") == "svc-lib" and e.get("Extension") == "split-claim"}


async def next_ticket(s: dict[str, Any]) -> int:
    value = await s["ami"].db_get(s["split"].state_family, SPLIT_TICKET_KEY)
    return int(value) if value else 0


async def set_counter(s: dict[str, Any], ticket: int) -> None:
    await s["ami"].db_put(s["split"].state_family, SPLIT_TICKET_KEY, str(ticket))


class HeldCalls:
    """Callers that stay on the line (answered by the carrier) until released."""

    def __init__(self, s: dict[str, Any], count: int) -> None:
        self.s = s
        self.base = len(split_events(s["events"]))  # split events before these calls
        self.holds = [Hold() for _ in range(count)]
        port, tmp = s["runtime"].settings.sip_port, s["tmp"]
        # Their own threads: asyncio's default pool has only cores + 4 (6 here).
        self.pool = ThreadPoolExecutor(count)
        loop = asyncio.get_running_loop()
        self.calls = [loop.run_in_executor(self.pool, functools.partial(
            place_call, port, NUMBER, f"02012345{i:02d}", hold=h, hold_s=0.0, workdir=tmp))
            for i, h in enumerate(self.holds)]

    async def took_tickets(self) -> None:
        """Until each held caller has its ticket (a split event); fails at once if a call ends."""
        events = self.s["events"]
        with contextlib.suppress(AssertionError):  # the asserts below say what went wrong
            await until(lambda: len(split_events(events)) >= self.base + len(self.holds)
                        or any(c.done() for c in self.calls), 60, "")
        assert len(split_events(events)) == self.base + len(self.holds), self.story()
        assert not any(c.done() for c in self.calls), self.story()

    def story(self) -> str:
        """For failure messages: what the dialplan did, and how the calls that ended ended."""
        done = [c.result().responses for c in self.calls if c.done()]
        return f"steps {self.s['events'].steps(E164)}; ended calls' responses {done}"

    async def release(self) -> list[CallResult]:
        for h in self.holds:
            if h.port:
                h.release()
        try:
            return list(await asyncio.gather(*self.calls))
        finally:
            self.pool.shutdown()


async def answered(events: EventLog, channels: set[str]) -> None:
    """Until the carrier answered the calls of these caller channels (so they stay up, held)."""
    def done() -> bool:
        return channels <= {e.get("Uniqueid") for e in events.events
                            if e.get("Event") == "DialEnd" and e.get("DialStatus") == "ANSWER"}

    await until(done, 60, f"held calls not answered within 60 s: {channels}")


async def test_a_counter_set_back_under_live_calls_skips_their_tickets(stack: dict[str, Any]) -> None:
    s, events, split = stack, stack["events"], stack["split"]
    events.clear()
    first = await next_ticket(s)
    # One after the other: two callers starting together may collide by themselves.
    held = [HeldCalls(s, 1)]
    try:
        await held[0].took_tickets()
        held.append(HeldCalls(s, 1))
        await held[1].took_tickets()
        holders = split_events(events)
        assert sorted(int(e["Ticket"]) for e in holders.values()) == [first, first + 1]
        await answered(events, set(holders))
        assert not claimed(events)  # no collision: no LOCK()
        await set_counter(s, first)  # a stale writer: both tickets again, while their calls are up

        result = await asyncio.to_thread(place_call, s["runtime"].settings.sip_port, NUMBER, "0201234599",
                                         hold_s=0.1, workdir=s["tmp"])
        assert result.final_code == 200
        [(channel, mine)] = [(u, e) for u, e in split_events(events).items() if u not in holders]
        assert int(mine["Ticket"]) == first + 2, "the next call must skip the two held tickets"
        assert int(mine["Exit"]) == split.share_at(first + 2) + 1
        assert claimed(events) == {channel}  # it took the collision path, the held calls did not
        assert await next_ticket(s) == first + 3
    finally:
        for h in held:
            await h.release()
    # Tickets live as long as their channels: once hung up, nobody holds them.
    await until(lambda: not events.channels_up(NUMBER), 30, "held calls still up")
    for ticket in (first, first + 1, first + 2):
        assert await s["ami"].group_count(str(ticket), split.group) == 0


async def test_a_burst_over_held_tickets_takes_each_ticket_once(stack: dict[str, Any]) -> None:
    """12 callers at once hold tickets; the counter is set back under them; 24 more calls in a
    burst (one sipp, 200 calls/s) must take the 24 tickets after the held ones, each once: the
    shares of those 36 calls are exactly those of 36 consecutive tickets."""
    s, events, split, carrier = stack, stack["events"], stack["split"], stack["carrier"]
    events.clear()
    carrier.clear()
    first = await next_ticket(s)
    held = HeldCalls(s, 12)
    try:
        await held.took_tickets()
        holders = split_events(events)
        assert sorted(int(e["Ticket"]) for e in holders.values()) == list(range(first, first + 12))
        await answered(events, set(holders))
        await set_counter(s, first)

        results = await asyncio.to_thread(place_calls, s["runtime"].settings.sip_port, NUMBER, "0201234598",
                                          count=24, hold_s=0.5, rate=200, workdir=s["tmp"])
        assert [r.final_code for r in results] == [200] * 24
        burst = {u: e for u, e in split_events(events).items() if u not in holders}
        assert sorted(int(e["Ticket"]) for e in burst.values()) == list(range(first + 12, first + 36))
        assert all(int(e["Exit"]) == split.share_at(int(e["Ticket"])) + 1 for e in burst.values())
        # The first call of the burst read the set-back counter: it took the collision path. (Some of
        # the 12 callers starting at once can collide too: two read the counter before either wrote it.)
        assert claimed(events) & set(burst)
        print(f"collisions: {len(claimed(events) & set(holders))} of 12 held callers, "
              f"{len(claimed(events) & set(burst))} of 24 in the burst")
        assert await next_ticket(s) == first + 36
    finally:
        await held.release()
    expected = Counter(SHARE_TO[split.share_at(t)] for t in range(first, first + 36))
    assert Counter(carrier.invites()) == expected
    assert abs(expected[SHARE_TO[0]] - 0.7 * 36) < 1


async def test_a_call_passing_the_split_again_takes_the_next_ticket(stack: dict[str, Any]) -> None:
    """A channel holds one group per category: passing the split again replaces its ticket, and
    the new one is counted once (no collision with itself)."""
    s, events, split = stack, stack["events"], stack["flow_split"]
    events.clear()
    value = await s["ami"].db_get(split.state_family, SPLIT_TICKET_KEY)
    first = int(value) if value else 0
    result = await asyncio.to_thread(call_with_keys, s["runtime"].settings.sip_port, "08007654324", "0201234597",
                                     "1,1,2", workdir=s["tmp"], timeout=TIMEOUT)
    assert result.final_code == 200
    await until(lambda: not events.channels_up("08007654324"), 30, "the call is still up")
    passes = [e for e in events.events if e.get("UserEvent") == "SvcFlow" and e.get("Block") == "spread"]
    assert [int(e["Ticket"]) for e in passes] == [first, first + 1, first + 2]
    assert [e["Exit"] for e in passes] == ["ab"[split.share_at(t)] for t in (first, first + 1, first + 2)]
    assert not claimed(events)
    for ticket in (first, first + 1, first + 2):
        assert await s["ami"].group_count(str(ticket), split.group) == 0
