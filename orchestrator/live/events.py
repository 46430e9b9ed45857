"""Typed call events parsed from AMI messages. Pure: no I/O, no clock (the receipt time is passed in).

The generated dialplan emits ``UserEvent: SvcCall`` (Step: start, blocked, busy, play, region,
roster, split, dial, dialed, end) and ``UserEvent: SvcEnd`` from the h extension, all on the
caller's channel, so the caller channel's ``Uniqueid`` is the call's id. Asterisk's own
``DialEnd`` (answer time) and ``Hangup`` (a safety net if SvcEnd never came) complete the picture.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class CallEvent:
    call_id: str  # the caller channel's Uniqueid
    at: datetime  # when the controller received it
    channel: str  # the caller channel's name (for Hangup / Getvar)
    ts: float | None  # when it happened by Asterisk's clock (AMI Timestamp, timestampevents = yes)


@dataclass(frozen=True)
class CallStarted(CallEvent):
    number: str  # the service number, E.164
    tenant: str
    caller: str  # E.164, or "" when withheld / unusable
    withheld: bool


@dataclass(frozen=True)
class CallBlocked(CallEvent):
    reason: str  # anonymous | blacklist | foreign | mobile


@dataclass(frozen=True)
class CallBusy(CallEvent):
    reason: str  # limit (the number's concurrency limit)


@dataclass(frozen=True)
class Decision(CallEvent):
    """A routing decision that does not change the call's state: play, region, roster, split."""

    step: str
    detail: str
    name: str = ""  # the roster, split, queue, hunt group or flow the step is about
    status: str = ""  # queued: Asterisk's QUEUESTATUS


@dataclass(frozen=True)
class FlowStep(CallEvent):
    """``UserEvent: SvcFlow``: a Premium call flow's block took an exit (menu key, roster exit...)."""

    flow: str
    block: str
    exit: str


@dataclass(frozen=True)
class QueueAnswered(CallEvent):
    """app_queue's AgentConnect: an agent answered the caller after ``hold_s`` in the queue."""

    queue: str  # the plan queue's name (without tenant and skill)
    agent: str
    hold_s: float


@dataclass(frozen=True)
class QueueAbandoned(CallEvent):
    """app_queue's QueueCallerAbandon: the caller hung up while waiting."""

    queue: str
    hold_s: float


@dataclass(frozen=True)
class DialStarted(CallEvent):
    routing: str
    destination: str


@dataclass(frozen=True)
class DialFinished(CallEvent):
    destination: str
    status: str  # Asterisk's DIALSTATUS: BUSY, NOANSWER, CHANUNAVAIL, CONGESTION, CANCEL, ANSWER


@dataclass(frozen=True)
class CallAnswered(CallEvent):
    """Asterisk's DialEnd with DialStatus ANSWER: the moment a destination picked up."""

    dest_channel: str


@dataclass(frozen=True)
class CallEnded(CallEvent):
    """SvcEnd from the h extension: the dialplan's last word on the call."""

    dial_status: str
    node: str


@dataclass(frozen=True)
class ActiveBlock(CallEvent):
    """``UserEvent: SvcActiveBlock`` from svc-activeblock: the answering side pressed the
    active-blocking code and the dialplan has put the caller in AstDB. Emitted on the ANSWERING
    channel, so ``call_id`` is its Linkedid (the caller channel's Uniqueid)."""

    number: str
    caller: str


@dataclass(frozen=True)
class RecordingPause(CallEvent):
    """``UserEvent: SvcRecordingPause`` from svc-rec-pause: the answering side pressed the pause
    code (a toggle). Emitted on the caller's channel; ``paused`` is the state it asks for. The
    dialplan cannot mute a MixMonitor, so the controller does (AMI MixMonitorMute)."""

    recording: str  # the recording's call id: CALLID, or CALLID-N for a later on_demand_with_start segment
    paused: bool


@dataclass(frozen=True)
class AgentCode(CallEvent):
    """``UserEvent: SvcAgent`` with ``Source: dtmf`` from svc-agent-state: an agent's phone dialled
    a state code (*55 / *56 / *57) on the node it calls; that node's app_queue and AstDB have the
    state already. ``call_id`` is the phone's channel (not a service call)."""

    tenant: str
    agent: str
    state: str  # available | logged-out | unavailable


@dataclass(frozen=True)
class ChannelGone(CallEvent):
    """Asterisk's Hangup of a call-originating channel: the call is certainly over."""

    cause: str


def _get(msg: Mapping[str, Any], key: str) -> str:
    value = msg.get(key)
    return "" if value is None else str(value)


