"""API bearer tokens: created (the token is shown once; only its SHA-256 is stored), listed
without their secret, revoked."""

from __future__ import annotations

from datetime import UTC, datetime

from orchestrator.store import api_repository
from orchestrator.store.models import ApiToken
from orchestrator.store.session import Session


def create(session: Session, *, tenant: str | None, admin: bool, label: str | None) -> tuple[ApiToken, str]:
    """The stored row and the token itself (not stored: show it now or never)."""
    row, token = api_repository.create_token(session, tenant=tenant, role="admin" if admin else "tenant",
                                             label=label)
    session.commit()
    return row, token


def listing(session: Session) -> list[ApiToken]:
    return api_repository.tokens(session)


def revoke(session: Session, token_id: int) -> None:
    """Refused from the next request on (NotFound for an unknown id)."""
    api_repository.revoke_token(session, token_id, datetime.now(UTC))
    session.commit()
