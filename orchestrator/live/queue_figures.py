"""Live call-centre figures from app_queue's AMI events (class ``agent``). Pure: events in,
figures out; the live controller feeds it and publishes ``snapshot()`` to Redis.

Figures per plan queue (``<tenant>.<queue>``; a queue's skill queues count towards it): callers
waiting now, the longest wait, agents per state, answered and abandoned calls, and the service
level (share of answered calls answered within the queue's ``service_level`` seconds). An agent's
state follows domain.agent_state, the same rule as ``orchestrator agent list``."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from orchestrator.asterisk.ami_results import QueueStatus
from orchestrator.domain.agent_state import AGENT_STATES, combined_state, member_state

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

    def snapshot(self, now: float) -> dict[str, dict[str, int | float]]:
        out: dict[str, dict[str, int | float]] = {}
        for name, q in sorted(self.queues.items()):
            states = Counter(combined_state(member_state(m, now) for m in mine.values()) for mine in q.members.values())
            longest = max((now - t for t in q.waiting.values()), default=0.0)
            out[name] = {
                "waiting": len(q.waiting), "longest_wait_s": round(longest, 1),
                "answered": q.answered, "abandoned": q.abandoned,
                "service_level_pct": round(100.0 * q.within / q.answered, 1) if q.answered else 100.0,
                **{f"agents_{s.replace('-', '_')}": states.get(s, 0) for s in AGENT_STATES},
            }
        return out
