"""A tenant's digit lists (call flows' input blocks check membership): live in AstDB, recorded in
the database, changed without a reload. The lists themselves are declared in the plan."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from orchestrator.api import context, views
from orchestrator.api.auth import principal, tenant_of
from orchestrator.api.errors import InputInvalid
from orchestrator.errors import NotFound, Violation
from orchestrator.services import flow_lists
from orchestrator.store import api_repository


class ListAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: str


def _value(raw: str) -> str:
    if not flow_lists.VALUE.match(raw):
        raise InputInvalid([Violation("value", f"{raw[:40]!r} is not 1 to 32 digits")])
    return raw


async def list_lists(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    with context.session(request) as session:
        counts = flow_lists.overview(session, tenant)
    return web.json_response({"tenant": tenant, "lists": [{"name": n, "entries": c} for n, c in counts.items()]})


async def show_list(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    name = request.match_info["list"]
    with context.session(request) as session:
        values = flow_lists.entries(session, tenant, name)
    return web.json_response({"tenant": tenant, "list": name, "entries": values})


async def _change(request: web.Request, raw: str, *, add: bool) -> bool:
    tenant = tenant_of(request)
    name = request.match_info["list"]
    value = _value(raw)
    who = principal(request)
    async with context.state(request).change_lock:
        with context.session(request) as session:
            if flow_lists.contains(session, tenant, name, value) == add:
                return False  # nothing to change: no AstDB write, no audit entry
            ami = context.astdb(request)  # every node of a cluster
            # change_list commits; the audit entry goes in the same transaction.
            api_repository.audit(session, actor=who.actor, token_id=who.token_id, tenant=tenant,
                                 action="list.add" if add else "list.remove", target=f"{name} {value}")
            return await flow_lists.change_list(session, ami, tenant, name, value, add=add)


async def add_entry(request: web.Request) -> web.Response:
    body = await views.read_body(request, ListAdd)
    changed = await _change(request, body.value, add=True)
    return web.json_response({"value": body.value, "added": changed}, status=201 if changed else 200)


async def remove_entry(request: web.Request) -> web.Response:
    if not await _change(request, request.match_info["value"], add=False):
        raise NotFound("this value is not on the list")
    return web.Response(status=204)


def routes() -> list[web.RouteDef]:
    base = "/api/v1/tenants/{tenant}/lists"
    return [
        web.get(base, list_lists),
        web.get(f"{base}/{{list}}", show_list),
        web.post(f"{base}/{{list}}", add_entry),
        web.delete(f"{base}/{{list}}/{{value}}", remove_entry),
    ]
