"""Provisioning an agent's SIP phone (one use case for the CLI and the API): the SIP account of a
tenant's own endpoint agent; a password rotation (services/phones.py) renders pjsip.inc again by
the apply path and reloads PJSIP, so Asterisk takes it at once. A phone still registered with the old password
keeps its registration until it expires or the phone registers again: PJSIP checks passwords
only when a request is challenged."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from orchestrator.domain.ir_queues import SIP_REALM
from orchestrator.domain.naming import agent_endpoint
from orchestrator.domain.plan import TenantPlan
from orchestrator.errors import NotFound
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
