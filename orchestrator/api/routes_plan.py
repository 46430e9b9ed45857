"""The tenant's plan (read, validate, apply) and the call simulator."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from orchestrator.api import context, views
from orchestrator.api.audit import mark_audited
from orchestrator.api.auth import principal, tenant_of
from orchestrator.api.errors import InputInvalid
from orchestrator.domain.numbers import parse_destination, parse_service_number
from orchestrator.domain.plan import AMSTERDAM, TenantPlan, parse_plan
from orchestrator.domain.rules import validate_plan
from orchestrator.domain.simulate import CallScenario, DestinationBehaviour
from orchestrator.errors import ApplyFailed, NotFound, NumberInvalid, PlanInvalid, VersionConflict, Violation
from orchestrator.services import tenancy
from orchestrator.services.apply import apply_plan
from orchestrator.services.apply_guards import TENANT_GUARDS, ApplyGuards, allocation_violations
from orchestrator.services.simulate import simulate_flow_stored, simulate_stored
from orchestrator.store import api_repository
from orchestrator.store.session import Session

T = TypeVar("T")


def stored_plan(session: Session, tenant: str, now: datetime) -> TenantPlan:
    """The tenant's plan as it stands now (switch moments passed folded in), or 404."""
    plan = tenancy.stored_plan(session, tenant, now)
    if plan is None:
        raise NotFound(f"tenant {tenant!r} has no plan yet")
    return plan


def upload_paths(session: Session, tenant: str) -> dict[str, str]:
    """Uploaded announcement name -> its file on the server."""
    return {u.name: u.path for u in api_repository.uploads(session, tenant)}


def checked_plan(session: Session, tenant: str, data: Any, now: datetime) -> TenantPlan:
    """Parse and validate a plan sent to the API, reporting every violation at once. On top of the
    package rules: the plan is the URL's tenant's, ``file`` names one of the tenant's uploads (a
    tenant never gets to point the server at a path), and every number is allocated to the tenant.
    Returns the plan with upload names replaced by their server paths, ready for ``apply_plan``."""
    if not isinstance(data, dict):
        raise InputInvalid([Violation("body", "a plan is a JSON object")])
    data = {"tenant": tenant, **data}
    violations: list[Violation] = []
    if data["tenant"] != tenant:
        violations.append(Violation("tenant", f"must be {tenant!r}, the tenant of the URL"))
    try:
        plan = parse_plan(data)
    except PlanInvalid as exc:
        raise PlanInvalid(violations + exc.violations) from exc
    try:
        validate_plan(plan, now)
    except PlanInvalid as exc:
        violations += exc.violations
    uploads = upload_paths(session, tenant)
    announcements = {}
    for name, a in plan.announcements.items():
        if a.file is not None:
            if a.file not in uploads:
                violations.append(Violation(f"announcements.{name}.file",
                                            f"no uploaded announcement {a.file!r}; upload it first"))
                continue
            a = a.model_copy(update={"file": uploads[a.file]})
        announcements[name] = a
    violations += allocation_violations(session, tenant, [(i, n.number) for i, n in enumerate(plan.numbers)],
                                        TENANT_GUARDS)[0]
    if violations:
        raise PlanInvalid(violations)
    return plan.model_copy(update={"announcements": announcements})


def etag(version: int) -> str:
    """The plan's version as an entity tag: the id of its applied version (``history``)."""
    return f'"{version}"'


def if_match(request: web.Request, current: int) -> int | None:
    """The version an ``If-Match`` asks for (None without the header). ``*`` is the current
    version when there is a plan; a tag that is no version of ours matches nothing (412)."""
    header = request.headers.get("If-Match")
    if header is None:
        return None
    tags = [t.strip() for t in header.split(",")]
    if "*" in tags and current > 0:
        return current
    if etag(current) in tags:
        return current
    given = tags[0].removeprefix("W/").strip('"')
    raise VersionConflict(int(given) if given.isascii() and given.isdigit() else None, current)


def confirm_removal(request: web.Request) -> bool:
    raw = request.query.get("confirm_removal", "false")
    if raw not in ("true", "false"):
        raise InputInvalid([Violation("confirm_removal", "true or false")])
    return raw == "true"


