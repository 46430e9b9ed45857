"""Agents' pauses for the reports, from app_queue's QueueMemberPause events. Pure.

An agent is paused from its first pause event (in any of its queues: a pause pauses them all)
until its first unpause event; the finished pause is what the controller stores. A pause that is
still open when the controller stops is not stored (docs/reports.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Pause:
    tenant: str
    agent: str
    started_at: datetime
    ended_at: datetime
    reason: str


@dataclass
class PauseBook:
    open: dict[tuple[str, str], tuple[datetime, str]] = field(default_factory=dict)  # (tenant, agent)

    def handle(self, e: dict[str, Any], at: datetime) -> Pause | None:
        """A QueueMemberPause event seen at ``at``; the pause it ends, if it ends one."""
        if e.get("Event") != "QueueMemberPause" or "." not in str(e.get("Queue", "")):
            return None
        key = (str(e["Queue"]).split(".")[0], str(e.get("MemberName") or e.get("Interface") or ""))
        if e.get("Paused") == "1":
            self.open.setdefault(key, (at, str(e.get("PausedReason") or e.get("Reason") or "")))
            return None
        started = self.open.pop(key, None)
        if started is None:
            return None
        return Pause(key[0], key[1], started[0], at, started[1])
