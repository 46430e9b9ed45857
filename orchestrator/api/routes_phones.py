"""Agent phones' SIP accounts: show them (to provision a phone) and rotate their passwords. Only
the tenant's own endpoint agents; another tenant's agent, or an agent that is a phone number,
answers 404. Both are audit-logged, never with the password."""

from __future__ import annotations

import re

from aiohttp import web

from orchestrator.api import context
from orchestrator.api.auth import principal, tenant_of
from orchestrator.domain.plan import NAME_PATTERN
from orchestrator.errors import NotFound
from orchestrator.services import phones


def _agent(request: web.Request) -> str:
    agent = request.match_info["agent"]
    if not re.match(NAME_PATTERN, agent):
        raise NotFound(f"no agent {agent!r}")
    return agent


async def show(request: web.Request) -> web.Response:
    who = principal(request)
    with context.session(request) as session:
        account = phones.show(session, context.config(request).settings, tenant=tenant_of(request),
                              agent=_agent(request), actor=who.actor, token_id=who.token_id)
    return web.json_response(account.to_dict())


async def rotate(request: web.Request) -> web.Response:
    tenant, agent = tenant_of(request), _agent(request)
    who = principal(request)
    async with context.state(request).change_lock:  # rendering pjsip.inc must not interleave with an apply
        with context.session(request) as session:
            account = await phones.rotate(session, context.config(request).settings, context.apply_target(request),
                                          tenant=tenant, agent=agent, actor=who.actor, token_id=who.token_id)
    return web.json_response(account.to_dict())


def routes() -> list[web.RouteDef]:
    base = "/api/v1/tenants/{tenant}/agents/{agent}/credentials"
    return [web.get(base, show), web.post(f"{base}/rotate", rotate)]
