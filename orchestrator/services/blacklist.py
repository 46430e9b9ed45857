"""Blacklist changes: the database is the record, AstDB is what the next call checks.

AstDB is written first: if that fails nothing is committed; if the commit then fails the AstDB
change is undone. No dialplan reload is involved.

A block by the answering side (DTMF, active blocking) is written to AstDB by the dialplan itself,
on the node that has the call; ``spread_block`` writes it to every other node of a cluster at once
and ``record_block`` adds the database record for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from orchestrator.asterisk.astdb import AstDb
from orchestrator.domain.naming import BLACKLISTED, blacklist_family
from orchestrator.errors import AsteriskError
from orchestrator.services.tenancy import owned_number
from orchestrator.store import api_repository
from orchestrator.store import blacklists as blacklist_store
from orchestrator.store.models import BlacklistEntry
from orchestrator.store.session import Session


async def change_blacklist(session: Session, ami: AstDb, number: str, caller: str, *, add: bool,
                           source: str) -> bool:
    family = blacklist_family(number)
    if add:
        changed = blacklist_store.blacklist_add(session, number, caller, source)
        await ami.db_put(family, caller, BLACKLISTED)
    else:
        changed = blacklist_store.blacklist_remove(session, number, caller)
        await ami.db_del(family, caller)
    try:
        session.commit()
    except Exception:
        if add:
            await ami.db_del(family, caller)
        else:
            await ami.db_put(family, caller, BLACKLISTED)
        raise
    return changed


def callers(session: Session, e164: str) -> list[str]:
    return blacklist_store.blacklist(session, e164)


def entries(session: Session, tenant: str, e164: str) -> list[BlacklistEntry]:
    """The blacklist of one of the tenant's numbers (NotFound for another tenant's number)."""
    owned_number(session, tenant, e164)
    return api_repository.blacklist_entries(session, e164)


async def change_for_tenant(session: Session, ami: Callable[[], AstDb], *, tenant: str, e164: str, caller: str,
                            add: bool, actor: str, token_id: int | None) -> bool:
    """Add or remove ``caller`` on one of the tenant's numbers, audited with the change. False when
    there is nothing to change (then no AstDB write and no audit entry). ``ami`` is asked for the
    connection only when there is a change (an offline API answers a no-op without Asterisk)."""
    owned_number(session, tenant, e164)
    if (caller in blacklist_store.blacklist(session, e164)) == add:
        return False
    link = ami()
    # change_blacklist commits; the audit entry goes in the same transaction.
    api_repository.audit(session, actor=actor, token_id=token_id, tenant=tenant,
                         action="blacklist.add" if add else "blacklist.remove", target=f"{e164} {caller}")
    return await change_blacklist(session, link, e164, caller, add=add, source="api")


async def spread_block(nodes: Mapping[str, AstDb], number: str, caller: str) -> dict[str, str]:
    """A block the answering side made on one node (its dialplan wrote that node's AstDB) on the
    other ``nodes`` too, all at once. Each node on its own: one that refuses does not undo the
    others (the block is meant to hold). Returns the nodes that refused, with why."""
    family = blacklist_family(number)
    names = list(nodes)
    results = await asyncio.gather(*(nodes[n].db_put(family, caller, BLACKLISTED) for n in names),
                                   return_exceptions=True)
    failed = {n: str(r) for n, r in zip(names, results, strict=True) if isinstance(r, AsteriskError)}
    for r in results:
        if isinstance(r, BaseException) and not isinstance(r, AsteriskError):
            raise r  # a bug, not a node's answer
    return failed


def record_block(engine: Any, number: str, caller: str, source: str) -> bool:
    """The database record of a block AstDB already holds; False when it was there. Blocking:
    the live controller runs it in a worker thread."""
    with Session(engine) as session:
        added = blacklist_store.blacklist_add(session, number, caller, source)
        session.commit()
    return added
