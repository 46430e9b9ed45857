"""A service number's blacklist: live in AstDB (next call) and recorded in the database."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from orchestrator.api import context, views
from orchestrator.api.auth import principal, tenant_of
from orchestrator.api.errors import InputInvalid
from orchestrator.api.routes_plan import service_number
from orchestrator.domain.numbers import parse_caller
from orchestrator.errors import NotFound, NumberInvalid, Violation
from orchestrator.services import blacklist


class BlacklistAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")
    caller: str


def _caller(raw: str) -> str:
    try:
        return parse_caller(raw)
    except NumberInvalid as exc:
        raise InputInvalid([Violation("caller", str(exc))]) from exc


async def list_entries(request: web.Request) -> web.Response:
    e164 = service_number(request)
    with context.session(request) as session:
        rows = blacklist.entries(session, tenant_of(request), e164)
        return web.json_response({"number": e164, "entries": [views.blacklist_entry(e) for e in rows]})


async def _change(request: web.Request, raw_caller: str, *, add: bool) -> bool:
    tenant, e164, caller = tenant_of(request), service_number(request), _caller(raw_caller)
    who = principal(request)
    async with context.state(request).change_lock:
        with context.session(request) as session:
            return await blacklist.change_for_tenant(session, lambda: context.astdb(request), tenant=tenant,
                                                     e164=e164, caller=caller, add=add, actor=who.actor,
                                                     token_id=who.token_id)


async def add_entry(request: web.Request) -> web.Response:
    body = await views.read_body(request, BlacklistAdd)
    changed = await _change(request, body.caller, add=True)
    return web.json_response({"caller": _caller(body.caller), "added": changed}, status=201 if changed else 200)


async def remove_entry(request: web.Request) -> web.Response:
    if not await _change(request, request.match_info["caller"], add=False):
        raise NotFound("this caller is not on the blacklist")
    return web.Response(status=204)


def routes() -> list[web.RouteDef]:
    base = "/api/v1/tenants/{tenant}/numbers/{number}/blacklist"
    return [
        web.get(base, list_entries),
        web.post(base, add_entry),
        web.delete(f"{base}/{{caller}}", remove_entry),
    ]
