"""Live figures of a tenant's numbers, as `orchestrator serve` publishes them in Redis."""

from __future__ import annotations

from collections import defaultdict

from aiohttp import web

from orchestrator.api import context
from orchestrator.api.auth import tenant_of
from orchestrator.live.state import read_figures
from orchestrator.store import tenants as tenant_store


def tenant_figures(figures: dict[str, dict[str, str]], tenant: str, numbers: set[str]) -> dict[str, object]:
    """Only this tenant's part of the published figures. Pure."""
    in_progress = {n: int(v) for n, v in figures["number"].items() if n in numbers and int(v)}
    today: dict[str, int] = {}
    by_number: dict[str, dict[str, int]] = defaultdict(dict)
    for key, value in figures["day"].items():
        outcome, _, rest = key.partition(":")
        if rest == f"tenant:{tenant}":
            today[outcome] = int(value)
        elif rest.startswith("number:") and rest[7:] in numbers:
            by_number[rest[7:]][outcome] = int(value)
    updated = figures["meta"].get("updated_at") or None
    return {"tenant": tenant, "in_progress": int(figures["tenant"].get(tenant, 0)),
            "in_progress_by_number": in_progress, "today": today, "today_by_number": dict(by_number),
            "updated_at": float(updated) if updated else None}


async def live(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    config = context.config(request)
    with context.session(request) as session:
        numbers = set(tenant_store.tenant_numbers(session, tenant))
    day = config.now().date().isoformat()
    figures = await read_figures(config.settings.redis_url, day)
    return web.json_response(tenant_figures(figures, tenant, numbers) | {"day": day})


def routes() -> list[web.RouteDef]:
    return [web.get("/api/v1/tenants/{tenant}/live", live)]
