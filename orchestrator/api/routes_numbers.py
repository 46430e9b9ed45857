"""Tenants, their service numbers (read; one number changed or taken out), applied versions and the audit log."""

from __future__ import annotations

from dataclasses import replace

from aiohttp import web

from orchestrator.api import context, views
from orchestrator.api.auth import principal, require_admin, tenant_of
from orchestrator.api.errors import InputInvalid
from orchestrator.api.routes_plan import (
    audited_apply,
    etag,
    if_match,
    owned_number,
    service_number,
    stored_plan,
    upload_paths,
)
from orchestrator.errors import Violation
from orchestrator.services import numbers as number_changes
from orchestrator.services import tenancy
from orchestrator.services.apply_guards import TENANT_GUARDS
from orchestrator.store import api_repository


def _limit(request: web.Request) -> int:
    raw = request.query.get("limit", "100")
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= 1000):
        raise InputInvalid([Violation("limit", "a whole number from 1 to 1000")])
    return int(raw)


async def list_tenants(request: web.Request) -> web.Response:
    who = principal(request)
    if not who.is_admin:
        return web.json_response({"tenants": [who.tenant]})
    with context.session(request) as session:
        names = sorted(set(tenancy.tenants(session)) | set(api_repository.token_tenants(session)))
    return web.json_response({"tenants": names})


async def list_numbers(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    with context.session(request) as session:
        plan = tenancy.stored_plan(session, tenant, context.config(request).now())
        if plan is None:
            return web.json_response({"numbers": []})
    return web.json_response({"numbers": [views.number_summary(n) for n in plan.numbers]})


async def show_number(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    e164 = service_number(request)
    with context.session(request) as session:
        owned_number(session, tenant, e164)
        plan = stored_plan(session, tenant, context.config(request).now())
        names = {path: name for name, path in upload_paths(session, tenant).items()}
        version = tenancy.plan_version(session, tenant)
    document = views.plan_document(plan, names)
    index = next(i for i, n in enumerate(plan.numbers) if n.number == e164)
    return web.json_response(views.number_detail(plan.numbers[index], document, index),
                             headers={"ETag": etag(version)})


async def put_number(request: web.Request) -> web.Response:
    """Replace (or add) one number's entry of the tenant's plan and apply it. The ETag is the
    tenant's plan version, as for the whole plan: ``If-Match`` makes the change conditional (412)."""
    tenant = tenant_of(request)
    e164 = service_number(request)
    entry = await views.read_json(request)
    now = context.config(request).now()
    async with context.state(request).change_lock:
        with context.session(request) as session:
            guards = replace(TENANT_GUARDS, if_version=if_match(request, tenancy.plan_version(session, tenant)))
            report, added = await audited_apply(
                request, session, tenant, "number.put", {"number": e164}, guards,
                lambda g: number_changes.put_number(session, context.apply_target(request), tenant, e164, entry,
                                                    now=now, guards=g))
            version = tenancy.plan_version(session, tenant)
    return web.json_response(views.apply_report(report), status=201 if added else 200,
                             headers={"ETag": etag(version)})


async def delete_number(request: web.Request) -> web.Response:
    """Take one number out of the tenant's plan and apply that: calls to it are unallocated.
    ``If-Match`` as for PUT."""
    tenant = tenant_of(request)
    e164 = service_number(request)
    now = context.config(request).now()
    async with context.state(request).change_lock:
        with context.session(request) as session:
            guards = replace(TENANT_GUARDS, if_version=if_match(request, tenancy.plan_version(session, tenant)))
            report = await audited_apply(
                request, session, tenant, "number.delete", {"number": e164}, guards,
                lambda g: number_changes.delete_number(session, context.apply_target(request), tenant, e164, now=now,
                                                       guards=g))
            version = tenancy.plan_version(session, tenant)
    return web.json_response(views.apply_report(report), headers={"ETag": etag(version)})


async def history(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    with context.session(request) as session:
        versions = tenancy.history(session, tenant, limit=_limit(request))
        return web.json_response({"versions": [views.version(v) for v in versions]})


async def tenant_audit(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    with context.session(request) as session:
        entries = api_repository.audit_entries(session, tenant=tenant, limit=_limit(request))
        return web.json_response({"entries": [views.audit_entry(e) for e in entries]})


async def all_audit(request: web.Request) -> web.Response:
    require_admin(request)
    with context.session(request) as session:
        entries = api_repository.audit_entries(session, limit=_limit(request))
        return web.json_response({"entries": [views.audit_entry(e) for e in entries]})


def routes() -> list[web.RouteDef]:
    base = "/api/v1/tenants/{tenant}"
    return [
        web.get("/api/v1/tenants", list_tenants),
        web.get("/api/v1/audit", all_audit),
        web.get(f"{base}/numbers", list_numbers),
        web.get(f"{base}/numbers/{{number}}", show_number),
        web.put(f"{base}/numbers/{{number}}", put_number),
        web.delete(f"{base}/numbers/{{number}}", delete_number),
        web.get(f"{base}/history", history),
        web.get(f"{base}/audit", tenant_audit),
    ]
