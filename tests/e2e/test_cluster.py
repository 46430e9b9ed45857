"""A cluster end to end: Kamailio (configured by the orchestrator) spreads real SIP calls over two
real Asterisk 22 nodes, each in its own network namespace; an apply reaches every node before it
is committed; a node that was down takes no calls until it caught up (docs/scaling.md)."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from sqlmodel import Session

from orchestrator.asterisk.ami import Ami
from orchestrator.asterisk.dialplan_files import DialplanFiles
from orchestrator.domain.plan import AMSTERDAM, parse_plan
from orchestrator.services import cluster as cluster_service
from orchestrator.services.apply import ApplyReport, ApplyTarget, apply_plan
from orchestrator.store import engine as store_engine
from tests.e2e.cluster_stack import Cluster, cluster
from tests.harness.sipp import place_call

pytestmark = pytest.mark.e2e

SERVICE = "0800 000 0001"
FIRST, SECOND = "+31205550011", "+31205550021"


def plan(destination: str) -> dict[str, Any]:
    return {"tenant": "e2e", "numbers": [
        {"number": SERVICE, "routings": {"main": [{"number": destination}]}, "active": "main"}]}


@dataclass
class Stack:
    c: Cluster
    engine: Any
    amis: dict[str, Ami]

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

    async def call(self) -> int:
        result = await asyncio.to_thread(place_call, self.c.front_port, SERVICE.replace(" ", ""), "0201234567",
                                         hold_s=0.2, workdir=self.c.workdir / "calls")
        return result.final_code


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with cluster(tmp_path_factory.mktemp("cluster"), 2) as c:
        yield c


@pytest.fixture(scope="module")
async def stack(running: Cluster, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    engine = store_engine.make_engine(f"sqlite:///{tmp_path_factory.mktemp('db') / 'cluster.db'}")
    amis = {n.name: await Ami.from_settings(rt.settings).connect() for n, rt in zip(running.nodes, running.runtimes,
                                                                                     strict=True)}
    try:
        yield Stack(running, engine, amis)
    finally:
        for ami in amis.values():
            ami.close()


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
