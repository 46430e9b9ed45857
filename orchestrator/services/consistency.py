"""What Asterisk runs, what the files say and what the database committed: find where they
disagree (a crashed apply) and repair it.

An apply writes a journal before it touches the ``svc`` link or Asterisk and removes it after
the database committed (asterisk/dialplan_files.py). So after any crash one of these holds:
- a journal is left: Asterisk may run anything between the old and the new version;
- the link is not the committed version: the files were switched, the database never committed;
- the committed version was never loaded (an offline apply).
Repair points the link back at the committed version and, with Asterisk up, reloads everything
from it (dialplan, agent phones, queues) and writes the blacklists of the numbers the crashed
apply touched from the database again. Then all three agree.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from orchestrator.asterisk.ami import Ami
from orchestrator.asterisk.dialplan_files import DialplanFiles
from orchestrator.asterisk.push import reload_dialplan
from orchestrator.domain.naming import BLACKLISTED, blacklist_family
from orchestrator.services.callcentre import control, phones
from orchestrator.store import blacklists as blacklist_store
from orchestrator.store import tenants as tenant_store
from orchestrator.store import versions as version_store
from orchestrator.store.session import Session

Progress = Callable[[str], None]


def problems(session: Session, files: DialplanFiles) -> list[str]:
    """Where the files, the database and (as far as the files tell) Asterisk disagree."""
    out: list[str] = []
    journal = files.journal()
    committed = version_store.committed_dialplan(session)
    link = files.current()
    if journal is not None:
        out.append(f"an apply of tenant {journal.get('tenant', '?')!r} did not finish (crashed at "
                   f"{journal.get('started', '?')}); Asterisk may run a mix of two versions")
    if committed is not None and str(link) != committed.dialplan_dir:
        out.append(f"the files ({_name(link)}) are not the version the database committed "
                   f"({_name(committed.dialplan_dir)})")
    elif committed is not None and not committed.loaded:
        out.append(f"Asterisk was not loaded with the committed version {_name(committed.dialplan_dir)} "
                   "(an offline apply)")
    return out


def _name(path: Path | str | None) -> str:
    return "none" if path is None else Path(path).name


async def sync_blacklists(ami: Ami, lists: dict[str, set[str]]) -> int:
    """Make AstDB hold exactly these blacklists (number E.164 -> callers)."""
    count = 0
    for e164 in sorted(lists):
        family = blacklist_family(e164)
        await ami.db_deltree(family)
        for caller in sorted(lists[e164]):
            await ami.db_put(family, caller, BLACKLISTED)
            count += 1
    return count


async def reload_committed(ami: Ami, session: Session, numbers: list[str]) -> None:
    """Load everything from the files the link points at, and the given numbers' blacklists
    from the database: what an apply that failed, or crashed, falls back to."""
    await reload_dialplan(ami, tenant_store.count_numbers(session))
    await phones.reload(ami)
    await control.reload_queues(ami, music=True)
    await sync_blacklists(ami, {n: set(v) for n, v in _lists(session, numbers).items()})


def _lists(session: Session, numbers: list[str]) -> dict[str, Any]:
    found = blacklist_store.blacklists(session, numbers)
    return {n: found.get(n, set()) for n in numbers}


async def repair(session: Session, files: DialplanFiles, ami: Ami | None, progress: Progress) -> list[str]:
    """Repair what ``problems`` finds. Without Asterisk (offline, or before it starts) only the
    link is put back; the journal stays until Asterisk is reloaded. Returns what was wrong."""
    found = problems(session, files)
    if not found:
        return []
    for problem in found:
        progress(f"repairing: {problem}")
    committed = version_store.committed_dialplan(session)
    back = None if committed is None else Path(committed.dialplan_dir)
    if back is not None and back.is_dir() and files.current() != back:
        files.point_to(back)
    if ami is None:
        return found
    journal = files.journal() or {}
    numbers = journal.get("numbers")
    await reload_committed(ami, session, numbers if isinstance(numbers, list) else [])
    if committed is not None and str(files.current()) == committed.dialplan_dir:
        version_store.set_committed_dialplan(session, committed.dialplan_dir, committed.generator, loaded=True)
        session.commit()
    files.end()
    progress("repaired: Asterisk runs the committed version again")
    return found
