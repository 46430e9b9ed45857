"""What the live controller needs from the plans and from app_queue for the call-centre figures:
service levels and agents per tenant (database), agent pauses back from AstDB, and a fresh
``QueueBook`` seeded from ``QueueStatus`` after an AMI login (events may have been missed)."""

from __future__ import annotations

import time
from typing import Any

from sqlmodel import Session

from orchestrator.asterisk.ami import Ami
from orchestrator.live.queue_figures import QueueBook
from orchestrator.services.callcentre.control import restore_states
from orchestrator.store import repository


def service_levels(engine: Any) -> dict[str, int]:
    """Per plan queue, the seconds within which an answer counts for the service level."""
    with Session(engine) as session:
        return {f"{p.tenant}.{name}": q.service_level
                for p in repository.load_all_plans(session) for name, q in p.queues.items()}


def agents(engine: Any) -> dict[str, list[str]]:
    with Session(engine) as session:
        return {p.tenant: list(p.agents) for p in repository.load_all_plans(session) if p.agents}


async def restore_pauses(ami: Ami, by_tenant: dict[str, list[str]]) -> None:
    for tenant, names in by_tenant.items():
        await restore_states(ami, tenant, names)


async def seed(ami: Ami, old: QueueBook) -> QueueBook:
    """Members and waiting callers as app_queue sees them now; the answered / abandoned counts
    the controller has seen are kept."""
    listing = await ami.action({"Action": "QueueStatus"}, as_list=True)
    now = time.time()
    book = QueueBook(old.service_levels, old.default_level)
    for name, q in old.queues.items():
        fresh = book.queues.setdefault(name, type(q)())
        fresh.answered, fresh.abandoned, fresh.within = q.answered, q.abandoned, q.within
    for m in listing if isinstance(listing, list) else [listing]:
        if m.get("Event") == "QueueMember":
            book.handle({**dict(m), "Event": "QueueMemberStatus", "MemberName": m.get("Name")}, now)
        elif m.get("Event") == "QueueEntry":
            book.handle({"Event": "QueueCallerJoin", "Queue": m.get("Queue"), "Channel": m.get("Channel")},
                        now - float(m.get("Wait", 0) or 0))
    return book
