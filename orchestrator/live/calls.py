"""The book of calls in progress, built from call events; finished calls become call records.
Pure: no I/O, times are passed in."""

from __future__ import annotations

from collections import Counter, OrderedDict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from orchestrator.domain.plan import AMSTERDAM
from orchestrator.live import events as ev


class Outcome(StrEnum):
    ANSWERED = "answered"
    BUSY = "busy"  # reason "limit" (the number's concurrency limit) or "destination"
    NO_ANSWER = "no_answer"
    UNREACHABLE = "unreachable"  # the destination could not be reached (503, congestion)
    BLOCKED = "blocked"  # reason: anonymous | blacklist | foreign | mobile
    ABANDONED = "abandoned"  # the caller hung up before anyone answered
    MAX_DURATION = "max_duration"  # 090x: ended at the maximum duration


# Asterisk's DIALSTATUS of the last destination tried, for calls nobody answered.
_UNANSWERED = {"BUSY": Outcome.BUSY, "NOANSWER": Outcome.NO_ANSWER, "CHANUNAVAIL": Outcome.UNREACHABLE,
               "CONGESTION": Outcome.UNREACHABLE, "CANCEL": Outcome.ABANDONED}


@dataclass
class LiveCall:
    call_id: str
    channel: str
    number: str
    tenant: str
    caller: str
    started_at: datetime
    routing: str | None = None
    destination: str | None = None  # the destination dialled last (the one that answered, if any)
    answered_at: datetime | None = None
    blocked_reason: str | None = None
    busy_reason: str | None = None
    last_dial_status: str = ""
    max_duration: int | None = None  # 090x: seconds, from the channel's SVC_MAX_DURATION
    cut_by_watchdog: bool = False
    adopted: bool = False  # found in Asterisk on a re-sync, not seen starting
    queue: str | None = None
    queue_result: str | None = None
    queue_wait_s: float | None = None
    queue_joined_at: datetime | None = None
    agent: str | None = None
    flow: str | None = None
    path: list[tuple[str, str]] = field(default_factory=list)  # (block, exit), in order
    started_ts: float | None = None  # the start by Asterisk's clock

    def moment(self, event: ev.CallEvent) -> datetime:
        """When ``event`` happened: the call's start as received plus Asterisk's own time since
        (the events' Timestamps). A controller lagging behind its events (a slow database, a
        backlog) must not stretch or shrink waits and talk times, the figures money is made of;
        and Asterisk's clock is only trusted for differences, never as the wall clock. Without
        both stamps: when the event was received."""
        if self.started_ts is None or event.ts is None or event.ts < self.started_ts:
            return event.at
        return self.started_at + timedelta(seconds=event.ts - self.started_ts)


@dataclass(frozen=True)
class FinishedCall:
    call_id: str
    number: str
    tenant: str
    caller: str
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime
    routing: str | None
    destination: str | None
    outcome: Outcome
    reason: str | None
    wait_s: float  # until answered, or until the end when nobody answered
    talk_s: float
    dial_status: str
    end_observed: bool  # False: the call was gone when the controller looked again (re-sync)
    note: str = ""
    queue: str | None = None
    queue_result: str | None = None  # answered | abandoned | full | timeout | joinempty | ...
    queue_wait_s: float | None = None
    agent: str | None = None
    flow: str | None = None
    path: tuple[tuple[str, str], ...] = ()
    agent_wrapup_s: float = 0.0  # the answering agent's wrap-up setting (filled by the controller)


def classify(call: LiveCall, dial_status: str, ended_at: datetime) -> tuple[Outcome, str | None]:
    if call.blocked_reason:
        return Outcome.BLOCKED, call.blocked_reason
    if call.busy_reason:
        return Outcome.BUSY, call.busy_reason
    if call.answered_at is not None:
        talk = (ended_at - call.answered_at).total_seconds()
        # Dial L() ends the call exactly at the limit; 1 s tolerance for event delivery.
        if call.cut_by_watchdog or (call.max_duration and talk >= call.max_duration - 1):
            return Outcome.MAX_DURATION, "watchdog" if call.cut_by_watchdog else "limit"
        return Outcome.ANSWERED, None
    status = dial_status or call.last_dial_status
    outcome = _UNANSWERED.get(status, Outcome.ABANDONED)
    return outcome, "destination" if outcome is Outcome.BUSY else None


