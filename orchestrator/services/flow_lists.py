"""Digit lists of call flows (input blocks check membership): the database is the record, AstDB
is what the next call checks. Like the blacklist, a change needs no dialplan reload.

The one writer of the AstDB family ``svc-list/<tenant>/<list>`` (flow_compile.list_family); the
flow's dialplan is its one reader.
"""

from __future__ import annotations

import re

from orchestrator.asterisk.ami import Ami
from orchestrator.asterisk.astdb import AstDb
from orchestrator.domain.flow_compile import list_family
from orchestrator.errors import NotFound, PlanInvalid, Violation
from orchestrator.store import flows as flow_store
from orchestrator.store import plans as plan_store
from orchestrator.store.session import Session

VALUE = re.compile(r"^[0-9]{1,32}$")  # what an input block can collect


def declared(session: Session, tenant: str) -> list[str]:
    """The tenant's list names (the plan's ``lists``); NotFound for a tenant without a plan."""
    if plan_store.current_plan(session, tenant) is None:
        raise NotFound(f"tenant {tenant!r} has no plan yet")
    return list(plan_store.load_plan(session, tenant).lists)


def _declared_list(session: Session, tenant: str, name: str) -> None:
    if name not in declared(session, tenant):
        raise NotFound(f"tenant {tenant!r} has no list {name!r} (declare it under 'lists' in the plan)")


def entries(session: Session, tenant: str, name: str) -> list[str]:
    """The entries of one declared list, in order."""
    _declared_list(session, tenant, name)
    return flow_store.list_entries(session, tenant, name)


def overview(session: Session, tenant: str) -> dict[str, int]:
    """Each declared list and how many entries it has."""
    return {name: len(flow_store.list_entries(session, tenant, name)) for name in declared(session, tenant)}


def contains(session: Session, tenant: str, name: str, value: str) -> bool:
    return value in entries(session, tenant, name)


def check_entry(session: Session, tenant: str, name: str, value: str) -> None:
    """NotFound for an undeclared list, PlanInvalid for a value that is not 1 to 32 digits."""
    _declared_list(session, tenant, name)
    if not VALUE.match(value):
        raise PlanInvalid([Violation("value", f"{value!r} is not 1 to 32 digits")])


async def change_list(session: Session, ami: AstDb, tenant: str, name: str, value: str, *, add: bool) -> bool:
    """Add or remove one entry; AstDB first, undone when the commit fails."""
    check_entry(session, tenant, name, value)
    family = list_family(tenant, name)
    if add:
        changed = flow_store.list_add(session, tenant, name, value)
        await ami.db_put(family, value, "1")
    else:
        changed = flow_store.list_remove(session, tenant, name, value)
        await ami.db_del(family, value)
    try:
        session.commit()
    except Exception:
        if add:
            await ami.db_del(family, value)
        else:
            await ami.db_put(family, value, "1")
        raise
    return changed


async def sync_lists(session: Session, ami: Ami, tenant: str, names: list[str]) -> int:
    """Make AstDB hold exactly the database's entries of these lists (after an apply or restart)."""
    count = 0
    for name in names:
        family = list_family(tenant, name)
        await ami.db_deltree(family)
        for value in flow_store.list_entries(session, tenant, name):
            await ami.db_put(family, value, "1")
            count += 1
    return count
