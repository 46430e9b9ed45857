"""Agent phones' SIP accounts: show them (to provision a phone) and rotate their passwords. Only
the tenant's own endpoint agents; another tenant's agent, or an agent that is a phone number,
answers 404. Both are audit-logged, never with the password."""

from __future__ import annotations

import re

from aiohttp import web

from orchestrator.api import context
from orchestrator.api.auth import principal, tenant_of
from orchestrator.domain.plan import NAME_PATTERN
from orchestrator.errors import NotFound, OrchestratorError
from orchestrator.services.callcentre import credentials
from orchestrator.store import api_repository, repository


def _agent(request: web.Request) -> str:
    agent = request.match_info["agent"]
    if not re.match(NAME_PATTERN, agent):
        raise NotFound(f"no agent {agent!r}")
    return agent


async def show(request: web.Request) -> web.Response:
    tenant, agent = tenant_of(request), _agent(request)
    who = principal(request)
    with context.session(request) as session:
        account = credentials.account(repository.load_plan(session, tenant), agent, context.config(request).settings)
        api_repository.audit(session, actor=who.actor, token_id=who.token_id, tenant=tenant,
                             action="agent.credentials", target=f"{agent} ({account.endpoint})")
        session.commit()
    return web.json_response(account.to_dict())


async def rotate(request: web.Request) -> web.Response:
    tenant, agent = tenant_of(request), _agent(request)
    who = principal(request)
    settings = context.config(request).settings
    async with context.state(request).change_lock:  # rendering pjsip.inc must not interleave with an apply
        with context.session(request) as session:
            plan = repository.load_plan(session, tenant)
            target = f"{agent} ({credentials.phone_endpoint(plan, agent)})"
            try:
                account = await credentials.rotate(session, plan, agent, settings, context.apply_target(request))
            except OrchestratorError as exc:  # e.g. Asterisk refused it: the old password is back
                api_repository.audit(session, actor=who.actor, token_id=who.token_id, tenant=tenant,
                                     action="agent.credentials.rotate", target=target, outcome="failed",
                                     detail={"error": str(exc)})
                session.commit()
                raise
            api_repository.audit(session, actor=who.actor, token_id=who.token_id, tenant=tenant,
                                 action="agent.credentials.rotate", target=target)
            session.commit()
    return web.json_response(account.to_dict())


def routes() -> list[web.RouteDef]:
    base = "/api/v1/tenants/{tenant}/agents/{agent}/credentials"
    return [web.get(base, show), web.post(f"{base}/rotate", rotate)]
