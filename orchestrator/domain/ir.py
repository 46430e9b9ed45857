"""Routing IR: one small graph of steps per service number. Pure data.

Both back ends read it: the renderer turns every node into one labelled extension of the number's
dialplan context, and the simulator walks the same nodes. Node ids are short and
alphanumeric because they become Asterisk extension names.

Later packages add node types (region, roster, split, menu, queue) next to these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from orchestrator.domain.naming import number_context
from orchestrator.domain.numbers import ServiceNumberId
from orchestrator.domain.plan import Package


class BlockReason(StrEnum):
    ANONYMOUS = "anonymous"
    BLACKLIST = "blacklist"
    FOREIGN = "foreign"
    MOBILE = "mobile"


@dataclass(frozen=True)
class BlockCheck:
    """Send the caller to ``blocked`` when ``reason`` applies, else to ``next``."""

    id: str
    reason: BlockReason
    blocked: str
    next: str


@dataclass(frozen=True)
class Reject:
    """Play the rejection message (early media, no answer) and hang up (cause 21, rejected)."""

    id: str
    sound: str


@dataclass(frozen=True)
class ConcurrencyLimit:
    """At most ``limit`` calls at once on this number; the caller over it hears busy."""

    id: str
    limit: int
    next: str
    over: str


@dataclass(frozen=True)
class Busy:
    id: str


@dataclass(frozen=True)
class Play:
    """An announcement to the caller before answer (early media: free for the caller)."""

    id: str
    sound: str
    purpose: str  # "welcome", "final": shows up in logs and simulator output
    next: str


@dataclass(frozen=True)
class Switch:
    """Schedule: from each epoch on, go to its target; before the first one, ``default``."""

    id: str
    default: str
    moments: tuple[tuple[int, str], ...]  # (epoch seconds, node id), sorted by epoch
    routing_names: dict[str, str] = field(default_factory=dict)  # node id -> routing name

    def target_at(self, epoch: int) -> str:
        target = self.default
        for at, node in self.moments:
            if epoch >= at:
                target = node
        return target


@dataclass(frozen=True)
class Dial:
    """Ring one destination; on answer the call ends there, otherwise go to ``failed``."""

    id: str
    routing: str
    destination: str  # E.164
    ring_time: int
    whisper: str | None
    failed: str
    limit: int | None = None  # maximum call duration in seconds (090x), enforced by Dial's L()
    warning: int | None = None  # seconds before the limit when the beep starts
    recording: str | None = None  # RecordingPolicy value when answered calls are recorded; None = never
    recording_announce: str | None = None  # sound played to the caller once, before the first Dial


@dataclass(frozen=True)
class CallCentreStep:
    """Hand the call to a queue or hunt group of the tenant (its own exits apply); when it gives
    up without an exit of its own, go on to ``failed``."""

    id: str
    routing: str
    kind: str  # "queue" | "hunt"
    name: str
    skill: str  # "" = no skill needed
    failed: str


@dataclass(frozen=True)
class Hangup:
    id: str
    reason: str  # "unanswered": every destination was tried


@dataclass(frozen=True)
class RegionSwitch:
    """Origin region: the first exit whose prefixes match the caller; withheld → ``other``."""

    id: str
    exits: tuple[tuple[str, tuple[str, ...], str], ...]  # (exit name, E.164 prefixes, target)
    other: str


@dataclass(frozen=True)
class TimeSlot:
    weekday: int  # 1 = Monday … 7 = Sunday (strftime %u)
    start: int  # minutes after local midnight, inclusive
    end: int  # exclusive; 1440 = end of day
    exit: str
    target: str


@dataclass(frozen=True)
class WeekRoster:
    """Weekly roster on the Europe/Amsterdam wall clock, holidays first."""

    id: str
    name: str
    slots: tuple[TimeSlot, ...]
    outside_exit: str
    outside: str
    holiday: str  # target on public holidays (when used) and closed dates
    public_holidays: bool
    closed_dates: tuple[str, ...]  # YYYYMMDD
    timezone: str = "Europe/Amsterdam"

    def decide(self, at: datetime, holidays: frozenset[str]) -> tuple[str, str]:
        """(exit name, target) for a call at ``at``."""
        local = at.astimezone(ZoneInfo(self.timezone))
        day = local.strftime("%Y%m%d")
        if (self.public_holidays and day in holidays) or day in self.closed_dates:
            return "holiday", self.holiday
        minute = local.hour * 60 + local.minute
        for slot in self.slots:
            if slot.weekday == local.isoweekday() and slot.start <= minute < slot.end:
                return slot.exit, slot.target
        return self.outside_exit, self.outside


@dataclass(frozen=True)
class Split:
    """Percentage split by smooth weighted round robin; counters live in AstDB."""

    id: str
    name: str
    shares: tuple[tuple[int, str], ...]  # (percent, target)
    state_family: str  # AstDB family; its name changes when the shares do, so counters restart

    def pick(self, counters: tuple[int, ...]) -> tuple[int, tuple[int, ...]]:
        """Index of the chosen share (0-based) and the counters after this call."""
        current = [c + w for c, (w, _t) in zip(counters, self.shares, strict=True)]
        best = 0
        for i, c in enumerate(current):
            if c > current[best]:
                best = i
        current[best] -= sum(w for w, _t in self.shares)
        return best, tuple(current)


@dataclass(frozen=True)
class FlowEntry:
    """Premium: continue in the tenant's call flow (its own context, loaded once for all the
    numbers that run it). The number's own limits travel along as channel variables."""

    id: str
    flow: str
    context: str
    start: str
    limit: int | None = None  # 090x maximum call duration (seconds), applied by the flow's dial blocks
    warning: int | None = None


Node = (BlockCheck | Reject | ConcurrencyLimit | Busy | Play | Switch | Dial | Hangup
        | RegionSwitch | WeekRoster | Split | CallCentreStep | FlowEntry)


@dataclass(frozen=True)
class NumberFlow:
    """Everything the dialplan and the simulator need for one service number."""

    number: ServiceNumberId
    tenant: str
    package: Package
    entry: str
    nodes: dict[str, Node]
    blacklist_family: str  # AstDB family holding this number's blacklist (live data)
    mobile_prefixes: tuple[str, ...]
    holidays: frozenset[str] = frozenset()  # YYYYMMDD of public holidays (rosters)

    @property
    def context(self) -> str:
        return number_context(self.number.digits)

    def ordered(self) -> list[Node]:
        """Nodes in a stable order (entry first, then as declared) for readable output."""
        return list(self.nodes.values())
