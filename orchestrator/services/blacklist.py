"""Blacklist changes: the database is the record, AstDB is what the next call checks.

AstDB is written first: if that fails nothing is committed; if the commit then fails the AstDB
change is undone. No dialplan reload is involved.
"""

from __future__ import annotations

from sqlmodel import Session

from orchestrator.asterisk.ami import Ami
from orchestrator.domain.compile import blacklist_family
from orchestrator.store import repository


async def change_blacklist(session: Session, ami: Ami, number: str, caller: str, *, add: bool,
                           source: str) -> bool:
    family = blacklist_family(number)
    if add:
        changed = repository.blacklist_add(session, number, caller, source)
        await ami.db_put(family, caller, "1")
    else:
        changed = repository.blacklist_remove(session, number, caller)
        await ami.db_del(family, caller)
    try:
        session.commit()
    except Exception:
        if add:
            await ami.db_del(family, caller)
        else:
            await ami.db_put(family, caller, "1")
        raise
    return changed