_QUEUE_STEPS = {"queue-full": "full", "queue-timeout": "timeout", "night": "night"}


def follow_path(call: LiveCall, event: ev.CallEvent) -> None:
    """What reports need of a routing step: the path (block, exit), the flow, the queue's result."""
    if isinstance(event, ev.FlowStep):
        call.flow = event.flow or call.flow
        call.path.append((event.block, event.exit))
    elif isinstance(event, ev.QueueAnswered):
        call.queue, call.queue_result = call.queue or event.queue, "answered"
        call.queue_wait_s, call.agent = event.hold_s, event.agent
    elif isinstance(event, ev.QueueAbandoned):
        call.queue, call.queue_result, call.queue_wait_s = call.queue or event.queue, "abandoned", event.hold_s
    elif isinstance(event, ev.Decision):
        _decision(call, event)


def _decision(call: LiveCall, d: ev.Decision) -> None:
    if d.step == "queue":  # joins (again, after a move): a new wait
        call.queue, call.queue_result, call.queue_wait_s, call.queue_joined_at = d.name, None, None, call.moment(d)
    elif d.step == "queued" and d.status and call.queue_result is None:
        call.queue_result = d.status.lower()
        call.queue_wait_s = _queue_wait(call, call.moment(d))
    elif d.step in _QUEUE_STEPS and d.name == call.queue and call.queue_result is None:
        call.queue_result = _QUEUE_STEPS[d.step]
    elif d.step == "flow":
        call.flow = d.name
    elif d.step in ("region", "roster", "split"):
        call.path.append((f"{d.step} {d.name}".strip(), d.detail))


def _queue_wait(call: LiveCall, at: datetime) -> float | None:
    if call.queue_wait_s is not None or call.queue_joined_at is None:
        return call.queue_wait_s
    return round((at - call.queue_joined_at).total_seconds(), 3)


