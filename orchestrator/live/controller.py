"""The live controller: follows every call over AMI, keeps the book of calls in progress exact
(re-syncing from Asterisk after every (re)login and periodically), publishes live figures to Redis,
writes call records, and hangs up 090x calls that outlive their maximum duration.

Routing never depends on this process: the dialplan routes on its own. Everything here only
watches, counts and, for the watchdog, cuts.

This module is the wiring (docs/live.md): AMI events -> the pure books (``calls``,
``queue_figures``) and the use cases (``services``) -> the notifier (Redis, metrics, records).
One consumer task applies AMI events and re-syncs strictly in order (AMI is one ordered stream, so
a re-sync's channel list and the events around it never overtake each other). Database work runs
in worker threads, never on the event loop.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from orchestrator.asterisk.ami import Ami, AmiEvent, AmiManager
from orchestrator.domain.cluster import node_of_call
from orchestrator.domain.numbers import parse_service_number
from orchestrator.errors import AsteriskError, NumberInvalid, StoreError
from orchestrator.live import answering_side, resync
from orchestrator.live import events as ev
from orchestrator.live.agent_pauses import PauseBook
from orchestrator.live.aio import cancel_and_wait
from orchestrator.live.calls import CallBook, DayCounters, FinishedCall, LiveCall, counted
from orchestrator.live.notifier import Figures, Metrics, RedisFigures
from orchestrator.live.queue_figures import QUEUE_EVENTS, ClusterQueues
from orchestrator.live.records import RecordWriter, day_counters
from orchestrator.settings import Settings, redacted
from orchestrator.store import call_records
from orchestrator.store import engine as store_engine

log = logging.getLogger("orchestrator.live")
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
# Only the classes the controller reads: "dialplan" (Newexten, VarSet on every priority) was most
# of the AMI traffic per call (benchmarks, #9). "agent": app_queue's events (callers joining,
# agents connecting, member state) for the call-centre figures.
AMI_EVENTS = "call,user,system,agent"


# A cluster node whose AMI stays away this long is taken for dead: its calls are recorded as lost.
NODE_LOST_S = 3.0


@dataclass(frozen=True)
class _Resync:
    why: str  # "login", "periodic", or "lost" (a cluster node died: its calls end as lost)
    node: str = ""


class LiveController:
    def __init__(self, settings: Settings, *, engine: Any | None = None,
                 watchdog_grace_s: float = 2.0, resync_interval_s: float = 60.0,
                 watchdog_interval_s: float = 0.5, nodes: Mapping[str, tuple[str, int]] | None = None) -> None:
        """``nodes``: a cluster's nodes (name -> AMI host, port), followed at once; their call ids
        start with the node's name (SVC_SYSTEM_NAME), which tells which node a call is on."""
        self.settings = settings
        self.engine = engine if engine is not None else store_engine.make_engine(settings.db_url)
        self.grace_s = watchdog_grace_s
        self.resync_interval_s = resync_interval_s
        self.watchdog_interval_s = watchdog_interval_s
        self.book = CallBook()
        self.day = DayCounters(self._today())
        self.metrics = Metrics()
        self.nodes: dict[str, Ami] = (
            {name: Ami(host, port, settings.ami_user, settings.ami_secret, timeout=5.0, events=AMI_EVENTS)
             for name, (host, port) in nodes.items()} if nodes
            else {settings.system_name: Ami.from_settings(settings, timeout=5.0, events=AMI_EVENTS)})
        self.ami = next(iter(self.nodes.values()))  # the first node (a single Asterisk: the one)
        self.cluster = nodes is not None and len(nodes) > 0
        self.redis = RedisFigures(settings.redis_url, observe=self.metrics.event_lag.observe)
        self.writer = RecordWriter(self.engine, hash_key=settings.caller_hash_key())
        self.owners = resync.Owners(self.engine)
        self.resynced_at: float | None = None  # monotonic time of the last completed re-sync
        self._queue: asyncio.Queue[tuple[AmiEvent, datetime, str] | _Resync] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._side_tasks: set[asyncio.Task[None]] = set()  # blacklist records, recording pauses
        self.queues = ClusterQueues(list(self.nodes))  # call-centre figures, per node, merged
        self.pauses = PauseBook()  # agents' pauses, stored for the queues report

    # --- lifetime ----------------------------------------------------------------------------

    async def start(self) -> None:
        self.day = await asyncio.to_thread(day_counters, self.engine, self._day_start(), self._today())
        for node, ami in self.nodes.items():
            for name in ("UserEvent", "DialEnd", "Hangup", *QUEUE_EVENTS):
                ami.on_event(name, functools.partial(self._on_ami_event, node))
        self.queues.service_levels = await asyncio.to_thread(resync.service_levels, self.engine)
        for node, ami in self.nodes.items():
            ami.start(functools.partial(self._on_login, node), functools.partial(self._on_disconnect, node))
        for name, coro in (("consume", self._consume()), ("records", self.writer.run()),
                           ("redis", self.redis.run()), ("watchdog", self._watchdog()),
                           ("periodic-resync", self._periodic_resync()), ("queue-tick", self._queue_tick()),
                           ("caller-retention", self._caller_retention())):
            self._tasks.append(asyncio.create_task(coro, name=f"live-{name}"))
        self._publish()
        log.info("live controller started (AMI %s:%s, Redis %s)", self.settings.bind_host,
                 self.settings.ami_port, redacted(self.settings.redis_url))

    async def stop(self) -> None:
        tasks = [*self._side_tasks, *self._tasks]
        results = await cancel_and_wait(tasks)
        for task, result in zip(tasks, results, strict=True):
            if result is not None:
                log.error("task %s had failed: %r", task.get_name(), result)
        self._tasks.clear()
        for ami in self.nodes.values():
            ami.close()
        await self.redis.close()
        log.info("live controller stopped (%d call(s) in progress left to Asterisk)", len(self.book.calls))

    def failed_task(self) -> BaseException | None:
        """The error of a task that died (a bug): the controller must not limp on without it."""
        for task in self._tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                return task.exception()
        return None

    # --- AMI events ----------------------------------------------------------------------------

    def _on_login(self, node: str) -> None:
        log.info("AMI %slogged in (login #%d); re-syncing calls from Asterisk", f"of node {node} " if node else "",
                 self.nodes[node].logins)
        self._queue.put_nowait(_Resync("login", node))

    def _on_disconnect(self, node: str, exc: Any) -> None:
        log.warning("AMI connection %slost (%s); panoramisk reconnects", f"of node {node} " if node else "", exc)
        if self.queues.gone(node):
            self._publish()  # its waiting callers and agents leave the figures until it is back
        if self.cluster:
            task = asyncio.get_running_loop().create_task(self._node_lost(node), name=f"live-lost-{node}")
            self._side_tasks.add(task)
            task.add_done_callback(self._side_tasks.discard)

    async def _node_lost(self, node: str) -> None:
        """A node whose AMI does not come back within NODE_LOST_S died (Kamailio stops sending it
        calls within about a second): the calls it had are over for their callers."""
        await asyncio.sleep(NODE_LOST_S)
        if not self.nodes[node].logged_in:
            self._queue.put_nowait(_Resync("lost", node))

    def _node_name(self, call_id: str) -> str:
        """The node a call is on (domain.cluster.node_of_call); the first by default."""
        return node_of_call(call_id, self.nodes) or next(iter(self.nodes))

    def _node_of(self, call_id: str) -> Ami:
        """The AMI link of the node a call is on."""
        return self.nodes[self._node_name(call_id)]

    def _on_ami_event(self, node: str, _manager: AmiManager, message: AmiEvent) -> None:
        # Synchronous and cheap: ordering is kept by the queue, work happens in the consumer.
        self._queue.put_nowait((message, datetime.now(UTC), node))

    async def _consume(self) -> None:
        while True:
            item = await self._queue.get()
            if isinstance(item, _Resync) and item.why == "lost":
                self._lost(item.node)
            elif isinstance(item, _Resync):
                await self._resync(item.why, item.node)
            else:
                await self._handle(*item)

    async def _handle(self, message: AmiEvent, at: datetime, node: str) -> None:
        if message.get("Event") in QUEUE_EVENTS:
            if self.queues.handle(node, dict(message), at.timestamp()):
                self._publish(since=at.timestamp())
            pause = self.pauses.handle(dict(message), at)
            if pause is not None:
                self._spawn(answering_side.store_pause(self.engine, pause), "pause")
            if message.get("Event") not in ("AgentConnect", "QueueCallerAbandon"):
                return  # these two also go to the call's record (queue wait, agent)
        event = ev.parse(message, at)
        if event is None:
            return
        if isinstance(event, ev.ActiveBlock | ev.RecordingPause | ev.AgentCode):
            self._side(event, node)
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

    def _side(self, event: ev.ActiveBlock | ev.RecordingPause | ev.AgentCode, node: str) -> None:
        # Off the ordered consumer: a slow database or AMI action must not hold up the figures.
        if isinstance(event, ev.AgentCode):
            others = {n: a for n, a in self.nodes.items() if n != node and a.logged_in}
            if others:
                self._spawn(answering_side.spread_agent_code(others, event), type(event).__name__)
        elif isinstance(event, ev.ActiveBlock):
            on = self._node_name(event.call_id)  # its dialplan wrote that node's AstDB
            others = {n: a for n, a in self.nodes.items() if n != on and a.logged_in}
            self._spawn(answering_side.record_active_block(self.engine, event, others), type(event).__name__)
        else:
            self._spawn(answering_side.pause_recording(self._node_of(event.call_id), event), type(event).__name__)

    def _spawn(self, side: Any, name: str) -> None:
        task = asyncio.create_task(side, name=f"live-{name}")
        self._side_tasks.add(task)
        task.add_done_callback(self._side_tasks.discard)

    async def _learn_max_duration(self, call: LiveCall) -> None:
        try:
            premium = parse_service_number(call.number).kind.is_premium_rate
        except NumberInvalid:
            premium = False
        if not premium:
            return
        try:
            value = await self._node_of(call.call_id).getvar(call.channel, "SVC_MAX_DURATION")
        except AsteriskError as exc:
            log.error("call %s: cannot read SVC_MAX_DURATION, watchdog off for this call: %s", call.call_id, exc)
            return
        if value.isdigit():
            call.max_duration = int(value)
            log.info("call %s answered; maximum duration %s s (watchdog after %.0f s)", call.call_id, value,
                     call.max_duration + self.grace_s)

    def _finish(self, call: FinishedCall) -> None:
        if call.agent and call.queue and call.queue_result == "answered":
            wrapup = self.queues.wrapup_of(self._node_name(call.call_id), call.tenant, call.queue, call.agent)
            call = replace(call, agent_wrapup_s=float(wrapup))
        self.day = counted(self.day, call)
        self.metrics.finished.labels(call.outcome.value).inc()
        self.writer.put(call)
        log.info("call %s ended: %s%s, %s -> %s, wait %.1f s, talk %.1f s%s", call.call_id, call.outcome.value,
                 f" ({call.reason})" if call.reason else "", call.number, call.destination or "-", call.wait_s,
                 call.talk_s, f" [{call.note}]" if call.note else "")

    # --- re-sync -------------------------------------------------------------------------------

    async def _queue_tick(self) -> None:
        # Longest wait and wrap-up grow without any event: republish each second while it matters.
        while True:
            await asyncio.sleep(1.0)
            if self.queues.busy():
                self._publish()

    async def _periodic_resync(self) -> None:
        # A safety net: a missed Hangup (or a bug) cannot leave a ghost call for long.
        while True:
            await asyncio.sleep(self.resync_interval_s)
            for node, ami in self.nodes.items():
                if ami.logged_in:
                    self._queue.put_nowait(_Resync("periodic", node))

    def _lost(self, node: str) -> None:
        if self.nodes[node].logged_in:
            return  # it came back meanwhile: its login re-sync tells what ended
        mine = [cid for cid in self.book.calls if self._node_of(cid) is self.nodes[node]]
        for finished in self.book.vanish(mine, datetime.now(UTC), note=f"lost: node {node} died"):
            log.warning("call %s lost with node %s", finished.call_id, node)
            self._finish(finished)
        self.queues.died(node)  # its callers are gone; the calls its queues answered stay counted
        self._publish()

    async def _resync(self, why: str, node: str) -> None:
        ami = self.nodes[node]
        # Only this node's calls can have vanished; later ones start after the list.
        before = {cid for cid in self.book.calls if self._node_of(cid) is ami}
        try:
            channels = await ami.channels()
        except AsteriskError as exc:
            log.error("re-sync (%s) failed, will retry on the next login or period: %s", why, exc)
            return
        # Everything Asterisk sent before the list is already queued: apply it first, so calls
        # that ended meanwhile end with their real SvcEnd, not as "vanished".
        others: list[_Resync] = []
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if not isinstance(item, _Resync):
                await self._handle(*item)
            elif item.node != node or item.why == "lost":
                others.append(item)  # another node's re-sync (both logged in at once), or a loss: kept
            # else: this node's queued re-sync is covered by this one
        for item in others:
            self._queue.put_nowait(item)
        alive = {c.uniqueid for c in channels}
        now = datetime.now(UTC)
        vanished = [cid for cid in before if cid in self.book.calls and cid not in alive]
        for finished in self.book.vanish(vanished, now):
            log.warning("call %s vanished while not watched; recorded from what was seen", finished.call_id)
            self._finish(finished)
        adopted = [c for c in channels if await resync.adopt(ami, self.book, self.owners, c, now)]
        try:
            book = await resync.queues(ami, self.engine, self.queues.books[node], login=why == "login")
            self.queues.reseeded(node, book)
        except (AsteriskError, StoreError) as exc:
            log.error("re-sync of queue figures (%s) failed: %s", why, exc)
        self.resynced_at = time.monotonic()
        self.metrics.resyncs.labels(why).inc()
        log.info("re-sync (%s): %d channel(s) in Asterisk, %d call(s) in progress, %d vanished, %d adopted",
                 why, len(channels), len(self.book.calls), len(vanished), len(adopted))
        self._publish()

    # --- privacy ------------------------------------------------------------------------------

    async def _caller_retention(self) -> None:
        # Raw caller numbers are kept only so long (docs/reports.md, "Privacy"); the hash stays.
        while True:
            before = datetime.now(UTC) - timedelta(days=self.settings.caller_retention_days)
            try:
                n = await asyncio.to_thread(call_records.forget_callers, self.engine, before)
                if n:
                    log.info("removed the caller number from %d call record(s) older than %d days", n,
                             self.settings.caller_retention_days)
            except StoreError as exc:
                log.error("caller retention failed, will retry in an hour: %s", exc)
            await asyncio.sleep(3600)

    # --- watchdog ------------------------------------------------------------------------------

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
                    await self._node_of(call.call_id).hangup(call.channel, 16)
                except AsteriskError as exc:
                    log.error("INCIDENT call %s: hang-up failed: %s", call.call_id, exc)

    # --- figures -------------------------------------------------------------------------------

    def figures(self) -> Figures:
        if self._today() > self.day.day:  # past midnight: today's figures start at 0, not at yesterday's
            self.day = DayCounters(self._today())
        by_number, by_tenant = self.book.in_progress()
        return Figures(by_number, by_tenant, self.day, self.queues.snapshot(time.time()))

    def _publish(self, since: float | None = None) -> None:
        figures = self.figures()
        self.redis.publish(figures, since)
        self.metrics.show(figures)

    async def health(self) -> dict[str, bool]:
        try:
            await asyncio.to_thread(call_records.ping, self.engine)
            db = True
        except StoreError:
            db = False
        # A cluster: "ami" while any node is followed; each node on its own line too.
        result = {"ami": any(a.logged_in for a in self.nodes.values()), "redis": await self.redis.ping(), "db": db}
        if self.cluster:
            result.update({f"ami:{name}": a.logged_in for name, a in self.nodes.items()})
        for component, up in result.items():
            self.metrics.up.labels(component).set(1 if up else 0)
        return result

    # --- time ----------------------------------------------------------------------------------

    @staticmethod
    def _today() -> date:
        return datetime.now(AMSTERDAM).date()

    @staticmethod
    def _day_start() -> datetime:
        return datetime.now(AMSTERDAM).replace(hour=0, minute=0, second=0, microsecond=0)