def parse(msg: Mapping[str, Any], at: datetime) -> CallEvent | None:
    """The call event in an AMI message, or None when the message is not about a service call."""
    event = _get(msg, "Event")
    uid, channel = _get(msg, "Uniqueid"), _get(msg, "Channel")
    if not uid:
        return None
    base = (uid, at, channel, _timestamp(msg))
    if event == "DialEnd":
        if _get(msg, "DialStatus") != "ANSWER":
            return None  # the SvcCall "dialed" step carries the other results, with the destination
        return CallAnswered(*base, dest_channel=_get(msg, "DestChannel"))
    if event == "Hangup":
        if _get(msg, "Linkedid") not in ("", uid):
            return None  # a destination leg, not the call itself
        return ChannelGone(*base, cause=_get(msg, "Cause"))
    if event in ("AgentConnect", "QueueCallerAbandon"):
        return _queue_event(msg, base)
    if event != "UserEvent":
        return None
    kind = _get(msg, "UserEvent")
    if kind == "SvcActiveBlock":
        return ActiveBlock(_get(msg, "Linkedid") or uid, at, channel, base[3], number=_get(msg, "Number"),
                           caller=_get(msg, "Caller"))
    if kind == "SvcRecordingPause":
        return RecordingPause(_get(msg, "Linkedid") or uid, at, channel, base[3], recording=_get(msg, "Call"),
                              paused=_get(msg, "Paused") == "1")
    if kind == "SvcAgent" and _get(msg, "Source") == "dtmf":  # "restart": a node putting its own back
        return AgentCode(*base, tenant=_get(msg, "Tenant"), agent=_get(msg, "Agent"), state=_get(msg, "State"))
    if kind == "SvcEnd":
        return CallEnded(*base, dial_status=_get(msg, "DialStatus"), node=_get(msg, "Node"))
    if kind == "SvcFlow":
        return FlowStep(*base, flow=_get(msg, "Flow"), block=_get(msg, "Block"), exit=_get(msg, "Exit"))
    if kind != "SvcCall" or _get(msg, "Number") in ("", "unknown"):
        return None
    step = _get(msg, "Step")
    if step == "start":
        return CallStarted(*base, number=_get(msg, "Number"), tenant=_get(msg, "Tenant"),
                           caller=_get(msg, "Caller"), withheld=_get(msg, "Withheld") == "1")
    if step == "blocked":
        return CallBlocked(*base, reason=_get(msg, "Reason"))
    if step == "busy":
        return CallBusy(*base, reason=_get(msg, "Reason") or "limit")
    if step == "dial":
        return DialStarted(*base, routing=_get(msg, "Routing"), destination=_get(msg, "Destination"))
    if step == "dialed":
        return DialFinished(*base, destination=_get(msg, "Destination"), status=_get(msg, "Status"))
    detail = {"play": "Purpose", "end": "Reason"}.get(step, "Exit")
    name = next((_get(msg, k) for k in ("Roster", "Split", "Queue", "Hunt", "Flow", "Name") if _get(msg, k)), "")
    return Decision(*base, step=step, detail=_get(msg, detail), name=name, status=_get(msg, "Status"))


def _timestamp(msg: Mapping[str, Any]) -> float | None:
    try:
        return float(_get(msg, "Timestamp")) or None
    except ValueError:
        return None


def _queue_event(msg: Mapping[str, Any], base: tuple[str, datetime, str, float | None]) -> CallEvent | None:
    parts = _get(msg, "Queue").split(".")  # tenant.queue[.skill]
    if len(parts) < 2:
        return None
    try:
        hold = float(_get(msg, "HoldTime") or 0)
    except ValueError:
        hold = 0.0
    if _get(msg, "Event") == "AgentConnect":
        return QueueAnswered(*base, queue=parts[1], agent=_get(msg, "MemberName") or _get(msg, "Interface"),
                             hold_s=hold)
    return QueueAbandoned(*base, queue=parts[1], hold_s=hold)


def describe(event: CallEvent) -> str:
    """One readable line per decision, for the log."""
    if isinstance(event, CallStarted):
        return f"started: {event.number} (tenant {event.tenant}) from {event.caller or 'withheld'}"
    if isinstance(event, CallBlocked):
        return f"blocked: {event.reason}"
    if isinstance(event, CallBusy):
        return f"busy: {event.reason}"
    if isinstance(event, DialStarted):
        return f"dialling {event.destination} (routing {event.routing})"
    if isinstance(event, DialFinished):
        return f"{event.destination}: {event.status}"
    if isinstance(event, CallAnswered):
        return f"answered ({event.dest_channel})"
    if isinstance(event, CallEnded):
        return f"hung up (dial status {event.dial_status or '-'}, at {event.node or '-'})"
    if isinstance(event, ChannelGone):
        return f"channel gone (cause {event.cause})"
    if isinstance(event, Decision):
        return f"{event.step}: {' '.join(x for x in (event.name, event.detail, event.status) if x)}"
    if isinstance(event, FlowStep):
        return f"flow {event.flow} block {event.block}: {event.exit}"
    if isinstance(event, QueueAnswered):
        return f"queue {event.queue}: answered by {event.agent} after {event.hold_s:.0f} s"
    if isinstance(event, QueueAbandoned):
        return f"queue {event.queue}: abandoned after {event.hold_s:.0f} s"
    if isinstance(event, RecordingPause):
        return f"answering side {'paused' if event.paused else 'resumed'} recording {event.recording}"
    if isinstance(event, AgentCode):
        return f"agent {event.tenant}.{event.agent} dialled {event.state}"
    if isinstance(event, ActiveBlock):
        return f"answering side blocked {event.caller or 'withheld'} on {event.number}"
    return type(event).__name__
