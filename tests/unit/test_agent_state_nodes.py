"""An agent state change goes to every node of a cluster (queues are per node)."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.errors import NotFound
from orchestrator.services.callcentre import control


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
