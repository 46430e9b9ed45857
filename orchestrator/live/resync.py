"""Re-syncing the live controller's view with Asterisk (after every AMI (re)login and
periodically): calls Asterisk still has that the book does not (adopted), the call-centre
figures seeded from QueueStatus, agent pauses put back from AstDB after a restart; and what the
controller needs from the plans for that (service levels, agents), read off the event loop."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime
from typing import Any

from orchestrator.asterisk.ami import Ami
from orchestrator.asterisk.ami_results import Channel
from orchestrator.live.calls import CallBook, LiveCall
from orchestrator.live.queue_figures import QueueBook
from orchestrator.services.callcentre.control import restore_states
from orchestrator.store import plans as plan_store
from orchestrator.store import tenants as tenant_store
from orchestrator.store.session import Session

log = logging.getLogger("orchestrator.live")
# Contexts a caller channel passes through that are not (yet) one number's own flow.
NOT_A_CALL_CONTEXT = frozenset({"svc-entry", "svc-whisper", "svc-holidays", "from-carrier", "svc-activeblock",
                                "svc-rec", "svc-rec-answered", "svc-rec-keep", "svc-rec-startstop",
                                "svc-rec-pause"})


def service_levels(engine: Any) -> dict[str, int]:
    """Per plan queue, the seconds within which an answer counts for the service level. Blocking."""
    with Session(engine) as session:
        return {f"{p.tenant}.{name}": q.service_level
                for p in plan_store.load_all_plans(session) for name, q in p.queues.items()}


def agents(engine: Any) -> dict[str, list[str]]:
    """The agents of every tenant with a call centre. Blocking."""
    with Session(engine) as session:
        return {p.tenant: list(p.agents) for p in plan_store.load_all_plans(session) if p.agents}


async def queues(ami: Ami, engine: Any, old: QueueBook, *, login: bool) -> QueueBook:
    """The call-centre figures from app_queue now (answered / abandoned counts kept). After a
    login Asterisk may have restarted, and its static members came back available: their pauses
    go back from AstDB first."""
    if login:
        for tenant, names in (await asyncio.to_thread(agents, engine)).items():
            await restore_states(ami, tenant, names)
    return old.reseeded(await ami.queue_status(), time.time())


def could_be_a_call(c: Channel, book: CallBook) -> bool:
    """A caller channel in one number's flow that the book does not follow yet."""
    return (c.linkedid == c.uniqueid and c.context.startswith("svc-") and c.context not in NOT_A_CALL_CONTEXT
            and c.exten != "h" and c.uniqueid not in book.calls and not book.recently_ended(c.uniqueid))


class Owners:
    """Which tenant owns a service number (for calls adopted on re-sync), looked up in a worker
    thread and remembered."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self._owners: dict[str, str] = {}

    def _lookup(self, number: str) -> str | None:
        with Session(self.engine) as session:
            return tenant_store.number_owner(session, number)

    async def of(self, number: str) -> str:
        if number not in self._owners:
            try:
                owner = await asyncio.to_thread(self._lookup, number)
                self._owners[number] = owner or ""
            except Exception as exc:  # the database is optional for counting; the call still counts
                log.error("cannot look up the tenant of %s: %r", number, exc)
                return ""
        return self._owners[number]


async def adopt(ami: Ami, book: CallBook, owners: Owners, c: Channel, now: datetime) -> bool:
    """Follow a call in progress seen only in Asterisk's channel list; True when adopted."""
    if not could_be_a_call(c, book):
        return False
    number = await ami.getvar(c.name, "SVC_NUMBER")
    if not number:
        return False  # not past its start step yet: its SvcCall start event is on its way
    caller = await ami.getvar(c.name, "SVC_CALLER")
    tenant = await owners.of(number)
    # The answer time of an adopted call is unknown; "now" is the late end of it, so the
    # watchdog can only cut later, never too early (the dialplan's L() limit holds anyway).
    call = LiveCall(c.uniqueid, c.name, number, tenant, caller, now - c.up_for,
                    answered_at=now if c.bridged else None)
    if c.bridged:
        value = await ami.getvar(c.name, "SVC_MAX_DURATION")
        call.max_duration = int(value) if value.isdigit() else None
    if not book.adopt(call):
        return False
    log.info("call %s adopted on re-sync: %s from %s, %s, up %s", c.uniqueid, number, caller or "withheld",
             "answered" if c.bridged else "not answered", c.duration)
    return True
