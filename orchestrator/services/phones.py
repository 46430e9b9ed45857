"""Agent phones' SIP accounts: shown (to provision a phone) or rotated; for the API each audited,
never with the password. The accounts themselves are services/callcentre/credentials.py's."""

from __future__ import annotations

from orchestrator.domain.plan import TenantPlan
from orchestrator.errors import OrchestratorError
from orchestrator.services.apply import ApplyTarget, Progress, apply_phones
from orchestrator.services.callcentre import credentials
from orchestrator.services.callcentre.credentials import PhoneAccount
from orchestrator.services.callcentre.phone_secrets import PhoneSecrets
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
        account = await rotate_password(session, plan, agent, settings, target)
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


async def rotate_password(session: Session, plan: TenantPlan, agent: str, settings: Settings, target: ApplyTarget,
                          progress: Progress = lambda _s: None) -> PhoneAccount:
    """A new password for the agent's phone, in force in Asterisk when this returns (with Asterisk;
    offline only the files are written). When Asterisk refuses the new configuration, the old
    password and the previous files are put back and the error is raised."""
    name = credentials.phone_endpoint(plan, agent)
    store = PhoneSecrets(settings.secrets_dir)  # the target renders from the same folder (both from Settings)
    old = store.password(name)
    store.rotate(name)
    try:
        await apply_phones(session, target, progress)
    except OrchestratorError:
        store.keep(name, old)
        raise
    return credentials.account(plan, agent, settings)
