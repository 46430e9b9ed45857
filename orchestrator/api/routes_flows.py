"""A tenant's Premium call flows: list, read one, check a new version (with the change in
words), and put it (the plan with this flow replaced is checked and applied like PUT /plan;
only the flow's file is rewritten and pushed); drafts: put one on the tenant's 088 test number,
read it, promote it to live numbers (services/flow_drafts.py)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aiohttp import web

from orchestrator.api import context, views
from orchestrator.api.auth import principal, tenant_of
from orchestrator.api.errors import InputInvalid
from orchestrator.api.routes_plan import audited_apply, checked_plan, etag, stored_plan, upload_paths
from orchestrator.domain.flow_diff import flow_changes
from orchestrator.domain.flow_drafts import draft_of
from orchestrator.domain.plan import TenantPlan
from orchestrator.errors import NotFound, Violation
from orchestrator.services.apply import apply_plan
from orchestrator.services.apply_guards import TENANT_GUARDS
from orchestrator.services.flow_drafts import DraftOutcome, promote_flow, try_flow
from orchestrator.store import tenancy
from orchestrator.store.session import Session


def _numbers(plan: TenantPlan, name: str) -> list[str]:
    return [n.number for n in plan.numbers if n.flow == name]


async def list_flows(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    with context.session(request) as session:
        plan = stored_plan(session, tenant, context.config(request).now())
    return web.json_response({"tenant": tenant, "flows": [
        {"name": name, "start": f.start, "blocks": len(f.blocks), "numbers": _numbers(plan, name)}
        for name, f in plan.flows.items()]})


async def show_flow(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    name = request.match_info["flow"]
    with context.session(request) as session:
        plan = stored_plan(session, tenant, context.config(request).now())
    flow = plan.flows.get(name)
    if flow is None:
        raise NotFound(f"tenant {tenant!r} has no flow {name!r}")
    return web.json_response({"name": name, "flow": flow.model_dump(mode="json"), "numbers": _numbers(plan, name)})


async def _with_flow(request: web.Request, session: Session, tenant: str) -> tuple[TenantPlan, TenantPlan]:
    """(the stored plan, the plan with the body as flow {flow}), checked like a whole plan: an
    error names flows.<flow>.blocks.<block>.<field>."""
    name = request.match_info["flow"]
    body = await views.read_json(request)
    if not isinstance(body, dict):
        raise InputInvalid([Violation(f"flows.{name}", "a flow is a JSON object")])
    now = context.config(request).now()
    old = stored_plan(session, tenant, now)
    names = {path: upload for upload, path in upload_paths(session, tenant).items()}
    document: dict[str, Any] = views.plan_document(old, names)
    document["flows"] = {**document.get("flows", {}), name: body}
    return old, checked_plan(session, tenant, document, now)


async def validate_flow(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    with context.session(request) as session:
        old, new = await _with_flow(request, session, tenant)
    return web.json_response({"valid": True, "tenant": tenant, "changes": flow_changes(old.flows, new.flows)})


async def put_flow(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    name = request.match_info["flow"]
    async with context.state(request).change_lock:
        with context.session(request) as session:
            old, new = await _with_flow(request, session, tenant)
            guards = replace(TENANT_GUARDS, claimed_by=principal(request).actor)
            changes = flow_changes(old.flows, new.flows)
            report = await audited_apply(request, session, tenant, "flow.put", {"flow": name, "changes": changes},
                                         guards, lambda g: apply_plan(new, session, context.apply_target(request),
                                                                      now=context.config(request).now(), guards=g))
            version = tenancy.plan_version(session, tenant)
    return web.json_response({**views.apply_report(report), "changes": changes},
                             headers={"ETag": etag(version)})


def _draft_answer(outcome: DraftOutcome, version: int) -> web.Response:
    return web.json_response({**views.apply_report(outcome.report), "test_number": outcome.test_number,
                              "changes": outcome.changes, "running": outcome.numbers}, headers={"ETag": etag(version)})


async def show_draft(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    name = request.match_info["flow"]
    with context.session(request) as session:
        plan = stored_plan(session, tenant, context.config(request).now())
    return web.json_response({"name": name, "flow": draft_of(views.plan_document(plan, {}), name),
                              "test_number": plan.test_number or ""})


async def try_draft(request: web.Request) -> web.Response:
    """The body (one flow) goes on the test number as the draft of {flow}; no live number changes."""
    tenant = tenant_of(request)
    name = request.match_info["flow"]
    body = await views.read_json(request)
    async with context.state(request).change_lock:
        with context.session(request) as session:
            guards = replace(TENANT_GUARDS, claimed_by=principal(request).actor)
            outcome = await audited_apply(request, session, tenant, "flow.try", {"flow": name}, guards,
                                          lambda g: try_flow(session, context.apply_target(request), tenant, name,
                                                             body, now=context.config(request).now(), guards=g))
            version = tenancy.plan_version(session, tenant)
    return _draft_answer(outcome, version)


async def promote_draft(request: web.Request) -> web.Response:
    """The draft of {flow} becomes the live flow; ``numbers`` (the tenant's) are linked to it."""
    tenant = tenant_of(request)
    name = request.match_info["flow"]
    body = await views.read_json(request)
    numbers = body.get("numbers", []) if isinstance(body, dict) else None
    if not isinstance(numbers, list) or not all(isinstance(n, str) for n in numbers):
        raise InputInvalid([Violation("numbers", "a list of the tenant's service numbers")])
    async with context.state(request).change_lock:
        with context.session(request) as session:
            guards = replace(TENANT_GUARDS, claimed_by=principal(request).actor)
            outcome = await audited_apply(request, session, tenant, "flow.promote", {"flow": name, "numbers": numbers},
                                          guards, lambda g: promote_flow(
                                              session, context.apply_target(request), tenant, name, numbers,
                                              now=context.config(request).now(), guards=g))
            version = tenancy.plan_version(session, tenant)
    return _draft_answer(outcome, version)


def routes() -> list[web.RouteDef]:
    base = "/api/v1/tenants/{tenant}/flows"
    return [
        web.get(base, list_flows),
        web.get(f"{base}/{{flow}}", show_flow),
        web.put(f"{base}/{{flow}}", put_flow),
        web.post(f"{base}/{{flow}}/validate", validate_flow),
        web.get(f"{base}/{{flow}}/draft", show_draft),
        web.put(f"{base}/{{flow}}/draft", try_draft),
        web.post(f"{base}/{{flow}}/promote", promote_draft),
    ]
