"""Reports over the API: ``GET /api/v1/tenants/{tenant}/reports/{kind}`` as JSON, or CSV when the
client accepts ``text/csv`` (streamed in chunks, never cut at a page size); saved report layouts.
Every filter is checked against the tenant (another tenant's number, queue or flow is a 422, like
any bad parameter; another tenant's name a 404)."""

from __future__ import annotations

import asyncio
import re

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from orchestrator.api import context, views
from orchestrator.api.auth import audit_action, tenant_of
from orchestrator.domain.plan import NAME_PATTERN
from orchestrator.domain.reports.model import Kind, Report
from orchestrator.errors import InputInvalid, NotFound, Violation
from orchestrator.services import report_formats, reports

CSV = "text/csv"


class LayoutBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kinds: list[Kind] = Field(min_length=1, max_length=len(Kind))
    interval: str = Field(default="day", pattern=r"^(15m|hour|day|week|month)$")
    number: str | None = Field(default=None, max_length=32)
    queue: str | None = Field(default=None, pattern=NAME_PATTERN)
    flow: str | None = Field(default=None, pattern=NAME_PATTERN)
    more_than: StrictInt | None = Field(default=None, ge=0, le=10_000)


def _number(request: web.Request, name: str, default: float, *, integer: bool = False) -> float:
    text = request.query.get(name)
    if text is None:
        return default
    try:
        return int(text) if integer else float(text)
    except ValueError:
        raise InputInvalid([Violation(name, f"{text!r} is not a number")]) from None


def _request(request: web.Request, tenant: str, kind: str) -> reports.Request:
    q = request.query
    return reports.Request(tenant, kind, q.get("from", ""), q.get("to", ""), q.get("interval", "day"),
                           q.get("number"), q.get("queue"), q.get("flow"),
                           int(_number(request, "more_than", 2, integer=True)),
                           _number(request, "abandon_grace", 5.0))


async def _send(request: web.Request, found: list[Report]) -> web.StreamResponse:
    as_csv = CSV in request.headers.get("Accept", "")
    response = web.StreamResponse(headers={"Content-Type": f"{CSV}; charset=utf-8" if as_csv
                                           else "application/json"})
    await response.prepare(request)
    if as_csv:
        for text in report_formats.csv_chunks(found):
            await response.write(text.encode())
    else:
        for chunk in report_formats.json_chunks(found):
            await response.write(chunk)
    await response.write_eof()
    return response


async def report(request: web.Request) -> web.StreamResponse:
    tenant = tenant_of(request)
    wanted = _request(request, tenant, request.match_info["kind"])
    # Reading a month of calls takes a while: off the event loop, which serves other requests meanwhile.
    built = await asyncio.to_thread(reports.report, request.app[context.ENGINE], wanted)
    return await _send(request, [built])


def _layout_name(request: web.Request) -> str:
    name = request.match_info["name"]
    if not re.match(NAME_PATTERN, name):
        raise NotFound(f"no report layout {name!r}")
    return name


async def list_layouts(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    found = await asyncio.to_thread(reports.layouts, request.app[context.ENGINE], tenant)
    return web.json_response({"layouts": [{"name": n, **spec} for n, spec in found.items()]})


async def put_layout(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    name = _layout_name(request)
    body = await views.read_body(request, LayoutBody)
    spec = body.model_dump(mode="json", exclude_none=True)
    await asyncio.to_thread(reports.save_layout, request.app[context.ENGINE], tenant, name, spec)
    audit_action(request, tenant, "report.layout", name)
    return web.json_response({"name": name, **spec})


async def delete_layout(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    name = _layout_name(request)
    await asyncio.to_thread(reports.delete_layout, request.app[context.ENGINE], tenant, name)
    audit_action(request, tenant, "report.layout.delete", name)
    return web.Response(status=204)


async def run_layout(request: web.Request) -> web.StreamResponse:
    tenant = tenant_of(request)
    name = _layout_name(request)
    q = request.query
    found = await asyncio.to_thread(reports.run_layout, request.app[context.ENGINE], tenant, name,
                                    q.get("from", ""), q.get("to", ""))
    return await _send(request, found)


def routes() -> list[web.RouteDef]:
    t = "/api/v1/tenants/{tenant}"
    return [
        web.get(f"{t}/reports/{{kind}}", report),
        web.get(f"{t}/report-layouts", list_layouts),
        web.put(f"{t}/report-layouts/{{name}}", put_layout),
        web.delete(f"{t}/report-layouts/{{name}}", delete_layout),
        web.get(f"{t}/report-layouts/{{name}}/report", run_layout),
    ]
