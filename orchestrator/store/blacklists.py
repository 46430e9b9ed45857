"""Blacklists: per service number, the callers it rejects. Entries from the plan follow the
plan; entries added live (cli, api, dtmf) stay until removed or their number leaves."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import delete
from sqlmodel import Session, col, select

from orchestrator.errors import NotFound
from orchestrator.store import models as m
from orchestrator.store.engine import chunks
from orchestrator.store.tenants import number_owner


def blacklist(session: Session, e164: str) -> list[str]:
    query = select(m.BlacklistEntry.caller).where(m.BlacklistEntry.service_number_e164 == e164)
    return list(session.exec(query.order_by(col(m.BlacklistEntry.caller))))


def blacklists(session: Session, numbers: list[str] | None = None) -> dict[str, set[str]]:
    query = select(m.BlacklistEntry)
    queries = [query] if numbers is None else [
        query.where(col(m.BlacklistEntry.service_number_e164).in_(chunk)) for chunk in chunks(numbers)]
    out: dict[str, set[str]] = defaultdict(set)
    for q in queries:
        for e in session.exec(q):
            out[e.service_number_e164].add(e.caller)
    return dict(out)


def live_blacklists(session: Session, numbers: list[str]) -> dict[str, set[str]]:
    """The entries of these numbers not from the plan (added by cli, api or dtmf)."""
    out: dict[str, set[str]] = defaultdict(set)
    for chunk in chunks(numbers):
        query = select(m.BlacklistEntry).where(col(m.BlacklistEntry.service_number_e164).in_(chunk),
                                               col(m.BlacklistEntry.source) != "plan")
        for e in session.exec(query):
            out[e.service_number_e164].add(e.caller)
    return dict(out)


def blacklist_add(session: Session, e164: str, caller: str, source: str) -> bool:
    """Add an entry; False when it was already there."""
    if number_owner(session, e164) is None:
        raise NotFound(f"no service number {e164}")
    if caller in blacklist(session, e164):
        return False
    session.add(m.BlacklistEntry(service_number_e164=e164, caller=caller, source=source))
    session.flush()
    return True


def blacklist_remove(session: Session, e164: str, caller: str) -> bool:
    result = session.execute(delete(m.BlacklistEntry).where(
        col(m.BlacklistEntry.service_number_e164) == e164, col(m.BlacklistEntry.caller) == caller))
    return bool(result.rowcount)  # type: ignore[attr-defined]
