"""Provisioning an agent's SIP phone (one use case for the CLI and the API): the SIP account of a
tenant's own endpoint agent, and a password rotation that Asterisk takes at once (pjsip.inc
rendered again by the apply path, PJSIP reloaded). A phone still registered with the old password
keeps its registration until it expires or the phone registers again: PJSIP checks passwords
only when a request is challenged."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlmodel import Session

from orchestrator.domain.ir_queues import SIP_REALM, agent_endpoint
from orchestrator.domain.plan import TenantPlan
from orchestrator.errors import NotFound, OrchestratorError
from orchestrator.services.apply import ApplyTarget, Progress, apply_phones
from orchestrator.services.callcentre.phone_secrets import PhoneSecrets
from orchestrator.settings import Settings


@dataclass(frozen=True)
class PhoneAccount:
    tenant: str
    agent: str
    endpoint: str  # the PJSIP endpoint, aor and auth <tenant>.<endpoint>
    username: str  # = the auth username = the endpoint: the phone registers as itself
    password: str
    realm: str
    registrar: str  # host:port of Asterisk's SIP
    transport: str = "udp"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def phone_endpoint(plan: TenantPlan, agent: str) -> str:
    """The PJSIP name of the agent's phone; NotFound for an unknown agent or a phone-number agent."""
    found = plan.agents.get(agent)
    if found is None:
        raise NotFound(f"tenant {plan.tenant!r} has no agent {agent!r}")
    if found.endpoint is None:
        raise NotFound(f"agent {agent!r} of tenant {plan.tenant!r} is a phone number, not a SIP phone")
    return agent_endpoint(plan.tenant, found.endpoint)


def account(plan: TenantPlan, agent: str, settings: Settings) -> PhoneAccount:
    """The agent's SIP account. The password is generated here if no apply has made it yet."""
    name = phone_endpoint(plan, agent)
    password = PhoneSecrets(settings.secrets_dir).password(name)
    registrar = f"{settings.bind_host}:{settings.sip_port}"
    return PhoneAccount(plan.tenant, agent, name, name, password, SIP_REALM, registrar)


async def rotate(session: Session, plan: TenantPlan, agent: str, settings: Settings, target: ApplyTarget,
                 progress: Progress = lambda _s: None) -> PhoneAccount:
    """A new password for the agent's phone, in force in Asterisk when this returns (with Asterisk;
    offline only the files are written). When Asterisk refuses the new configuration, the old
    password and the previous files are put back and the error is raised."""
    name = phone_endpoint(plan, agent)
    store = PhoneSecrets(settings.secrets_dir)  # the target renders from the same folder (both from Settings)
    old = store.password(name)
    store.rotate(name)
    try:
        await apply_phones(session, target, progress)
    except OrchestratorError:
        store.keep(name, old)
        raise
    return account(plan, agent, settings)
