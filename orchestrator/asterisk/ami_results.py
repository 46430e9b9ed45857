"""Typed answers of the AMI list actions (QueueStatus, CoreShowChannels), parsed once here.
Pure: the messages (mappings of AMI fields) in, frozen dataclasses out; field names as Asterisk 22
sends them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

Fields = Mapping[str, Any]


def _int(value: Any) -> int:
    try:
        return int(str(value or "0"))
    except ValueError:
        return 0


def _float(value: Any) -> float:
    try:
        return float(str(value or "0"))
    except ValueError:
        return 0.0


@dataclass(frozen=True)
class QueueMember:
    """One membership of an agent in an Asterisk queue (``tenant.queue[.skill]``)."""

    queue: str
    name: str
    interface: str
    paused: bool
    reason: str
    in_call: bool
    status: int  # device state (AST_DEVICE_*)
    last_call: float  # epoch seconds the last call ended; 0 = none
    wrapup: int  # seconds

    @staticmethod
    def of(m: Fields) -> QueueMember:
        """From a QueueStatus ``QueueMember`` event or a ``QueueMemberStatus`` event."""
        paused = str(m.get("Paused", "0")) == "1"
        return QueueMember(
            queue=str(m.get("Queue", "")), name=str(m.get("Name") or m.get("MemberName") or m.get("Interface")),
            interface=str(m.get("StateInterface") or m.get("Location") or m.get("Interface") or ""),
            paused=paused, reason=str(m.get("PausedReason", "")) if paused else "",
            in_call=str(m.get("InCall", "0")) == "1", status=_int(m.get("Status")),
            last_call=_float(m.get("LastCall")), wrapup=_int(m.get("Wrapuptime")))


@dataclass(frozen=True)
class QueueEntry:
    """A caller waiting in an Asterisk queue."""

    queue: str
    channel: str
    caller: str
    position: int
    wait: int  # seconds
    priority: int


@dataclass(frozen=True)
class QueueStatus:
    members: tuple[QueueMember, ...]
    entries: tuple[QueueEntry, ...]

    def of_tenant(self, tenant: str) -> QueueStatus:
        """Only the queues of ``tenant`` (their names start with ``tenant.``)."""
        prefix = f"{tenant}."
        return QueueStatus(tuple(m for m in self.members if m.queue.startswith(prefix)),
                           tuple(e for e in self.entries if e.queue.startswith(prefix)))


def queue_status(messages: Iterable[Fields]) -> QueueStatus:
    members, entries = [], []
    for m in messages:
        if m.get("Event") == "QueueMember":
            members.append(QueueMember.of(m))
        elif m.get("Event") == "QueueEntry":
            entries.append(QueueEntry(str(m.get("Queue", "")), str(m.get("Channel", "")),
                                      str(m.get("CallerIDNum", "")), _int(m.get("Position")),
                                      _int(m.get("Wait")), _int(m.get("Priority"))))
    return QueueStatus(tuple(members), tuple(entries))


@dataclass(frozen=True)
class Channel:
    """One channel as CoreShowChannels lists it."""

    uniqueid: str
    linkedid: str
    name: str
    context: str
    exten: str
    up_for: timedelta
    bridged: bool
    duration: str  # as Asterisk wrote it (H:MM:SS), for logs


def _hms(text: str) -> timedelta:
    try:
        h, m, s = (int(x) for x in text.split(":"))
    except ValueError:
        return timedelta(0)
    return timedelta(hours=h, minutes=m, seconds=s)


def channels(messages: Iterable[Fields]) -> list[Channel]:
    out = []
    for c in messages:
        if c.get("Event") != "CoreShowChannel":
            continue
        duration = str(c.get("Duration", "0:0:0"))
        out.append(Channel(str(c.get("Uniqueid")), str(c.get("Linkedid")), str(c.get("Channel")),
                           str(c.get("Context", "")), str(c.get("Exten", "")), _hms(duration),
                           bool(c.get("BridgeId")), duration))
    return out
