"""Live figures of a tenant's numbers, as `orchestrator serve` publishes them in Redis."""

from __future__ import annotations

from aiohttp import web

from orchestrator.api import context
from orchestrator.api.auth import tenant_of
from orchestrator.live.notifier import PublishedFigures, read_figures
from orchestrator.services.tenancy import tenant_numbers


def _number(text: str) -> int | float:
    return int(text) if text.isdigit() else float(text)


def tenant_figures(figures: PublishedFigures, tenant: str, numbers: set[str]) -> dict[str, object]:
    """Only this tenant's part of the published figures (its queues: ``tenant.<queue>``). Pure."""
    prefix = f"{tenant}."
    return {"tenant": tenant, "in_progress": figures.in_progress_by_tenant.get(tenant, 0),
            "in_progress_by_number": {n: v for n, v in figures.in_progress_by_number.items() if n in numbers and v},
            "today": figures.today_by_tenant.get(tenant, {}),
            "today_by_number": {n: v for n, v in figures.today_by_number.items() if n in numbers},
            "queues": {name[len(prefix):]: {k: _number(v) for k, v in q.items()}
                       for name, q in figures.queues.items() if name.startswith(prefix)},
            "updated_at": figures.updated_at}


async def live(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    config = context.config(request)
    with context.session(request) as session:
        numbers = tenant_numbers(session, tenant)
    day = config.now().date().isoformat()
    figures = await read_figures(config.settings.redis_url, day)
    return web.json_response(tenant_figures(figures, tenant, numbers) | {"day": day})


def routes() -> list[web.RouteDef]:
    return [web.get("/api/v1/tenants/{tenant}/live", live)]