@dataclass
class CallBook:
    """Calls in progress by id. ``apply`` returns the finished call when an event ends one."""

    calls: dict[str, LiveCall] = field(default_factory=dict)
    # Ids of calls that ended recently: a late Hangup or a re-sync that still sees the channel in
    # its h extension must not bring them back as ghosts.
    _ended: OrderedDict[str, None] = field(default_factory=OrderedDict)
    ended_memory: int = 10_000

    def apply(self, event: ev.CallEvent) -> FinishedCall | None:
        if isinstance(event, ev.CallStarted):
            if event.call_id in self._ended:
                return None
            known = self.calls.get(event.call_id)
            if known is not None:  # adopted by a re-sync before its start event was read
                known.tenant, known.caller = event.tenant or known.tenant, event.caller or known.caller
                return None
            self.calls[event.call_id] = LiveCall(event.call_id, event.channel, event.number, event.tenant,
                                                 event.caller, event.at, started_ts=event.ts)
            return None
        call = self.calls.get(event.call_id)
        if call is None:
            return None
        if isinstance(event, ev.CallBlocked):
            call.blocked_reason = event.reason
        elif isinstance(event, ev.CallBusy):
            call.busy_reason = event.reason
        elif isinstance(event, ev.DialStarted):
            call.routing, call.destination = event.routing, event.destination
        elif isinstance(event, ev.DialFinished):
            call.last_dial_status = event.status
            call.path.append((f"dial {event.destination}", event.status.lower() or "-"))
        elif isinstance(event, ev.CallAnswered):
            call.answered_at = call.answered_at or call.moment(event)
        elif isinstance(event, ev.Decision | ev.FlowStep | ev.QueueAnswered | ev.QueueAbandoned):
            follow_path(call, event)
        elif isinstance(event, ev.CallEnded):
            return self._finish(call, event.dial_status, call.moment(event), observed=True)
        elif isinstance(event, ev.ChannelGone):
            note = f"no SvcEnd; hangup cause {event.cause}"
            return self._finish(call, "", call.moment(event), observed=True, note=note)
        return None

    def _finish(self, call: LiveCall, dial_status: str, at: datetime, *, observed: bool,
                note: str = "") -> FinishedCall:
        del self.calls[call.call_id]
        self.forget_later(call.call_id)
        outcome, reason = classify(call, dial_status, at)
        answered = call.answered_at
        if call.adopted:
            note = "; ".join(n for n in (note, "adopted on re-sync: start/answer times approximate") if n)
        return FinishedCall(
            call_id=call.call_id, number=call.number, tenant=call.tenant, caller=call.caller,
            started_at=call.started_at, answered_at=answered, ended_at=at,
            routing=call.routing, destination=call.destination if answered or call.last_dial_status else None,
            outcome=outcome, reason=reason,
            wait_s=round(((answered or at) - call.started_at).total_seconds(), 3),
            talk_s=round((at - answered).total_seconds(), 3) if answered else 0.0,
            dial_status=dial_status or call.last_dial_status, end_observed=observed, note=note,
            queue=call.queue, queue_result=call.queue_result or ("abandoned" if call.queue else None),
            queue_wait_s=_queue_wait(call, at), agent=call.agent, flow=call.flow, path=tuple(call.path))

    def forget_later(self, call_id: str) -> None:
        self._ended[call_id] = None
        while len(self._ended) > self.ended_memory:
            self._ended.popitem(last=False)

    def recently_ended(self, call_id: str) -> bool:
        return call_id in self._ended

    def adopt(self, call: LiveCall) -> bool:
        """A call found in Asterisk on a re-sync; False when it is known or just ended."""
        if call.call_id in self.calls or call.call_id in self._ended:
            return False
        self.calls[call.call_id] = replace(call, adopted=True)
        return True

    def vanish(self, gone: list[str], at: datetime,
               note: str = "ended while the controller was not watching") -> list[FinishedCall]:
        """Finish tracked calls Asterisk no longer has (they ended while nobody was watching, or
        the cluster node they were on died)."""
        calls = [self.calls[cid] for cid in gone if cid in self.calls]
        return [self._finish(c, "", at, observed=False, note=note) for c in calls]

    def overdue(self, now: datetime, grace_s: float) -> list[LiveCall]:
        """Answered 090x calls that outlived their maximum duration by more than the grace."""
        return [c for c in self.calls.values()
                if c.answered_at is not None and c.max_duration and not c.cut_by_watchdog
                and now > c.answered_at + timedelta(seconds=c.max_duration + grace_s)]

    def in_progress(self) -> tuple[Counter[str], Counter[str]]:
        """Calls in progress per service number and per tenant."""
        by_number: Counter[str] = Counter()
        by_tenant: Counter[str] = Counter()
        for c in self.calls.values():
            by_number[c.number] += 1
            by_tenant[c.tenant or "?"] += 1
        return by_number, by_tenant


@dataclass
class DayCounters:
    """Finished calls of one day by outcome: in total, per service number and per tenant."""

    day: date
    total: Counter[str] = field(default_factory=Counter)
    by_number: Counter[tuple[str, str]] = field(default_factory=Counter)  # (outcome, number)
    by_tenant: Counter[tuple[str, str]] = field(default_factory=Counter)  # (outcome, tenant)

    def add(self, call: FinishedCall) -> None:
        self.total[call.outcome.value] += 1
        self.by_number[(call.outcome.value, call.number)] += 1
        self.by_tenant[(call.outcome.value, call.tenant or "?")] += 1


def counted(day: DayCounters, call: FinishedCall) -> DayCounters:
    """``day`` with ``call`` counted on the day it ended (Europe/Amsterdam): the same rule as the
    rebuild from the records at start (``records.day_counters``: ended from midnight on), so a
    restart never changes today's figures. A call ending after midnight starts the new day; one
    that ended before the day already counted (an event handled late) belongs to a day no
    longer published and is left out. Pure."""
    ended = call.ended_at.astimezone(AMSTERDAM).date()
    if ended > day.day:
        day = DayCounters(ended)
    if ended == day.day:
        day.add(call)
    return day
