"""Live call-centre figures from app_queue's AMI events (class ``agent``). Pure: events in,
figures out; the live controller feeds it and publishes ``snapshot()`` to Redis.

Figures per plan queue (``<tenant>.<queue>``; a queue's skill queues count towards it): callers
waiting now, the longest wait, agents per state, answered and abandoned calls, and the service
level (share of answered calls answered within the queue's ``service_level`` seconds). An agent's
state follows domain.agent_state, the same rule as ``orchestrator agent list``.

In a cluster each node has its own book (``ClusterQueues``) and the published figures are their
merge (domain.queue_totals: one rule per figure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from orchestrator.asterisk.ami_results import QueueStatus
from orchestrator.domain.agent_state import combined_state, member_state
from orchestrator.domain.queue_totals import NodeQueue, merge

QUEUE_EVENTS = frozenset({"QueueCallerJoin", "QueueCallerLeave", "QueueCallerAbandon", "AgentConnect",
                          "QueueMemberStatus", "QueueMemberPause", "QueueMemberAdded", "QueueMemberRemoved"})


def plan_queue(asterisk_queue: str) -> str:
    """``tenant.queue[.skill]`` → ``tenant.queue``."""
    return ".".join(asterisk_queue.split(".")[:2])


@dataclass
class _Member:
    in_call: bool = False
    paused: bool = False
    reason: str = ""
    status: int = 0  # device state (AST_DEVICE_*)
    last_call: float = 0.0
    wrapup: int = 0


@dataclass
class _Queue:
    waiting: dict[str, float] = field(default_factory=dict)  # caller channel -> joined at (epoch)
    answered: int = 0
    abandoned: int = 0
    within: int = 0  # answered within the service level
    # agent -> Asterisk queue (the plan queue or one of its skill queues) -> membership
    members: dict[str, dict[str, _Member]] = field(default_factory=dict)


class QueueBook:
    def __init__(self, service_levels: dict[str, int] | None = None, default_level: int = 20) -> None:
        self.service_levels = dict(service_levels or {})  # plan queue -> seconds
        self.default_level = default_level
        self.queues: dict[str, _Queue] = {}

    def _q(self, name: str) -> _Queue:
        return self.queues.setdefault(plan_queue(name), _Queue())

    def handle(self, e: dict[str, Any], at: float) -> bool:
        """Apply one AMI event (its fields as a dict) seen at epoch ``at``; True if figures changed."""
        kind = e.get("Event")
        if kind not in QUEUE_EVENTS or "Queue" not in e or "." not in str(e["Queue"]):
            return False
        q = self._q(str(e["Queue"]))
        channel = str(e.get("Channel", ""))
        if kind == "QueueCallerJoin":
            q.waiting.setdefault(channel, at)
        elif kind == "QueueCallerLeave":
            q.waiting.pop(channel, None)
        elif kind == "QueueCallerAbandon":
            q.waiting.pop(channel, None)
            q.abandoned += 1
        elif kind == "AgentConnect":
            q.waiting.pop(channel, None)
            q.answered += 1
            level = self.service_levels.get(plan_queue(str(e["Queue"])), self.default_level)
            if int(e.get("HoldTime", 0) or 0) <= level:
                q.within += 1
        else:
            name = str(e.get("MemberName") or e.get("Interface"))
            if kind == "QueueMemberRemoved":
                mine = q.members.get(name, {})
                mine.pop(str(e["Queue"]), None)
                if not mine:
                    q.members.pop(name, None)
                return True
            m = q.members.setdefault(name, {}).setdefault(str(e["Queue"]), _Member())
            if "InCall" in e:
                m.in_call = e.get("InCall") == "1"
            if e.get("Status"):
                m.status = int(e["Status"])
            if "Paused" in e:
                m.paused = e.get("Paused") == "1"
                m.reason = str(e.get("PausedReason", "")) if m.paused else ""
            if e.get("LastCall"):
                m.last_call = float(e["LastCall"])
            if e.get("Wrapuptime") is not None:
                m.wrapup = int(e.get("Wrapuptime") or 0)
        return True

    def wrapup_of(self, tenant: str, queue: str, agent: str) -> int:
        """The agent's wrap-up seconds in the plan queue (the longest of its skill queues'), 0 if unknown."""
        q = self.queues.get(f"{tenant}.{queue}")
        mine = q.members.get(agent, {}) if q is not None else {}
        return max((m.wrapup for m in mine.values()), default=0)

    def reseeded(self, status: QueueStatus, now: float) -> QueueBook:
        """A new book with the members and waiting callers of ``status`` (app_queue now); the
        answered / abandoned counts seen so far are kept."""
        book = QueueBook(self.service_levels, self.default_level)
        for name, q in self.queues.items():
            book.queues[name] = _Queue(answered=q.answered, abandoned=q.abandoned, within=q.within)
        for m in status.members:
            if "." in m.queue:
                membership = _Member(m.in_call, m.paused, m.reason, m.status, m.last_call, m.wrapup)
                book._q(m.queue).members.setdefault(m.name, {})[m.queue] = membership
        for e in status.entries:
            if "." in e.queue:
                book._q(e.queue).waiting.setdefault(e.channel, now - e.wait)
        return book

    def node_figures(self, now: float) -> dict[str, NodeQueue]:
        """This book's figures per plan queue (one node's), for domain.queue_totals.merge."""
        return {name: NodeQueue(
            waiting=len(q.waiting), longest_wait_s=max((now - t for t in q.waiting.values()), default=0.0),
            answered=q.answered, abandoned=q.abandoned, within=q.within,
            agents={agent: combined_state(member_state(m, now) for m in mine.values())
                    for agent, mine in q.members.items()})
            for name, q in self.queues.items()}

    def counts_only(self) -> QueueBook:
        """The book of a node that died: the calls it answered and lost stay counted, its waiting
        callers and members are gone with it."""
        return self.reseeded(QueueStatus((), ()), 0.0)

    def snapshot(self, now: float) -> dict[str, dict[str, int | float]]:
        """This book's figures alone (one Asterisk)."""
        return merge({"": self.node_figures(now)}, {""})


