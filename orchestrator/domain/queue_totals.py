"""The call-centre figures of a cluster: every node's figures of a queue merged into one. Pure.

Queues are per node (app_queue): a queue's waiting callers are on the node that took them, an
agent is a member of the queue on every node, and each node counts the calls its own queue
answered and lost. The one rule per figure (docs/scaling.md, "Call-centre figures"):

- ``waiting``: the sum over the nodes that report (a node whose AMI is gone, or that died, has
  no callers we can see; they leave the total at once).
- ``longest_wait_s``: the longest over the nodes that report.
- ``answered``, ``abandoned``, ``service_level_pct``: counts of calls that happened, summed over
  every node, those of a node that died included (its calls did happen); the service level is
  the share of all answered calls answered in time, not a mean of the nodes' percentages.
- ``agents_<state>``: every agent counted once (the union of the reporting nodes' members), in
  the strongest of its states on the nodes (domain.agent_state.combined_state: busy on one node
  is busy; paused on one node is paused).
- ``nodes_reporting`` / ``nodes``: how many nodes the figures cover, out of how many.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from orchestrator.domain.agent_state import AGENT_STATES, combined_state

Figures = dict[str, int | float]


@dataclass(frozen=True)
class NodeQueue:
    """One node's figures of one plan queue (``tenant.queue``)."""

    waiting: int = 0
    longest_wait_s: float = 0.0
    answered: int = 0
    abandoned: int = 0
    within: int = 0  # answered within the queue's service level
    agents: Mapping[str, str] = field(default_factory=dict)  # agent -> its state on this node


def merge(per_node: Mapping[str, Mapping[str, NodeQueue]], reporting: Collection[str],
          nodes: int | None = None) -> dict[str, Figures]:
    """Per plan queue, the figures over the cluster. ``per_node``: node -> plan queue -> its
    figures there; ``reporting``: the nodes whose live figures are current; ``nodes``: how many
    nodes the cluster has (default: as many as ``per_node`` names)."""
    names = sorted({q for queues in per_node.values() for q in queues})
    live = [per_node[n] for n in per_node if n in reporting]
    out: dict[str, Figures] = {}
    for name in names:
        every = [queues[name] for queues in per_node.values() if name in queues]
        now = [queues[name] for queues in live if name in queues]
        answered = sum(q.answered for q in every)
        within = sum(q.within for q in every)
        states: dict[str, list[str]] = {}
        for q in now:
            for agent, state in q.agents.items():
                states.setdefault(agent, []).append(state)
        counted = Counter(combined_state(s) for s in states.values())
        out[name] = {
            "waiting": sum(q.waiting for q in now),
            "longest_wait_s": round(max((q.longest_wait_s for q in now), default=0.0), 1),
            "answered": answered, "abandoned": sum(q.abandoned for q in every),
            "service_level_pct": round(100.0 * within / answered, 1) if answered else 100.0,
            **{f"agents_{s.replace('-', '_')}": counted.get(s, 0) for s in AGENT_STATES},
            "nodes_reporting": sum(1 for n in per_node if n in reporting),
            "nodes": len(per_node) if nodes is None else nodes,
        }
    return out
