"""What a tenant may see: its plan and its numbers. Another tenant's number looks like no number at
all (NotFound), so the API never tells one tenant what another has."""

from __future__ import annotations

from orchestrator.domain.plan import TenantPlan
from orchestrator.errors import NotFound
from orchestrator.store import repository
from orchestrator.store.session import Session


def owned_number(session: Session, tenant: str, e164: str) -> None:
    """NotFound unless the tenant has this number."""
    if repository.number_owner(session, e164) != tenant:
        raise NotFound(f"tenant {tenant!r} has no service number {e164}")


def tenant_plan(session: Session, tenant: str) -> TenantPlan:
    """The tenant's applied plan (NotFound for a tenant without one)."""
    return repository.load_plan(session, tenant)


def tenant_numbers(session: Session, tenant: str) -> set[str]:
    return set(repository.tenant_numbers(session, tenant))