class ClusterQueues:
    """A QueueBook per node (queues are per node); ``snapshot`` merges them (domain.queue_totals).
    A node reports from its first queue re-sync after a login until its AMI link drops."""

    def __init__(self, nodes: list[str]) -> None:
        self._levels: dict[str, int] = {}
        self.books: dict[str, QueueBook] = {node: QueueBook() for node in nodes}
        self.reporting: set[str] = set()

    @property
    def service_levels(self) -> dict[str, int]:
        return self._levels

    @service_levels.setter
    def service_levels(self, levels: dict[str, int]) -> None:
        self._levels = dict(levels)
        for book in self.books.values():
            book.service_levels = self._levels

    def handle(self, node: str, e: dict[str, Any], at: float) -> bool:
        return self.books[node].handle(e, at)

    def reseeded(self, node: str, book: QueueBook) -> None:
        """The node's book after a re-sync (QueueBook.reseeded): it reports from now on."""
        book.service_levels = self._levels
        self.books[node] = book
        self.reporting.add(node)

    def gone(self, node: str) -> bool:
        """The node's AMI link dropped: its live figures leave the total; True if it reported."""
        was = node in self.reporting
        self.reporting.discard(node)
        return was

    def died(self, node: str) -> None:
        self.gone(node)
        self.books[node] = self.books[node].counts_only()

    def busy(self) -> bool:
        """Callers waiting or agents present somewhere: the longest wait and wrap-up grow by the second."""
        return any(q.waiting or q.members for b in self.books.values() for q in b.queues.values())

    def wrapup_of(self, node: str, tenant: str, queue: str, agent: str) -> int:
        return self.books[node].wrapup_of(tenant, queue, agent)

    def snapshot(self, now: float) -> dict[str, dict[str, int | float]]:
        return merge({node: book.node_figures(now) for node, book in self.books.items()}, self.reporting)
