"""A cluster's call centre: agent state changes go to every node, a waiting caller is acted on where it waits."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from orchestrator.asterisk.ami_results import QueueEntry, QueueStatus
from orchestrator.errors import NotFound, PlanInvalid
from orchestrator.live import events as ev
from orchestrator.services.callcentre import control, supervisor


class FakeNode:
    def __init__(self, members: set[str]) -> None:
        self.members = members
        self.paused: dict[str, tuple[bool, str]] = {}
        self.db: dict[tuple[str, str], str] = {}

    async def queue_pause(self, interface: str, paused: bool, reason: str = "") -> None:
        if interface not in self.members:
            raise NotFound(f"{interface} is a member of no queue")
        self.paused[interface] = (paused, reason)

    async def db_put(self, family: str, key: str, value: str) -> None:
        self.db[(family, key)] = value


async def test_every_node_takes_the_state_and_not_found_only_when_no_node_has_the_agent() -> None:
    amy = "Local/amy@svca-cc"
    nodes: list[Any] = [FakeNode({amy}), FakeNode(set()), FakeNode({amy})]
    await control.set_agent_state_on(nodes, "cc", "amy", "unavailable", "lunch")
    assert [n.paused.get(amy) for n in nodes] == [(True, "lunch"), None, (True, "lunch")]
    assert nodes[0].db == nodes[2].db == {("svc-agent/cc", "amy"): "unavailable:lunch"}
    with pytest.raises(NotFound, match="in no queue"):
        await control.set_agent_state_on(nodes, "cc", "zed", "logged-out")


class WaitingNode:
    def __init__(self, *channels: str) -> None:
        self.entries = tuple(QueueEntry("cc.desk", ch, "+31201110001", i + 1, 5, 0) for i, ch in enumerate(channels))

    async def queue_status(self) -> QueueStatus:
        return QueueStatus((), self.entries)


async def test_a_waiting_caller_is_acted_on_where_it_waits_and_never_on_a_namesake() -> None:
    a, b = WaitingNode("PJSIP/carrier-0000000a"), WaitingNode("PJSIP/carrier-0000000a", "PJSIP/carrier-0000000b")
    nodes: dict[str, Any] = {"node1": a, "node2": b}
    assert await supervisor.node_of_waiting(nodes, "cc", "PJSIP/carrier-0000000b") is b
    with pytest.raises(PlanInvalid, match="waits on node1 and node2: name the node"):
        await supervisor.node_of_waiting(nodes, "cc", "PJSIP/carrier-0000000a")
    assert await supervisor.node_of_waiting(nodes, "cc", "PJSIP/carrier-0000000a", "node1") is a
    with pytest.raises(NotFound):
        await supervisor.node_of_waiting(nodes, "cc", "PJSIP/carrier-0000000c")
    with pytest.raises(NotFound):
        await supervisor.node_of_waiting(nodes, "cc", "PJSIP/carrier-0000000a", "node3")
    waiting = await supervisor.waiting_calls_on(nodes, "cc")
    assert [(w.node, w.channel) for w in waiting] == [("node1", "PJSIP/carrier-0000000a"),
                                                      ("node2", "PJSIP/carrier-0000000a"),
                                                      ("node2", "PJSIP/carrier-0000000b")]


def test_only_a_dialled_code_is_spread_not_a_node_putting_its_own_states_back() -> None:
    at = datetime(2026, 12, 6, tzinfo=UTC)
    msg = {"Event": "UserEvent", "UserEvent": "SvcAgent", "Uniqueid": "node1-1.5", "Channel": "PJSIP/cc.cal1-01",
           "Tenant": "cc", "Agent": "cal", "State": "logged-out", "Source": "dtmf"}
    assert ev.parse(msg, at) == ev.AgentCode("node1-1.5", at, "PJSIP/cc.cal1-01", None, tenant="cc", agent="cal",
                                             state="logged-out")
    assert ev.parse({**msg, "Source": "restart"}, at) is None  # svc-agent-restore at a node's start
