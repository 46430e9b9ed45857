"""A cluster: Asterisk nodes behind one Kamailio (docs/scaling.md). Pure: what a node is, and how
a node's state reads (up to date, stale, down)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from orchestrator.errors import PlanInvalid, Violation

# The extension Kamailio's OPTIONS probe asks for (sip:<READY_USER>@node): Asterisk answers 200 only
# while it exists in the inbound context, and only the orchestrator adds it, over AMI, after
# the node verified the committed dialplan. A restarted node, or a full reload, does not have it.
READY_USER = "svc-ready"
READY_CONTEXT = "from-carrier"
_NAME = re.compile(r"[a-z][a-z0-9-]{0,30}")


@dataclass(frozen=True)
class Node:
    name: str
    sip_host: str  # where Kamailio sends calls (the node's own address)
    sip_port: int
    ami_host: str
    ami_port: int

    @property
    def uri(self) -> str:
        """The dispatcher destination (also the OPTIONS probe's Request-URI)."""
        return f"sip:{READY_USER}@{self.sip_host}:{self.sip_port}"


def check_nodes(nodes: list[Node]) -> list[Node]:
    """Names unique and well-formed, one address per node: else PlanInvalid naming the node."""
    problems: list[Violation] = []
    seen: set[str] = set()
    addresses: set[tuple[str, int]] = set()
    for i, node in enumerate(nodes):
        where = f"nodes[{i}]"
        if not _NAME.fullmatch(node.name):
            problems.append(Violation(f"{where}.name", f"{node.name!r}: lower-case letters, digits and '-'"))
        if node.name in seen:
            problems.append(Violation(f"{where}.name", f"{node.name!r} appears twice"))
        if (node.sip_host, node.sip_port) in addresses:
            problems.append(Violation(f"{where}.sip", f"{node.sip_host}:{node.sip_port} is another node's"))
        if not 0 < node.sip_port < 65536 or not 0 < node.ami_port < 65536:
            problems.append(Violation(f"{where}", "ports are 1-65535"))
        seen.add(node.name)
        addresses.add((node.sip_host, node.sip_port))
    if not nodes:
        problems.append(Violation("nodes", "a cluster has at least one node"))
    if problems:
        raise PlanInvalid(problems)
    return nodes


@dataclass(frozen=True)
class NodeState:
    """What `orchestrator status` says of a node."""

    name: str
    reachable: bool  # its AMI answered
    version: str | None  # the dialplan version it verified last (None: never, or restarted)
    ready: bool  # Kamailio may send it calls (its ready extension is there)
    committed: str | None  # the version the database committed

    @property
    def stale(self) -> bool:
        return not self.reachable or self.version != self.committed

    @property
    def describe(self) -> str:
        if not self.reachable:
            return "down"
        if self.stale:
            return f"STALE (runs {self.version or 'an unverified dialplan'}; committed {self.committed})"
        return "up to date" + ("" if self.ready else " (not taking calls)")


@dataclass(frozen=True)
class ClusterConfig:
    """The cluster file (SVC_CLUSTER_FILE, docs/scaling.md): Kamailio's addresses and the nodes."""

    listen: tuple[str, ...]  # Kamailio: the callers' side first, then the nodes' network
    port: int
    run_dir: str  # kamailio.cfg, dispatcher.list, the control socket
    nodes: list[Node]
    log_routes: bool = False  # Kamailio logs a line per call attempt (which node, when)
    count_port: int = 0  # Kamailio's HTTP for the nodes' count of a number's calls (0: none)


def _host_port(value: object, where: str, problems: list[Violation]) -> tuple[str, int]:
    if isinstance(value, str) and value.count(":") == 1:
        host, port = value.split(":")
        if host and port.isdigit():
            return host, int(port)
    problems.append(Violation(where, f"{value!r}: give host:port"))
    return "", 0


def parse_cluster(document: object) -> ClusterConfig:
    """The parsed cluster file; PlanInvalid naming every bad field, and nothing half-read."""
    problems: list[Violation] = []
    if not isinstance(document, dict):
        raise PlanInvalid([Violation("cluster", "a mapping with 'edge' and 'nodes'")])
    edge = document.get("edge")
    if not isinstance(edge, dict):
        edge = {}
        problems.append(Violation("edge", "a mapping with 'listen', 'port' and 'run_dir'"))
    listen = edge.get("listen")
    if not isinstance(listen, list) or not listen or not all(isinstance(h, str) and h for h in listen):
        problems.append(Violation("edge.listen", "a list of addresses, the callers' side first"))
        listen = []
    port = edge.get("port", 5060)
    if not isinstance(port, int) or not 0 < port < 65536:
        problems.append(Violation("edge.port", f"{port!r}: a port 1-65535"))
        port = 0
    run_dir = edge.get("run_dir")
    if not isinstance(run_dir, str) or not run_dir.startswith("/"):
        problems.append(Violation("edge.run_dir", "an absolute folder"))
        run_dir = ""
    raw = document.get("nodes")
    nodes: list[Node] = []
    if not isinstance(raw, list):
        problems.append(Violation("nodes", "a list of nodes (name, sip, ami)"))
        raw = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            problems.append(Violation(f"nodes[{i}]", "a mapping with name, sip and ami"))
            continue
        sip = _host_port(item.get("sip"), f"nodes[{i}].sip", problems)
        ami = _host_port(item.get("ami"), f"nodes[{i}].ami", problems)
        nodes.append(Node(str(item.get("name", "")), sip[0], sip[1], ami[0], ami[1]))
    if problems:
        raise PlanInvalid(problems)
    log_routes = edge.get("log_routes", False)
    if not isinstance(log_routes, bool):
        raise PlanInvalid([Violation("edge.log_routes", "true or false")])
    count_port = edge.get("count_port", 0)
    if not isinstance(count_port, int) or not 0 <= count_port < 65536:
        raise PlanInvalid([Violation("edge.count_port", f"{count_port!r}: a port 1-65535 (0: none)")])
    return ClusterConfig(tuple(listen), port, run_dir, check_nodes(nodes), log_routes, count_port)


def node_of_call(call_id: str, names: Iterable[str]) -> str | None:
    """The node a call is on: its Uniqueid (and a recording's call id) starts with the node's
    system name and a dash (SVC_SYSTEM_NAME); None when no node's name fits."""
    return next((n for n in names if n and call_id.startswith(f"{n}-")), None)
