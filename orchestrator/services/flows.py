"""Call flows as stored: find one by name (for `flow show` / `flow export` and the API)."""

from __future__ import annotations

from orchestrator.domain.flow import Flow
from orchestrator.errors import NotFound, PlanInvalid, Violation
from orchestrator.store import plans as plan_store
from orchestrator.store import tenants as tenant_store
from orchestrator.store.session import Session


def find_flow(session: Session, name: str, tenant: str | None = None) -> tuple[str, Flow]:
    """The tenant and the flow called ``name``; without ``tenant`` the name must be one tenant's."""
    tenants = [tenant] if tenant is not None else tenant_store.tenants(session)
    found = []
    for t in tenants:
        if plan_store.current_plan(session, t) is None:
            continue
        flow = plan_store.load_plan(session, t).flows.get(name)
        if flow is not None:
            found.append((t, flow))
    if not found:
        where = f"tenant {tenant!r}" if tenant is not None else "any tenant"
        raise NotFound(f"{where} has no flow {name!r}")
    if len(found) > 1:
        owners = ", ".join(t for t, _f in found)
        raise PlanInvalid([Violation("tenant", f"flow {name!r} exists for {owners}: give --tenant")])
    return found[0]


def numbers_running(session: Session, tenant: str, name: str) -> list[str]:
    """The tenant's service numbers (E.164) that run the flow."""
    return [n.number for n in plan_store.load_plan(session, tenant).numbers if n.flow == name]