async def get_plan(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    with context.session(request) as session:
        plan = stored_plan(session, tenant, context.config(request).now())
        names = {path: name for name, path in upload_paths(session, tenant).items()}
        version = tenancy.plan_version(session, tenant)
        return web.json_response(views.plan_document(plan, names), headers={"ETag": etag(version)})


async def validate(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    data = await views.read_json(request)
    with context.session(request) as session:
        plan = checked_plan(session, tenant, data, context.config(request).now())
    return web.json_response({"valid": True, "tenant": tenant, "numbers": len(plan.numbers)})


async def put_plan(request: web.Request) -> web.Response:
    """Replace the tenant's plan. ``If-Match`` makes it conditional on the version read (412
    otherwise: the check is repeated inside the apply's transaction, so it also holds against
    other processes); ``?confirm_removal=true`` lets it take many or all numbers away."""
    tenant = tenant_of(request)
    allow_removal = confirm_removal(request)
    data = await views.read_json(request)
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
    now = context.config(request).now()
    async with context.state(request).change_lock:
        with context.session(request) as session:
            plan = checked_plan(session, tenant, data, now)  # a bad plan is 422 whatever its version
            expected = if_match(request, tenancy.plan_version(session, tenant))
            guards = replace(TENANT_GUARDS, allow_removal=allow_removal, if_version=expected,
                             claimed_by=principal(request).actor)
            detail = {"numbers": len(plan.numbers), "sha256": digest}
            report = await audited_apply(request, session, tenant, "plan.apply", detail, guards,
                                         lambda g: apply_plan(plan, session, context.apply_target(request), now=now,
                                                              guards=g))
            version = tenancy.plan_version(session, tenant)
    return web.json_response(views.apply_report(report), headers={"ETag": etag(version)})


async def audited_apply(request: web.Request, session: Session, tenant: str, action: str, detail: dict[str, Any],
                        guards: ApplyGuards, run: Callable[[ApplyGuards], Awaitable[T]]) -> T:
    """Run an apply with its audit entry: added in the apply's final transaction (ApplyGuards.record),
    so it is committed with the plan (or not at all); a failed apply is audited as failed."""
    who = principal(request)
    try:
        return await run(replace(guards, record=lambda s: api_repository.audit(
            s, actor=who.actor, token_id=who.token_id, tenant=tenant, action=action, detail=detail)))
    except ApplyFailed as exc:
        mark_audited(request)
        session.rollback()
        api_repository.audit(session, actor=who.actor, token_id=who.token_id, tenant=tenant, action=action,
                             outcome="failed", detail={**detail, "error": str(exc)})
        session.commit()
        raise


class SimulateRequest(BaseModel):
    """A call to simulate, as the CLI's ``simulate`` options."""

    model_config = ConfigDict(extra="forbid")
    caller: str = ""  # as presented; "" = withheld
    at: str | None = Field(default=None, description="'YYYY-MM-DD HH:MM' Europe/Amsterdam; default now")
    withheld: bool = False
    no_answer: list[str] = Field(default_factory=list)
    busy: list[str] = Field(default_factory=list)
    unavailable: list[str] = Field(default_factory=list)
    calls_in_progress: int = Field(default=0, ge=0, le=100000)
    digits: str = Field(default="", max_length=400,
                        description="Keys pressed in a call flow: '1,2,123456#'; '-' = a timeout")


def _scenario(req: SimulateRequest, now: datetime, blacklist: frozenset[str]) -> CallScenario:
    violations = []
    moment = now
    if req.at is not None:
        try:
            moment = datetime.strptime(req.at, "%Y-%m-%d %H:%M").replace(tzinfo=AMSTERDAM)
        except ValueError:
            violations.append(Violation("at", "write it as 'YYYY-MM-DD HH:MM' (Europe/Amsterdam)"))
    behaviour = {}
    for field, names, b in (("no_answer", req.no_answer, DestinationBehaviour.NOANSWER),
                            ("busy", req.busy, DestinationBehaviour.BUSY),
                            ("unavailable", req.unavailable, DestinationBehaviour.UNAVAILABLE)):
        for i, d in enumerate(names):
            try:
                behaviour[parse_destination(d)] = b
            except NumberInvalid as exc:
                violations.append(Violation(f"{field}[{i}]", str(exc)))
    if violations:
        raise InputInvalid(violations)
    return CallScenario(req.caller, moment, withheld=req.withheld, blacklist=blacklist,
                        calls_in_progress=req.calls_in_progress, behaviour=behaviour)


def service_number(request: web.Request) -> str:
    """The ``{number}`` of the path as E.164 (422 when it is not a service number)."""
    try:
        return parse_service_number(request.match_info["number"]).e164
    except NumberInvalid as exc:
        raise InputInvalid([Violation("number", str(exc))]) from exc


def owned_number(session: Session, tenant: str, e164: str) -> None:
    """404 unless the tenant has this number (other tenants' numbers look like no number at all)."""
    tenancy.owned_number(session, tenant, e164)


async def simulate_call(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    e164 = service_number(request)
    req = await views.read_body(request, SimulateRequest)
    with context.session(request) as session:
        owned_number(session, tenant, e164)
        scenario = _scenario(req, context.config(request).now(), frozenset())
        result = simulate_stored(session, tenant, e164, scenario)
        if result.outcome == "flow":  # a Premium number: follow the call into its flow with the keys
            return web.json_response(simulate_flow_stored(session, tenant, e164, scenario, _keys(req.digits)))
    return web.json_response(result.to_dict())


def _keys(digits: str) -> str:
    if any(c not in "0123456789*#-, " for c in digits):
        raise InputInvalid([Violation("digits", "keys are 0-9, * and #; '-' is a timeout; commas separate")])
    return digits


def routes() -> list[web.RouteDef]:
    base = "/api/v1/tenants/{tenant}"
    return [
        web.get(f"{base}/plan", get_plan),
        web.put(f"{base}/plan", put_plan),
        web.post(f"{base}/plan/validate", validate),
        web.post(f"{base}/numbers/{{number}}/simulate", simulate_call),
    ]
