"""Which numbers a tenant may use (issue 14): the operator (an admin token) allocates service
numbers to tenants and releases them; a tenant sees its own. A plan may only use numbers
allocated to its tenant (``apply_guards``)."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from orchestrator.api import context, views
from orchestrator.api.auth import require_admin, tenant_of
from orchestrator.api.errors import InputInvalid
from orchestrator.api.routes_plan import service_number
from orchestrator.domain.plan import NAME_PATTERN
from orchestrator.errors import Violation
from orchestrator.store import api_repository, tenancy
from orchestrator.store import models as m


class AllocateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tenant: str = Field(pattern=NAME_PATTERN)


def _row(a: m.NumberAllocation, *, admin: bool) -> dict[str, Any]:
    out = {"number": a.e164, "tenant": a.tenant, "allocated_at": views.utc(a.allocated_at)}
    return out | {"allocated_by": a.allocated_by} if admin else out


async def list_allocations(request: web.Request) -> web.Response:
    require_admin(request)
    tenant = request.query.get("tenant")
    if tenant is not None and not re.match(NAME_PATTERN, tenant):
        raise InputInvalid([Violation("tenant", "not a tenant name")])
    with context.session(request) as session:
        rows = tenancy.allocation_list(session, tenant)
        return web.json_response({"allocations": [_row(a, admin=True) for a in rows]})


async def tenant_allocations(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    with context.session(request) as session:
        rows = tenancy.allocation_list(session, tenant)
        return web.json_response({"allocations": [_row(a, admin=False) for a in rows]})


async def allocate(request: web.Request) -> web.Response:
    who = require_admin(request)
    e164 = service_number(request)
    body = await views.read_body(request, AllocateBody)
    with context.session(request) as session:
        added = tenancy.allocate(session, e164, body.tenant, who.actor)
        if added:
            api_repository.audit(session, actor=who.actor, token_id=who.token_id, tenant=body.tenant,
                                 action="number.allocate", target=e164)
        session.commit()
    return web.json_response({"number": e164, "tenant": body.tenant}, status=201 if added else 200)


async def release(request: web.Request) -> web.Response:
    who = require_admin(request)
    e164 = service_number(request)
    with context.session(request) as session:
        tenant = tenancy.release(session, e164)
        api_repository.audit(session, actor=who.actor, token_id=who.token_id, tenant=tenant,
                             action="number.release", target=e164)
        session.commit()
    return web.Response(status=204)


def routes() -> list[web.RouteDef]:
    return [
        web.get("/api/v1/allocations", list_allocations),
        web.put("/api/v1/allocations/{number}", allocate),
        web.delete("/api/v1/allocations/{number}", release),
        web.get("/api/v1/tenants/{tenant}/allocations", tenant_allocations),
    ]
