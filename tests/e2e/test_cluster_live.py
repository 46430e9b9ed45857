"""What the live controller does for a whole cluster (docs/scaling.md): two real Asterisk 22 nodes
behind Kamailio, real calls, real Redis. A block made by the answering side (*9) on one node
refuses the caller on the other node at once, without an apply; the call-centre figures count
the callers waiting on every node, and a node that dies leaves them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import redis.asyncio as aioredis
from sqlmodel import Session, select

from orchestrator.asterisk.ami import Ami
from orchestrator.asterisk.dialplan_files import DialplanFiles
from orchestrator.domain.naming import blacklist_family
from orchestrator.domain.plan import AMSTERDAM, parse_plan
from orchestrator.live.controller import LiveController
from orchestrator.services import cluster as cluster_service
from orchestrator.services.apply import ApplyTarget, apply_plan
from orchestrator.services.callcentre import control, supervisor
from orchestrator.services.callcentre.phone_secrets import PhoneSecrets
from orchestrator.services.recordings import store
from orchestrator.store import call_records
from orchestrator.store import engine as store_engine
from orchestrator.store.models import BlacklistEntry
from tests.e2e.cluster_stack import Cluster, acli, cluster
from tests.harness.redis_server import RedisServer
from tests.harness.sip_phone import Phone
from tests.harness.sipp import CallResult, place_call

pytestmark = pytest.mark.e2e

TENANT, QUEUE = "cf", "cf.desk"
QUEUED = "+318000000311"  # to the queue (its agents logged out: callers wait)
PRESSED = "+318000000312"  # to +31205550037: the carrier answers and presses *9 one second in
RECORDED = "+318000000313"  # on_demand recording, to +31205550049: the carrier presses *45 twice, 3.32 s apart
CALLER = "+31201110071"
PROXIED = "caller_proxied.xml"  # ACK and BYE follow the Record-Route set through Kamailio


def plan() -> dict[str, Any]:
    return {"tenant": TENANT,
            "agents": {"amy": {"number": "+31201113101"}, "ben": {"number": "+31201113111"},
                       "cal": {"endpoint": "cal1"}},  # a SIP phone: dials the state codes
            "queues": {"desk": {"strategy": "fixed", "agents": ["amy", "ben"], "ring_time": 10,
                                "service_level": 20},
                       "line": {"agents": ["cal"], "ring_time": 10}},
            "numbers": [
                {"number": QUEUED, "routings": {"main": [{"number": "queue:desk"}]}, "active": "main"},
                {"number": PRESSED, "routings": {"main": [{"number": "+31205550037", "ring_time": 5}]},
                 "active": "main"},
                {"number": RECORDED, "routings": {"main": [{"number": "+31205550049", "ring_time": 5}]},
                 "active": "main", "recording": {"policy": "on_demand"}}]}


@dataclass
class Stack:
    c: Cluster
    engine: Any
    amis: dict[str, Ami]
    live: LiveController
    redis: aioredis.Redis

    def call(self, number: str, hold_s: float, timeout: float = 30.0) -> CallResult:
        return place_call(self.c.front_port, "0" + number[3:], "0" + CALLER[3:], hold_s=hold_s,
                          workdir=self.c.workdir / "calls", scenario=PROXIED, timeout=timeout)

    async def figures(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in (await self.redis.hgetall(f"svc:live:queue:{QUEUE}")).items()}

    async def figures_become(self, expected: dict[str, str], timeout: float = 10.0) -> dict[str, str]:
        deadline = time.monotonic() + timeout
        while True:
            got = await self.figures()
            if all(got.get(k) == v for k, v in expected.items()):
                return got
            assert time.monotonic() < deadline, f"queue figures {got}, expected {expected}"
            await asyncio.sleep(0.05)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with cluster(tmp_path_factory.mktemp("cluster-live"), 2) as c:
        yield c


@pytest.fixture(scope="module")
async def stack(running: Cluster, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    c = running
    engine = store_engine.make_engine(c.env["SVC_DB_URL"])
    amis = {n.name: await Ami.from_settings(rt.settings).connect() for n, rt in zip(c.nodes, c.runtimes, strict=True)}
    rt = c.runtimes[0]
    target = ApplyTarget(DialplanFiles(rt.etc_dir), rt.sounds_dir, rt.asterisk_path, amis["node1"], node="node1",
                         peers=(cluster_service.Peer("node2", amis["node2"]),), secrets_dir=rt.settings.secrets_dir)
    with Session(engine) as session:
        await apply_plan(parse_plan(plan()), session, target, now=datetime.now(AMSTERDAM))
    for agent in ("amy", "ben", "cal"):  # callers wait: nobody takes them (on every node: queues are per node)
        await control.set_agent_state_on(list(amis.values()), TENANT, agent, "logged-out")
    with RedisServer(tmp_path_factory.mktemp("redis")) as redis:
        settings = rt.settings.with_(redis_url=redis.url)
        live = LiveController(settings, engine=engine, nodes={n.name: (n.ami_host, n.ami_port) for n in c.nodes})
        await live.start()
        client = aioredis.Redis.from_url(redis.url, decode_responses=True)
        st = Stack(c, engine, amis, live, client)
        try:
            deadline = time.monotonic() + 15
            while len(live.queues.reporting) < 2 or not _active(c):  # both followed; Kamailio sends to both
                assert time.monotonic() < deadline, (live.queues.reporting, c.kamailio.destinations())
                await asyncio.sleep(0.1)
            yield st
        finally:
            await live.stop()
            await client.aclose()
            for ami in amis.values():
                ami.close()
    assert live.failed_task() is None


def _active(c: Cluster) -> bool:
    return sum(d.active for d in c.kamailio.destinations().values()) == 2


async def test_a_block_made_on_one_node_refuses_the_caller_on_every_node(stack: Stack) -> None:
    """The answering side presses *9 on a call node A has: node A's dialplan writes its AstDB,
    the live controller writes node B's at once. Two more calls from the caller (round robin: one
    on each node) are both refused, and no apply ran."""
    started = datetime.now(UTC)
    first = await asyncio.to_thread(stack.call, PRESSED, 3.0)
    assert first.final_code == 200
    family = blacklist_family(PRESSED)
    deadline = time.monotonic() + 10
    while not all([await a.db_get(family, CALLER) == "1" for a in stack.amis.values()]):
        assert time.monotonic() < deadline, "the block reached every node's AstDB"
        await asyncio.sleep(0.05)
    with Session(stack.engine) as session:
        rows = session.exec(select(BlacklistEntry).where(BlacklistEntry.service_number_e164 == PRESSED)).all()
        assert [(r.caller, r.source) for r in rows] == [(CALLER, "dtmf")]
    again = [await asyncio.to_thread(stack.call, PRESSED, 0.2) for _ in range(2)]
    assert [r.final_code for r in again] == [403, 403]
    records: list[Any] = []

    def recorded() -> bool:
        records[:] = call_records.between(stack.engine, started, datetime.now(UTC))
        return len(records) >= 3
    deadline = time.monotonic() + 10
    while not recorded():
        assert time.monotonic() < deadline, records
        await asyncio.sleep(0.1)
    blocked = [r for r in records if r.outcome == "blocked"]
    assert len(blocked) == 2 and {r.reason for r in blocked} == {"blacklist"}
    node_of_first = next(r.call_id.split("-")[0] for r in records if r.outcome == "answered")
    # Refused on both nodes, so also on the node whose dialplan did not write the entry.
    assert {r.call_id.split("-")[0] for r in blocked} == {"node1", "node2"}, (node_of_first, records)


async def test_an_agent_code_dialled_on_one_node_sets_the_state_on_every_node(stack: Stack) -> None:
    """cal's phone dials *55 (log in), then *57 (unavailable) to node1, as a phone registered
    there would: node1's dialplan pauses or unpauses its member, the live controller sets the same
    state on node2 (else node2's queue would ring a logged-out agent, or never a logged-in one)."""
    c, rt = stack.c, stack.c.runtime("node1")
    phone = Phone(5060, f"{TENANT}.cal1", PhoneSecrets(rt.settings.secrets_dir).password(f"{TENANT}.cal1"),
                  c.workdir / "phone", asterisk_host=rt.settings.bind_host, local_ip=c.network.host_address)

    async def member_on(node: str) -> tuple[bool, str]:
        [m] = [m for m in (await stack.amis[node].queue_status()).members if m.name == "cal"]
        return m.paused, m.reason

    for code, paused, reason, stored in (("*55", False, "", "available"), ("*57", True, "unavailable", "unavailable:")):
        codes = await asyncio.to_thread(phone.dial, code)
        assert codes[-1] == 200, (code, codes)
        assert await member_on("node1") == (paused, reason)  # the node the phone called: its dialplan
        deadline = time.monotonic() + 5
        while await member_on("node2") != (paused, reason):  # the other node: the live controller
            assert time.monotonic() < deadline, (code, await member_on("node2"))
            await asyncio.sleep(0.05)
        assert await stack.amis["node2"].db_get(f"svc-agent/{TENANT}", "cal") == stored
    await control.set_agent_state_on(list(stack.amis.values()), TENANT, "cal", "logged-out")


async def test_recording_pause_and_keep_marks_reach_a_call_on_any_node(stack: Stack) -> None:
    """A recorded call on each node (round robin). The answering side pauses and resumes (*45
    twice): the live controller mutes on the call's node and that node's dialplan notes the
    moments in the side file; `orchestrator recordings keep` (with the cluster file) finds the
    call's node by its id. No orchestrator process reads or writes a node's spool."""
    c = stack.c
    presses: dict[str, list[float]] = {name: [] for name in stack.live.nodes}  # Asterisk's time of each *45

    def pressed(name: str) -> Any:
        def on(_m: Any, msg: Any) -> None:
            if msg.get("UserEvent") == "SvcRecordingPause":
                presses[name].append(float(msg.get("Timestamp")))
        return on
    for name, node_ami in stack.live.nodes.items():
        node_ami.on_event("UserEvent", pressed(name))
    calls = [asyncio.create_task(asyncio.to_thread(stack.call, RECORDED, 6.0)) for _ in range(2)]
    ids: list[str] = []

    def two_calls() -> bool:
        ids[:] = sorted(cid for cid, call in stack.live.book.calls.items()
                        if call.number == RECORDED and call.answered_at is not None)
        return len(ids) == 2
    deadline = time.monotonic() + 10
    while not two_calls():
        assert time.monotonic() < deadline, stack.live.book.calls
        await asyncio.sleep(0.05)
    assert [cid.split("-")[0] for cid in ids] == ["node1", "node2"]
    for cid in ids:  # in a thread: the controller shares this event loop and must mute on time meanwhile
        out = (await acli(c.env, "recordings", "keep", cid)).stderr
        assert "will be kept" in out, out
    assert [r.final_code for r in await asyncio.gather(*calls)] == [200, 200]
    for cid in ids:  # on the call's node: kept (not deleted at the end), with both pause moments
        done = c.runtime(cid.split("-")[0]).paths.spool / "done"
        deadline = time.monotonic() + 10
        while not list(done.glob(f"*@{cid}@*.wav")):  # svc-rec-done.sh moves the .meta first, the .wav last
            assert time.monotonic() < deadline, list(done.iterdir())
            await asyncio.sleep(0.05)
        [meta] = list(done.glob(f"*@{cid}@*.meta"))
        marks = store.read_meta(meta)
        assert marks["keep"] == ["cli"] and len(marks["pause"]) == 1 and len(marks["resume"]) == 1, marks
        # The silent stretch is the time between the two presses (3.32 s in the carrier's pcap; by
        # Asterisk's clock, as a stall of sipp can move the keys), as on one node (test_recording).
        node = cid.split("-")[0]
        assert len(presses[node]) == 2, presses
        between = presses[node][1] - presses[node][0]
        assert abs(float(marks["resume"][0]) - float(marks["pause"][0]) - between) <= 0.5, (marks, between)
        for f in (meta, meta.with_suffix(".wav")):
            f.unlink()


async def test_queue_figures_count_the_callers_on_every_node_and_drop_a_dead_node_s(stack: Stack) -> None:
    """Two callers wait in the queue, one on each node: one figure says 2, from 2 of 2 nodes,
    and counts each (logged-out) agent once. node2 is killed: its caller leaves the figure."""
    await stack.figures_become({"waiting": "0", "nodes_reporting": "2", "nodes": "2", "agents_logged_out": "2"})
    hold_s = 8.0
    callers = [asyncio.create_task(asyncio.to_thread(stack.call, QUEUED, hold_s, hold_s + 5)) for _ in range(2)]
    deadline = time.monotonic() + 10
    while [len((await a.queue_status()).entries) for a in stack.amis.values()] != [1, 1]:  # one on each node
        assert time.monotonic() < deadline, [await a.queue_status() for a in stack.amis.values()]
        await asyncio.sleep(0.05)
    both = await stack.figures_become({"waiting": "2", "nodes_reporting": "2"})
    assert both["agents_logged_out"] == "2" and both["agents_available"] == "0"  # each agent once, not per node
    # What `queue show` / `agent list` (and the API) list: every node's callers, each agent once.
    waiting = await supervisor.waiting_calls_on(stack.amis, TENANT)
    assert sorted((w.node, w.queue) for w in waiting) == [("node1", "desk"), ("node2", "desk")]
    states = await control.agent_states_on(list(stack.amis.values()), TENANT)
    assert [(s.agent, s.state) for s in states] == [("amy", "logged-out"), ("ben", "logged-out"), ("cal", "logged-out")]
    # A supervisor acts where the caller waits (the CLI reads the nodes from the cluster file).
    on2 = next(w for w in waiting if w.node == "node2")
    await acli(stack.c.env, "queue", "priority", on2.channel, "7", "--tenant", TENANT, "--node", "node2")
    [entry] = (await stack.amis["node2"].queue_status()).entries
    assert (entry.channel, entry.priority) == (on2.channel, 7)
    assert [e.priority for e in (await stack.amis["node1"].queue_status()).entries] == [0]

    killed = time.monotonic()
    stack.c.kill("node2")
    stack.amis.pop("node2").close()
    one = await stack.figures_become({"waiting": "1", "nodes_reporting": "1", "nodes": "2"})
    print(f"\nnode2 killed: its waiting caller left the queue figure within {time.monotonic() - killed:.2f} s")
    assert one["agents_logged_out"] == "2"  # node1 still reports both agents
    results = await asyncio.gather(*callers)
    assert sorted(r.final_code for r in results) == [200, 200]
    # node1's caller hung up while waiting: abandoned; node2's went with its node (counted nowhere).
    after = await stack.figures_become({"waiting": "0", "abandoned": "1"})
    assert after["nodes_reporting"] == "1"
