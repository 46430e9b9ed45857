"""Nodes -> Kamailio's kamailio.cfg and dispatcher.list (the cluster's SIP front door). Pure.

The template is deploy/kamailio/kamailio.cfg.j2 (not in dialplan_templates/: editing the edge
must not make every number's dialplan count as changed, generate/render.generator_digest)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jinja2

from orchestrator.domain.cluster import READY_USER, Node

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "deploy" / "kamailio"
DEBIAN_MODULES = "/usr/lib/x86_64-linux-gnu/kamailio/modules/"
DISPATCHER_SET = 1
# dispatcher.list flags: 1 inactive + 8 probing. A node starts out of the set, probed: it takes
# calls once its OPTIONS probe for the ready extension succeeds, i.e. once the orchestrator verified it.
INACTIVE_PROBING = 9


@dataclass(frozen=True)
class Edge:
    """Where Kamailio listens and keeps its files, and how quickly it gives up on a node."""

    listen: tuple[str, ...]  # the callers' side first, then each network towards the nodes
    port: int
    run_dir: Path  # dispatcher.list, the control socket
    ping_interval_s: int = 1  # OPTIONS to every node this often (dispatcher's smallest unit)
    probing_threshold: int = 2  # failed probes before a node is taken out (one lost UDP packet is not death)
    fr_timer_ms: int = 1000  # no reply at all from a node within this: try the next node
    children: int = 4
    debug: int = 1
    log_routes: bool = False  # a log line per call attempt (which node, when)
    count_port: int = 0  # HTTP on the nodes' side: a number's calls on every node (0: none)
    modules_dir: str = DEBIAN_MODULES

    @property
    def count_url(self) -> str:
        """What the nodes ask for a number's calls (Settings.edge_count_url), or "" without."""
        return f"http://{self.listen[-1]}:{self.count_port}/svc-count" if self.count_port else ""

    @property
    def dispatcher_file(self) -> Path:
        return self.run_dir / "dispatcher.list"

    @property
    def ctl_socket(self) -> Path:
        return self.run_dir / "kamailio.ctl"

    @property
    def cfg_file(self) -> Path:
        return self.run_dir / "kamailio.cfg"


def dispatcher_list(nodes: list[Node]) -> str:
    lines = ["# setid destination flags priority attributes (generated: orchestrator/generate/kamailio.py)"]
    lines += [f"{DISPATCHER_SET} {n.uri} {INACTIVE_PROBING} 0 duid={n.name}" for n in nodes]
    return "\n".join(lines) + "\n"


def kamailio_cfg(edge: Edge) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE_DIR), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True, autoescape=False)
    return env.get_template("kamailio.cfg.j2").render(
        listen=edge.listen, port=edge.port, modules_dir=edge.modules_dir, ctl_socket=edge.ctl_socket,
        dispatcher_file=edge.dispatcher_file, ping_interval_s=edge.ping_interval_s,
        probing_threshold=edge.probing_threshold, fr_timer_ms=edge.fr_timer_ms, children=edge.children,
        debug=edge.debug, ready_user=READY_USER, log_routes=edge.log_routes,
        count_port=edge.count_port)


def files(edge: Edge, nodes: list[Node]) -> dict[Path, str]:
    """Every file Kamailio reads, by where it reads it."""
    return {edge.cfg_file: kamailio_cfg(edge), edge.dispatcher_file: dispatcher_list(nodes)}
