"""Database access for the REST API: tokens, the audit log, uploaded announcements, and read
views the API needs. Like ``repository``, every function works inside the caller's session and
leaves committing to the caller, so an audit entry commits together with the change it records."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from orchestrator.errors import NotFound, StoreError
from orchestrator.store import models as m

TOKEN_PREFIX = "svc_"
ROLES = ("tenant", "admin")
_TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is a hint; don't write on every request


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, *, tenant: str | None, role: str,
                 label: str | None = None) -> tuple[m.ApiToken, str]:
    """A new token; returns the row and the token itself, which is not stored and shown once."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")
    if role == "tenant" and not tenant:
        raise ValueError("a tenant token needs a tenant")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = m.ApiToken(token_hash=hash_token(token), tenant=tenant, role=role, label=label)
    session.add(row)
    session.flush()
    return row, token


def token_by_secret(session: Session, token: str, now: datetime) -> m.ApiToken | None:
    """The live token row for a presented token, touching ``last_used_at`` at most once a minute."""
    row = session.exec(select(m.ApiToken).where(m.ApiToken.token_hash == hash_token(token))).first()
    if row is None or row.revoked_at is not None:
        return None
    last = row.last_used_at
    if last is not None and last.tzinfo is None:  # SQLite returns naive datetimes (stored UTC)
        last = last.replace(tzinfo=UTC)
    if last is None or now - last >= _TOUCH_EVERY:
        row.last_used_at = now
        session.add(row)
        session.commit()
    return row


def tokens(session: Session) -> list[m.ApiToken]:
    return list(session.exec(select(m.ApiToken).order_by(col(m.ApiToken.id))))


def revoke_token(session: Session, token_id: int, now: datetime) -> m.ApiToken:
    row = session.get(m.ApiToken, token_id)
    if row is None:
        raise NotFound(f"no API token {token_id}")
    row.revoked_at = now
    session.add(row)
    session.flush()
    return row


def token_tenants(session: Session) -> list[str]:
    """Tenants that have a live token (they may have no plan yet)."""
    query = select(m.ApiToken.tenant).where(col(m.ApiToken.revoked_at).is_(None), col(m.ApiToken.tenant).is_not(None))
    return sorted({t for t in session.exec(query) if t is not None})


def audit(session: Session, *, actor: str, token_id: int | None, tenant: str | None, action: str,
          target: str | None = None, outcome: str = "ok", detail: dict[str, Any] | None = None) -> m.AuditEntry:
    entry = m.AuditEntry(actor=actor, token_id=token_id, tenant=tenant, action=action, target=target,
                         outcome=outcome, detail=None if detail is None else json.dumps(detail, sort_keys=True))
    session.add(entry)
    return entry


def audit_committed(session: Session, **entry: Any) -> None:
    """An audit entry in a transaction of its own (a failed request changed nothing to join)."""
    try:
        audit(session, **entry)
        session.commit()
    except SQLAlchemyError as exc:
        session.rollback()
        raise StoreError(f"cannot write the audit entry: {exc}") from exc


def audit_entries(session: Session, *, tenant: str | None = None, limit: int = 100) -> list[m.AuditEntry]:
    query = select(m.AuditEntry)
    if tenant is not None:
        query = query.where(m.AuditEntry.tenant == tenant)
    return list(session.exec(query.order_by(col(m.AuditEntry.id).desc()).limit(limit)))


def blacklist_entries(session: Session, e164: str) -> list[m.BlacklistEntry]:
    query = select(m.BlacklistEntry).where(m.BlacklistEntry.service_number_e164 == e164)
    return list(session.exec(query.order_by(col(m.BlacklistEntry.caller))))


def uploads(session: Session, tenant: str) -> list[m.UploadedAnnouncement]:
    query = select(m.UploadedAnnouncement).where(m.UploadedAnnouncement.tenant == tenant)
    return list(session.exec(query.order_by(col(m.UploadedAnnouncement.name))))


def add_upload(session: Session, *, tenant: str, name: str, path: str, source_type: str, source_bytes: int,
               seconds: float) -> m.UploadedAnnouncement:
    row = m.UploadedAnnouncement(tenant=tenant, name=name, path=path, source_type=source_type,
                                 source_bytes=source_bytes, seconds=seconds)
    session.add(row)
    return row


def upload(session: Session, tenant: str, name: str) -> m.UploadedAnnouncement:
    row = session.exec(select(m.UploadedAnnouncement).where(
        m.UploadedAnnouncement.tenant == tenant, m.UploadedAnnouncement.name == name)).first()
    if row is None:
        raise NotFound(f"no announcement {name!r}")
    return row
