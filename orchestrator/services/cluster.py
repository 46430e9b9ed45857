"""Every node of a cluster runs the committed dialplan, or gets no calls (docs/scaling.md).

Kamailio probes each node with OPTIONS for the ready extension (domain/cluster.READY_USER);
Asterisk answers 200 only while that extension exists, and only this module adds it, over AMI,
once the node verified the committed dialplan. A node that restarts comes up without it, and a
full ``dialplan reload`` drops it: so a node is out of the dispatcher set until it caught up.

Each node keeps the version it verified last in its own AstDB (``svc-node/version``), written
after the database committed: ``status`` compares it with the committed version.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import yaml

from orchestrator.asterisk import push
from orchestrator.asterisk.ami import Ami
from orchestrator.asterisk.dialplan_files import DialplanFiles
from orchestrator.domain.cluster import READY_CONTEXT, READY_USER, ClusterConfig, Node, NodeState, parse_cluster
from orchestrator.domain.naming import ENTRY_CONTEXT, ENTRY_FILE
from orchestrator.errors import (
    ApplyFailed,
    AsteriskError,
    EdgeError,
    NotFound,
    OrchestratorError,
    PlanInvalid,
    Violation,
)
from orchestrator.services import consistency
from orchestrator.services.flow_lists import sync_lists
from orchestrator.store import blacklists as blacklist_store
from orchestrator.store import flows as flow_store
from orchestrator.store import tenants as tenant_store
from orchestrator.store import versions as version_store
from orchestrator.store.session import Session

Progress = Callable[[str], None]
VERSION_FAMILY, VERSION_KEY = "svc-node", "version"


@dataclass(frozen=True)
class Peer:
    """Another node an apply loads: its name and AMI link (nodes whose AMI did not answer are down
    and are not peers; they catch up before they take calls again)."""

    name: str
    ami: Ami


def committed_version(session: Session) -> str | None:
    committed = version_store.committed_dialplan(session)
    return None if committed is None else Path(committed.dialplan_dir).name


async def node_version(ami: Ami) -> str | None:
    return await ami.db_get(VERSION_FAMILY, VERSION_KEY)


async def mark(ami: Ami, version: str) -> None:
    """The node verified ``version``: record it on the node itself."""
    await ami.db_put(VERSION_FAMILY, VERSION_KEY, version)


async def make_ready(ami: Ami) -> None:
    """Let Kamailio's probe succeed: the node takes calls from its next probe on."""
    await ami.extension_add(READY_CONTEXT, READY_USER, 1, "Hangup", "")


async def make_unready(ami: Ami) -> None:
    with contextlib.suppress(AsteriskError):
        await ami.extension_remove(READY_CONTEXT, READY_USER)


async def is_ready(ami: Ami) -> bool:
    out = await ami.dialplan_show(READY_CONTEXT)
    return f"'{READY_USER}'" in out


async def catch_up(session: Session, files: DialplanFiles, ami: Ami, name: str,
                   progress: Progress = lambda _s: None) -> str:
    """Bring a node that was down (or behind) to the committed version, verify it, then let it
    take calls. Holds the apply lock, so no apply runs meanwhile. Returns the version."""
    async with files.lock():
        version_store.lock_applies(session)
        committed = committed_version(session)
        if committed is None:
            raise ApplyFailed("nothing was ever applied: no version to catch up to")
        await make_unready(ami)
        await consistency.reload_committed(ami, session, [])
        current = files.read_current((ENTRY_FILE,))
        checked = await push.verify(ami, {ENTRY_CONTEXT: current[ENTRY_FILE]}, push.Parsed()) if current else 0
        numbers, lists = await sync_all_astdb(session, ami)
        await mark(ami, committed)
        await make_ready(ami)
        session.rollback()  # ends the transaction the lock lived in
        progress(f"node {name} caught up to {committed}: reloaded, verified {checked} contexts, "
                 f"blacklists of {numbers} numbers and {lists} list entries written; taking calls again")
        return committed


async def sync_all_astdb(session: Session, ami: Ami) -> tuple[int, int]:
    """Every number's blacklist and every tenant's lists, as the database has them (a blacklist
    emptied while the node was down is emptied there too). (numbers, list entries)."""
    numbers = sorted(i.e164 for i in tenant_store.number_ids(session))
    found = blacklist_store.blacklists(session, numbers)
    await consistency.sync_blacklists(ami, {n: found.get(n, set()) for n in numbers})
    lists = 0
    for tenant in tenant_store.tenants(session):
        names = flow_store.load_flows(session, tenant).get("lists", [])
        lists += await sync_lists(session, ami, tenant, [str(n) for n in names])
    return len(numbers), lists


