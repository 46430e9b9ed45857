"""A cluster end to end: Kamailio (configured by the orchestrator) spreads real SIP calls over two
real Asterisk 22 nodes, each in its own network namespace; an apply reaches every node before it
is committed; a node that was down takes no calls until it caught up (docs/scaling.md)."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import statistics
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import Session

from orchestrator.api.app import create_app
from orchestrator.api.context import ApiConfig
from orchestrator.asterisk.ami import Ami
from orchestrator.asterisk.dialplan_files import DialplanFiles
from orchestrator.domain.naming import blacklist_family, number_context
from orchestrator.domain.numbers import parse_service_number
from orchestrator.domain.plan import AMSTERDAM, parse_plan
from orchestrator.errors import ApplyFailed
from orchestrator.live.controller import LiveController
from orchestrator.services import cluster as cluster_service
from orchestrator.services.apply import ApplyReport, ApplyTarget, apply_plan
from orchestrator.services.recordings import store as recordings
from orchestrator.services.recordings.keys import parse_keys
from orchestrator.settings import load_settings
from orchestrator.store import call_records
from orchestrator.store import engine as store_engine
from orchestrator.store.models import CallRecord
from tests.api.helpers import bearer, make_token
from tests.e2e.cluster_stack import (
    ORCHESTRATOR,
    Cluster,
    acli,
    bye_answered,
    cluster,
    no_channels,
    ringing_after,
    until,
)
from tests.harness.redis_server import RedisServer
from tests.harness.sipp import CallResult, place_call, place_calls

pytestmark = pytest.mark.e2e

SERVICE = "0800 000 0001"
FIRST, SECOND = "+31205550011", "+31205550021"
THIRD, FOURTH = "+31205550031", "+31205550041"
RATE, CALLS, KILL_AFTER_S = 20.0, 160, 2.5  # the failover load: 20 calls/s, node2 killed 2.5 s in
PROXIED = "caller_proxied.xml"  # ACK and BYE follow the Record-Route set through Kamailio
PROXIED_AUDIO = "caller_proxied_audio.xml"  # the same, talking (a recording of a silent call is empty)


LIMITED = "0800 000 0005"  # at most 2 calls at once, whichever nodes have them
SPLIT = "0800 000 0007"  # 70 % to THIRD, 30 % to FOURTH
RECORDED = "0800 000 0009"  # every answered call recorded (the node's spool -> its recordings worker)
KEY_LINE = "k1:" + base64.b64encode(bytes(range(32))).decode()  # SVC_RECORDING_KEYS of every worker


def plan(destination: str) -> dict[str, Any]:
    return {"tenant": "e2e", "numbers": [
        {"number": SERVICE, "routings": {"main": [{"number": destination}]}, "active": "main"},
        {"number": LIMITED, "routings": {"main": [{"number": FIRST}]}, "active": "main", "max_concurrent_calls": 2},
        {"number": SPLIT, "package": "standaard", "routings": {"a": [{"number": THIRD}], "b": [{"number": FOURTH}]},
         "active": "a", "start": "spread",
         "splits": {"spread": [{"percent": 70, "to": "a"}, {"percent": 30, "to": "b"}]}},
        {"number": RECORDED, "routings": {"main": [{"number": FIRST}]}, "active": "main",
         "recording": {"policy": "always"}}]}


@dataclass
class Stack:
    c: Cluster
    engine: Any
    amis: dict[str, Ami]
    live: LiveController  # follows every node: one record per call

    def target(self, down: frozenset[str] = frozenset()) -> ApplyTarget:
        rt = self.c.runtimes[0]
        peers = tuple(cluster_service.Peer(n, a) for n, a in self.amis.items() if n != "node1" and n not in down)
        return ApplyTarget(DialplanFiles(rt.etc_dir), rt.sounds_dir, rt.asterisk_path, self.amis["node1"],
                           node="node1", peers=peers)

    async def apply(self, destination: str, down: frozenset[str] = frozenset()) -> ApplyReport:
        with Session(self.engine) as session:
            return await apply_plan(parse_plan(plan(destination)), session, self.target(down),
                                    now=datetime.now(AMSTERDAM))

    async def active(self, expected: set[str], timeout: float = 10.0) -> float:
        """Wait until exactly ``expected`` nodes are active in Kamailio's dispatcher; seconds taken."""
        by_uri = {n.uri: n.name for n in self.c.nodes}
        started = time.monotonic()
        while True:
            now = {by_uri[u] for u, d in self.c.kamailio.destinations().items() if d.active}
            if now == expected:
                return time.monotonic() - started
            assert time.monotonic() - started < timeout, f"active nodes {now}, expected {expected}"
            await asyncio.sleep(0.05)

    async def processed(self) -> dict[str, int]:
        out = {}
        for name, ami in self.amis.items():
            m = re.search(r"(\d+) calls? processed", await ami.command("core show calls"))
            out[name] = int(m.group(1)) if m else 0
        return out

    async def call(self, number: str = SERVICE, hold_s: float = 0.2) -> int:
        return (await self.placed(number, hold_s)).final_code

    async def placed(self, number: str = SERVICE, hold_s: float = 0.2) -> CallResult:
        return await asyncio.to_thread(place_call, self.c.front_port, number.replace(" ", ""), "0201234567",
                                       hold_s=hold_s, workdir=self.c.workdir / "calls", scenario=PROXIED)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with cluster(tmp_path_factory.mktemp("cluster"), 2) as c:
        yield c


