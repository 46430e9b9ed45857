"""A tenant's call centre (agents, queues, hunt groups) and recording settings, stored whole."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, insert
from sqlmodel import Session, col, select

from orchestrator.domain import plan as p
from orchestrator.store import models as m
from orchestrator.store.engine import chunks
from orchestrator.store.tenants import tenant_row


def call_centre_json(plan: p.TenantPlan) -> str | None:
    """How a plan's call centre is stored (None: it has none)."""
    if not (plan.agents or plan.queues or plan.hunt_groups):
        return None
    return json.dumps(plan.model_dump(mode="json", include={"agents", "queues", "hunt_groups"}), sort_keys=True)


def stored_call_centre(session: Session, tenant: str) -> str | None:
    row = session.exec(select(m.TenantCallCentre).where(m.TenantCallCentre.tenant == tenant)).first()
    return row.plan_json if row is not None else None


def save_call_centre(session: Session, plan: p.TenantPlan) -> None:
    session.execute(delete(m.TenantCallCentre).where(col(m.TenantCallCentre.tenant) == plan.tenant))
    data = call_centre_json(plan)
    if data is not None:
        session.add(m.TenantCallCentre(tenant=plan.tenant, plan_json=data))


def load_call_centre(session: Session, tenant: str) -> dict[str, Any]:
    data = stored_call_centre(session, tenant)
    return json.loads(data) if data is not None else {}


def load_call_centre_plans(session: Session) -> list[p.TenantPlan]:
    """Every tenant's plan without its numbers: what the call centres are compiled from, at a
    cost that does not grow with the number of service numbers."""
    out = []
    for row in session.exec(select(m.TenantCallCentre).order_by(col(m.TenantCallCentre.tenant))):
        tenant = tenant_row(session, row.tenant)
        announcements = {
            a.name: {"sound": a.sound, "file": a.file, "text": a.text}
            for a in session.exec(select(m.Announcement).where(m.Announcement.tenant_id == tenant.id))}
        out.append(p.parse_plan({"tenant": row.tenant, "announcements": announcements, "numbers": [],
                                 **json.loads(row.plan_json)}))
    return out


def save_recording(session: Session, plan: p.TenantPlan, kept: set[str]) -> None:
    """Recording policies (per number, only those not 'never') and the tenant's retention."""
    stored = session.exec(select(m.NumberRecordingPolicy.service_number_e164)
                          .where(m.NumberRecordingPolicy.tenant == plan.tenant)).all()
    for chunk in chunks([e for e in stored if e not in kept]):
        session.execute(delete(m.NumberRecordingPolicy).where(
            col(m.NumberRecordingPolicy.service_number_e164).in_(chunk)))
    for chunk in chunks([n.number for n in plan.numbers]):  # a number that moved from another tenant
        session.execute(delete(m.NumberRecordingPolicy).where(col(m.NumberRecordingPolicy.service_number_e164).in_(chunk)))
    session.execute(delete(m.TenantRecordingSettings).where(col(m.TenantRecordingSettings.tenant) == plan.tenant))
    rows = [{"service_number_e164": n.number, "tenant": plan.tenant, "policy": n.recording.policy.value,
             "announce": n.recording.announce}
            for n in plan.numbers if n.recording != p.Recording()]
    if rows:
        session.execute(insert(m.NumberRecordingPolicy), rows)
    session.add(m.TenantRecordingSettings(tenant=plan.tenant, retention=plan.recording_retention))


def load_recording(session: Session, tenant: str) -> tuple[dict[str, dict[str, Any]], str]:
    policies = {r.service_number_e164: {"policy": r.policy, "announce": r.announce}
                for r in session.exec(select(m.NumberRecordingPolicy).where(m.NumberRecordingPolicy.tenant == tenant))}
    settings = session.exec(select(m.TenantRecordingSettings).where(m.TenantRecordingSettings.tenant == tenant)).first()
    return policies, settings.retention if settings is not None else "90d"


def recording_retention(session: Session, tenant: str) -> str:
    """The tenant's retention for new recordings ("90d" when it never applied a plan)."""
    return load_recording(session, tenant)[1]