async def load_peers(peers: list[Peer], load: Callable[[Ami], Awaitable[None]], progress: Progress) -> list[str]:
    """Run one node's loading step on every peer at once (ten nodes cost one node's time, not ten);
    the peers that took it. A peer that fails raises ApplyFailed naming it (the caller puts every
    node back)."""
    results = await asyncio.gather(*(load(p.ami) for p in peers), return_exceptions=True)
    for peer, result in zip(peers, results, strict=True):
        if isinstance(result, OrchestratorError):
            raise ApplyFailed(f"node {peer.name}: {result}") from result
        if isinstance(result, BaseException):
            raise result
    for peer in peers:
        progress(f"node {peer.name} took and verified the new version")
    return [p.name for p in peers]


async def states(session: Session, links: Mapping[str, Ami | None]) -> list[NodeState]:
    """Each node's verified version against the committed one (None link: its AMI did not answer)."""
    committed = committed_version(session)
    out = []
    for name, ami in links.items():
        if ami is None:
            out.append(NodeState(name, False, None, False, committed))
            continue
        try:
            out.append(NodeState(name, True, await node_version(ami), await is_ready(ami), committed))
        except AsteriskError:
            out.append(NodeState(name, False, None, False, committed))
    return out


def load_config(path: Path | None) -> ClusterConfig | None:
    """The cluster file (SVC_CLUSTER_FILE), parsed and checked; None when none is configured."""
    if path is None:
        return None
    try:
        document = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise NotFound(f"cannot read the cluster file {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise PlanInvalid([Violation(str(path), f"not valid YAML: {exc}")]) from exc
    return parse_cluster(document)


async def connect(nodes: list[Node], user: str, secret: str, timeout: float = 3.0) -> dict[str, Ami | None]:
    """An AMI link to every node (one login for all: the operator provisions them alike); None for
    a node that does not answer: it is down for this command."""
    out: dict[str, Ami | None] = {}
    for node in nodes:
        ami = Ami(node.ami_host, node.ami_port, user, secret, timeout=timeout)
        try:
            out[node.name] = await ami.connect()
        except AsteriskError:
            ami.close()
            out[node.name] = None
    return out


def close(links: Mapping[str, Ami | None]) -> None:
    for ami in links.values():
        if ami is not None:
            ami.close()


def peers_of(links: Mapping[str, Ami | None]) -> tuple[str, Ami | None, tuple[Peer, ...]]:
    """The node an apply loads first (the first live one) and the other live nodes."""
    live = [(name, ami) for name, ami in links.items() if ami is not None]
    if not live:
        return "", None, ()
    return live[0][0], live[0][1], tuple(Peer(n, a) for n, a in live[1:])


class Gate(Protocol):
    """Kamailio's say over a node (edge/kamailio.Kamailio)."""

    def fence(self, uri: str) -> None: ...

    def admit(self, uri: str) -> None: ...


async def sync_nodes(session: Session, files: DialplanFiles, links: Mapping[str, Ami | None],
                     progress: Progress = lambda _s: None, *, nodes: list[Node] | None = None,
                     gate: Gate | None = None) -> list[str]:
    """Catch up every reachable node that is behind or not taking calls; the names caught up.
    With Kamailio's ``gate``: a node whose AMI does not answer is fenced (it may still answer SIP
    on a stale plan: Kamailio sends it nothing until it caught up), and a node caught up is
    admitted again. `orchestrator cluster sync` runs it once, `--watch` every few seconds."""
    uris = {n.name: n.uri for n in nodes or []}
    done = []
    for state in await states(session, links):
        ami = links[state.name]
        if ami is None and gate is not None and state.name in uris:
            _gate(gate.fence, uris[state.name], progress)
        if ami is None or (not state.stale and state.ready) or state.committed is None:
            continue
        await catch_up(session, files, ami, state.name, progress)
        if gate is not None and state.name in uris:
            _gate(gate.admit, uris[state.name], progress)
        done.append(state.name)
    return done


def _gate(action: Callable[[str], None], uri: str, progress: Progress) -> None:
    try:
        action(uri)
    except EdgeError as exc:  # Kamailio away: the ready extension still keeps stale nodes out
        progress(f"warning: Kamailio did not take the change for {uri}: {exc}")
