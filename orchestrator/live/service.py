"""The live controller: follows every call over AMI, keeps the book of calls in progress exact
(re-syncing from Asterisk after every (re)login and periodically), publishes live figures to Redis,
writes call records, and hangs up 090x calls that outlive their maximum duration.

Routing never depends on this process: the dialplan routes on its own. Everything here only
watches, counts and, for the watchdog, cuts.

One consumer task applies AMI events and re-syncs strictly in order (AMI is one ordered stream, so
a re-sync's channel list and the events around it never overtake each other).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from panoramisk import Manager
from panoramisk.message import Message
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from sqlmodel import Session

from orchestrator.asterisk.ami import Ami
from orchestrator.domain.numbers import parse_service_number
from orchestrator.errors import AsteriskError, NumberInvalid, OrchestratorError, StoreError
from orchestrator.live import events as ev
from orchestrator.live import queue_sync, records
from orchestrator.live.aio import cancel_and_wait
from orchestrator.live.ari import Ari
from orchestrator.live.calls import CallBook, DayCounters, FinishedCall, LiveCall
from orchestrator.live.queue_figures import QUEUE_EVENTS, QueueBook
from orchestrator.live.state import Figures, RedisFigures
from orchestrator.services.blacklist import change_blacklist
from orchestrator.settings import Settings
from orchestrator.store import repository

log = logging.getLogger("orchestrator.live")
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
# Contexts a caller channel passes through that are not (yet) one number's own flow.
_NOT_A_CALL_CONTEXT = {"svc-entry", "svc-whisper", "svc-holidays", "from-carrier", "svc-activeblock", "svc-rec",
                       "svc-rec-answered", "svc-rec-keep", "svc-rec-startstop", "svc-rec-pause"}
_E164 = re.compile(r"\+[1-9][0-9]{5,14}")


class LiveAmi(Ami):
    """Our AMI wrapper, told when panoramisk logs in again or loses the connection.

    panoramisk reconnects by itself every ``reconnect_timeout`` seconds after a lost connection
    (also when the very first attempt fails), so the service starts it once and follows along.
    """

    def __init__(self, settings: Settings, on_login: Any, on_disconnect: Any) -> None:
        super().__init__(settings.bind_host, settings.ami_port, settings.ami_user, settings.ami_secret,
                         # Only the classes the controller reads: "dialplan" (Newexten, VarSet on
                         # every priority) was most of the AMI traffic per call (benchmarks, #9).
                         # "agent": app_queue's events (callers joining, agents connecting, member
                         # state) for the call-centre figures.
                         timeout=5.0, events="call,user,system,agent")
        self.logged_in = False
        self.logins = 0
        self._login_cb, self._disconnect_cb = on_login, on_disconnect
        self._manager.on_disconnect = self._on_disconnect

    def _on_login(self, manager: Manager) -> None:
        super()._on_login(manager)
        self.logged_in = True
        self.logins += 1
        self._login_cb()

    def _on_disconnect(self, _manager: Manager, exc: Any) -> None:
        self.logged_in = False
        self._disconnect_cb(exc)

    def start(self) -> None:
        self._manager.loop = asyncio.get_running_loop()
        self._manager.connect()

    def close(self) -> None:
        # panoramisk keeps no handle of a pending reconnect (call_later), so a close while
        # disconnected would be undone by it: disarm connect() on this manager first.
        self._manager.connect = lambda *_a, **_k: None
        super().close()

    async def getvar(self, channel: str, variable: str) -> str:
        resp = await self.action({"Action": "Getvar", "Channel": channel, "Variable": variable}, as_list=False)
        return str(resp.get("Value") or "") if resp.success else ""


@dataclass(frozen=True)
class _Resync:
    why: str


class Metrics:
    """Prometheus metrics of one service instance (its own registry: no global state)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.in_progress = Gauge("svc_calls_in_progress", "Calls in progress per service number",
                                 ["number"], registry=r)
        self.in_progress_total = Gauge("svc_calls_in_progress_total", "Calls in progress", registry=r)
        self.finished = Counter("svc_calls_finished", "Finished calls by outcome", ["outcome"], registry=r)
        self.up = Gauge("svc_component_up", "1 when the component is reachable", ["component"], registry=r)
        self.incidents = Counter("svc_max_duration_incidents", "090x calls cut by the watchdog", registry=r)
        self.resyncs = Counter("svc_resyncs", "Re-syncs of live calls from Asterisk", ["why"], registry=r)
        self.event_lag = Histogram("svc_event_to_redis_seconds", "From an AMI event to the figures in Redis",
                                   buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
                                   registry=r)


