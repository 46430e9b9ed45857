"""AstDB, where the next call looks (blacklists, digit lists): on one Asterisk, or on every node
of a cluster at once.

``AllNodes`` writes each change to every live node; when one refuses, the nodes that took it
are put back and the error is raised, so the database (committed only after) and the nodes stay
alike. A node that was down gets everything from the database when it catches up
(services/cluster.sync_all_astdb), before Kamailio sends it calls."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from orchestrator.asterisk.ami import Ami
from orchestrator.errors import AsteriskError


class AstDb(Protocol):
    async def db_put(self, family: str, key: str, value: str) -> None: ...

    async def db_del(self, family: str, key: str) -> bool: ...


class AllNodes:
    def __init__(self, nodes: Sequence[Ami]) -> None:
        if not nodes:
            raise AsteriskError("no node of the cluster answers: nothing can take the change")
        self.nodes = list(nodes)

    async def db_put(self, family: str, key: str, value: str) -> None:
        done: list[tuple[Ami, str | None]] = []
        try:
            for ami in self.nodes:
                before = await ami.db_get(family, key)
                await ami.db_put(family, key, value)
                done.append((ami, before))
        except AsteriskError:
            await _undo(family, key, done)
            raise

    async def db_del(self, family: str, key: str) -> bool:
        done: list[tuple[Ami, str | None]] = []
        found = False
        try:
            for ami in self.nodes:
                before = await ami.db_get(family, key)
                found = await ami.db_del(family, key) or found
                done.append((ami, before))
        except AsteriskError:
            await _undo(family, key, done)
            raise
        return found


async def _undo(family: str, key: str, done: list[tuple[Ami, str | None]]) -> None:
    for ami, before in done:
        try:
            if before is None:
                await ami.db_del(family, key)
            else:
                await ami.db_put(family, key, before)
        except AsteriskError:
            continue  # that node is stale now: the next catch-up writes it from the database