@pytest.fixture(scope="module")
async def stack(running: Cluster, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    engine = store_engine.make_engine(running.env["SVC_DB_URL"])  # the CLI's database too
    amis = {n.name: await Ami.from_settings(rt.settings).connect() for n, rt in zip(running.nodes, running.runtimes,
                                                                                     strict=True)}
    with RedisServer(tmp_path_factory.mktemp("redis")) as redis:
        settings = running.runtimes[0].settings.with_(redis_url=redis.url)
        live = LiveController(settings, engine=engine, nodes={n.name: (n.ami_host, n.ami_port) for n in running.nodes})
        await live.start()
        stack = Stack(running, engine, amis, live)
        try:
            yield stack
        finally:
            await stack.live.stop()  # the one running now (a test may have restarted it)
            for ami in stack.amis.values():
                ami.close()
    assert stack.live.failed_task() is None


async def test_no_node_takes_calls_before_it_verified_a_version(stack: Stack) -> None:
    await stack.active(set())
    assert await stack.call() == 503  # Kamailio: no node available


async def test_calls_through_kamailio_reach_every_node(stack: Stack) -> None:
    report = await stack.apply(FIRST)
    assert report.nodes == ["node1", "node2"]
    await stack.active({"node1", "node2"})
    before = await stack.processed()
    stack.c.carrier.clear()
    codes = [await stack.call() for _ in range(4)]
    assert codes == [200] * 4
    assert stack.c.carrier.invites() == [FIRST] * 4
    after = await stack.processed()
    assert all(after[n] > before[n] for n in after), (before, after)  # round robin: both nodes answered


async def test_an_apply_reaches_every_node_before_it_is_committed(stack: Stack) -> None:
    report = await stack.apply(SECOND)
    assert report.how == "incremental" and report.nodes == ["node1", "node2"]
    stack.c.carrier.clear()
    codes = [await stack.call() for _ in range(4)]
    assert codes == [200] * 4 and stack.c.carrier.invites() == [SECOND] * 4
    with Session(stack.engine) as session:
        states = await cluster_service.states(session, stack.amis)
    assert [(s.name, s.stale, s.ready) for s in states] == [("node1", False, True), ("node2", False, True)]
    assert {s.version for s in states} == {report.version}




async def test_an_apply_one_node_does_not_verify_is_not_committed(stack: Stack) -> None:
    """node2 runs something else than the files say in the changed number's context (a stray
    priority): its verification fails, the apply fails naming it, nothing is committed, and both
    nodes run (and take calls on) the previous version again."""
    with Session(stack.engine) as session:
        before = cluster_service.committed_version(session)
    context = number_context(parse_service_number(SERVICE).digits)
    await stack.amis["node2"].extension_add(context, "9999", 1, "NoOp", "stray")
    with pytest.raises(ApplyFailed, match="node node2"):
        await stack.apply(THIRD)
    with Session(stack.engine) as session:
        states = await cluster_service.states(session, stack.amis)
    assert {s.committed for s in states} == {before} and {s.version for s in states} == {before}
    await stack.active({"node1", "node2"})
    stack.c.carrier.clear()
    assert [await stack.call() for _ in range(4)] == [200] * 4 and stack.c.carrier.invites() == [SECOND] * 4
    assert "9999" not in await stack.amis["node2"].dialplan_show(context)  # the full reload put node2 right


async def test_a_split_s_percentages_hold_over_both_nodes(stack: Stack) -> None:
    """Each node keeps its own split counters (AstDB): over both nodes the split is off by at
    most one call per node (docs/scaling.md). 20 calls at 70/30: 14/6 within 2."""
    await stack.active({"node1", "node2"})
    stack.c.carrier.clear()
    assert [await stack.call(SPLIT) for _ in range(20)] == [200] * 20
    got = stack.c.carrier.invites()
    print(f"split 70/30 over two nodes, 20 calls: {got.count(THIRD)} / {got.count(FOURTH)}")
    assert len(got) == 20 and abs(got.count(THIRD) - 14) <= len(stack.c.nodes)


async def test_a_number_s_limit_holds_across_nodes(stack: Stack) -> None:
    """Two calls up, one on each node (round robin): the third is refused (486) although the node
    it lands on has one call of its own; Kamailio's count is what the dialplan asks."""
    c = stack.c
    await stack.active({"node1", "node2"})
    c.carrier.clear()
    before = await stack.processed()
    held = [asyncio.create_task(stack.placed(LIMITED, hold_s=6.0)) for _ in range(2)]
    deadline = time.monotonic() + 10
    while len(c.carrier.invites()) < 2:  # both answered by the carrier: both up
        assert time.monotonic() < deadline, c.carrier.invites()
        await asyncio.sleep(0.05)
    after = await stack.processed()
    assert all(after[n] == before[n] + 1 for n in after), (before, after)  # one on each node
    for name, ami in stack.amis.items():  # call ids carry the node's name: records never collide
        assert all(ch.uniqueid.startswith(f"{name}-") for ch in await ami.channels())
    assert await stack.call(LIMITED) == 486
    assert [r.final_code for r in await asyncio.gather(*held)] == [200, 200]
    assert await stack.call(LIMITED) == 200  # both ended: the count went down on the edge too

    # What the count adds to the post-dial delay: INVITE to 180 (or 200), limited number against one without.
    plain = [ringing_after(await stack.placed(SERVICE, hold_s=0)) for _ in range(10)]
    limited = [ringing_after(await stack.placed(LIMITED, hold_s=0)) for _ in range(10)]
    added = statistics.median(limited) - statistics.median(plain)
    print(f"post-dial delay (INVITE to 180/200, median of 10): {statistics.median(plain) * 1000:.1f} ms without a "
          f"limit, {statistics.median(limited) * 1000:.1f} ms with the edge count ({added * 1000:+.1f} ms)")
    assert added < 0.05


async def test_failover_under_load_and_catch_up(stack: Stack, tmp_path: Path) -> None:
    """node2 is killed while 20 calls/s arrive: Kamailio stops sending it new calls within a
    bound, and no new call fails; an apply meanwhile reaches node1 alone and is committed; node2
    comes back, gets no calls until it caught up, then takes calls on the newest version."""
    c = stack.c
    await stack.active({"node1", "node2"})
    started = time.time()
    load = asyncio.create_task(asyncio.to_thread(
        place_calls, c.front_port, SERVICE.replace(" ", ""), "0201234567", count=CALLS, rate=RATE, hold_s=1.0,
        workdir=tmp_path, timeout=5, scenario=PROXIED))
    while time.time() < started + KILL_AFTER_S:  # let the load establish itself on both nodes
        await asyncio.sleep(0.05)
    killed = c.kill("node2")
    stack.amis.pop("node2").close()
    results = await load
    routes = c.routes()
    first_try = {}  # Call-ID -> (when, node) of its first attempt
    for when, cid, node, attempt in routes:
        if attempt and cid not in first_try:
            first_try[cid] = (when, node)
    mine = [r for r in results if r.call_id in first_try]
    assert len(mine) == CALLS
    sent_to_dead = [first_try[r.call_id][0] - killed for r in mine
                    if first_try[r.call_id][1] == "node2" and first_try[r.call_id][0] > killed]
    bound = max(sent_to_dead, default=0.0)
    failed_new = [r for r in mine if first_try[r.call_id][0] > killed and r.final_code != 200]
    ended = bye_answered(mine[0].message_log)
    # Up on node2 when it died: no one answers their BYE, or (still ringing) their INVITE.
    lost = [r for r in mine if r.call_id not in ended]
    figures = {"calls": CALLS, "rate": RATE, "new_calls_sent_to_dead_node": len(sent_to_dead),
               "stop_bound_s": round(bound, 3), "new_calls_failed": len(failed_new),
               "in_progress_on_dead_node": len(lost), "answered": sum(r.final_code == 200 for r in mine)}
    print("failover figures:", json.dumps(figures))
    (c.workdir / "failover.json").write_text(json.dumps(figures))
    assert failed_new == [], [(r.call_id, r.final_code) for r in failed_new]
    assert bound < c.edge.fr_timer_ms / 1000 + 0.5, figures  # the first call that timed out marked it dead
    assert {first_try[r.call_id][1] for r in lost} <= {"node2"}
    assert all(killed - 1.5 < first_try[r.call_id][0] <= killed for r in lost)  # hold 1 s: begun just before
    assert all(r.final_code == 200 for r in mine if r not in lost)
    await no_channels(stack.amis["node1"])  # every call on node1 ended (its BYE went through Kamailio)

    # The live controller follows both nodes: one record per call, node2's calls recorded as lost.
    await until(lambda: not stack.live.book.calls, "every call finished in the live controller's book")
    records: list[CallRecord] = []

    def recorded() -> bool:
        records[:] = call_records.between(stack.engine, datetime.fromtimestamp(started, UTC), datetime.now(UTC))
        return len(records) >= CALLS
    await until(recorded, f"{CALLS} call records")
    assert len(records) == CALLS and len({r.call_id for r in records}) == CALLS
    assert {r.call_id.split("-")[0] for r in records} == {"node1", "node2"}
    gone = [r for r in records if r.note == "lost: node node2 died"]
    assert len(gone) == len(lost) and all(r.call_id.startswith("node2-") and not r.end_observed for r in gone)

    # An apply while node2 is down: node1 takes it; node2 shows stale.
    report = await stack.apply(THIRD, down=frozenset({"node2"}))
    assert report.nodes == ["node1"]
    with Session(stack.engine) as session:
        states = {s.name: s for s in await cluster_service.states(session, {**stack.amis, "node2": None})}
    assert not states["node1"].stale and states["node2"].stale and states["node2"].describe == "down"

    # node2 comes back (it loads the newest files at boot, but has not been verified): no calls.
    rt = c.runtime("node2")
    rt.up()
    stack.amis["node2"] = await Ami.from_settings(rt.settings).connect()
    with Session(stack.engine) as session:
        states = {s.name: s for s in await cluster_service.states(session, stack.amis)}
    assert states["node2"].stale and not states["node2"].ready
    before = await stack.processed()
    c.carrier.clear()
    assert [await stack.call() for _ in range(4)] == [200] * 4
    assert c.carrier.invites() == [THIRD] * 4 and (await stack.processed())["node2"] == before["node2"]
    await stack.active({"node1"})

    status = await acli(c.env, "cluster", "status", "--json", check=False)
    assert status.returncode == 1
    assert {s["node"]: (s["stale"], s["ready"], s["kamailio"]) for s in json.loads(status.stdout)} == {
        "node1": (False, True, "sends calls"), "node2": (True, False, "sends none (IP)")}

    # `orchestrator cluster sync` catches node2 up: reload, verify, AstDB, then the ready extension.
    syncing = time.monotonic()
    assert (await acli(c.env, "cluster", "sync")).stdout.strip() == "node2"
    synced = time.monotonic() - syncing
    rejoined = synced + await stack.active({"node1", "node2"})
    print(f"node2 caught up by `cluster sync` in {synced:.2f} s (process start included), "
          f"taking calls {rejoined:.2f} s after the sync began")
    status = await acli(c.env, "cluster", "status", "--json")
    assert {s["version"] for s in json.loads(status.stdout)} == {report.version}
    before = await stack.processed()
    c.carrier.clear()
    assert [await stack.call() for _ in range(4)] == [200] * 4
    assert c.carrier.invites() == [THIRD] * 4 and (await stack.processed())["node2"] > before["node2"]


async def test_a_node_the_orchestrator_cannot_reach_is_fenced_at_the_edge(stack: Stack) -> None:
    """node2 keeps answering SIP (its ready extension too) but its AMI refuses new connections:
    an apply cannot reach it, so `cluster sync` has Kamailio send it nothing until it caught up."""
    c = stack.c
    await stack.active({"node1", "node2"})
    ns = c.runtime("node2").settings.netns
    rule = ["-p", "tcp", "--dport", str(c.nodes[1].ami_port), "--syn", "-j", "REJECT", "--reject-with", "tcp-reset"]
    subprocess.run(["ip", "netns", "exec", ns, "iptables", "-I", "INPUT", *rule], check=True)
    try:
        await acli(c.env, "cluster", "sync")
        await stack.active({"node1"})
        listed = (await acli(c.env, "cluster", "status", "--json", check=False)).stdout
        status = {s["node"]: s for s in json.loads(listed)}
        assert not status["node2"]["reachable"] and status["node2"]["kamailio"].startswith("sends none")
        await acli(c.env, "apply", str(_plan_file(c.workdir, FIRST)))  # reaches node1 alone
        c.carrier.clear()
        assert [await stack.call() for _ in range(4)] == [200] * 4 and c.carrier.invites() == [FIRST] * 4
    finally:
        subprocess.run(["ip", "netns", "exec", ns, "iptables", "-D", "INPUT", *rule], check=True)
    assert (await acli(c.env, "cluster", "sync")).stdout.strip() == "node2"  # caught up, admitted again
    await stack.active({"node1", "node2"})


def _plan_file(workdir: Path, destination: str) -> Path:
    path = workdir / f"plan-{destination.lstrip('+')}.yaml"
    path.write_text(yaml.safe_dump(plan(destination)))
    return path


async def test_the_command_line_applies_to_every_node(stack: Stack, tmp_path: Path) -> None:
    c = stack.c
    await stack.active({"node1", "node2"})
    plan_file = tmp_path / "plan.yaml"
    plan_file.write_text(yaml.safe_dump(plan(FOURTH)))
    await acli(c.env, "apply", str(plan_file))
    c.carrier.clear()
    assert [await stack.call() for _ in range(4)] == [200] * 4
    assert c.carrier.invites() == [FOURTH] * 4
    assert "up to date" in (await acli(c.env, "status", check=False)).stderr  # `orchestrator status` names each node

    # A blacklist change reaches every node's AstDB: the caller is refused whichever node answers.
    await acli(c.env, "blacklist", "add", SERVICE, "0201234567")
    family = blacklist_family(parse_service_number(SERVICE).e164)
    assert [await ami.db_get(family, "+31201234567") for ami in stack.amis.values()] == ["1", "1"]
    c.carrier.clear()
    assert all(code != 200 for code in [await stack.call() for _ in range(2)])  # round robin: one per node
    assert c.carrier.invites() == []
    await acli(c.env, "blacklist", "remove", SERVICE, "0201234567")
    assert [await ami.db_get(family, "+31201234567") for ami in stack.amis.values()] == [None, None]


async def test_the_api_applies_and_blacklists_on_every_node(stack: Stack, tmp_path: Path) -> None:
    """The REST API with a cluster file: a plan PUT reaches both nodes, a blacklist POST both AstDBs."""
    c = stack.c
    await stack.active({"node1", "node2"})
    rt = c.runtimes[0]
    settings = load_settings(c.env)
    config = ApiConfig(settings=settings, etc_dir=rt.etc_dir, sounds_dir=rt.sounds_dir, uploads_dir=tmp_path / "up",
                       asterisk_path=rt.asterisk_path)
    h = bearer(make_token(c.env["SVC_DB_URL"], "e2e"))
    async with TestClient(TestServer(create_app(config))) as client:
        resp = await client.put("/api/v1/tenants/e2e/plan", json=plan(SECOND), headers=h)
        assert resp.status == 200, await resp.text()
        c.carrier.clear()
        assert [await stack.call() for _ in range(2)] == [200] * 2 and c.carrier.invites() == [SECOND] * 2
        resp = await client.post(f"/api/v1/tenants/e2e/numbers/{SERVICE.replace(' ', '')}/blacklist",
                                 json={"caller": "0201234567"}, headers=h)
        assert resp.status in (200, 201), await resp.text()
        family = blacklist_family(parse_service_number(SERVICE).e164)
        assert [await ami.db_get(family, "+31201234567") for ami in stack.amis.values()] == ["1", "1"]
        resp = await client.delete(f"/api/v1/tenants/e2e/numbers/{SERVICE.replace(' ', '')}/blacklist/+31201234567",
                                   headers=h)
        assert resp.status in (200, 204), await resp.text()
        assert [await ami.db_get(family, "+31201234567") for ami in stack.amis.values()] == [None, None]


async def test_recordings_from_every_node_reach_the_encrypted_store(stack: Stack, tmp_path: Path) -> None:
    """One recordings worker per node, next to it, on that node's spool (plain audio never leaves
    the node); every worker writes to the one database and encrypted store. A real recorded call
    on each node: two recordings, one row each, node-prefixed ids, no plain audio left."""
    c = stack.c
    await stack.active({"node1", "node2"})
    workers: list[tuple[subprocess.Popen[bytes], Path]] = []
    try:
        for n, rt in zip(c.nodes, c.runtimes, strict=True):
            log = tmp_path / f"watch-{n.name}.log"
            env = {**c.env, "SVC_INSTANCE": rt.settings.instance_name,
                   "SVC_ROOTFS_CACHE": str(rt.settings.rootfs_cache), "SVC_RECORDING_KEYS": KEY_LINE}
            with open(log, "w") as fh:
                workers.append((subprocess.Popen([ORCHESTRATOR, "recordings", "watch"], env=env, stdout=fh,
                                                 stderr=fh), log))
        await until(lambda: all("watching" in log.read_text() for _w, log in workers), "both workers watching", 30)
        before = {r.id for r in recordings.list_recordings(stack.engine, "e2e")}
        for _ in range(2):  # round robin: one call on each node
            # The caller on the bridge address: its audio must reach the node (from 127.0.0.1 it cannot).
            result = await asyncio.to_thread(place_call, c.front_port, RECORDED.replace(" ", ""), "0201234567",
                                             hold_s=1.5, workdir=c.workdir / "calls", scenario=PROXIED_AUDIO,
                                             host=c.network.host_address, local_ip=c.network.host_address)
            assert result.final_code == 200
        new: list[Any] = []

        def stored() -> bool:
            new[:] = [r for r in recordings.list_recordings(stack.engine, "e2e") if r.id not in before]
            return len(new) >= 2
        await until(stored, "a recording from each node stored", 20)
        assert len(new) == 2 and sorted(r.call_id.split("-")[0] for r in new) == ["node1", "node2"], new
        for rt in c.runtimes:  # nothing plain left on any node
            spool = rt.paths.spool
            assert not list((spool / "done").iterdir()) and not list((spool / "incoming").iterdir()), spool
        print("recordings (node, seconds):", sorted((r.call_id.split("-")[0], r.duration_s) for r in new))
        for r in new:  # real audio (a silent recording is deleted, not stored), no longer than the call
            assert 0 < r.duration_s < 1.5 + 0.5 and Path(r.path).read_bytes()[:4] != b"RIFF"  # stored encrypted
            wav = recordings.export(stack.engine, parse_keys(KEY_LINE, "test"), r.id, "e2e", tmp_path / f"{r.id}.wav")
            assert wav.call_id == r.call_id and (tmp_path / f"{r.id}.wav").read_bytes()[:4] == b"RIFF"
    finally:
        for worker, _log in workers:
            worker.terminate()
        for worker, log in workers:
            assert worker.wait(10) == 0, log.read_text()


async def test_calls_keep_routing_with_the_orchestrator_stopped(stack: Stack) -> None:
    """The orchestrator's host stopped: no live controller, no API, no AMI link to any node.
    Calls still go through Kamailio to both nodes and are answered (nothing in the call path talks
    to the orchestrator). Started again, the live controller re-syncs from every node: it adopts
    the calls up at that moment and records them when they end (docs/live.md)."""
    c = stack.c
    await stack.active({"node1", "node2"})
    settings = stack.live.settings
    await stack.live.stop()
    for ami in stack.amis.values():  # the only other AMI links the cluster has (the API's are per request)
        ami.close()
    stack.amis.clear()
    assert not any(ami.logged_in for ami in stack.live.nodes.values())

    def ami_sessions() -> int:  # established connections to the nodes' AMI, seen inside each namespace
        return sum(len(subprocess.run(
            ["ip", "netns", "exec", rt.settings.netns, "ss", "-Htn", "state", "established", "sport", "=",
             f":{n.ami_port}"], capture_output=True, text=True, check=True).stdout.splitlines())
            for n, rt in zip(c.nodes, c.runtimes, strict=True))
    await until(lambda: ami_sessions() == 0, "no AMI session left on any node")

    seen = len(c.routes())
    c.carrier.clear()
    assert [await stack.call() for _ in range(4)] == [200] * 4
    assert len(c.carrier.invites()) == 4  # each answered by the carrier, through a node
    routed = [node for _when, _cid, node, attempt in c.routes()[seen:] if attempt]
    assert sorted(routed) == ["node1", "node1", "node2", "node2"], routed  # both nodes, no retries

    # Two calls up (one per node, round robin) while the orchestrator is away; then it starts again.
    # Held until the test ends them (below): however long the controller's start takes on a busy machine.
    held = [asyncio.create_task(stack.placed(SERVICE, hold_s=40.0)) for _ in range(2)]
    await until(lambda: len(c.carrier.invites()) == 6, "both held calls answered")
    started = datetime.now(UTC)
    live = LiveController(settings, engine=stack.engine, nodes={n.name: (n.ami_host, n.ami_port) for n in c.nodes})
    stack.live = live
    await live.start()
    await until(lambda: all(ami.logged_in for ami in live.nodes.values()) and len(live.book.calls) == 2,
                lambda: f"the restarted controller adopted both calls (book: {sorted(live.book.calls)}, "
                        f"logged in: {[a.logged_in for a in live.nodes.values()]})")
    adopted = sorted(live.book.calls)
    assert [cid.split("-")[0] for cid in adopted] == ["node1", "node2"], adopted
    for cid in adopted:  # ended on their nodes (the controller's own AMI links): their Hangup is seen
        await live.nodes[cid.split("-")[0]].hangup(live.book.calls[cid].channel, 16)
    assert [r.final_code for r in await asyncio.gather(*held)] == [200, 200]
    await until(lambda: not live.book.calls, "both adopted calls ended in the controller's book")
    records: list[CallRecord] = []

    def recorded() -> bool:
        records[:] = [r for r in call_records.between(stack.engine, started - timedelta(minutes=1),
                                                      datetime.now(UTC)) if r.call_id in adopted]
        return len(records) == 2
    await until(recorded, "records of the adopted calls")
    assert all(r.end_observed and r.outcome == "answered" for r in records), records
    for n, rt in zip(c.nodes, c.runtimes, strict=True):  # the test's own links, for later tests
        stack.amis[n.name] = await Ami.from_settings(rt.settings).connect()