class LiveService:
    def __init__(self, settings: Settings, *, engine: Any | None = None, watchdog_grace_s: float = 2.0,
                 resync_interval_s: float = 60.0, watchdog_interval_s: float = 0.5) -> None:
        self.settings = settings
        self.engine = engine if engine is not None else repository.make_engine(settings.db_url)
        self.grace_s = watchdog_grace_s
        self.resync_interval_s = resync_interval_s
        self.watchdog_interval_s = watchdog_interval_s
        self.book = CallBook()
        self.day = DayCounters(self._today())
        self.metrics = Metrics()
        self.ami = LiveAmi(settings, self._on_login, self._on_disconnect)
        self.ari = Ari(settings.bind_host, settings.http_port, settings.ari_user, settings.ari_secret)
        self.redis = RedisFigures(settings.redis_url, observe=self.metrics.event_lag.observe)
        self.writer = records.RecordWriter(self.engine)
        self.resynced_at: float | None = None  # monotonic time of the last completed re-sync
        self._queue: asyncio.Queue[tuple[Message, datetime] | _Resync] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._owners: dict[str, str] = {}  # number -> tenant, for calls adopted on re-sync
        self._gauge_numbers: set[str] = set()
        self._side_tasks: set[asyncio.Task[None]] = set()  # blacklist records of active blocking
        self.queues = QueueBook()  # call-centre figures (app_queue events)

    # --- lifetime ----------------------------------------------------------------------------

    async def start(self) -> None:
        self.day = await asyncio.to_thread(records.day_counters, self.engine, self._day_start(), self._today())
        self.ami.on_event("UserEvent", self._on_ami_event)
        self.ami.on_event("DialEnd", self._on_ami_event)
        self.ami.on_event("Hangup", self._on_ami_event)
        for name in QUEUE_EVENTS:
            self.ami.on_event(name, self._on_ami_event)
        self.queues.service_levels = await asyncio.to_thread(queue_sync.service_levels, self.engine)
        self.ami.start()
        for name, coro in (("consume", self._consume()), ("records", self.writer.run()),
                           ("redis", self.redis.run()), ("watchdog", self._watchdog()),
                           ("periodic-resync", self._periodic_resync()), ("ari", self.ari.run()),
                           ("queue-tick", self._queue_tick())):
            self._tasks.append(asyncio.create_task(coro, name=f"live-{name}"))
        self._publish()
        log.info("live controller started (AMI %s:%s, Redis %s)", self.settings.bind_host,
                 self.settings.ami_port, self.settings.redis_url)

    async def stop(self) -> None:
        tasks = [*self._side_tasks, *self._tasks]
        results = await cancel_and_wait(tasks)
        for task, result in zip(tasks, results, strict=True):
            if result is not None:
                log.error("task %s had failed: %r", task.get_name(), result)
        self._tasks.clear()
        self.ami.close()
        await self.ari.close()
        await self.redis.close()
        log.info("live controller stopped (%d call(s) in progress left to Asterisk)", len(self.book.calls))

    def failed_task(self) -> BaseException | None:
        """The error of a task that died (a bug): the service must not limp on without it."""
        for task in self._tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                return task.exception()
        return None

    # --- AMI ---------------------------------------------------------------------------------

    def _on_login(self) -> None:
        log.info("AMI logged in (login #%d); re-syncing calls from Asterisk", self.ami.logins)
        self._queue.put_nowait(_Resync("login"))

    def _on_disconnect(self, exc: Any) -> None:
        log.warning("AMI connection lost (%s); panoramisk reconnects", exc)

    def _on_ami_event(self, _manager: Manager, message: Message) -> None:
        # Synchronous and cheap: ordering is kept by the queue, work happens in the consumer.
        self._queue.put_nowait((message, datetime.now(UTC)))

    async def _consume(self) -> None:
        while True:
            item = await self._queue.get()
            if isinstance(item, _Resync):
                await self._resync(item.why)
            else:
                await self._handle(*item)

    async def _handle(self, message: Message, at: datetime) -> None:
        if message.get("Event") in QUEUE_EVENTS:
            if self.queues.handle(dict(message), at.timestamp()):
                self._publish(since=at.timestamp())
            return
        event = ev.parse(message, at)
        if event is None:
            return
        if isinstance(event, ev.ActiveBlock | ev.RecordingPause):
            # Off the ordered consumer: a slow database or AMI action must not hold up the figures.
            side = (self._record_active_block(event) if isinstance(event, ev.ActiveBlock)
                    else self._pause_recording(event))
            task = asyncio.create_task(side, name=f"live-{type(event).__name__}")
            self._side_tasks.add(task)
            task.add_done_callback(self._side_tasks.discard)
            return
        known = event.call_id in self.book.calls
        finished = self.book.apply(event)
        if not known and not isinstance(event, ev.CallStarted):
            return  # an event of a call not followed (an unknown number, or a late Hangup)
        call = self.book.calls.get(event.call_id)
        log.info("call %s %s", event.call_id, ev.describe(event))
        if isinstance(event, ev.CallAnswered) and call is not None:
            await self._learn_max_duration(call)
        if finished is not None:
            self._finish(finished)
        if isinstance(event, (ev.CallStarted, ev.CallEnded, ev.ChannelGone)):
            self._publish(since=at.timestamp())

    async def _learn_max_duration(self, call: LiveCall) -> None:
        try:
            premium = parse_service_number(call.number).kind.is_premium_rate
        except NumberInvalid:
            premium = False
        if not premium:
            return
        try:
            value = await self.ami.getvar(call.channel, "SVC_MAX_DURATION")
        except AsteriskError as exc:
            log.error("call %s: cannot read SVC_MAX_DURATION, watchdog off for this call: %s", call.call_id, exc)
            return
        if value.isdigit():
            call.max_duration = int(value)
            log.info("call %s answered; maximum duration %s s (watchdog after %.0f s)", call.call_id, value,
                     call.max_duration + self.grace_s)

    def _finish(self, call: FinishedCall) -> None:
        today = self._today()
        if self.day.day != today:
            self.day = DayCounters(today)
        self.day.add(call)
        self.metrics.finished.labels(call.outcome.value).inc()
        self.writer.put(call)
        log.info("call %s ended: %s%s, %s -> %s, wait %.1f s, talk %.1f s%s", call.call_id, call.outcome.value,
                 f" ({call.reason})" if call.reason else "", call.number, call.destination or "-", call.wait_s,
                 call.talk_s, f" [{call.note}]" if call.note else "")

    async def _pause_recording(self, event: ev.RecordingPause) -> None:
        """The agent's pause code: mute (or unmute) the recording and note the moment."""
        from orchestrator.asterisk.runtime import AsteriskRuntime
        from orchestrator.asterisk.spool import spool_dir
        from orchestrator.services.recordings.control import set_paused

        try:
            await set_paused(self.ami, spool_dir(AsteriskRuntime(self.settings).instance_dir), event.recording,
                             event.paused)
        except OrchestratorError as exc:  # logged, never fatal: the call itself goes on
            log.error("call %s: the answering side asked to %s the recording, which failed: %s", event.call_id,
                      "pause" if event.paused else "resume", exc)
            return
        log.info("call %s: recording %s %s by the answering side (DTMF)", event.call_id, event.recording,
                 "paused" if event.paused else "resumed")

    async def _record_active_block(self, event: ev.ActiveBlock) -> None:
        """The dialplan already wrote AstDB (the next call is blocked without us); this adds the
        database record (source "dtmf") through the same path as the CLI and the API."""
        try:
            number = parse_service_number(event.number).e164
        except NumberInvalid:
            number = ""
        if number != event.number or not _E164.fullmatch(event.caller):
            log.error("call %s: active block with unusable number %r / caller %r ignored", event.call_id,
                      event.number, event.caller)
            return
        try:
            with Session(self.engine) as session:
                added = await change_blacklist(session, self.ami, number, event.caller, add=True, source="dtmf")
        except Exception as exc:  # logged, never fatal: the AstDB entry (what blocks) is there already
            log.error("call %s: caller %s blocked on %s by the answering side, but the database record "
                      "failed: %r", event.call_id, event.caller, number, exc)
            return
        log.info("call %s: caller %s %s on %s by the answering side (DTMF)", event.call_id, event.caller,
                 "blacklisted" if added else "was already blacklisted", number)

    # --- re-sync -----------------------------------------------------------------------------

    async def _queue_tick(self) -> None:
        # Longest wait and wrap-up grow without any event: republish each second while it matters.
        while True:
            await asyncio.sleep(1.0)
            if any(q.waiting or q.members for q in self.queues.queues.values()):
                self._publish()

    async def _periodic_resync(self) -> None:
        # A safety net: a missed Hangup (or a bug) cannot leave a ghost call for long.
        while True:
            await asyncio.sleep(self.resync_interval_s)
            if self.ami.logged_in:
                self._queue.put_nowait(_Resync("periodic"))

    async def _resync(self, why: str) -> None:
        before = set(self.book.calls)  # only these can have vanished: later ones start after the list
        try:
            listing = await self.ami.action({"Action": "CoreShowChannels"}, as_list=True)
        except AsteriskError as exc:
            log.error("re-sync (%s) failed, will retry on the next login or period: %s", why, exc)
            return
        channels = [m for m in listing if m.get("Event") == "CoreShowChannel"]
        # Everything Asterisk sent before the list is already queued: apply it first, so calls
        # that ended meanwhile end with their real SvcEnd, not as "vanished".
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if isinstance(item, _Resync):
                continue  # this one covers it
            await self._handle(*item)
        alive = {str(c.get("Uniqueid")) for c in channels}
        now = datetime.now(UTC)
        vanished = [cid for cid in before if cid in self.book.calls and cid not in alive]
        for finished in self.book.vanish(vanished, now):
            log.warning("call %s vanished while not watched; recorded from what was seen", finished.call_id)
            self._finish(finished)
        adopted = 0
        for c in channels:
            if await self._adopt(c, now):
                adopted += 1
        try:
            if why == "login":  # Asterisk may have restarted: its static members came back available
                await queue_sync.restore_pauses(self.ami, await asyncio.to_thread(queue_sync.agents, self.engine))
            self.queues = await queue_sync.seed(self.ami, self.queues)
        except (AsteriskError, StoreError) as exc:
            log.error("re-sync of queue figures (%s) failed: %s", why, exc)
        self.resynced_at = time.monotonic()
        self.metrics.resyncs.labels(why).inc()
        log.info("re-sync (%s): %d channel(s) in Asterisk, %d call(s) in progress, %d vanished, %d adopted",
                 why, len(channels), len(self.book.calls), len(vanished), adopted)
        self._publish()

    async def _adopt(self, c: Message, now: datetime) -> bool:
        uid, channel, context = str(c.get("Uniqueid")), str(c.get("Channel")), str(c.get("Context", ""))
        if (str(c.get("Linkedid")) != uid or not context.startswith("svc-") or context in _NOT_A_CALL_CONTEXT
                or c.get("Exten") == "h" or uid in self.book.calls or self.book.recently_ended(uid)):
            return False
        number = await self.ami.getvar(channel, "SVC_NUMBER")
        if not number:
            return False  # not past its start step yet: its SvcCall start event is on its way
        caller = await self.ami.getvar(channel, "SVC_CALLER")
        tenant = await self._owner(number)
        started = now - _hms(str(c.get("Duration", "0:0:0")))
        bridged = bool(c.get("BridgeId"))
        # The answer time of an adopted call is unknown; "now" is the late end of it, so the
        # watchdog can only cut later, never too early (the dialplan's L() limit holds anyway).
        call = LiveCall(uid, channel, number, tenant, caller, started, answered_at=now if bridged else None)
        if bridged:
            value = await self.ami.getvar(channel, "SVC_MAX_DURATION")
            call.max_duration = int(value) if value.isdigit() else None
        if self.book.adopt(call):
            log.info("call %s adopted on re-sync: %s from %s, %s, up %s", uid, number, caller or "withheld",
                     "answered" if bridged else "not answered", c.get("Duration"))
            return True
        return False

    async def _owner(self, number: str) -> str:
        if number not in self._owners:
            def lookup() -> str | None:
                from sqlmodel import Session
                with Session(self.engine) as session:
                    return repository.number_owner(session, number)
            try:
                owner = await asyncio.to_thread(lookup)
                self._owners[number] = owner or ""
            except Exception as exc:  # the database is optional for counting; the call still counts
                log.error("cannot look up the tenant of %s: %r", number, exc)
                return ""
        return self._owners[number]

    # --- watchdog ----------------------------------------------------------------------------

    async def _watchdog(self) -> None:
        while True:
            await asyncio.sleep(self.watchdog_interval_s)
            for call in self.book.overdue(datetime.now(UTC), self.grace_s):
                call.cut_by_watchdog = True  # before the await: the next round must not cut it twice
                talk = (datetime.now(UTC) - call.answered_at).total_seconds() if call.answered_at else 0.0
                log.warning("INCIDENT call %s to %s outlived its maximum duration (%s s, talking %.1f s): "
                            "hanging up %s", call.call_id, call.number, call.max_duration, talk, call.channel)
                self.metrics.incidents.inc()
                try:
                    await self.ami.checked({"Action": "Hangup", "Channel": call.channel, "Cause": "16"})
                except AsteriskError as exc:
                    log.error("INCIDENT call %s: hang-up failed: %s", call.call_id, exc)

    # --- figures -----------------------------------------------------------------------------

    def figures(self) -> Figures:
        by_number, by_tenant = self.book.in_progress()
        return Figures(by_number, by_tenant, self.day, self.queues.snapshot(time.time()))

    def _publish(self, since: float | None = None) -> None:
        figures = self.figures()
        self.redis.publish(figures, since)
        self._gauge_numbers |= set(figures.in_progress_by_number)
        for number in self._gauge_numbers:  # numbers back to 0 must show 0, not their last value
            self.metrics.in_progress.labels(number).set(figures.in_progress_by_number.get(number, 0))
        self.metrics.in_progress_total.set(sum(figures.in_progress_by_number.values()))

    async def health(self) -> dict[str, bool]:
        async def db_up() -> bool:
            try:
                await asyncio.to_thread(records.ping, self.engine)
                return True
            except StoreError:
                return False
        result = {"ami": self.ami.logged_in, "ari": self.ari.connected, "redis": await self.redis.ping(),
                  "db": await db_up()}
        for component, up in result.items():
            self.metrics.up.labels(component).set(1 if up else 0)
        return result

    # --- time --------------------------------------------------------------------------------

    @staticmethod
    def _today() -> date:
        return datetime.now(AMSTERDAM).date()

    @staticmethod
    def _day_start() -> datetime:
        return datetime.now(AMSTERDAM).replace(hour=0, minute=0, second=0, microsecond=0)


def _hms(text: str) -> timedelta:
    try:
        h, m, s = (int(x) for x in text.split(":"))
    except ValueError:
        return timedelta(0)
    return timedelta(hours=h, minutes=m, seconds=s)
