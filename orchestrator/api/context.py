"""What handlers share, held by the aiohttp application (no module-level state): the settings,
the database engine and AMI connection opened by ``app.py``'s cleanup contexts, and the lock that
serialises changes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from aiohttp import web

from orchestrator.asterisk.ami import Ami
from orchestrator.asterisk.astdb import AllNodes, AstDb
from orchestrator.asterisk.dialplan_files import DialplanFiles
from orchestrator.domain.cluster import node_of_call
from orchestrator.domain.plan import AMSTERDAM
from orchestrator.errors import AsteriskUnavailable, NotFound
from orchestrator.services import cluster
from orchestrator.services.apply import ApplyTarget
from orchestrator.settings import Settings
from orchestrator.store.session import Engine, Session


def _now() -> datetime:
    return datetime.now(AMSTERDAM)


@dataclass(frozen=True)
class ApiConfig:
    """How the API reaches the database, the dialplan files, the sounds and Asterisk."""

    settings: Settings
    etc_dir: Path  # Asterisk's etc folder (the generated dialplan lives under it)
    sounds_dir: Path  # Asterisk's sounds folder (announcements are converted into it on apply)
    uploads_dir: Path  # uploaded announcements, per tenant, kept between applies
    asterisk_path: Callable[[Path], str] = str  # host path -> path as Asterisk sees it
    offline: bool = False  # no AMI: applies only write files; live blacklist changes are refused
    now: Callable[[], datetime] = _now


@dataclass
class ApiState:
    config: ApiConfig
    # Applies and live changes must not interleave: an apply re-syncs AstDB blacklists.
    change_lock: asyncio.Lock = field(default_factory=asyncio.Lock)


STATE = web.AppKey("state", ApiState)
ENGINE = web.AppKey("engine", Engine)
AMI = web.AppKey("ami", Ami)
NODES = web.AppKey("nodes", dict[str, Ami])  # a cluster: every node's AMI link (kept connected)


def state(request: web.Request) -> ApiState:
    return request.app[STATE]


def config(request: web.Request) -> ApiConfig:
    return request.app[STATE].config


def session(request: web.Request) -> Session:
    return Session(request.app[ENGINE])


def _live_nodes(request: web.Request) -> dict[str, Ami | None]:
    return {name: a if a.logged_in else None for name, a in request.app.get(NODES, {}).items()}


def ami(request: web.Request) -> Ami:
    """This Asterisk, or in a cluster the first node that is up (call-centre actions)."""
    if NODES in request.app:
        _node, first, _peers = cluster.peers_of(_live_nodes(request))
        if first is None:
            raise AsteriskUnavailable("no node of the cluster answers")
        return first
    found = request.app.get(AMI)
    if found is None:
        raise AsteriskUnavailable("the API runs offline (no AMI connection); live changes need Asterisk")
    return found


def nodes_up(request: web.Request) -> dict[str, Ami]:
    """Every node that is up (a cluster), or this Asterisk (named ""): what call-centre views read
    and agent state changes go to."""
    if NODES in request.app:
        up = {name: a for name, a in _live_nodes(request).items() if a is not None}
        if not up:
            raise AsteriskUnavailable("no node of the cluster answers")
        return up
    return {"": ami(request)}


def ami_of_call(request: web.Request, call_id: str) -> Ami:
    """The AMI link of the node a call is on (its call id names it); outside a cluster, this Asterisk."""
    if NODES in request.app:
        nodes = request.app[NODES]
        name = node_of_call(call_id, list(nodes))
        if name is None:
            raise NotFound(f"no call {call_id!r} on any node of the cluster")
        link = nodes[name]
        if not link.logged_in:
            raise AsteriskUnavailable(f"node {name}, which has call {call_id}, does not answer")
        return link
    return ami(request)


def astdb(request: web.Request) -> AstDb:
    """Where a blacklist or list change goes: this Asterisk, or every node that is up."""
    if NODES in request.app:
        return AllNodes([a for a in _live_nodes(request).values() if a is not None])
    return ami(request)


def apply_target(request: web.Request) -> ApplyTarget:
    """In a cluster: every node that is up (a node that is down catches up before it takes calls)."""
    c = config(request)
    node, first, peers = (cluster.peers_of(_live_nodes(request)) if NODES in request.app
                          else ("", request.app.get(AMI), ()))
    return ApplyTarget(DialplanFiles(c.etc_dir), c.sounds_dir, c.asterisk_path, first,
                       secrets_dir=c.settings.secrets_dir, phone_qualify_s=c.settings.phone_qualify_s,
                       node=node, peers=peers)
