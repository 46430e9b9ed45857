"""A service number's blacklist: live in AstDB (next call) and recorded in the database."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from orchestrator.api import context, views
from orchestrator.api.auth import principal, tenant_of
from orchestrator.api.errors import InputInvalid
from orchestrator.api.routes_plan import owned_number, service_number
from orchestrator.domain.numbers import parse_caller
from orchestrator.errors import NotFound, NumberInvalid, Violation
from orchestrator.services.blacklist import change_blacklist
from orchestrator.store import api_repository, repository


class BlacklistAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")
    caller: str


def _caller(raw: str) -> str:
    try:
        return parse_caller(raw)
    except NumberInvalid as exc:
        raise InputInvalid([Violation("caller", str(exc))]) from exc


async def list_entries(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    e164 = service_number(request)
    with context.session(request) as session:
        owned_number(session, tenant, e164)
        entries = api_repository.blacklist_entries(session, e164)
        return web.json_response({"number": e164, "entries": [views.blacklist_entry(e) for e in entries]})


async def _change(request: web.Request, raw_caller: str, *, add: bool) -> bool:
    tenant = tenant_of(request)
    e164 = service_number(request)
    caller = _caller(raw_caller)
    who = principal(request)
    async with context.state(request).change_lock:
        with context.session(request) as session:
            owned_number(session, tenant, e164)
            if (caller in repository.blacklist(session, e164)) == add:
                return False  # nothing to change: no AstDB write, no audit entry
            ami = context.ami(request)
            # change_blacklist commits; the audit entry goes in the same transaction.
            api_repository.audit(session, actor=who.actor, token_id=who.token_id, tenant=tenant,
                                 action="blacklist.add" if add else "blacklist.remove",
                                 target=f"{e164} {caller}")
            changed = await change_blacklist(session, ami, e164, caller, add=add, source="api")
    return changed


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
