"""What a tenant may see: its plan and its numbers. Another tenant's number looks like no number at
all (NotFound), so the API never tells one tenant what another has."""

from __future__ import annotations

from datetime import datetime

from orchestrator.domain.plan import TenantPlan
from orchestrator.errors import NotFound
from orchestrator.store import plans as plan_store
from orchestrator.store import tenancy
from orchestrator.store import tenants as tenant_store
from orchestrator.store import versions as version_store
from orchestrator.store.models import AppliedVersion, NumberAllocation
from orchestrator.store.session import Session


def owned_number(session: Session, tenant: str, e164: str) -> None:
    """NotFound unless the tenant has this number."""
    if tenant_store.number_owner(session, e164) != tenant:
        raise NotFound(f"tenant {tenant!r} has no service number {e164}")


def tenant_plan(session: Session, tenant: str) -> TenantPlan:
    """The tenant's applied plan (NotFound for a tenant without one)."""
    return plan_store.load_plan(session, tenant)


def tenant_numbers(session: Session, tenant: str) -> set[str]:
    return set(tenant_store.tenant_numbers(session, tenant))


def tenants(session: Session) -> list[str]:
    return tenant_store.tenants(session)


def only_tenant(session: Session, tenant: str | None) -> str:
    """``tenant``, or the only tenant there is (NotFound naming them when there are several)."""
    if tenant is not None:
        return tenant
    names = tenant_store.tenants(session)
    if len(names) != 1:
        raise NotFound(f"give --tenant; tenants are: {', '.join(names) or 'none'}")
    return names[0]


def plan_as_it_stands(session: Session, tenant: str, now: datetime) -> TenantPlan:
    """The tenant's plan with the switch moments before ``now`` folded into ``active``."""
    return plan_store.load_plan(session, tenant, now=now)


def stored_plan(session: Session, tenant: str, now: datetime) -> TenantPlan | None:
    """As plan_as_it_stands, or None for a tenant not stored yet."""
    if plan_store.current_plan(session, tenant) is None:
        return None
    return plan_store.load_plan(session, tenant, now=now)


def owner(session: Session, e164: str, national: str) -> str:
    """The tenant that has this number (NotFound when none has)."""
    found = tenant_store.number_owner(session, e164)
    if found is None:
        raise NotFound(f"{national} is not a configured service number")
    return found


def history(session: Session, tenant: str | None, limit: int = 50) -> list[AppliedVersion]:
    return version_store.history(session, limit=limit, tenant=tenant)


def plan_version(session: Session, tenant: str) -> int:
    """The version the tenant's plan is at (its ETag); 0 before its first apply."""
    return tenancy.plan_version(session, tenant)


def allocate(session: Session, e164: str, tenant: str, by: str) -> bool:
    """Allocate a number to a tenant (committed); False when it already was."""
    added = tenancy.allocate(session, e164, tenant, by)
    session.commit()
    return added


def release(session: Session, e164: str) -> str:
    """Release a number's allocation (committed); returns the tenant it was allocated to."""
    was = tenancy.release(session, e164)
    session.commit()
    return was


def allocations(session: Session, tenant: str | None) -> list[NumberAllocation]:
    return tenancy.allocation_list(session, tenant)
