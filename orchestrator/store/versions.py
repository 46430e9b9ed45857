"""What was applied: the history of versions, the digests the dialplan on disk was generated
from (domain/digest.py), and the dialplan version the database committed."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import delete, event, func, insert
from sqlmodel import Session, col, select

from orchestrator.errors import NotFound, StoreError
from orchestrator.store import models as m
from orchestrator.store.engine import chunks, upsert


def record_version(session: Session, version: m.AppliedVersion) -> None:
    session.add(version)
    session.flush()


def history(session: Session, limit: int = 50, tenant: str | None = None) -> list[m.AppliedVersion]:
    query = select(m.AppliedVersion)
    if tenant is not None:
        query = query.where(col(m.AppliedVersion.tenant) == tenant)
    return list(session.exec(query.order_by(col(m.AppliedVersion.id).desc()).limit(limit)))


def applied_document(session: Session, tenant: str) -> dict[str, Any]:
    """The document the tenant's stored plan was stored from: the tables are the current plan, and
    the last version's ``plan_json`` is written in the same transaction, so the two never differ
    (live blacklist entries aside, which are not part of a plan). A new tenant: no numbers."""
    for v in history(session, tenant=tenant, limit=1):
        if v.plan_json:
            document = orjson.loads(v.plan_json)
            if isinstance(document, dict):
                return document
    return {"tenant": tenant, "numbers": []}


def version(session: Session, version_id: int) -> m.AppliedVersion:
    found = session.get(m.AppliedVersion, version_id)
    if found is None:
        raise NotFound(f"no applied version {version_id}")
    return found


def number_digests(session: Session, tenant: str) -> dict[str, str]:
    """E.164 -> digest of the entry each of the tenant's numbers was last applied from."""
    # Core rows, not ORM ones: 10,000 of them in half the time.
    rows = session.connection().execute(
        select(m.NumberDigest.e164, m.NumberDigest.digest).where(m.NumberDigest.tenant == tenant)).all()
    return {e164: digest for e164, digest in rows}


def save_digests(session: Session, tenant: str, digests: dict[str, str], keep: Collection[str],
                 stored: Collection[str] | None = None) -> None:
    """The tenant's numbers are now ``keep`` (digests unchanged) plus ``digests`` (new). ``stored``:
    the numbers with a digest as the caller read them in this transaction (``number_digests``,
    under the apply lock); None reads them."""
    if stored is None:
        stored = session.connection().execute(
            select(m.NumberDigest.e164).where(m.NumberDigest.tenant == tenant)).scalars().all()
    kept = set(keep)
    had = set(stored)
    gone = [e for e in had if e not in kept] + [e for e in digests if e not in had]
    for chunk in chunks(gone):  # including rows another tenant left behind for a moved number
        session.execute(delete(m.NumberDigest).where(col(m.NumberDigest.e164).in_(chunk)))
    if digests:
        session.execute(insert(m.NumberDigest), [{"e164": e, "tenant": tenant, "digest": d}
                                                 for e, d in digests.items()])


def tenant_salt(session: Session, tenant: str) -> str | None:
    row = session.get(m.TenantDigest, tenant)
    return None if row is None else row.salt


def set_tenant_salt(session: Session, tenant: str, salt: str, numbers: str | None = None,
                    order: list[str] | None = None) -> None:
    """``numbers``: the digest of the applied list of number entries; ``order``: their E.164 by place."""
    upsert(session, m.TenantDigest, {"tenant": tenant, "salt": salt, "numbers": numbers,
                                     "order_json": None if order is None else json.dumps(order)}, key="tenant")


def numbers_as_applied(session: Session, tenant: str, numbers: str) -> list[str] | None:
    """The E.164 of each entry by place when the tenant's last apply had the same list of number
    entries (``numbers``: its digest), else None."""
    row = session.get(m.TenantDigest, tenant)
    if row is None or row.numbers != numbers or row.order_json is None:
        return None
    order = json.loads(row.order_json)
    return [str(e) for e in order] if isinstance(order, list) else None


def committed_dialplan(session: Session) -> m.CommittedDialplan | None:
    return session.get(m.CommittedDialplan, 1)


def set_committed_dialplan(session: Session, dialplan_dir: str, generator: str, *, loaded: bool) -> None:
    upsert(session, m.CommittedDialplan, {"id": 1, "dialplan_dir": dialplan_dir, "generator": generator,
                                          "loaded": loaded, "committed_at": datetime.now(UTC)}, key="id")


APPLY_LOCK = 0x5356434E  # PostgreSQL advisory lock key of applies ("SVCN")
_HELD = "svc-apply-lock"  # Session.info key: the SQLite lock file this session's transaction holds


def lock_applies(session: Session) -> None:
    """Applies one at a time, across processes (the API, the CLI), until the session's transaction
    ends. An apply reads every tenant's plan in several statements (numbers, routings, ...); with
    another apply committing between them, PostgreSQL (read committed) would hand it numbers
    without routings. The flock of the dialplan folder (asterisk/dialplan_files.py) only orders
    applies that share that folder. Other writers never wait for this lock: an apply's checks and
    rendering write nothing (services/apply.py), so SQLite's one write lock stays free until the
    final commit; there an OS lock on a file next to the database does the ordering."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(APPLY_LOCK)))  # re-entrant within a transaction
        return
    database = bind.engine.url.database
    if bind.dialect.name != "sqlite" or not database or database == ":memory:" or _HELD in session.info:
        return  # one process only, or already held by this transaction
    session.connection()  # begins the session's transaction: its end releases the lock
    try:
        fd = os.open(f"{database}.apply-lock", os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise StoreError(f"cannot open the apply lock next to {database}: {exc}") from exc
    fcntl.flock(fd, fcntl.LOCK_EX)  # released by the kernel too when a killed process dies
    session.info[_HELD] = fd
    if not event.contains(session, "after_transaction_end", _release):
        event.listen(session, "after_transaction_end", _release)


def _release(session: Session, transaction: Any) -> None:
    if transaction.parent is None and _HELD in session.info:
        os.close(session.info.pop(_HELD))
