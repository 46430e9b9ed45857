"""A tenant's Premium call flows (with their builder layout and list names) and the entries of its
digit lists. Flows are stored whole per tenant: they are compiled whole, and numbers only name them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from orchestrator.domain import plan as p
from orchestrator.store import models as m


def save_flows(session: Session, plan: p.TenantPlan, same: Mapping[str, Any] | None = None) -> None:
    """``same``: flows known to be as stored, already in the stored format (``model_dump`` of a
    hundred flows costs tens of milliseconds; a flow change dumps one)."""
    session.execute(delete(m.TenantFlows).where(col(m.TenantFlows.tenant) == plan.tenant))
    if plan.flows or plan.layout or plan.lists:
        known = same or {}
        doc = plan.model_dump(mode="json", include={"layout", "lists"})
        flows = {name: known[name] if name in known else f.model_dump(mode="json") for name, f in plan.flows.items()}
        session.add(m.TenantFlows(tenant=plan.tenant, plan_json=json.dumps(
            {"flows": flows, **doc})))  # in order: regions match first to last


def load_flows(session: Session, tenant: str) -> dict[str, Any]:
    row = session.exec(select(m.TenantFlows).where(m.TenantFlows.tenant == tenant)).first()
    return dict(json.loads(row.plan_json)) if row is not None else {}


def list_entries(session: Session, tenant: str, name: str) -> list[str]:
    rows = session.exec(select(m.FlowListEntry.value).where(
        m.FlowListEntry.tenant == tenant, m.FlowListEntry.list_name == name).order_by(col(m.FlowListEntry.value)))
    return list(rows)


def list_add(session: Session, tenant: str, name: str, value: str) -> bool:
    if value in list_entries(session, tenant, name):
        return False
    session.add(m.FlowListEntry(tenant=tenant, list_name=name, value=value))
    session.flush()
    return True


def list_remove(session: Session, tenant: str, name: str, value: str) -> bool:
    result = session.execute(delete(m.FlowListEntry).where(
        col(m.FlowListEntry.tenant) == tenant, col(m.FlowListEntry.list_name) == name,
        col(m.FlowListEntry.value) == value))
    return bool(getattr(result, "rowcount", 0))
