"""Routing IR: one small graph of steps per service number. Pure data.

Both back ends read it: the renderer turns every node into one labelled extension of the number's
dialplan context, and the simulator walks the same nodes. Node ids are short and
alphanumeric because they become Asterisk extension names.

Later packages add node types (region, roster, split, menu, queue) next to these.
"""

from __future__ import annotations

import functools
import math
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from orchestrator.domain.naming import SPLIT_TICKET_KEY, number_context, split_group
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


def fair_sequence(weights: tuple[int, ...]) -> tuple[int, ...]:
    """One period of the split's share sequence: share indexes (0-based), length sum / gcd of the
    weights, each share exactly its part of it. Built earliest deadline first: share i's k-th pick
    (of c_i per period P) must fall in positions floor((k-1)P/c_i)+1 .. ceil(kP/c_i), which is
    exactly "after every number of picks from the start, each share within one pick of its exact
    part" (strictly less than one). Tijdeman's chairman assignment theorem (1980) says such a
    sequence exists for any weights, and EDF finds one for unit jobs with integer windows. (Smooth
    weighted round robin, the per-call algorithm before, drifts to 1.0 with five shares and past
    it with more.)"""
    g = math.gcd(*weights)
    counts = [w // g for w in weights]
    period = sum(counts)
    taken = [0] * len(counts)
    out = []
    for position in range(1, period + 1):
        due = [(-(-(k + 1) * period // c), i) for i, (c, k) in enumerate(zip(counts, taken, strict=True))
               if k < c and k * period // c + 1 <= position]  # (deadline, share) of the released picks
        deadline, best = min(due)
        assert deadline >= position, weights  # cannot happen (above); a guard for the proof
        taken[best] += 1
        out.append(best)
    return tuple(out)


@dataclass(frozen=True)
class Split:
    """Percentage split. Each call takes the next ticket t of one AstDB counter (no lock: a GROUP()
    per ticket shows a collision, docs/asterisk.md) and gets share ``share_at(t)`` of a sequence
    precomputed here (``fair_sequence``) and written into the dialplan."""

    id: str
    name: str
    shares: tuple[tuple[int, str], ...]  # (percent, target)
    state_family: str  # AstDB family; its name changes when the shares do, so the counter restarts

    @functools.cached_property
    def sequence(self) -> tuple[int, ...]:
        return fair_sequence(tuple(w for w, _t in self.shares))

    def share_at(self, ticket: int) -> int:
        """Index (0-based) of the share that ticket ``ticket`` gets."""
        return self.sequence[ticket % len(self.sequence)]

    def take(self, tickets: MutableMapping[str, int]) -> tuple[int, int]:
        """Simulate one call: (share index, ticket) from ``tickets`` (family -> next ticket),
        which moves on by one, as the dialplan's counter does."""
        ticket = tickets.get(self.state_family, 0)
        tickets[self.state_family] = ticket + 1
        return self.share_at(ticket), ticket

    def ticket_for(self, index: int, start: int = 0) -> int:
        """The first ticket from ``start`` on that gets share ``index``."""
        return next(t for t in range(start, start + len(self.sequence)) if self.share_at(t) == index)

    # What the dialplan needs (_split.j2 and svc-lib,split-claim).
    @property
    def group(self) -> str:
        return split_group(self.state_family)

    @property
    def ticket_key(self) -> str:
        return f"{self.state_family}/{SPLIT_TICKET_KEY}"

    @property
    def sequence_text(self) -> str:
        """The sequence as CUT() reads it: share numbers (1-based) joined by '-'."""
        return "-".join(str(i + 1) for i in self.sequence)


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
