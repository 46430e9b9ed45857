"""Agent phones' SIP accounts for the API: shown (to provision a phone) or rotated, each audited,
never with the password. The accounts themselves are services/callcentre/credentials.py's."""

from __future__ import annotations

from orchestrator.errors import OrchestratorError
from orchestrator.services.apply import ApplyTarget
from orchestrator.services.callcentre import credentials
from orchestrator.services.callcentre.credentials import PhoneAccount
from orchestrator.services.tenancy import tenant_plan
from orchestrator.settings import Settings
from orchestrator.store import api_repository
from orchestrator.store.session import Session


def show(session: Session, settings: Settings, *, tenant: str, agent: str, actor: str,
         token_id: int | None) -> PhoneAccount:
    account = credentials.account(tenant_plan(session, tenant), agent, settings)
    api_repository.audit(session, actor=actor, token_id=token_id, tenant=tenant, action="agent.credentials",
                         target=f"{agent} ({account.endpoint})")
    session.commit()
    return account


async def rotate(session: Session, settings: Settings, target: ApplyTarget, *, tenant: str, agent: str,
                 actor: str, token_id: int | None) -> PhoneAccount:
    """A new password in force; a failed rotation (Asterisk refused it: the old password is back)
    is audited as failed, then raised."""
    plan = tenant_plan(session, tenant)
    what = f"{agent} ({credentials.phone_endpoint(plan, agent)})"
    try:
        account = await credentials.rotate(session, plan, agent, settings, target)
    except OrchestratorError as exc:
        api_repository.audit(session, actor=actor, token_id=token_id, tenant=tenant,
                             action="agent.credentials.rotate", target=what, outcome="failed",
                             detail={"error": str(exc)})
        session.commit()
        raise
    api_repository.audit(session, actor=actor, token_id=token_id, tenant=tenant, action="agent.credentials.rotate",
                         target=what)
    session.commit()
    return account
