"""What a tenant may see: its plan and its numbers. Another tenant's number looks like no number at
all (NotFound), so the API never tells one tenant what another has."""

from __future__ import annotations

from datetime import datetime

from orchestrator.domain.plan import TenantPlan
from orchestrator.errors import NotFound
from orchestrator.store import repository
from orchestrator.store.models import AppliedVersion
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


def tenants(session: Session) -> list[str]:
    return repository.tenants(session)


def only_tenant(session: Session, tenant: str | None) -> str:
    """``tenant``, or the only tenant there is (NotFound naming them when there are several)."""
    if tenant is not None:
        return tenant
    names = repository.tenants(session)
    if len(names) != 1:
        raise NotFound(f"give --tenant; tenants are: {', '.join(names) or 'none'}")
    return names[0]


def plan_as_it_stands(session: Session, tenant: str, now: datetime) -> TenantPlan:
    """The tenant's plan with the switch moments before ``now`` folded into ``active``."""
    return repository.load_plan(session, tenant, now=now)


def stored_plan(session: Session, tenant: str, now: datetime) -> TenantPlan | None:
    """As plan_as_it_stands, or None for a tenant not stored yet."""
    if repository.current_plan(session, tenant) is None:
        return None
    return repository.load_plan(session, tenant, now=now)


def owner(session: Session, e164: str, national: str) -> str:
    """The tenant that has this number (NotFound when none has)."""
    found = repository.number_owner(session, e164)
    if found is None:
        raise NotFound(f"{national} is not a configured service number")
    return found


def history(session: Session, tenant: str | None) -> list[AppliedVersion]:
    return repository.history(session, tenant=tenant)
