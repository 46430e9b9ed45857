"""Call centres live: agent states, waiting callers, night service, supervisor actions. Every
route is under the tenant (another tenant's name answers 404) and checks the name against the
tenant's applied plan, so an agent or queue of another tenant is never touched."""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from orchestrator.api import context, views
from orchestrator.api.auth import audit_action, tenant_of
from orchestrator.domain.plan import NAME_PATTERN, TenantPlan
from orchestrator.errors import NotFound
from orchestrator.services.callcentre import control, supervisor
from orchestrator.services.tenancy import tenant_plan


class AgentStateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    state: Literal["available", "logged-out", "unavailable"]
    reason: str = Field(default="", pattern=r"^[A-Za-z0-9 _-]{0,40}$")


class NightBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: Literal["on", "off", "auto"]


class CallBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: str = Field(pattern=r"^[A-Za-z0-9/@.;_+-]{1,120}$")
    node: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9-]{0,30}$", description="where it waits")


class MoveBody(CallBody):
    skill: str | None = Field(default=None, pattern=NAME_PATTERN, description="wait for an agent with this skill")


class PriorityBody(CallBody):
    priority: int = Field(ge=0, le=100)


class SpyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    supervisor: str = Field(pattern=r"^(\+?[0-9]{6,15}|[a-z0-9][a-z0-9_-]{0,39})$")
    mode: Literal["listen", "whisper", "barge"] = "listen"


def _plan(request: web.Request, tenant: str) -> TenantPlan:
    with context.session(request) as session:
        return tenant_plan(session, tenant)


def _name(request: web.Request, key: str, group: Collection[str], what: str) -> str:
    name = request.match_info[key]
    if not re.match(NAME_PATTERN, name) or name not in group:
        raise NotFound(f"no {what} {name!r}")
    return name


async def list_agents(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    _plan(request, tenant)
    states = await control.agent_states_on(list(context.nodes_up(request).values()), tenant)
    return web.json_response({"agents": [{"agent": s.agent, "state": s.state, "reason": s.reason,
                                          "queues": list(s.queues)} for s in states]})


async def set_agent_state(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    agent = _name(request, "agent", set(_plan(request, tenant).agents), "agent")
    body = await views.read_body(request, AgentStateBody)
    await control.set_agent_state_on(list(context.nodes_up(request).values()), tenant, agent, body.state, body.reason)
    audit_action(request, tenant, "agent.state", f"{agent} {body.state} {body.reason}".strip())
    return web.json_response({"agent": agent, "state": body.state, "reason": body.reason})


async def waiting(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    _plan(request, tenant)
    calls = await supervisor.waiting_calls_on(context.nodes_up(request), tenant)
    return web.json_response({"calls": [c.__dict__ for c in calls]})


async def _night(request: web.Request, kind: str) -> web.Response:
    tenant = tenant_of(request)
    plan = _plan(request, tenant)
    group = set(plan.queues) if kind == "queue" else set(plan.hunt_groups)
    name = _name(request, "name", group, "queue" if kind == "queue" else "hunt group")
    body = await views.read_body(request, NightBody)
    await control.set_night(context.astdb(request), tenant, kind, name, body.mode)
    audit_action(request, tenant, "night", f"{kind} {name} {body.mode}")
    return web.json_response({kind: name, "night": body.mode})


async def queue_night(request: web.Request) -> web.Response:
    return await _night(request, "queue")


async def hunt_night(request: web.Request) -> web.Response:
    return await _night(request, "hunt")


async def move_call(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    plan = _plan(request, tenant)
    name = _name(request, "name", set(plan.queues), "queue")
    body = await views.read_body(request, MoveBody)
    _, skill = supervisor.move_target(plan, f"{name}/{body.skill}" if body.skill else name)
    ami = await supervisor.node_of_waiting(context.nodes_up(request), tenant, body.channel, body.node)
    await supervisor.move_call(ami, tenant, body.channel, name, skill)
    audit_action(request, tenant, "queue.move", f"{body.channel} -> {name}{'/' + skill if skill else ''}")
    return web.json_response({"channel": body.channel, "queue": name, "skill": skill or None})


async def set_priority(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    _plan(request, tenant)
    body = await views.read_body(request, PriorityBody)
    ami = await supervisor.node_of_waiting(context.nodes_up(request), tenant, body.channel, body.node)
    await supervisor.set_priority(ami, tenant, body.channel, body.priority)
    return web.json_response({"channel": body.channel, "priority": body.priority})


async def spy(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    plan = _plan(request, tenant)
    agent = _name(request, "agent", set(plan.agents), "agent")
    body = await views.read_body(request, SpyBody)
    channel = supervisor.supervisor_channel(plan, body.supervisor)
    await supervisor.spy(context.ami(request), tenant, agent, channel, body.mode)
    audit_action(request, tenant, f"spy.{body.mode}", f"{agent} by {body.supervisor}")
    return web.json_response({"agent": agent, "supervisor": body.supervisor, "mode": body.mode}, status=202)


def routes() -> list[web.RouteDef]:
    t = "/api/v1/tenants/{tenant}"
    return [
        web.get(f"{t}/agents", list_agents),
        web.put(f"{t}/agents/{{agent}}/state", set_agent_state),
        web.post(f"{t}/agents/{{agent}}/spy", spy),
        web.get(f"{t}/queues/waiting", waiting),
        web.put(f"{t}/queues/waiting/priority", set_priority),
        web.put(f"{t}/queues/{{name}}/night", queue_night),
        web.post(f"{t}/queues/{{name}}/calls", move_call),
        web.put(f"{t}/hunt-groups/{{name}}/night", hunt_night),
    ]
