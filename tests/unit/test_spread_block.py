"""A block the answering side made on one node goes to the other nodes, each on its own."""

from __future__ import annotations

from orchestrator.errors import AsteriskError
from orchestrator.services.blacklist import spread_block


class FakeNode:
    def __init__(self, refuses: bool = False) -> None:
        self.refuses = refuses
        self.db: dict[tuple[str, str], str] = {}

    async def db_put(self, family: str, key: str, value: str) -> None:
        if self.refuses:
            raise AsteriskError("DBPut failed")
        self.db[(family, key)] = value

    async def db_del(self, family: str, key: str) -> bool:
        return self.db.pop((family, key), None) is not None


async def test_each_node_takes_the_block_and_one_that_refuses_does_not_undo_the_others() -> None:
    nodes = {"node2": FakeNode(), "node3": FakeNode(refuses=True), "node4": FakeNode()}
    failed = await spread_block(nodes, "+318000000312", "+31201110071")
    assert failed == {"node3": "DBPut failed"}
    for name in ("node2", "node4"):  # the same key format as the dialplan's svc-activeblock
        assert nodes[name].db == {("svc-bl/318000000312", "+31201110071"): "1"}
    assert await spread_block({}, "+318000000312", "+31201110071") == {}
